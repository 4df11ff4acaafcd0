package pinning

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"libvirt.org/go/libvirt"
)

func TestKnown_TestDriver_RunningAndShutOffUndefinedGone(t *testing.T) {
	c := openTest(t)
	got, err := c.Known()
	if err != nil {
		t.Fatalf("Known: %v", err)
	}
	doms, err := c.Domains()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{offUUID: true}
	for _, d := range doms {
		want[d.UUID] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Known mismatch (-want +got):\n%s", diff)
	}
	// Undefined: no longer known.
	onDomain(t, c, "off", func(d *libvirt.Domain) error { return d.Undefine() })
	if got, err := c.Known(); err != nil || got[offUUID] {
		t.Errorf("Known after undefining off = %v, %v; want it left out", got, err)
	}
}
