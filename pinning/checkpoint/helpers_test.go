package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

// cpusetEqual lets cmp compare cpuset values, whose fields are unexported,
// by content (the zero value equals an empty set).
var cpusetEqual = cmp.Comparer(equalSets)

const (
	uuidA = "00000001-5a1e-4c0d-9e8f-000000000001"
	uuidB = "00000002-5a1e-4c0d-9e8f-000000000002"
)

// set parses a CPU list or fails the test.
func set(t testing.TB, s string) cpuset.CPUSet {
	t.Helper()
	c, err := cpuset.Parse(s)
	if err != nil {
		t.Fatalf("cpuset.Parse(%q): %v", s, err)
	}
	return c
}

// entry builds an Entry from CPU lists.
func entry(t testing.TB, uuid, name string, vcpu int, original, pinned string) Entry {
	t.Helper()
	return Entry{UUID: uuid, Name: name, VCPU: vcpu, Original: set(t, original), Set: set(t, pinned)}
}

// openStore opens dir, failing the test on any error, and closes it at the
// end of the test.
func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// reopen closes s and opens its directory again.
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return openStore(t, s.dir)
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// writeFile writes name in dir.
func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sample is a two-domain checkpoint.
func sample(t testing.TB) map[ID]Entry {
	es := []Entry{
		entry(t, uuidA, "vm1", 0, "0-1", "1"),
		entry(t, uuidA, "vm1", 1, "0-1", "0"),
		entry(t, uuidB, "vm2", 3, "4-7", "5"),
	}
	return mapOf(es)
}

// mapOf keys entries by ID.
func mapOf(entries []Entry) map[ID]Entry {
	m := make(map[ID]Entry, len(entries))
	for _, e := range entries {
		m[e.ID()] = e
	}
	return m
}

// withPrevious returns e with a previous pin.
func withPrevious(t testing.TB, e Entry, previous string) Entry {
	t.Helper()
	e.Previous = set(t, previous)
	return e
}
