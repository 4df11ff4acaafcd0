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
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
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
