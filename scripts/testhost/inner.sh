#!/usr/bin/env bash
# The driver of one run inside the test host, started at boot by
# testhost-boot with the run's files at /srv/in: installs the vsched .deb,
# enables vsched.service, waits for libvirtd to answer, runs
# /srv/in/<first FILE> as root and leaves its stdout, stderr and status in
# /srv/in/.testhost/out/ for scripts/testhost.sh on the host. Comes with each
# run, not with the image.
set -uo pipefail
me=/srv/in/.testhost
out="$me/out"
mkdir -p "$out"
exec 3>>"$out/setup.log"
up=$(cut -d' ' -f1 /proc/uptime)

fail() {
	echo "testhost: $*" >>"$out/stderr"
	cat "$out/setup.log" >>"$out/stderr"
	echo 1 >"$out/rc"
	exit 1
}

echo "setup: dpkg -i vsched.deb" >&3
DEBIAN_FRONTEND=noninteractive dpkg -i "$me/vsched.deb" >&3 2>&3 || fail "dpkg -i of the vsched package failed"
systemctl enable --now vsched.service >&3 2>&3 || fail "systemctl enable --now vsched.service failed"
ok=0
for _ in $(seq 240); do
	if virsh -c qemu:///system version >/dev/null 2>&1; then
		ok=1
		break
	fi
	sleep 0.5
done
((ok)) || fail "libvirtd does not answer on qemu:///system after 120 s: $(systemctl status libvirtd 2>&1 | tail -n 5)"
ready=$(cut -d' ' -f1 /proc/uptime)
first="$(cat "$me/first")"
chmod +x "/srv/in/$first" 2>/dev/null || true
cd /srv/in || fail "cd /srv/in"
"/srv/in/$first" >>"$out/stdout" 2>>"$out/stderr" </dev/null
rc=$?
done_at=$(cut -d' ' -f1 /proc/uptime)
echo "inside: setup began at ${up} s of uptime, libvirtd answered at ${ready} s, the script ran $(awk -v a="$ready" -v b="$done_at" 'BEGIN{printf "%.0f", b-a}') s" >"$out/times"
echo "$rc" >"$out/rc.tmp"
mv "$out/rc.tmp" "$out/rc"
sync
