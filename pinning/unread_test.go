package pinning

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

// failXML makes the live XML of the named domains fail with err, as a real
// libvirtd fails a guest whose metadata makes its XML too large for one RPC
// message; the test driver, in-process, has no such limit.
func failXML(t *testing.T, err error, names ...string) {
	t.Helper()
	orig := readXML
	t.Cleanup(func() { readXML = orig })
	readXML = func(dom *libvirt.Domain) (string, error) {
		name, nerr := dom.GetName()
		if nerr != nil {
			return "", nerr
		}
		for _, n := range names {
			if n == name {
				return "", err
			}
		}
		return orig(dom)
	}
}

// errPayload is the error libvirt 9.0 gave for a guest with 4 MB of metadata.
var errPayload = lvErr(libvirt.ERR_RPC, "Unable to encode message payload")

func TestDomains_OneDomainsXMLFails_OthersListedItUnmanagedWithLivePins(t *testing.T) {
	c := openTest(t)
	failXML(t, errPayload, "duo")
	got, err := c.Domains()
	if err != nil {
		t.Fatalf("Domains with duo's XML failing = %v, want the other domains listed", err)
	}
	var duo *Domain
	names := []string{}
	for i := range got {
		names = append(names, got[i].Name)
		if got[i].Name == "duo" {
			duo = &got[i]
		}
	}
	if diff := cmp.Diff([]string{"duo", "gappy", "quad", "solo"}, names); diff != "" {
		t.Fatalf("domains listed mismatch (-want +got):\n%s", diff)
	}
	var lv libvirt.Error
	if duo.Unread == nil || !errors.As(duo.Unread, &lv) || lv.Code != libvirt.ERR_RPC {
		t.Errorf("duo.Unread = %v, want the libvirt RPC error", duo.Unread)
	}
	want := Domain{ID: 2, Name: "duo", UUID: duoUUID, Unmanaged: true, CPUSet: cpuset.New(), NodeSet: cpuset.New(),
		VCPUs: []VCPU{{0, cpuset.New(0)}, {1, cpuset.New(2, 3)}}} // the live pins, from libvirt's pin info
	duo.Unread = nil
	if diff := cmp.Diff(want, *duo, cpusetEqual); diff != "" {
		t.Errorf("duo without its XML mismatch (-want +got):\n%s", diff)
	}
	if c.Reconnects() != 0 {
		t.Errorf("the connection was re-made %d times over one domain's RPC error, want 0", c.Reconnects())
	}
}

func TestDomains_UnreadDomainRepinned_LivePinSeen(t *testing.T) {
	c := openTest(t)
	failXML(t, errPayload, "quad")
	m, err := toCPUMap(cpuset.New(6), 8)
	if err != nil {
		t.Fatal(err)
	}
	onDomain(t, c, "quad", func(d *libvirt.Domain) error { return d.PinVcpuFlags(2, m, c.pinFlags) })
	pins := livePins(t, c)
	if pins["quad/2"] != "6" || pins["quad/0"] != "0" {
		t.Errorf("quad's pins without its XML = %v, want vCPU 2 on 6 and the others on 0", pins)
	}
}

func TestDomains_UnparsableXML_SameAsUnreadable(t *testing.T) {
	c := openTest(t)
	orig := readXML
	t.Cleanup(func() { readXML = orig })
	readXML = func(dom *libvirt.Domain) (string, error) {
		s, err := orig(dom)
		if name, _ := dom.GetName(); name == "solo" {
			return s[:len(s)/2], err // cut short
		}
		return s, err
	}
	doms, err := c.Domains()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range doms {
		if d.Name == "solo" && (!errors.Is(d.Unread, ErrDomainXML) || !d.Unmanaged || len(d.VCPUs) != 1) {
			t.Errorf("solo with a cut XML = %+v, want Unread wrapping ErrDomainXML, unmanaged, its one vCPU", d)
		}
		if d.Name != "solo" && d.Unread != nil {
			t.Errorf("%s: Unread %v, want nil", d.Name, d.Unread)
		}
	}
}

func TestDomains_XMLBackAtTheNextListing_ReadAgain(t *testing.T) {
	c := openTest(t)
	orig := readXML
	failXML(t, errPayload, "gappy")
	doms, err := c.Domains()
	if err != nil || doms[1].Name != "gappy" || doms[1].Unread == nil {
		t.Fatalf("first listing = %v, %v; want gappy unread", doms, err)
	}
	// vCPU 2 is disabled. The test driver's vCPU info then gives vCPU 0
	// twice (once with an empty map) and no vCPU 3, where QEMU's numbers
	// the online vCPUs by id: what is doubtful is left out, never guessed.
	want := []VCPU{{1, cpuset.New(5)}}
	if diff := cmp.Diff(want, doms[1].VCPUs, cpusetEqual); diff != "" {
		t.Errorf("gappy's vCPUs without its XML mismatch (-want +got):\n%s", diff)
	}
	readXML = orig
	doms, err = c.Domains()
	if err != nil || doms[1].Unread != nil || !doms[1].CPUSet.Equals(cpuset.New(4, 5, 6, 7)) {
		t.Errorf("next listing = %+v, %v; want gappy read again, its cpuset 4-7", doms, err)
	}
}

func TestApply_UnreadDomain_PinPutBackWithoutItsXML(t *testing.T) {
	c := openTest(t)
	failXML(t, errPayload, "quad")
	res := c.Apply([]Pin{{UUID: quadUUID, Name: "quad", VCPU: 1, CPUs: cpuset.New(3)}})
	if len(res) != 1 || res[0].Err != nil || !res[0].Changed {
		t.Fatalf("Apply on quad without its XML = %+v, want the pin made (a restore must not be refused)", res)
	}
	if got := livePins(t, c)["quad/1"]; got != "3" {
		t.Errorf("quad/1 after Apply = %s, want 3", got)
	}
	if c.Reconnects() != 0 {
		t.Errorf("the connection was re-made %d times, want 0", c.Reconnects())
	}
}

func TestDomains_EveryXMLUnreadable_SamePinsAsTheReadableListing(t *testing.T) {
	c := openTest(t)
	read := livePins(t, c)
	failXML(t, errPayload, "solo", "duo", "quad", "gappy")
	unread := livePins(t, c)
	// gappy's vCPUs 0 and 3 are left out (see the test above); every vCPU
	// listed has the pin a readable listing gives it, so none is taken for
	// re-pinned by the operator when the XML stops reading.
	if diff := cmp.Diff(with(read, "gappy/0", "", "gappy/3", ""), unread); diff != "" {
		t.Errorf("pins without any XML mismatch (-readable +unreadable):\n%s", diff)
	}
}
