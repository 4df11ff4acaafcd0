# shellcheck shell=bash
# Sourced by check.sh --install: installs, upgrades, removes and purges the
# .deb on this host for real and checks that each step leaves what a
# Debian user expects, and purge leaves nothing. Uses check.sh's check, ok,
# bad, has_lines, $deb, $version, $tmp. Checks that need a pipe or a
# substitution are eval strings, single-quoted on purpose.
# shellcheck disable=SC2016,SC2034,SC2154

# dpkg_do ARGS...: dpkg, waiting for another dpkg or apt to finish first.
dpkg_do() {
	local out
	for _ in $(seq 60); do
		if out=$(DEBIAN_FRONTEND=noninteractive dpkg --force-confold "$@" 2>&1 </dev/null); then
			return 0
		fi
		case $out in
		*lock*) sleep 2 ;;
		*) echo "$out" >&2; return 1 ;;
		esac
	done
	echo "$out" >&2
	return 1
}
status() { dpkg-query -W -f '${Status} ${Version}' vsched 2>/dev/null || true; }
gone() {
	local p
	for p in "$@"; do
		[ ! -e "$p" ] || { echo "  still there: $p" >&2; return 1; }
	done
}
# leftovers: anything named like the package's files where the package or
# vsched.service put files or state (test guests named vsched-* elsewhere
# under /var/lib are not the package's).
leftovers() {
	find /etc /lib/systemd /usr/lib/systemd /usr/sbin /usr/share/man /usr/share/bash-completion \
		\( -name vsched -o -name 'vsched.*' -o -name 'vsched-*.8*' \) 2>/dev/null
	find /var/lib -maxdepth 1 -name vsched 2>/dev/null
}

if [ "$(id -u)" != 0 ] || ! command -v dpkg >/dev/null; then
	echo "skip install test: needs root and dpkg"
elif [ -n "$(status)" ] && [ "$(status)" != "unknown ok not-installed " ]; then
	echo "skip install test: vsched is already known to dpkg here ($(status)); not touching it"
else
	files=(/usr/sbin/vsched /lib/systemd/system/vsched.service /etc/default/vsched
		/usr/share/man/man8/vsched.8.gz /usr/share/bash-completion/completions/vsched)
	before=$(leftovers)

	# An upgrade: the same package under a higher version (only the control
	# file changes: the maintainer scripts and the conffile are what matter).
	dpkg-deb -R "$deb" "$tmp/up"
	sed -i "s/^Version: .*/Version: ${version}.1/" "$tmp/up/DEBIAN/control"
	dpkg-deb --root-owner-group -b "$tmp/up" "$tmp/up.deb" >/dev/null

	check "dpkg -i installs (no systemd running)" dpkg_do -i "$deb"
	check "installed: $version" [ "$(status)" = "install ok installed $version" ]
	check "installed: every file in place" eval 'for f in "${files[@]}"; do [ -e "$f" ] || exit 1; done'
	check "installed: /usr/sbin/vsched --version" eval '[ "$(/usr/sbin/vsched --version)" = "vsched $version" ]'
	check "installed: not enabled, no state made" gone /etc/systemd/system/multi-user.target.wants/vsched.service /var/lib/vsched
	if command -v man >/dev/null 2>&1; then
		check "installed: man 8 vsched renders" eval 'man 8 vsched 2>/dev/null | grep -q "vsched \[flags\]"'
	fi

	# The operator enables it (offline here: systemd is not PID 1).
	wants=/etc/systemd/system/multi-user.target.wants/vsched.service
	if command -v systemctl >/dev/null 2>&1 && systemctl enable --quiet vsched.service 2>/dev/null; then
		check "systemctl enable vsched links the unit" test -L "$wants"
	fi

	# The operator's edits and vsched's state survive an upgrade.
	echo 'VSCHED_ARGS="--restore-on-exit --cpus 0"' >>/etc/default/vsched
	mkdir -p /var/lib/vsched && echo '{}' >/var/lib/vsched/state.json
	check "dpkg -i upgrades to ${version}.1" dpkg_do -i "$tmp/up.deb"
	check "upgraded: ${version}.1" [ "$(status)" = "install ok installed ${version}.1" ]
	check "upgraded: edited /etc/default/vsched kept" grep -qx 'VSCHED_ARGS="--restore-on-exit --cpus 0"' /etc/default/vsched
	check "upgraded: state kept" test -f /var/lib/vsched/state.json

	check "dpkg -r removes" dpkg_do -r vsched
	check "removed: binary, unit, man page, completion gone" gone /usr/sbin/vsched /lib/systemd/system/vsched.service \
		/usr/share/man/man8/vsched.8.gz /usr/share/bash-completion/completions/vsched
	check "removed: disabled, no enablement link left" gone "$wants"
	check "removed: conffile and state kept (for a reinstall or vsched restore)" test -f /etc/default/vsched -a -f /var/lib/vsched/state.json

	check "dpkg -P purges" dpkg_do -P vsched
	check "purged: dpkg knows no vsched" eval '[ -z "$(status)" ] || [ "$(status)" = "unknown ok not-installed " ]'
	check "purged: flags file and state gone" gone /etc/default/vsched /var/lib/vsched
	check "purged: nothing named vsched left" eval '[ "$(leftovers)" = "$before" ]'
fi
