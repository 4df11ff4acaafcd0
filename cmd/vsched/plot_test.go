package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vsched/vsched/internal/usageplot"
)

var plotTool struct {
	once sync.Once
	path string
	err  error
}

// usePlotTool builds the real vsched-plot once per test binary and points
// --plot at it for the rest of the test.
func usePlotTool(t *testing.T) {
	t.Helper()
	plotTool.once.Do(func() {
		dir, err := os.MkdirTemp("", "vsched-plot-test")
		if err != nil {
			plotTool.err = err
			return
		}
		plotTool.path = filepath.Join(dir, usageplot.Tool)
		out, err := exec.Command("go", "build", "-o", plotTool.path, "../vsched-plot").CombinedOutput()
		if err != nil {
			plotTool.err = errors.New(string(out))
		}
	})
	if plotTool.err != nil {
		t.Fatalf("building vsched-plot: %v", plotTool.err)
	}
	t.Setenv(usageplot.ToolEnv, plotTool.path)
}

func TestSimulatePlot_WritesSVG(t *testing.T) {
	usePlotTool(t)
	path := filepath.Join(t.TempDir(), "sim.svg")
	if _, err := runSimulateCmd(t, "--scenario", filepath.Join(scenarioDir, "all-on-cpu0.json"), "--plot", path); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "6 moves") {
		t.Errorf("plot missing or without the 6 moves mark (err %v)", err)
	}
}

func TestSimulatePlot_NoPlotTool_FailsNamingIt(t *testing.T) {
	t.Setenv(usageplot.ToolEnv, "")
	t.Setenv("PATH", t.TempDir())
	if self, err := os.Executable(); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(self), usageplot.Tool)); err == nil {
			t.Skip("a vsched-plot stands next to the test binary")
		}
	}
	path := filepath.Join(t.TempDir(), "sim.svg")
	_, err := runSimulateCmd(t, "--scenario", filepath.Join(scenarioDir, "all-on-cpu0.json"), "--plot", path)
	if !errors.Is(err, usageplot.ErrNoTool) {
		t.Fatalf("error %v, want one wrapping ErrNoTool", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plot file exists without a plotter: %v", err)
	}
}

func TestDaemonPlot_NoPlotTool_RefusedAtStartExit2(t *testing.T) {
	t.Setenv(usageplot.ToolEnv, "")
	t.Setenv("PATH", t.TempDir())
	if self, err := os.Executable(); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(self), usageplot.Tool)); err == nil {
			t.Skip("a vsched-plot stands next to the test binary")
		}
	}
	var stdout, stderr bytes.Buffer
	// The missing plotter is found before libvirt, the kernel or the state
	// directory is opened, not after the run.
	code := run([]string{"--plot", filepath.Join(t.TempDir(), "run.svg"), "--connect", "test:///default",
		"--state-dir", t.TempDir(), "--once", "--dry-run"}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr %q", code, stderr.String())
	}
	if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "--plot") || !strings.Contains(lines[0], usageplot.Tool) {
		t.Errorf("stderr %q, want one line naming --plot and %s", stderr.String(), usageplot.Tool)
	}
}
