package cgroupstats

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProcCgroup_CapturedHybridHost(t *testing.T) {
	got := parseProcCgroup([]byte(capture(t, "proc_cgroup_hybrid.txt")))
	if len(got) != 10 || got[len(got)-1] != "/" || got[5] != "/process_api/552659014651784ee7cdd5df176e56c1" {
		t.Errorf("parseProcCgroup(captured) = %q, want 10 paths, memory's under /process_api, the unified /", got)
	}
}

func TestInDomainCgroup(t *testing.T) {
	// The captured file of a process outside any guest, and the same with
	// the paths a QEMU has on this host kind (REALHOST.md: hybrid, no
	// systemd), its main thread in the emulator cgroup.
	outside := capture(t, "proc_cgroup_hybrid.txt")
	qemu := strings.NewReplacer("cpu:/", "cpu:/machine/qemu-3-vm.libvirt-qemu/emulator", "0::/", "0::/machine/qemu-3-vm.libvirt-qemu/emulator").Replace(outside)
	dirs := []domainDir{
		{dir: "/r/cpu/machine/qemu-3-vm.libvirt-qemu", h: hierarchy{dir: "/r/cpu"}},
		{dir: "/r/unified/machine/qemu-3-vm.libvirt-qemu", h: hierarchy{dir: "/r/unified", threaded: true}},
	}
	other := []domainDir{{dir: "/r/unified/machine/qemu-30-vm.libvirt-qemu", h: hierarchy{dir: "/r/unified"}}}
	tests := []struct {
		name string
		file string
		dirs []domainDir
		want bool
	}{
		{"QEMUInItsEmulatorCgroup_In", qemu, dirs, true},
		{"OnlyUnifiedLineMatches_In", "0::/machine/qemu-3-vm.libvirt-qemu/emulator\n", dirs[1:], true},
		{"ProcessOutsideAnyGuest_Out", outside, dirs, false},
		{"AnotherDomainsPrefix_Out", qemu, other, false},
		{"DotDotPath_Out", "0::/machine/qemu-3-vm.libvirt-qemu/../qemu-4-x.libvirt-qemu\n", dirs, false},
		{"Garbage_Out", "garbage\n::\n", dirs, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := inDomainCgroup([]byte(tc.file), tc.dirs); got != tc.want {
				t.Errorf("inDomainCgroup = %v, want %v; paths %s", got, tc.want, cmp.Diff(nil, parseProcCgroup([]byte(tc.file))))
			}
		})
	}
}

func TestQemuOf(t *testing.T) {
	d := Domain{Name: "vm", UUID: "11111111-1111-4111-8111-111111111111"}
	argv := "/usr/bin/qemu-system-x86_64\x00-name\x00guest=vm,debug-threads=on\x00-uuid\x00" + d.UUID + "\x00-m\x0016\x00"
	tests := []struct {
		name    string
		cmdline string
		d       Domain
		want    bool
	}{
		{"ItsUUID_Yes", argv, d, true},
		{"UUIDWithoutTrailingNUL_Yes", strings.TrimSuffix(argv, "\x00-m\x0016\x00"), d, true},
		{"AnotherUUID_No", argv, Domain{Name: "vm", UUID: "22222222-2222-4222-8222-222222222222"}, false},
		{"UUIDPrefixOnly_No", strings.Replace(argv, d.UUID, d.UUID+"0", 1), d, false},
		{"NoUUIDGivenNameMatches_Yes", argv, Domain{Name: "vm"}, true},
		{"NoUUIDGivenOtherName_No", argv, Domain{Name: "v"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := qemuOf([]byte(tc.cmdline), tc.d); got != tc.want {
				t.Errorf("qemuOf = %v, want %v", got, tc.want)
			}
		})
	}
}
