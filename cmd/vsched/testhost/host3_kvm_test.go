//go:build testhost

package testhost

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestHost_KVMInside_KVMGuestsFoundAndSplit (the --kvm-inside boot): the
// inner guests run under KVM (thread "CPU 0/KVM"), and two burners on one
// pCPU are moved apart.
func TestHost_KVMInside_KVMGuestsFoundAndSplit(t *testing.T) {
	seen(t)
	if _, err := os.Stat("/dev/kvm"); err != nil {
		t.Fatalf("no /dev/kvm inside: %v (boot with scripts/testhost.sh run --kvm-inside)", err)
	}
	if guestType != "kvm" {
		t.Fatalf("inner guests run as %q, not kvm: %s", guestType, quiet("cat", "/run/vsched-test/virt-type.why"))
	}
	active(t)
	g := []*guest{
		startGuest(t, "kvm-a", "burn", "--pin", "0"),
		startGuest(t, "kvm-b", "burn", "--pin", "0"),
	}
	for _, x := range g {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", x.pid, x.tids[0]))
		if err != nil || strings.TrimSpace(string(comm)) != "CPU 0/KVM" {
			t.Errorf("%s vCPU 0 thread is %q (%v), want CPU 0/KVM", x.name, comm, err)
		}
	}
	apart := func() (bool, string) {
		m := pins(t, g...)
		one, ok := onePinEach(m)
		return ok && one[g[0].name+"/0"] != one[g[1].name+"/0"], show(m)
	}
	waitFor(t, settle, "the KVM burners on different pCPUs", apart)
	holdsFor(t, calm, "apart", apart)
}
