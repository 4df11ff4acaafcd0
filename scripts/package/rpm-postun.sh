# shellcheck shell=bash
# %postun of the vsched .rpm ($1: 0 erase, 1 upgrade). On upgrade a running
# vsched restarts on the new binary. rpm has no purge: /var/lib/vsched (the
# pin checkpoint) stays after erase, as unowned state does under rpm.
# rpm runs a scriptlet with /bin/sh, which is bash on rpm distributions;
# kept to what a POSIX sh also runs.
set -euo pipefail
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || :
	if [ "${1:-}" -ge 1 ]; then
		systemctl try-restart vsched.service || :
	fi
fi
