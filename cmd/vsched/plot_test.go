package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteUsagePlot_SVGWithLinesLegendAndMarks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.svg")
	s := usageSeries{Title: "test", XLabel: "seconds", X: []float64{0, 1, 2, 3},
		PCPU:  [][]float64{{100, 50, 50, 50}, {0, 50, 50, 50}},
		Names: []string{"cpu0", "cpu1"},
		Moves: []plotMark{{X: 1, Label: "vm1/0 0>1"}, {X: 2, Label: "a"}, {X: 2, Label: "b"}}}
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

func TestSimulatePlot_WritesSVG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.svg")
	if _, err := runSimulateCmd(t, "--scenario", filepath.Join(scenarioDir, "all-on-cpu0.json"), "--plot", path); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "6 moves") {
		t.Errorf("plot missing or without the 6 moves mark (err %v)", err)
	}
}

func TestWriteUsagePlot_UnwritablePathFails(t *testing.T) {
	err := writeUsagePlot(filepath.Join(t.TempDir(), "no", "such", "dir.svg"), usageSeries{X: []float64{0}, PCPU: [][]float64{{1}}})
	if err == nil {
		t.Fatal("want an error")
	}
}
