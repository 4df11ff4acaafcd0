package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vsched/vsched/balancer"
)

func TestRecorderSeries_LateCPUAndMissingCPUReadZero(t *testing.T) {
	r := newRecorder()
	r.add(t0, []cpuUsage{{0, 100}, {1, 0}}, nil)
	r.add(t0.Add(time.Second), []cpuUsage{{0, 50}, {1, 50}, {5, 10}}, nil)
	r.add(t0.Add(2*time.Second), []cpuUsage{{0, 40}, {5, 20}}, nil)
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
	r := newRecorder()
	r.add(t0, []cpuUsage{{0, 100}, {1, 0}, {2, 0}}, nil)
	r.mark(t0.Add(time.Second), balancer.Move{Domain: "vm1", VCPU: 0, From: 0, To: 1})
	r.mark(t0.Add(time.Second), balancer.Move{Domain: "vm2", VCPU: 1, From: 0, To: 2})
	r.add(t0.Add(time.Second), []cpuUsage{{0, 100}, {1, 0}, {2, 0}, {3, 0}}, nil)
	r.add(t0.Add(2*time.Second), []cpuUsage{{0, 34}, {1, 33}, {2, 33}, {3, 0}}, nil)
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
	r := newRecorder()
	r.add(t0, []cpuUsage{{0, 1}}, nil)
	if err := r.write(filepath.Join(t.TempDir(), "missing", "dir", "x.svg")); err == nil {
		t.Fatal("want an error for a path in a missing directory")
	}
}
