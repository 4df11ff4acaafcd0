#!/usr/bin/env bash
# demo.sh: bring up libvirtd and four small real guests all pinned to pCPU0
# (2 burning, 2 duty cycle), run vsched at 500ms for about 30s while showing
# per-pCPU usage and the vCPU pins live, write an SVG plot of per-pCPU usage
# with the moves marked, and tear everything down again.
#
# Usage: scripts/demo.sh [-h] [--seconds N] [--plot FILE.svg]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

seconds=30
plot=demo.svg
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --seconds) seconds=$2; shift 2 ;;
    --plot) plot=$2; shift 2 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[ "$(id -u)" = 0 ] || die "the demo needs root: it starts libvirtd and QEMU guests"
bin="$here/../bin/vsched"
[ -x "$bin" ] || die "$bin is missing: run 'make build' (or 'make demo') first"
# --plot runs vsched-plot, which make build puts beside vsched.
[ -x "$bin-plot" ] || die "$bin-plot is missing: run 'make build' (or 'make demo') first"

cleanup() {
  if [ -n "${vpid:-}" ] && kill "$vpid" 2>/dev/null; then
    wait "$vpid" 2>/dev/null || true
  fi
  "$here/host-down.sh" >/dev/null 2>&1 || true
  if [ -n "${statedir:-}" ]; then rm -rf -- "$statedir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/host-up.sh"
log "guest type: $("$here/guest.sh" virt-type)"
# The demo's checkpoint (vsched's --state-dir) lives only as long as the demo.
state_args=()
if "$bin" --help 2>&1 | grep -q -- '--state-dir '; then
  statedir=$(mktemp -d /tmp/vsched-demo-state.XXXXXX)
  state_args=(--state-dir "$statedir")
fi
guests=(vsched-t-demo-burn1 vsched-t-demo-burn2 vsched-t-demo-duty1 vsched-t-demo-duty2)
modes=(burn burn duty:3:1 duty:1:1)
for i in "${!guests[@]}"; do
  "$here/guest.sh" start "${guests[$i]}" --mode "${modes[$i]}" --pin 0 >/dev/null
  log "started ${guests[$i]} (${modes[$i]}) pinned to pCPU0"
done

# vcpu_tids NAME: the vCPU thread ids libvirt recorded for a guest.
vcpu_tids() { grep -o "<vcpu id='[0-9]*' pid='[0-9]*'" "/run/libvirt/qemu/$1.xml" | grep -o "pid='[0-9]*'" | tr -dc '0-9\n'; }

# cpu_busy: "cpu busy total" per online CPU from /proc/stat, in ticks.
cpu_busy() { awk '/^cpu[0-9]/ { t=0; for (i=2;i<=NF;i++) t+=$i; print substr($1,4), t-$5-$6, t }' /proc/stat; }

# vcpu_times: "tid run_ns wait_ns cpus" for every demo vCPU thread.
vcpu_times() {
  local g tid
  for g in "${guests[@]}"; do
    for tid in $(vcpu_tids "$g"); do
      printf '%s %s %s\n' "${g#vsched-t-demo-}" "$(cut -d' ' -f1-2 "/proc/$tid/schedstat")" \
        "$(awk '/^Cpus_allowed_list/ {print $2}' "/proc/$tid/status")"
    done
  done
}

# show SECOND: one frame: per-pCPU busy share from /proc/stat, then each
# vCPU's pin, usage and run-queue wait over the last second from schedstat.
show() {
  cur=$(cpu_busy)
  vcur=$(vcpu_times)
  tcur=$(date +%s%N)
  dt=$(( (tcur - tprev) / 100 )) # ns per percent of the frame
  printf '\n[%3ss] ' "$1"
  join -j1 <(echo "$prev") <(echo "$cur") | while read -r cpu b0 t0 b1 t1; do
    pct=$(( t1 > t0 ? 100 * (b1 - b0) / (t1 - t0) : 0 ))
    bar=$(printf '%*s' $((pct / 5)) '' | tr ' ' '#')
    printf 'pCPU%s %3d%% %-20s  ' "$cpu" "$pct" "$bar"
  done
  printf '\n      '
  join -j1 <(echo "$vprev") <(echo "$vcur") | while read -r g r0 w0 _ r1 w1 pin; do
    printf '%s@pCPU%s run %2d%% wait %2d%%   ' "$g" "$pin" $(( (r1 - r0) / dt )) $(( (w1 - w0) / dt ))
  done
  printf '\n'
  prev=$cur
  vprev=$vcur
  tprev=$tcur
}

log "all four guests share pCPU0; watching them for 3 s before vsched starts"
prev=$(cpu_busy)
vprev=$(vcpu_times)
tprev=$(date +%s%N)
for s in -3 -2 -1; do sleep 1; show "$s"; done

logf=$(mktemp /tmp/vsched-demo.XXXXXX.log)
"$bin" --interval 500ms --plot "$plot" "${state_args[@]}" >"$logf" 2>&1 &
vpid=$!
log "vsched running (pid $vpid, --interval 500ms); its log: $logf"

shown=0
for ((s = 1; s <= seconds; s++)); do
  sleep 1
  kill -0 "$vpid" 2>/dev/null || { cat "$logf"; die "vsched exited early"; }
  show "$s"
  total=$(grep -c 'move vCPU' "$logf" || true)
  if [ "$total" -gt "$shown" ]; then
    grep 'move vCPU' "$logf" | tail -n $((total - shown)) | sed 's/^/      vsched: /'
    shown=$total
  fi
done

kill -TERM "$vpid"
wait "$vpid" || true
vpid=
log "vsched stopped after ${seconds}s: $(grep -c 'move vCPU' "$logf" || true) moves"
[ -s "$plot" ] && log "plot of per-pCPU usage with the moves marked: $(realpath "$plot")"
