#!/usr/bin/env bash
# Set this machine up as a real libvirt/QEMU host for vsched's end-to-end tests and demo.
# Idempotent: installs only missing packages, starts only daemons that are not running.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: $(basename "$0") [--no-install] [-h|--help]

Sets up a real libvirt host for vsched, idempotently:
  1. installs the Debian packages that are missing (apt-get --no-install-recommends):
     ${PACKAGES[*]}
  2. lets QEMU's user (libvirt-qemu) use /dev/kvm: group kvm, mode 0660, as udev would
     (host-down.sh restores the old owner and mode)
  3. starts virtlogd and libvirtd: 'systemctl start' when systemd runs, otherwise
     '/usr/sbin/virtlogd -d' and '/usr/sbin/libvirtd -d', each only if its PID file
     (/run/virtlogd.pid, /run/libvirtd.pid) does not name a live process; the daemons
     started here are recorded in \$VSCHED_STATE_DIR/started-daemons for host-down.sh
  4. waits for $LIBVIRT_SOCK and for 'virsh -c $VSCHED_URI version'
  5. makes the image directory \$VSCHED_IMG_DIR (no libvirt storage pool is used)
  6. checks once whether KVM guests really run here (else guests use TCG) and caches
     the answer in \$VSCHED_STATE_DIR/virt-type

Run it again after killing libvirtd to restart it; running guests survive.
  --no-install   fail instead of installing missing packages
Environment: VSCHED_URI=$VSCHED_URI VSCHED_STATE_DIR=$VSCHED_STATE_DIR
             VSCHED_IMG_DIR=$VSCHED_IMG_DIR VSCHED_TIMEOUT=$VSCHED_TIMEOUT
Exit status: 0 when the host is ready, 1 (with the reason on stderr) when it cannot be set up.
EOF
}

PACKAGES=(libvirt-daemon-system libvirt-clients qemu-system-x86 libvirt0)
NO_INSTALL=0

