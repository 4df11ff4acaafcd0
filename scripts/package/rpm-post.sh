# shellcheck shell=sh
# %post of the vsched .rpm ($1: 1 install, 2 upgrade). Enables, starts and
# pins nothing: vsched re-pins running guests, so the operator turns it on
# (systemctl enable --now vsched).
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || :
fi
