package usageplot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite_NoTool_ErrNoToolAndNoFile(t *testing.T) {
	t.Setenv(ToolEnv, "")
	t.Setenv("PATH", t.TempDir())
	if self, err := os.Executable(); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(self), Tool)); err == nil {
			t.Skip("a vsched-plot stands next to the test binary")
		}
	}
	path := filepath.Join(t.TempDir(), "u.svg")
	if err := Write(path, Series{X: []float64{0}, PCPU: [][]float64{{1}}}); !errors.Is(err, ErrNoTool) {
		t.Fatalf("Write = %v, want ErrNoTool", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file written without a plotter: %v", err)
	}
}

func TestWrite_ToolFails_ErrorCarriesItsMessage(t *testing.T) {
	// ToolEnv naming a program that is not vsched-plot: /bin/false exits 1
	// with nothing on stderr, so the error is the exit status.
	t.Setenv(ToolEnv, "/bin/false")
	if err := Write(filepath.Join(t.TempDir(), "u.svg"), Series{}); err == nil {
		t.Fatal("Write succeeded with a failing plotter")
	}
}
