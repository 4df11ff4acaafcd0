#!/bin/bash
# postrm of the vsched .deb ($1: remove, purge, upgrade, ...). purge deletes
# the state vsched kept (/var/lib/vsched: the pin checkpoint, useless without
# vsched) and any enablement link left; remove keeps the state, so that a
# reinstalled vsched can still "vsched restore". dpkg itself deletes the
# conffile /etc/default/vsched on purge.
# dpkg runs it with its shebang; bash is Essential on Debian. Kept to
# what a POSIX sh also parses (check.sh runs sh -n on it).
set -euo pipefail
if [ "${1:-}" = purge ]; then
	rm -rf /var/lib/vsched
	rm -f /etc/systemd/system/multi-user.target.wants/vsched.service
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
