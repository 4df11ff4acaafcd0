package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/internal/usageplot"
)

func TestRecorderSeries_LateCPUAndMissingCPUReadZero(t *testing.T) {
	r := newRecorder(100)
	r.add(t0, win(0, 100, 1, 0))
	r.add(t0.Add(time.Second), win(0, 50, 1, 50, 5, 10))
	r.add(t0.Add(2*time.Second), win(0, 40, 5, 20))
	s := r.series()
	if diff := cmp.Diff([][]float64{{100, 50, 40}, {0, 50, 0}, {0, 10, 20}}, s.PCPU); diff != "" {
		t.Errorf("usage series (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{0, 1, 2}, s.X); diff != "" {
		t.Errorf("x (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"pCPU 0", "pCPU 1", "pCPU 5"}, s.Names); diff != "" {
		t.Errorf("names carry the real CPU numbers (-want +got):\n%s", diff)
	}
}

func TestRecorderWrite_SVGHasOneSeriesPerPCPUAndTheMoves(t *testing.T) {
	usePlotTool(t)
	r := newRecorder(100)
	r.add(t0, win(0, 100, 1, 0, 2, 0))
	r.mark(t0.Add(time.Second), balancer.Move{Name: "vm1/0", From: 0, To: 1})
	r.mark(t0.Add(time.Second), balancer.Move{Name: "vm2/1", From: 0, To: 2})
	r.add(t0.Add(time.Second), win(0, 100, 1, 0, 2, 0, 3, 0))
	r.add(t0.Add(2*time.Second), win(0, 34, 1, 33, 2, 33, 3, 0))
	path := filepath.Join(t.TempDir(), "run.svg")
	if err := r.write(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var legend []string
	for _, m := range regexp.MustCompile(`>(pCPU \d+)<`).FindAllSubmatch(b, -1) {
		legend = append(legend, string(m[1]))
	}
	slices.Sort(legend)
	legend = slices.Compact(legend)
	if diff := cmp.Diff([]string{"pCPU 0", "pCPU 1", "pCPU 2", "pCPU 3"}, legend); diff != "" {
		t.Errorf("legend series (-want +got):\n%s", diff)
	}
	for _, want := range []string{"pin change", "2 moves"} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).Match(b) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestRecorderWrite_UnwritablePathFails(t *testing.T) {
	usePlotTool(t) // the plotter runs and fails, not a missing plotter
	r := newRecorder(100)
	r.add(t0, win(0, 1))
	err := r.write(filepath.Join(t.TempDir(), "missing", "dir", "x.svg"))
	if err == nil || errors.Is(err, usageplot.ErrNoTool) {
		t.Fatalf("error %v, want the plotter's for a path in a missing directory", err)
	}
}

// win is a window whose pCPUs read the given (cpu, usage) pairs.
func win(pairs ...float64) window {
	var w window
	for i := 0; i+1 < len(pairs); i += 2 {
		w.pcpu = append(w.pcpu, pcpuPoint{CPU: int(pairs[i]), Usage: pairs[i+1], Demand: pairs[i+1]})
	}
	return w
}

func TestRecorder_LongRun_BoundedFramesCoveringTheWholeRun(t *testing.T) {
	r := newRecorder(64)
	const cycles = 10_000
	for i := range cycles {
		r.add(t0.Add(time.Duration(i)*20*time.Millisecond), win(0, 50, 1, 50))
	}
	s := r.series()
	if len(s.X) > 64 || len(s.X) < 32 {
		t.Fatalf("%d frames kept, want between 32 and 64", len(s.X))
	}
	if first, last := s.X[0], s.X[len(s.X)-1]; first != 0 || last < 0.9*cycles*0.02 {
		t.Fatalf("frames span %.1fs..%.1fs, want the whole %.0fs run", first, last, cycles*0.02)
	}
}
