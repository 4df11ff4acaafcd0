#!/usr/bin/env bash
# mmdebstrap customize hook of the test host: $1 is the root tree, still
# unpacked on the build machine. Makes it boot as /dev/vda with a serial
# console, quiet (no timers that run apt or scrub disks), and installs the
# boot-time runner. Part of the recipe.
set -euo pipefail
root="$1"
here="$(dirname "${BASH_SOURCE[0]}")"

echo testhost >"$root/etc/hostname"
printf '127.0.1.1\ttesthost\n' >>"$root/etc/hosts"
printf '/dev/vda\t/\text4\tdefaults,noatime\t0\t1\n' >"$root/etc/fstab"
mkdir -p "$root/srv/in"
# Root logs in on the serial console without a password: the VM has no network.
chroot "$root" passwd -d root >/dev/null
# Timers and services a throw-away test host does not want running mid-test.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
	man-db.timer dpkg-db-backup.timer systemd-timesyncd.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done
install -m 0755 "$here/testhost-boot" "$root/usr/local/sbin/testhost-boot"
install -m 0644 "$here/testhost.service" "$root/etc/systemd/system/testhost.service"
ln -sf /etc/systemd/system/testhost.service "$root/etc/systemd/system/multi-user.target.wants/testhost.service"
# 9p for /srv/in (the kernel loads the modules on mount; listed so the
# initrd-less path works too).
printf '9p\n9pnet_virtio\n' >"$root/etc/modules-load.d/testhost.conf"
