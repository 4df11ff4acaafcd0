// Package usageplot is the contract between vsched, which records per-pCPU
// usage for --plot, and vsched-plot, the separate program that draws it:
// the series as JSON on vsched-plot's standard input, the SVG file named
// as its argument. The plotting library is linked into vsched-plot only,
// so the daemon does not carry it (it was most of the daemon's size).
package usageplot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Tool is the plotting program's name, and ToolEnv the environment
// variable that, when set, names its path instead.
const (
	Tool    = "vsched-plot"
	ToolEnv = "VSCHED_PLOT"
)

// ErrNoTool is returned by Write when vsched-plot is neither named by
// ToolEnv, nor next to the running program, nor on PATH.
var ErrNoTool = errors.New(Tool + " not found (it draws --plot; build it with make build, or set " + ToolEnv + ")")

// Mark is one pin change to mark on a usage plot.
type Mark struct {
	X     float64 `json:"x"`     // where on the X axis (an iteration, or seconds)
	Label string  `json:"label"` // e.g. "vm1/0 0>2"
}

// Series is per-pCPU usage over time. The daemon (X in seconds) and
// `vsched simulate` (X in iterations) both fill it.
type Series struct {
	Title  string      `json:"title"`
	XLabel string      `json:"x_label"`
	X      []float64   `json:"x"`
	PCPU   [][]float64 `json:"pcpu"`             // [pCPU][sample] usage in percent of one pCPU
	Names  []string    `json:"names,omitempty"`  // optional legend name per pCPU; default "pCPU <n>"
	Demand [][]float64 `json:"demand,omitempty"` // optional [pCPU][sample] demand (run + wait of its vCPUs), drawn dashed
	Moves  []Mark      `json:"moves,omitempty"`
}

// Write has vsched-plot draw s to the SVG file path.
func Write(path string, s Series) error {
	tool, err := find()
	if err != nil {
		return err
	}
	in, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	cmd := exec.Command(tool, path)
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stderr = bytes.NewReader(in), &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%s: %s: %w", tool, msg, err)
		}
		return fmt.Errorf("%s: %w", tool, err)
	}
	return nil
}

// Check reports ErrNoTool when Write could not find vsched-plot, so that
// a caller asked for a plot can say so before it starts, not at the end.
func Check() error {
	_, err := find()
	return err
}

// find returns the path of vsched-plot: ToolEnv's, else the one next to
// the running program (how make build and the packages place it), else
// the one on PATH.
func find() (string, error) {
	if p := os.Getenv(ToolEnv); p != "" {
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), Tool)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(Tool); err == nil {
		return p, nil
	}
	return "", ErrNoTool
}
