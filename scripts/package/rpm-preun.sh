# shellcheck shell=bash
# %preun of the vsched .rpm ($1: 0 erase, 1 upgrade). On erase only, stops
# vsched and disables it. Pins nothing itself: a vsched started with
# --restore-on-exit (the shipped flags) puts its pins back as it stops;
# otherwise run "vsched restore" first.
# rpm runs a scriptlet with /bin/sh, which is bash on rpm distributions;
# kept to what a POSIX sh also runs.
set -euo pipefail
if [ "${1:-}" -eq 0 ]; then
	if [ -d /run/systemd/system ]; then
		systemctl stop vsched.service || :
	fi
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable --quiet vsched.service >/dev/null 2>&1 || :
	fi
fi
