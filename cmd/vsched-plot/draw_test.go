package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vsched/vsched/internal/usageplot"
)

func TestWriteUsagePlot_SVGWithLinesLegendAndMarks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.svg")
	s := usageplot.Series{Title: "test", XLabel: "seconds", X: []float64{0, 1, 2, 3},
		PCPU:  [][]float64{{100, 50, 50, 50}, {0, 50, 50, 50}},
		Names: []string{"cpu0", "cpu1"},
		Moves: []usageplot.Mark{{X: 1, Label: "vm1/0 0>1"}, {X: 2, Label: "a"}, {X: 2, Label: "b"}}}
	if err := writeUsagePlot(path, s); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(b)
	for _, want := range []string{"<svg", "test", "cpu0", "cpu1", "pin change", "vm1/0 0&gt;1", "2 moves"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestWriteUsagePlot_UnwritablePathFails(t *testing.T) {
	err := writeUsagePlot(filepath.Join(t.TempDir(), "no", "such", "dir.svg"), usageplot.Series{X: []float64{0}, PCPU: [][]float64{{1}}})
	if err == nil {
		t.Fatal("want an error")
	}
}

func TestRun_SeriesOnStdin_WritesSVG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.svg")
	in := `{"title":"t","x_label":"s","x":[0,1],"pcpu":[[10,20]],"moves":[{"x":1,"label":"vm/0 0>1"}]}`
	var stderr strings.Builder
	if code := run([]string{path}, strings.NewReader(in), &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "vm/0 0&gt;1") {
		t.Errorf("SVG missing or without the move label (err %v)", err)
	}
}

func TestRun_BadInvocationOrInput_ExitTwoWithOneLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		in   string
	}{
		{"NoFile", nil, "{}"},
		{"Flag", []string{"-h"}, "{}"},
		{"NotJSON", []string{filepath.Join(t.TempDir(), "x.svg")}, "pcpu 1"},
		{"UnknownField", []string{filepath.Join(t.TempDir(), "x.svg")}, `{"cpus":[1]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			if code := run(tc.args, strings.NewReader(tc.in), &stderr); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if n := strings.Count(stderr.String(), "\n"); n != 1 {
				t.Errorf("stderr %q: %d lines, want 1", stderr.String(), n)
			}
		})
	}
}
