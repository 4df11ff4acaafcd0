package pinning

import (
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

// cpusetEqual lets cmp compare cpuset values, whose fields are unexported
// (and whose Equals tells the zero value from an empty set).
var cpusetEqual = cmp.Comparer(func(a, b cpuset.CPUSet) bool { return a.String() == b.String() })

// UUIDs of the domains in testdata/host.xml.
const (
	soloUUID  = "11111111-1111-4111-8111-111111111111"
	duoUUID   = "22222222-2222-4222-8222-222222222222"
	quadUUID  = "44444444-4444-4444-8444-444444444444"
	gappyUUID = "55555555-5555-4555-8555-555555555555"
	offUUID   = "00000000-0000-4000-8000-000000000000"
)

// testURI returns the test-driver URI of testdata/host.xml: 8 host CPUs,
// running domains solo (1 vCPU), duo (2), quad (4) and gappy (vCPUs 0, 1,
// 3 online, cpuset 4-7, strict node 0, manage="no"), and "off", shut off.
func testURI(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "host.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return "test://" + p
}

// openTest opens a fresh test-driver host, closed at the end of the test.
func openTest(t testing.TB, opts ...Option) *Conn {
	t.Helper()
	c, err := Open(testURI(t), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// onConn runs f on c's libvirt connection behind vsched's back, as another
// libvirt client would (test-driver state lives in the connection).
func onConn(t testing.TB, c *Conn, f func(lc *libvirt.Connect) error) {
	t.Helper()
	if err := c.call("test", f); err != nil {
		t.Fatal(err)
	}
}

// onDomain runs f on the named domain of c's connection.
func onDomain(t testing.TB, c *Conn, name string, f func(d *libvirt.Domain) error) {
	t.Helper()
	onConn(t, c, func(lc *libvirt.Connect) error {
		dom, err := lc.LookupDomainByName(name)
		if err != nil {
			return err
		}
		defer func() { _ = dom.Free() }()
		return f(dom)
	})
}

// destroy stops a running domain behind vsched's back.
func destroy(t testing.TB, c *Conn, name string) {
	t.Helper()
	onDomain(t, c, name, (*libvirt.Domain).Destroy)
}

// livePins reads the live pins of every running domain as strings, keyed
// "domain/vcpu", through Domains.
func livePins(t testing.TB, c *Conn) map[string]string {
	t.Helper()
	doms, err := c.Domains()
	if err != nil {
		t.Fatalf("Domains: %v", err)
	}
	out := make(map[string]string)
	for _, d := range doms {
		for _, v := range d.VCPUs {
			out[fmt.Sprintf("%s/%d", d.Name, v.ID)] = v.Pin.String()
		}
	}
	return out
}

// initialPins are the live pins of testdata/host.xml as opened.
func initialPins() map[string]string {
	return map[string]string{
		"solo/0": "0-7",
		"duo/0":  "0", "duo/1": "2-3",
		"quad/0": "0", "quad/1": "0", "quad/2": "0", "quad/3": "0",
		"gappy/0": "4-7", "gappy/1": "5", "gappy/3": "4-7",
	}
}

// with returns a copy of m with the given changes; a value "" deletes.
func with(m map[string]string, kv ...string) map[string]string {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
			continue
		}
		out[kv[i]] = kv[i+1]
	}
	return out
}

// lvErr builds a libvirt error as the binding returns it.
func lvErr(code libvirt.ErrorNumber, msg string) error {
	return libvirt.Error{Code: code, Domain: libvirt.FROM_RPC, Message: msg, Level: libvirt.ERR_ERROR}
}

// waitEvent waits for a token on c.Events. The bound only keeps a broken
// test from hanging; it is not a timing assertion.
func waitEvent(t testing.TB, c *Conn, after string) {
	t.Helper()
	select {
	case <-c.Events():
	case <-time.After(30 * time.Second):
		t.Fatalf("no event token after %s", after)
	}
}

// drainEvents takes a pending token, if any.
func drainEvents(c *Conn) {
	select {
	case <-c.Events():
	default:
	}
}
