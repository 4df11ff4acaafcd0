#!/usr/bin/env bash
# Checks the packages `make package` wrote to dist/: each one's files,
# metadata and maintainer scripts, the version of the binary inside, the
# systemd unit of each format (systemd-analyze verify, in a scratch root).
# With --install (root, dpkg, a host where vsched is not installed): installs
# the .deb for real, upgrades it, removes and purges it, and checks that the
# host is left clean. Neither systemd nor libvirt needs to be running: the
# maintainer scripts only talk to systemd when it is PID 1.
# Needs dpkg-deb, rpm, objdump (binutils), systemd-analyze (systemd).
# Checks that need a pipe or a substitution are given to check as eval
# strings, single-quoted on purpose:
# shellcheck disable=SC2016
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
cd "$(dirname "$0")/../.."

install=
[ "${1-}" = --install ] && install=1

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*" >&2; }
# check DESC CMD...: runs CMD, counts it.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}

shopt -s nullglob
debs=(dist/vsched_*.deb)
rpms=(dist/vsched-*.rpm)
if [ ${#debs[@]} -ne 1 ] || [ ${#rpms[@]} -ne 1 ]; then
	echo "check: want exactly one dist/vsched_*.deb and one dist/vsched-*.rpm (make package), have: ${debs[*]-} ${rpms[*]-}" >&2
	exit 1
fi
deb=${debs[0]}
rpm=${rpms[0]}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The names carry the version and each format's architecture name.
version=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg-deb -f "$deb" Architecture)
rpmarch=$(rpm -qp --qf '%{ARCH}' "$rpm" 2>/dev/null)
check "deb file name is vsched_<version>_<arch>.deb" [ "$deb" = "dist/vsched_${version}_${arch}.deb" ]
check "rpm file name is vsched-<version>-1.<arch>.rpm" [ "$rpm" = "dist/vsched-${version}-1.${rpmarch}.rpm" ]
check "rpm has the deb's version, release 1" [ "$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$rpm" 2>/dev/null)" = "${version}-1" ]

# has_lines FILE LINE...: every LINE is a line of FILE.
has_lines() {
	local f=$1 l
	shift
	for l in "$@"; do
		grep -qxF -- "$l" "$f" || { echo "  missing: $l" >&2; return 1; }
	done
}

dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print substr($6, 2)}' | sort >"$tmp/deb.files"
rpm -qlp "$rpm" 2>/dev/null | sort >"$tmp/rpm.files"
common=(/usr/sbin/vsched /usr/share/man/man8/vsched.8.gz /usr/share/bash-completion/completions/vsched)
check "deb installs binary, unit, flags file, man page, completion" \
	has_lines "$tmp/deb.files" "${common[@]}" /lib/systemd/system/vsched.service /etc/default/vsched
check "rpm installs binary, unit, flags file, man page, completion" \
	has_lines "$tmp/rpm.files" "${common[@]}" /usr/lib/systemd/system/vsched.service /etc/sysconfig/vsched
stray() { grep -vE '^(/usr/sbin/vsched|/usr/share/man/man8/vsched[-a-z]*\.8\.gz|/usr/share/bash-completion/completions/vsched|(/usr)?/lib/systemd/system/vsched\.service|/etc/(default|sysconfig)/vsched)$' "$1"; }
check "deb installs nothing else" eval '! stray "$tmp/deb.files"'
check "rpm installs nothing else" eval '! stray "$tmp/rpm.files"'

dpkg-deb -I "$deb" >"$tmp/deb.info"
dpkg-deb -e "$deb" "$tmp/deb.control"
check "deb depends on libvirt0" grep -qE '^ Depends:.*\blibvirt0\b' "$tmp/deb.info"
check "deb marks /etc/default/vsched as a conffile" has_lines "$tmp/deb.control/conffiles" /etc/default/vsched
check "rpm requires libvirt-libs" eval 'rpm -qp --requires "$rpm" 2>/dev/null | grep -qx libvirt-libs'
check "rpm marks /etc/sysconfig/vsched as config" eval '[ "$(rpm -qp --configfiles "$rpm" 2>/dev/null)" = /etc/sysconfig/vsched ]'
rpm -qp --scripts "$rpm" 2>/dev/null >"$tmp/rpm.scripts"
cat "$tmp"/deb.control/{postinst,prerm,postrm} >"$tmp/deb.scripts"
# Maintainer scripts never pin or unpin: no vsched, virsh or taskset runs.
pins() { grep -v '^[[:space:]]*#' "$1" | grep -nE '(^|[;&|[:space:]])(/usr/s?bin/)?(vsched|virsh|taskset)([[:space:]]|$)'; }
check "deb maintainer scripts run no vsched, virsh or taskset" eval '! pins "$tmp/deb.scripts"'
check "rpm scriptlets run no vsched, virsh or taskset" eval '! pins "$tmp/rpm.scripts"'
check "deb maintainer scripts parse" sh -n "$tmp/deb.control/postinst" "$tmp/deb.control/prerm" "$tmp/deb.control/postrm"

