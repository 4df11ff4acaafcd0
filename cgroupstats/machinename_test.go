package cgroupstats

import (
	"strings"
	"testing"
)

func TestMachineName(t *testing.T) {
	long := "a-very-long-domain-name-that-goes-on-and-on-well-past-sixty-four-characters"
	tests := []struct {
		name, in string
		id       int
		want     string
	}{
		{"Plain_Kept", "vm1", 1, "qemu-1-vm1"},
		{"Underscore_Dropped", "my_vm", 7, "qemu-7-myvm"},
		{"RunOfDashesAndDots_KeepsFirst", "a--b..c.-d", 2, "qemu-2-a-b.c.d"},
		{"LeadingDash_Dropped", "-x", 3, "qemu-3-x"},
		{"TrailingDotAndDash_Trimmed", "web.", 3, "qemu-3-web"},
		{"NonASCII_Dropped", "vm-é1", 4, "qemu-4-vm-1"},
		{"Long_CutAt64Characters", long, 12, ("qemu-12-" + long)[:64]},
		{"CutLandingOnDash_Trimmed", strings.Repeat("a", 56) + "-bbb", 1, "qemu-1-" + strings.Repeat("a", 56)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MachineName(tc.id, tc.in); got != tc.want {
				t.Errorf("MachineName(%d, %q) = %q, want %q", tc.id, tc.in, got, tc.want)
			}
		})
	}
}

func TestScopeName_DashesEscaped(t *testing.T) {
	if got, want := ScopeName(1, "my-vm"), `machine-qemu\x2d1\x2dmy\x2dvm.scope`; got != want {
		t.Errorf("ScopeName = %q, want %q", got, want)
	}
	if got, want := SystemdEscape(".a/b c"), `\x2ea-b\x20c`; got != want {
		t.Errorf("SystemdEscape = %q, want %q", got, want)
	}
}
