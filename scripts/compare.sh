#!/usr/bin/env bash
# compare.sh: the same real guests under four regimes, measured from the guests' side.
#
# Two burners and two duty-cycle 1:3 guests start all on pCPU0 (past SeaBIOS); then,
# for each regime, all four are pinned back to pCPU0 for 3 s and the regime starts at
# time 0: the kernel alone (every vCPU unpinned to 0-1), static pins (one burner and one
# light guest per pCPU), vsched --policy classic, vsched --policy adaptive (both at
# --interval 250ms on pCPUs 0-1). bin/vsched-compare reads each vCPU thread from /proc
# every 0.5 s: CPU delivered (schedstat run time), steal (schedstat run-queue wait) and
# vCPU migrations (se.nr_migrations), over seconds 0-5 and 5-20; then prints a markdown
# table per regime, a summary against the kernel alone with the goal verdict for adaptive
# (at least 98% of the kernel's CPU from 5 s on, at most a tenth of its migrations), and
# draws the plot. Needs root; brings the host up and down itself (host-up.sh, host-down.sh).
#
# Usage: scripts/compare.sh [-h] [--seconds N] [--split N] [--rounds N] [--out DIR]
#                           [--table FILE.md] [--regimes LIST]
#   --seconds N      length of each regime's measurement (default 20)
#   --split N        the second that splits the two windows (default 5)
#   --rounds N       run the regimes in rotation N times; each regime's table is its
#                    median round by the guests' CPU from --split on (default 3)
#   --out DIR        where the measurements, logs, compare.md and compare.svg go
#                    (default bin/compare)
#   --table FILE.md  also copy the tables there
#   --regimes LIST   comma-separated subset of kernel,static,classic,adaptive
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

seconds=20
split=5
rounds=3
out="$here/../bin/compare"
table=
regimes=kernel,static,classic,adaptive
while (($#)); do
	case "$1" in
	-h | --help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--seconds) seconds=${2:?--seconds needs a value}; shift ;;
	--split) split=${2:?--split needs a value}; shift ;;
	--rounds) rounds=${2:?--rounds needs a value}; shift ;;
	--out) out=${2:?--out needs a value}; shift ;;
	--table) table=${2:?--table needs a value}; shift ;;
	--regimes) regimes=${2:?--regimes needs a value}; shift ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
	shift
done
if ! [[ "$seconds" =~ ^[0-9]+$ && "$split" =~ ^[0-9]+$ ]] || ((split <= 0 || split >= seconds)); then
	die "want whole seconds with 0 < --split < --seconds (got --split $split --seconds $seconds)"
fi
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive whole number, not '$rounds'"
require_root
bin="$here/../bin/vsched"
cmp="$here/../bin/vsched-compare"
[[ -x "$bin" && -x "$cmp" ]] || die "$bin or $cmp is missing: run 'make compare' (it builds both)"
IFS=, read -r -a regime_list <<<"$regimes"
for r in "${regime_list[@]}"; do
	[[ "$r" =~ ^(kernel|static|classic|adaptive)$ ]] || die "unknown regime '$r' (want kernel, static, classic, adaptive)"
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

cleanup() { "$here/host-down.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/host-up.sh" >&2
vtype=$("$here/guest.sh" virt-type --why)
log "guest type: ${vtype//$'\n'/ (}$([[ "$vtype" == *$'\n'* ]] && echo ')')"

b0=vsched-t-cmp-burn0 b1=vsched-t-cmp-burn1 l0=vsched-t-cmp-light0 l1=vsched-t-cmp-light1
guests=("$b0" "$b1" "$l0" "$l1")

# steady NAME: wait until the guest's vCPU0 reads below 50% over 1 s (SeaBIOS is done).
steady() {
	local i pct
	for ((i = 0; i < 20; i++)); do
		pct=$("$here/guest.sh" measure "$1" 1 | awk 'NR == 1 {print int($3)}')
		((pct < 50)) && return 0
	done
	die "$1 never left SeaBIOS (still ${pct}% after 20 s)"
}

"$here/guest.sh" start "$l0" --mode duty:1:3 --pin 0 >/dev/null
"$here/guest.sh" start "$l1" --mode duty:1:3 --pin 0 >/dev/null
steady "$l0"
steady "$l1"
"$here/guest.sh" start "$b0" --mode burn --pin 0 >/dev/null
"$here/guest.sh" start "$b1" --mode burn --pin 0 >/dev/null
sleep 2

state_args=()
files=()
for ((round = 1; round <= rounds; round++)); do
	for r in "${regime_list[@]}"; do
		for g in "${guests[@]}"; do virsh_q vcpupin "$g" 0 0 >/dev/null; done
		log "round $round/$rounds, regime $r: all four guests on pCPU0 for 3 s, then ${seconds} s measured"
		sleep 3
		case "$r" in
		# The pins of a regime go in parallel: one virsh call takes up to a second on a busy
		# host. The tables' "pins at end" column shows they took.
		kernel) cmd=(sh -c "for g in ${guests[*]}; do virsh -q -c '$VSCHED_URI' vcpupin \$g 0 0-1 >/dev/null & done; wait") ;;
		static) cmd=(sh -c "for g in $b1 $l1; do virsh -q -c '$VSCHED_URI' vcpupin \$g 0 1 >/dev/null & done; wait") ;;
		classic | adaptive)
			if "$bin" --help 2>&1 | grep -q -- '--state-dir '; then
				state_args=(--state-dir "$(mktemp -d /tmp/vsched-compare-state.XXXXXX)")
			fi
			cmd=("$bin" --policy "$r" --interval 250ms --cpus 0-1 --connect "$VSCHED_URI" "${state_args[@]}")
			;;
		esac
		f="$out/$r.round$round"
		"$cmp" measure --regime "$r" --seconds "$seconds" --split "$split" --out "$f.json" \
			--log "$f.log" "${guests[@]}" -- "${cmd[@]}"
		files+=("$f.json")
		if [[ "$r" == classic || "$r" == adaptive ]]; then
			log "regime $r: vsched made $(grep -c 'move vCPU' "$f.log" || true) moves (log: $f.log)"
			if ((${#state_args[@]})); then rm -rf -- "${state_args[1]}"; fi
		fi
	done
done
{
	printf '## Four regimes on the same real guests (%s)\n\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
	printf 'Guests: 2 burners + 2 duty 1:3, all starting on pCPU0 of 2; guest type %s; host %s, %s CPUs; %s round(s) of %s s per regime, in rotation.\n\n' \
		"$(head -n1 <<<"$vtype")" "$(uname -r)" "$(nproc)" "$rounds" "$seconds"
	"$cmp" report --svg "$out/compare.svg" "${files[@]}"
} >"$out/compare.md"
cat "$out/compare.md"
[[ -n "$table" ]] && cp "$out/compare.md" "$table"
log "tables: $out/compare.md; plot: $out/compare.svg"
