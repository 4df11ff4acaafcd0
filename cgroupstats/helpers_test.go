package cgroupstats

import (
	"os"
	"path/filepath"
	"testing"
)

// writeTree writes files (path relative to the returned directory ->
// contents) into a new t.TempDir(). Paths may hold `\x2d`: they are built
// at test time, never committed.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeFiles(dir, files, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// capture returns a file captured from a real host, from testdata/.
func capture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// synthetic builds a synthetic tree and an open Sampler over it.
func synthetic(t testing.TB, l Layout, domains, vcpus int) ([]Domain, *Sampler, string, string) {
	t.Helper()
	doms, cg, proc, err := WriteSyntheticTree(t.TempDir(), l, domains, vcpus)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cg, proc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return doms, s, cg, proc
}
