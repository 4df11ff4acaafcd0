package pinning

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

// cpusetEqual lets cmp compare cpuset values, whose fields are unexported.
var cpusetEqual = cmp.Comparer(func(a, b cpuset.CPUSet) bool { return a.Equals(b) })

// testURI returns the test-driver URI of testdata/host.xml: 8 host CPUs,
// running domains solo (1 vCPU), duo (2) and quad (4), and "off", shut off.
func testURI(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "host.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return "test://" + p
}

// openTest opens a fresh test-driver host, closed at the end of the test.
func openTest(t testing.TB) *Conn {
	t.Helper()
	c, err := Open(testURI(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// destroy stops a running domain behind vsched's back, on the same
// connection (test-driver state lives in the connection).
func destroy(t testing.TB, c *Conn, name string) {
	t.Helper()
	dom, err := c.lc.LookupDomainByName(name)
	if err != nil {
		t.Fatalf("lookup %s: %v", name, err)
	}
	defer func() { _ = dom.Free() }()
	if err := dom.Destroy(); err != nil {
		t.Fatalf("destroy %s: %v", name, err)
	}
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
		for v, p := range d.Pins {
			out[fmt.Sprintf("%s/%d", d.Name, v)] = p.String()
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
	}
}

// with returns a copy of m with the given changes.
func with(m map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// lvErr builds a libvirt error as the binding returns it.
func lvErr(code libvirt.ErrorNumber, msg string) error {
	return libvirt.Error{Code: code, Domain: libvirt.FROM_RPC, Message: msg, Level: libvirt.ERR_ERROR}
}
