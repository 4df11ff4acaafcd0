package balancer

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// referencePlanByName is referencePlan with ties broken by comparing the
// (domain, index) strings, not the host's integer keys.
func referencePlanByName(prev, cur Snapshot, interval time.Duration, cfg Config) Plan {
	h := newHost(prev, cur, interval, cfg, true)
	if len(h.vcpus) == 0 {
		return Plan{}
	}
	h.keyed = false
	return refSettle(refNewState(h), thresholdUnits(cfg.Threshold)).plan()
}

// TestAdaptiveMatchesReferenceAnyOrder checks the plan against the
// reference (comparing names) on snapshots listed in any order, prev and
// cur each shuffled, and with indices too large for an integer key.
func TestAdaptiveMatchesReferenceAnyOrder(t *testing.T) {
	sizes := []struct {
		name       string
		trials     int
		maxN, maxM int
		minN       int
	}{
		{name: "Small", trials: 1500, maxN: 16, maxM: 6, minN: 1},
		{name: "Medium", trials: 200, maxN: 600, maxM: 48, minN: 16},
		{name: "Large", trials: 3, maxN: 10000, maxM: 256, minN: 10000},
	}
	r := rand.New(rand.NewPCG(7, 7))
	thresholds := []float64{DefaultThreshold, 0, 1, 25}
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			for trial := range sz.trials {
				m := 2 + r.IntN(sz.maxM-1)
				if sz.name == "Large" {
					m = 256
				}
				n := sz.minN + r.IntN(sz.maxN-sz.minN+1)
				prev, cur := diffTopology(r, n, m)
				huge := r.IntN(4) == 0
				if huge { // one index past what a key holds
					k := r.IntN(len(cur.VCPUs))
					cur.VCPUs[k].Index += 1 << 40
					for i := range prev.VCPUs {
						if prev.VCPUs[i].Domain == cur.VCPUs[k].Domain && prev.VCPUs[i].Index+1<<40 == cur.VCPUs[k].Index {
							prev.VCPUs[i].Index = cur.VCPUs[k].Index
						}
					}
				}
				r.Shuffle(len(cur.VCPUs), func(i, j int) { cur.VCPUs[i], cur.VCPUs[j] = cur.VCPUs[j], cur.VCPUs[i] })
				if r.IntN(2) == 0 {
					r.Shuffle(len(prev.VCPUs), func(i, j int) { prev.VCPUs[i], prev.VCPUs[j] = prev.VCPUs[j], prev.VCPUs[i] })
				}
				cfg := Config{Threshold: thresholds[r.IntN(len(thresholds))], CPUs: cpusN(m)}
				want := referencePlanByName(prev, cur, testInterval, cfg)
				got := NewAdaptive().Plan(prev, cur, testInterval, cfg)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("trial %d (%d vCPUs, %d pCPUs, huge index %v): plan differs (-reference +new):\n%s",
						trial, n, m, huge, diff)
				}
			}
		})
	}
}
