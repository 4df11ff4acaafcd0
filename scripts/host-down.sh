#!/usr/bin/env bash
# Undo host-up.sh and guest.sh: remove only what they created. Idempotent.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: $(basename "$0") [-h|--help]

Tears down what vsched's scripts set up, and nothing else, idempotently:
  1. every guest named ${VSCHED_PREFIX}* (guest.sh destroy-all: destroy, undefine, images);
     if libvirtd no longer answers, the QEMU processes of such guests are ended by
     libvirt's PID files /run/libvirt/qemu/${VSCHED_PREFIX}*.pid
  2. the daemons listed in \$VSCHED_STATE_DIR/started-daemons (those host-up.sh started),
     each only if its PID file still names that very process (PID and start time match):
     SIGTERM, then SIGKILL after ${VSCHED_TIMEOUT}s. Daemons it did not start stay up,
     and under systemd nothing is stopped.
  3. /dev/kvm's owner and mode, if host-up.sh changed them (for QEMU's user)
  4. the state dir \$VSCHED_STATE_DIR and the image dir \$VSCHED_IMG_DIR if empty.
Installed packages stay. Never kills processes by name pattern.
Environment: VSCHED_URI=$VSCHED_URI VSCHED_STATE_DIR=$VSCHED_STATE_DIR VSCHED_IMG_DIR=$VSCHED_IMG_DIR
EOF
}

while (($#)); do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done

require_root
t_all=$(now_ms)
here="$(dirname "${BASH_SOURCE[0]}")"

# stop_pid PID WHAT: SIGTERM, wait, SIGKILL.
stop_pid() {
	local pid="$1" what="$2"
	log "stopping $what (pid $pid): SIGTERM"
	kill -TERM "$pid" 2>/dev/null || return 0
	local deadline=$(($(now_ms) + VSCHED_TIMEOUT * 1000))
	while kill -0 "$pid" 2>/dev/null; do
		if (($(now_ms) >= deadline)); then
			warn "$what (pid $pid) still alive after ${VSCHED_TIMEOUT}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
			break
		fi
		sleep 0.05
	done
}

# --- 1. guests -----------------------------------------------------------------------
if command -v virsh >/dev/null && libvirt_ready; then
	"$here/guest.sh" destroy-all
else
	log "libvirtd does not answer on $VSCHED_URI; looking for our guests by libvirt's PID files"
	shopt -s nullglob
	for pf in /run/libvirt/qemu/"$VSCHED_PREFIX"*.pid; do
		name="$(basename "$pf" .pid)"
		if pid="$(pidfile_alive "$pf")"; then
			stop_pid "$pid" "QEMU of guest $name"
		fi
	done
	shopt -u nullglob
	rm -f "$VSCHED_IMG_DIR/$VSCHED_PREFIX"*.img
fi

# --- 2. daemons we started -------------------------------------------------------------
if [[ -s "$VSCHED_STARTED_FILE" ]]; then
	# libvirtd before virtlogd: reverse order of starting.
	mapfile -t started < <(tac "$VSCHED_STARTED_FILE")
	for line in "${started[@]}"; do
		read -r name pid start pidfile <<<"$line"
		if ! cur="$(pidfile_alive "$pidfile")"; then
			log "$name (pid $pid) is no longer running; nothing to stop"
		elif [[ "$cur" != "$pid" ]]; then
			warn "$pidfile now names pid $cur, not the pid $pid this tooling started; leaving it alone"
		elif [[ "$(pid_starttime "$pid")" != "$start" ]]; then
			warn "pid $pid is not the $name this tooling started (start time differs); leaving it alone"
		else
			stop_pid "$pid" "$name"
		fi
	done
else
	log "no daemons recorded as started by host-up.sh; stopping none"
fi

# --- 3. /dev/kvm's owner and mode, if host-up.sh changed them --------------------------
if [[ -s "$VSCHED_STATE_DIR/kvm-perms" && -c /dev/kvm ]]; then
	read -r owner mode <"$VSCHED_STATE_DIR/kvm-perms"
	log "restoring /dev/kvm to owner $owner, mode $mode (as it was before host-up.sh)"
	if ! { chown "$owner" /dev/kvm && chmod "$mode" /dev/kvm; }; then
		warn "cannot restore /dev/kvm's owner/mode"
	fi
fi

# --- 4. our directories ------------------------------------------------------------------
if [[ -d "$VSCHED_STATE_DIR" ]]; then
	log "removing state dir $VSCHED_STATE_DIR"
	rm -rf -- "$VSCHED_STATE_DIR"
fi
if [[ -d "$VSCHED_IMG_DIR" ]]; then
	if rmdir -- "$VSCHED_IMG_DIR" 2>/dev/null; then
		log "removed empty image dir $VSCHED_IMG_DIR"
	else
		warn "$VSCHED_IMG_DIR is not empty (files not made by guest.sh?); left in place"
	fi
fi
log "host is down in $(($(now_ms) - t_all)) ms"
