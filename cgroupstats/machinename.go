package cgroupstats

import (
	"strconv"
	"strings"
)

// machineNameMax is libvirt's cut for machine names (whole name, prefix
// included).
const machineNameMax = 64

// MachineName returns the machine name libvirt gives a QEMU domain, as in
// virDomainDriverGenerateMachineName for the privileged qemu driver:
// "qemu-ID-" followed by the domain name reduced to hostname characters
// (ASCII letters, digits, '-' and '.'); a run of '-' and '.' keeps only its
// first character, one at the start of the name is dropped, characters stop
// being added once the whole name reaches 64 bytes, and trailing '-' and
// '.' are trimmed. The name is the cgroup directory "qemu-ID-NAME.libvirt-qemu"
// without systemd and the scope "machine-<escaped name>.scope" with it.
func MachineName(id int, name string) string {
	var b strings.Builder
	b.WriteString("qemu-")
	b.WriteString(strconv.Itoa(id))
	b.WriteByte('-')
	skip := true
	for i := 0; i < len(name); i++ {
		if b.Len() >= machineNameMax {
			break
		}
		c := name[i]
		if c == '.' || c == '-' {
			if !skip {
				b.WriteByte(c)
				skip = true
			}
			continue
		}
		if !isAlnum(c) {
			continue
		}
		b.WriteByte(c)
		skip = false
	}
	return strings.TrimRight(b.String(), "-.")
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// SystemdEscape escapes s the way systemd escapes a string for a unit name
// (unit_name_escape): ASCII letters, digits, ':', '_' and '.' are kept
// (except a leading '.'), '/' becomes '-', and every other byte, '-'
// included, becomes "\xNN". So "qemu-1-vm1" becomes `qemu\x2d1\x2dvm1`.
func SystemdEscape(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/':
			b.WriteByte('-')
		case isAlnum(c) || c == ':' || c == '_' || c == '.' && i > 0:
			b.WriteByte(c)
		default:
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// ScopeName returns the systemd scope libvirt's domain runs in under
// machine.slice, e.g. `machine-qemu\x2d1\x2dvm1.scope`.
func ScopeName(id int, name string) string {
	return "machine-" + SystemdEscape(MachineName(id, name)) + ".scope"
}

// noSystemdDir returns the domain's cgroup directory name without systemd,
// e.g. "qemu-1-vm1.libvirt-qemu".
func noSystemdDir(id int, name string) string {
	return MachineName(id, name) + ".libvirt-qemu"
}
