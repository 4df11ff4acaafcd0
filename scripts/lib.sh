# shellcheck shell=bash
# Shared helpers for vsched's real-host scripts (host-up.sh, guest.sh, host-down.sh).
# Source it; do not run it. It sets no shell options of its own.
#
# Environment knobs (all optional):
#   VSCHED_URI        libvirt URI              (default qemu:///system)
#   VSCHED_STATE_DIR  run-time state           (default /run/vsched-test)
#   VSCHED_IMG_DIR    guests' disk images      (default /var/lib/vsched-test)
#   VSCHED_VIRT_TYPE  force 'kvm' or 'qemu'    (default: probed once, cached in the state dir)
#   VSCHED_TIMEOUT    seconds to wait for daemons/guests (default 30)

# The common prefix of every guest these scripts make; nothing else is ever touched.
readonly VSCHED_PREFIX="vsched-t-"
VSCHED_URI="${VSCHED_URI:-qemu:///system}"
VSCHED_STATE_DIR="${VSCHED_STATE_DIR:-/run/vsched-test}"
VSCHED_IMG_DIR="${VSCHED_IMG_DIR:-/var/lib/vsched-test}"
VSCHED_TIMEOUT="${VSCHED_TIMEOUT:-30}"
# One line per daemon this tooling started: "NAME PID STARTTIME PIDFILE".
# shellcheck disable=SC2034 # used by the scripts that source this file
VSCHED_STARTED_FILE="${VSCHED_STATE_DIR}/started-daemons"
# shellcheck disable=SC2034
LIBVIRT_SOCK="/run/libvirt/libvirt-sock"

_vsched_me="$(basename "${0:-vsched}" .sh)"

# log MSG...: one "what I am doing" line on stderr, timestamped.
log() {
	printf '[%s %s] %s\n' "$_vsched_me" "$(date +%H:%M:%S.%3N)" "$*" >&2
}

# warn MSG...: like log, flagged.
warn() {
	log "WARNING: $*"
}

# die MSG...: say why and exit non-zero.
die() {
	log "FATAL: $*"
	exit 1
}

# now_ms: wall clock in milliseconds (for timing steps).
now_ms() {
	date +%s%3N
}

# require_root: these scripts manage system daemons and qemu:///system.
require_root() {
	[[ $(id -u) -eq 0 ]] || die "must run as root (uid 0); current uid is $(id -u)"
}

# have_systemd: true when systemd is the init system.
have_systemd() {
	[[ -d /run/systemd/system ]] || [[ "$(cat /proc/1/comm 2>/dev/null)" == systemd ]]
}

# wait_for TIMEOUT_S WHAT CMD [ARGS...]: poll CMD every 0.1 s until it succeeds;
# die naming WHAT when TIMEOUT_S seconds pass first.
wait_for() {
	local timeout="$1" what="$2"
	shift 2
	local deadline=$(($(now_ms) + timeout * 1000))
	until "$@" >/dev/null 2>&1; do
		if (($(now_ms) >= deadline)); then
			die "timed out after ${timeout}s waiting for ${what}"
		fi
		sleep 0.1
	done
}

# pid_starttime PID: field 22 of /proc/PID/stat (start time in clock ticks since boot);
# with the PID it identifies one process for good, even if PIDs are reused.
pid_starttime() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	# The comm field may contain spaces; drop everything up to the last ')'.
	stat="${stat##*) }"
	# Now field 3 of the original is field 1 here; starttime (22) is field 20.
	awk '{print $20}' <<<"$stat"
}

# pidfile_alive PIDFILE: prints the PID and succeeds when PIDFILE names a live process.
pidfile_alive() {
	local pid
	[[ -r "$1" ]] || return 1
	pid="$(tr -dc '0-9' <"$1")"
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
	printf '%s\n' "$pid"
}

# virsh_q ARGS...: virsh on our URI.
virsh_q() {
	virsh -q -c "$VSCHED_URI" "$@"
}

# libvirt_ready: libvirtd answers on our URI.
libvirt_ready() {
	virsh -c "$VSCHED_URI" version >/dev/null 2>&1
}

# check_guest_name NAME: refuse anything without our prefix or with odd characters.
check_guest_name() {
	local name="$1"
	[[ "$name" == "$VSCHED_PREFIX"* ]] ||
		die "guest name '$name' must start with '$VSCHED_PREFIX' (these scripts touch nothing else)"
	[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] ||
		die "guest name '$name' may only contain letters, digits, '.', '_' and '-'"
	((${#name} <= 50)) || die "guest name '$name' is longer than 50 characters"
}

# our_domains: names of every domain (running or defined) with our prefix, one per line.
our_domains() {
	local n
	virsh -c "$VSCHED_URI" list --all --name 2>/dev/null | while IFS= read -r n; do
		if [[ "$n" == "$VSCHED_PREFIX"* ]]; then
			printf '%s\n' "$n"
		fi
	done
}

# qemu_pid NAME: the QEMU process of a running domain (from libvirt's PID file).
qemu_pid() {
	pidfile_alive "/run/libvirt/qemu/$1.pid"
}

# vcpu_tids NAME: "VCPU TID" lines for a running domain, read from /proc (thread names
# "CPU N/KVM" or "CPU N/TCG"), sorted by vCPU.
vcpu_tids() {
	local pid t comm
	pid="$(qemu_pid "$1")" || return 1
	for t in /proc/"$pid"/task/*; do
		comm="$(cat "$t/comm" 2>/dev/null)" || continue
		if [[ "$comm" =~ ^CPU\ ([0-9]+)/(KVM|TCG)$ ]]; then
			printf '%s %s\n' "${BASH_REMATCH[1]}" "${t##*/}"
		fi
	done | sort -n
}
