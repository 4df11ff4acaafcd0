#!/usr/bin/env bash
# bench.sh: the cost of one full sample through vsched's kernel path against
# libvirt's stats path, on the same running guests and in one run; the cost
# of each kernel source per read on the guests' vCPU threads; then the
# kernel path alone on 100, 1,000 and 10,000 real threads of the bench's own
# against a floor of one schedstat pread per thread.
#
# Usage: scripts/bench.sh [-h] [--rounds N] [--samples N] [--plot FILE.svg]
#
# When no domain runs, it brings up libvirtd (scripts/host-up.sh) and 8 small
# guests of 1-2 vCPUs, 3 of them burning, each pinned to one pCPU (as vsched
# leaves vCPUs), and tears down what it started before the real-thread
# section (burning guests would share the CPUs it measures). Run it under
# `flock /tmp/vsched-realhost.lock`. Prints Markdown tables and, as its last
# two lines, "cpu speedup: <x>x" (CPU per sample, the bench's own plus
# libvirtd's) and "speedup: <x>x" (wall per sample): libvirt's
# GetAllDomainStats against vsched's sampler. Exits non-zero with the reason
# when it cannot measure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

args=()
plot=bench.svg
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    --rounds|--samples) args+=("-${1#--}" "$2"); shift 2 ;;
    --plot) plot="$2"; shift 2 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
require_root

log "building bin/vsched-bench"
(cd "$here/.." && go build -tags libvirt_dlopen -o bin/vsched-bench ./cmd/vsched-bench)

started_host=0
started_guests=()
cleanup() {
  for g in "${started_guests[@]}"; do "$here/guest.sh" destroy "$g" >/dev/null 2>&1 || true; done
  if [ "$started_host" = 1 ]; then "$here/host-down.sh" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if ! virsh -c "$VSCHED_URI" version >/dev/null 2>&1; then
  started_host=1
  "$here/host-up.sh"
fi
running=$(virsh -c "$VSCHED_URI" list --name --state-running | grep -c . || true)
if [ "$running" -eq 0 ]; then
  ncpu=$(nproc)
  log "no running domains: starting 8 guests (1-2 vCPUs, 3 burning, each pinned to one of $ncpu pCPUs)"
  modes=(burn burn burn idle duty:1:3 idle duty:1:1 idle)
  for i in "${!modes[@]}"; do
    name="${VSCHED_PREFIX}bench$i"
    started_guests+=("$name")
    "$here/guest.sh" start "$name" --mode "${modes[$i]}" --vcpus $((i % 2 + 1)) --pin $((i % ncpu)) >/dev/null
  done
  # SeaBIOS burns for a few seconds before the boot sectors run.
  sleep 3
else
  log "measuring on the $running running domains"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"; cleanup' EXIT
"$here/../bin/vsched-bench" "${args[@]}" -scale "" -plot "" >"$out/host"
cleanup
started_guests=()
started_host=0
log "real-thread section (100, 1,000 and 10,000 threads)"
"$here/../bin/vsched-bench" -host=false -scale-rounds 3 -plot "$plot" >"$out/scale"
# The host's tables, the real-thread table, then the two speedup lines last.
head -n -2 "$out/host"
cat "$out/scale"
tail -n 2 "$out/host"