while (($#)); do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--no-install) NO_INSTALL=1 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
	shift
done

require_root
t_all=$(now_ms)

# --- 1. packages -------------------------------------------------------------------
pkg_installed() {
	[[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}
missing=()
for p in "${PACKAGES[@]}"; do
	pkg_installed "$p" || missing+=("$p")
done
# The binaries we call, in case a package is half there.
for b in /usr/sbin/libvirtd /usr/sbin/virtlogd /usr/bin/virsh /usr/bin/qemu-system-x86_64; do
	[[ -x "$b" ]] || { missing+=("${PACKAGES[@]}"); break; }
done
if ((${#missing[@]})); then
	# De-duplicate.
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	((NO_INSTALL == 0)) || die "missing packages and --no-install given: ${missing[*]}"
	command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them"
	t=$(now_ms)
	log "installing missing packages: ${missing[*]} (apt-get update + install --no-install-recommends)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2 || die "apt-get update failed"
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
	for p in "${missing[@]}"; do
		pkg_installed "$p" || die "package $p still not installed after apt-get"
	done
	log "packages installed in $(($(now_ms) - t)) ms"
else
	log "packages already installed: ${PACKAGES[*]}"
fi

mkdir -p "$VSCHED_STATE_DIR"
chmod 755 "$VSCHED_STATE_DIR"

# --- 2. /dev/kvm for the QEMU user ----------------------------------------------------
# QEMU runs as the user of /etc/libvirt/qemu.conf (Debian: libvirt-qemu, in group kvm).
# Without udev, /dev/kvm stays root:root 0600: then KVM guests fail ("Permission denied")
# and, worse, libvirt finds its cached QEMU capabilities (probed with KVM) invalid at every
# lookup and re-probes QEMU several times per domain start: about 45 s per guest instead of
# well under a second. Do what Debian's udev rule would do: group kvm, mode 0660.
qemu_user="$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' /etc/libvirt/qemu.conf 2>/dev/null | tail -n1)"
qemu_user="${qemu_user:-libvirt-qemu}"
if [[ ! -c /dev/kvm ]]; then
	log "/dev/kvm is missing: guests will run under TCG (slower, same CPU use)"
elif [[ "$qemu_user" == root || "$qemu_user" == +0 ]]; then
	log "QEMU runs as root: /dev/kvm needs no change"
elif runuser -u "$qemu_user" -- test -r /dev/kvm -a -w /dev/kvm 2>/dev/null; then
	log "/dev/kvm is usable by QEMU's user $qemu_user ($(stat -c '%U:%G %a' /dev/kvm))"
elif getent group kvm >/dev/null; then
	orig="$(stat -c '%u:%g %a' /dev/kvm)"
	log "/dev/kvm is $(stat -c '%U:%G %a' /dev/kvm), unusable by QEMU's user $qemu_user: setting group kvm, mode 0660 (as udev would)"
	[[ -s "$VSCHED_STATE_DIR/kvm-perms" ]] || echo "$orig" >"$VSCHED_STATE_DIR/kvm-perms"
	if ! { chgrp kvm /dev/kvm && chmod 0660 /dev/kvm; }; then
		die "cannot change /dev/kvm's group/mode"
	fi
	runuser -u "$qemu_user" -- test -r /dev/kvm -a -w /dev/kvm 2>/dev/null ||
		warn "$qemu_user still cannot use /dev/kvm (not in group kvm?): expect TCG guests and slow starts"
	# A cached answer from before the change is wrong now.
	rm -f "$VSCHED_STATE_DIR/virt-type" "$VSCHED_STATE_DIR/virt-type.why"
else
	warn "/dev/kvm is unusable by QEMU's user $qemu_user and there is no group kvm: expect TCG guests and slow starts"
fi

# --- 3. daemons --------------------------------------------------------------------
# start_daemon NAME PIDFILE: start /usr/sbin/NAME -d unless PIDFILE names a live process.
start_daemon() {
	local name="$1" pidfile="$2" pid t
	if pid="$(pidfile_alive "$pidfile")"; then
		log "$name already running (pid $pid from $pidfile); leaving it alone"
		return 0
	fi
	[[ -e "$pidfile" ]] && log "$pidfile is stale; removing it"
	rm -f "$pidfile"
	t=$(now_ms)
	log "starting /usr/sbin/$name -d (log: $VSCHED_STATE_DIR/$name.log)"
	LIBVIRT_LOG_OUTPUTS="3:file:$VSCHED_STATE_DIR/$name.log" \
		"/usr/sbin/$name" -d </dev/null >>"$VSCHED_STATE_DIR/$name.out" 2>&1 ||
		die "/usr/sbin/$name -d failed (exit $?); see $VSCHED_STATE_DIR/$name.out and $name.log"
	wait_for "$VSCHED_TIMEOUT" "$name to write a live PID to $pidfile" pidfile_alive "$pidfile"
	pid="$(pidfile_alive "$pidfile")"
	# Record it (replacing any older line for this daemon) so host-down.sh stops only it.
	{
		grep -v "^$name " "$VSCHED_STARTED_FILE" 2>/dev/null || true
		printf '%s %s %s %s\n' "$name" "$pid" "$(pid_starttime "$pid")" "$pidfile"
	} >"$VSCHED_STARTED_FILE.new"
	mv "$VSCHED_STARTED_FILE.new" "$VSCHED_STARTED_FILE"
	log "$name started, pid $pid, in $(($(now_ms) - t)) ms (recorded in $VSCHED_STARTED_FILE)"
}

if have_systemd; then
	log "systemd is running: systemctl start virtlogd libvirtd"
	systemctl start virtlogd.socket virtlogd libvirtd ||
		die "systemctl start virtlogd libvirtd failed; see 'journalctl -u libvirtd'"
else
	log "no systemd (PID 1 is '$(cat /proc/1/comm)'): managing the daemons by their PID files"
	start_daemon virtlogd /run/virtlogd.pid
	wait_for "$VSCHED_TIMEOUT" "virtlogd's socket /run/libvirt/virtlogd-sock" test -S /run/libvirt/virtlogd-sock
	start_daemon libvirtd /run/libvirtd.pid
fi

t=$(now_ms)
log "waiting for $LIBVIRT_SOCK and for 'virsh -c $VSCHED_URI version' (timeout ${VSCHED_TIMEOUT}s)"
wait_for "$VSCHED_TIMEOUT" "libvirtd's socket $LIBVIRT_SOCK" test -S "$LIBVIRT_SOCK"
wait_for "$VSCHED_TIMEOUT" "libvirtd to answer on $VSCHED_URI" libvirt_ready
log "libvirt answers: $(virsh -c "$VSCHED_URI" version 2>/dev/null | grep -i 'running hypervisor' | sed 's/^ *//') (waited $(($(now_ms) - t)) ms)"

# --- 4. images ---------------------------------------------------------------------
mkdir -p "$VSCHED_IMG_DIR"
chmod 755 "$VSCHED_IMG_DIR"
log "guest images go to $VSCHED_IMG_DIR (raw files, no storage pool needed)"

# --- 5. KVM or TCG -----------------------------------------------------------------
mapfile -t vt < <("$(dirname "${BASH_SOURCE[0]}")/guest.sh" virt-type --why) ||
	die "cannot run even a TCG guest; see the messages above"
[[ "${vt[0]:-}" == kvm || "${vt[0]:-}" == qemu ]] || die "guest.sh virt-type said '${vt[*]}', want kvm or qemu"
# Say it on stdout too: the tier's logs must show which guests it ran.
echo "guest type: ${vt[0]} (${vt[1]:-})"
log "guests will use domain type '${vt[0]}' (${vt[1]:-})"

log "host is up in $(($(now_ms) - t_all)) ms"
