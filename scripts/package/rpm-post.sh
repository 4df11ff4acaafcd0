# shellcheck shell=bash
# %post of the vsched .rpm ($1: 1 install, 2 upgrade). Enables, starts and
# pins nothing: vsched re-pins running guests, so the operator turns it on
# (systemctl enable --now vsched).
# rpm runs a scriptlet with /bin/sh, which is bash on rpm distributions;
# kept to what a POSIX sh also runs.
set -euo pipefail
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || :
fi
