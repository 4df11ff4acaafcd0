#!/bin/sh
# postrm of the vsched .deb ($1: remove, purge, upgrade, ...). purge deletes
# the state vsched kept (/var/lib/vsched: the pin checkpoint, useless without
# vsched) and any enablement link left; remove keeps the state, so that a
# reinstalled vsched can still "vsched restore". dpkg itself deletes the
# conffile /etc/default/vsched on purge.
set -e
if [ "$1" = purge ]; then
	rm -rf /var/lib/vsched
	rm -f /etc/systemd/system/multi-user.target.wants/vsched.service
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