# The payloads, each unpacked into a scratch root (never into /: the rpm's
# cpio archive holds absolute paths). rpm -i --root also checks the rpm
# installs; Debian's rpm warns that it is not the system's package manager.
mkdir -p "$tmp/deb.root" "$tmp/rpm.root"
dpkg-deb -x "$deb" "$tmp/deb.root"
rpm_unpack() {
	local out
	out=$(rpm -i --nodeps --noscripts --root "$tmp/rpm.root" "$rpm" 2>&1) || { echo "$out" >&2; return 1; }
}
check "rpm installs into a scratch root (rpm -i --root)" rpm_unpack
check "deb binary prints vsched <version>" eval '[ "$("$tmp/deb.root/usr/sbin/vsched" --version)" = "vsched $version" ]'
check "rpm binary prints vsched <version>" eval '[ "$("$tmp/rpm.root/usr/sbin/vsched" --version)" = "vsched $version" ]'
check "man page vsched.8 is section 8" eval 'zcat "$tmp/deb.root/usr/share/man/man8/vsched.8.gz" | grep -q "^\.TH \"VSCHED\" \"8\""'
check "bash completion registers vsched" \
	bash -c "source '$tmp/deb.root/usr/share/bash-completion/completions/vsched' && complete -p vsched >/dev/null"
# The binary links glibc: its newest symbol version must be one the
# declared dependency guarantees (libc6 >= 2.34 / glibc >= 2.34).
glibc=$(objdump -T "$tmp/deb.root/usr/sbin/vsched" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
check "binary needs glibc <= 2.34 (has $glibc)" eval 'printf "%s\n" "${glibc#GLIBC_}" 2.34 | sort -CV'

# unit_ok ROOT UNITPATH FLAGSFILE: the unit starts /usr/sbin/vsched with
# the flags file's VSCHED_ARGS, and systemd-analyze verify says nothing.
unit_ok() {
	local root=$1 unit=$2 flags=$3 out
	has_lines "$root$unit" 'ExecStart=/usr/sbin/vsched $VSCHED_ARGS' "EnvironmentFile=-$flags" \
		'StateDirectory=vsched' 'Restart=on-failure' 'LimitNOFILE=1048576' 'After=libvirtd.service virtqemud.service libvirt-guests.service' || return 1
	grep -q '^VSCHED_ARGS=' "$root$flags" || { echo "  $flags sets no VSCHED_ARGS" >&2; return 1; }
	# A scratch root: the host's own units (targets, libvirt's) plus the package's files.
	mkdir -p "$root$(dirname "$unit")"
	cp -an /lib/systemd/system/. "$root$(dirname "$unit")/"
	out=$(systemd-analyze verify --man=no --root="$root" "$unit" 2>&1) || { echo "$out" >&2; return 1; }
	[ -z "$out" ] || { echo "$out" >&2; return 1; }
}
if command -v systemd-analyze >/dev/null 2>&1; then
	check "deb unit verifies (systemd-analyze verify)" unit_ok "$tmp/deb.root" /lib/systemd/system/vsched.service /etc/default/vsched
	check "rpm unit verifies (systemd-analyze verify)" unit_ok "$tmp/rpm.root" /usr/lib/systemd/system/vsched.service /etc/sysconfig/vsched
else
	echo "skip systemd-analyze is not installed (apt-get install systemd): units not verified"
fi

if [ -n "$install" ]; then
	# shellcheck disable=SC1091
	. scripts/package/check-install.sh
fi

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
