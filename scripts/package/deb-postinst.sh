#!/bin/sh
# postinst of the vsched .deb ($1: configure; $2: the version replaced, empty
# on a fresh install). Enables, starts and pins nothing: vsched re-pins
# running guests, so the operator turns it on (systemctl enable --now vsched).
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	# An upgrade: a running vsched restarts on the new binary; a stopped one
	# stays stopped.
	if [ -n "$2" ]; then
		systemctl try-restart vsched.service || true
	fi
fi
exit 0
