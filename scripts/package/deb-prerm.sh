#!/bin/bash
# prerm of the vsched .deb ($1: remove, upgrade, ...). On removal only, stops
# vsched and disables it, so no enablement link is left behind. Pins nothing
# itself: a vsched started with --restore-on-exit (the shipped flags) puts
# its pins back as it stops; otherwise run "vsched restore" first.
# dpkg runs it with its shebang; bash is Essential on Debian. Kept to
# what a POSIX sh also parses (check.sh runs sh -n on it).
set -euo pipefail
if [ "${1:-}" = remove ]; then
	if [ -d /run/systemd/system ]; then
		systemctl stop vsched.service || true
	fi
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable --quiet vsched.service >/dev/null 2>&1 || true
	fi
fi
exit 0
