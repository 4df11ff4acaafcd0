#!/usr/bin/env bash
# bench.sh: the cost of one full sample through vsched's kernel path against
# libvirt's stats path, on the same running guests and in one run, then the
# kernel path alone on synthetic trees of 100, 1,000 and 10,000 vCPUs.
#
# Usage: scripts/bench.sh [-h] [--rounds N] [--samples N] [--plot FILE.svg]
#
# When no domain runs, it brings up libvirtd (scripts/host-up.sh) and 8 small
# guests of 1-2 vCPUs, 3 of them burning, and tears down what it started.
# Prints Markdown tables and, as its last line, "speedup: <x>x": libvirt's
# GetAllDomainStats against vsched's sampler, microseconds per sample.
# Exits non-zero with the reason when it cannot measure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --rounds|--samples|--plot) args+=("-${1#--}" "$2"); shift 2 ;;
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
  log "no running domains: starting 8 guests (1-2 vCPUs, 3 burning)"
  modes=(burn burn burn idle duty:1:3 idle duty:1:1 idle)
  for i in "${!modes[@]}"; do
    name="${VSCHED_PREFIX}bench$i"
    "$here/guest.sh" start "$name" --mode "${modes[$i]}" --vcpus $((i % 2 + 1)) >/dev/null
    started_guests+=("$name")
  done
  sleep 1
else
  log "measuring on the $running running domains"
fi

"$here/../bin/vsched-bench" "${args[@]}"
