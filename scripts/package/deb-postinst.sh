#!/bin/bash
# postinst of the vsched .deb ($1: configure; $2: the version replaced, empty
# on a fresh install). Enables, starts and pins nothing: vsched re-pins
# running guests, so the operator turns it on (systemctl enable --now vsched).
# dpkg runs it with its shebang; bash is Essential on Debian. Kept to
# what a POSIX sh also parses (check.sh runs sh -n on it).
set -euo pipefail
if [ "${1:-}" = configure ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	# An upgrade: a running vsched restarts on the new binary; a stopped one
	# stays stopped.
	if [ -n "${2:-}" ]; then
		systemctl try-restart vsched.service || true
	fi
fi
exit 0
