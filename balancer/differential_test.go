package balancer

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// referencePlan is adaptive's plan computed with the reference search of
// reference_test.go and reference_search_test.go.
func referencePlan(prev, cur Snapshot, interval time.Duration, cfg Config) Plan {
	h := newHost(prev, cur, interval, cfg, true)
	if len(h.vcpus) == 0 {
		return Plan{}
	}
	return refSettle(refNewState(h), thresholdUnits(cfg.Threshold)).plan()
}

// diffTopology is a random host for the differential test: placements
// uniform or crowded onto a few pCPUs, loads from a few coarse values (many
// ties) to fine-grained ones, and some vCPUs absent from prev (new, load 0).
func diffTopology(r *rand.Rand, n, m int) (prev, cur Snapshot) {
	vs := randomTopology(r, n, m)
	crowd := 1 + r.IntN(m)
	grain := []float64{25, 10, 1, 0.001}[r.IntN(4)]
	for i := range vs {
		if r.IntN(2) == 0 {
			vs[i].cpu = r.IntN(crowd)
		}
		if r.IntN(3) == 0 {
			d := float64(int(r.Float64()*150/grain)) * grain
			vs[i].usage, vs[i].wait = min(d, 100), max(d-100, 0)
		}
		if r.IntN(8) == 0 {
			vs[i].dom = fmt.Sprintf("vm%03d", r.IntN(400))
		}
	}
	switch r.IntN(8) {
	case 0: // tiny loads: one digit of the radix sort
		for i := range vs {
			vs[i].usage, vs[i].wait = float64(r.IntN(2000))/1000, 0
		}
	case 1: // huge waits: three digits
		for i := range vs {
			vs[i].wait = float64(r.IntN(10000))
		}
	case 2: // all equal
		for i := range vs {
			vs[i].usage, vs[i].wait = 50, 0
		}
	}
	prev, cur = samples(cpusN(m), vs)
	if r.IntN(4) == 0 { // some vCPUs are new: absent from prev
		keep := prev.VCPUs[:0]
		for _, v := range prev.VCPUs {
			if r.IntN(10) > 0 {
				keep = append(keep, v)
			}
		}
		prev.VCPUs = keep
	}
	return prev, cur
}

// TestAdaptiveMatchesReference checks that the indexed step search returns
// exactly the plan of the reference search (a scan of every vCPU and pair)
// on thousands of random hosts, from a few vCPUs (where greedy also tries
// every pair of pCPUs) to 10,000 vCPUs on 256 pCPUs.
func TestAdaptiveMatchesReference(t *testing.T) {
	sizes := []struct {
		name        string
		trials      int
		maxN, maxM  int
		minN, fixed int
	}{
		{name: "Small", trials: 4000, maxN: 16, maxM: 6, minN: 1},
		{name: "Medium", trials: 600, maxN: 600, maxM: 48, minN: 16},
		{name: "Large", trials: 12, maxN: 10000, maxM: 256, minN: 10000, fixed: 256},
	}
	if testing.Short() {
		for i := range sizes {
			sizes[i].trials /= 10
		}
	}
	r := rand.New(rand.NewPCG(2026, 3))
	thresholds := []float64{DefaultThreshold, DefaultThreshold, 0, 1, 2.5, 25}
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			moved := 0
			for trial := range sz.trials {
				m := sz.fixed
				if m == 0 {
					m = 2 + r.IntN(sz.maxM-1)
				}
				n := sz.minN + r.IntN(sz.maxN-sz.minN+1)
				prev, cur := diffTopology(r, n, m)
				cfg := Config{Threshold: thresholds[r.IntN(len(thresholds))], CPUs: cpusN(m)}
				want := referencePlan(prev, cur, testInterval, cfg)
				got := NewAdaptive().Plan(prev, cur, testInterval, cfg)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("trial %d (%d vCPUs, %d pCPUs, threshold %v): plan differs (-reference +new):\n%s",
						trial, n, m, cfg.Threshold, diff)
				}
				if len(got.Moves) > 0 {
					moved++
				}
			}
			t.Logf("%d of %d random hosts moved something", moved, sz.trials)
		})
	}
}

// TestAdaptiveMatchesReferenceOnBenchHost checks the benchmark's host.
func TestAdaptiveMatchesReferenceOnBenchHost(t *testing.T) {
	cpus := cpusN(256)
	prev, cur := samples(cpus, randomTopology(rand.New(rand.NewPCG(1, 2)), 10000, 256))
	cfg := Config{Threshold: DefaultThreshold, CPUs: cpus}
	want := referencePlan(prev, cur, testInterval, cfg)
	if diff := cmp.Diff(want, NewAdaptive().Plan(prev, cur, testInterval, cfg)); diff != "" {
		t.Fatalf("plan differs (-reference +new):\n%s", diff)
	}
}
