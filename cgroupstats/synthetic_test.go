package cgroupstats_test

import (
	"testing"

	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/cgroupstats/cgroupstatstest"
)

// synthetic builds a synthetic tree and an open Sampler over it.
func synthetic(t testing.TB, l cgroupstatstest.Layout, domains, vcpus int) ([]cgroupstats.Domain, *cgroupstats.Sampler, string, string) {
	t.Helper()
	doms, cg, proc, err := cgroupstatstest.WriteSyntheticTree(t.TempDir(), l, domains, vcpus)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cgroupstats.New(cg, proc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return doms, s, cg, proc
}

// writeTree writes files (path relative to the returned directory ->
// contents) into a new t.TempDir().
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := cgroupstatstest.WriteFiles(dir, files, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}
