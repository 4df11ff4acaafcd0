package balancer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

// fix marks the named domains' vCPUs Fixed in both snapshots.
func fix(prev, cur Snapshot, doms ...string) (Snapshot, Snapshot) {
	for _, s := range []Snapshot{prev, cur} {
		for i := range s.VCPUs {
			for _, d := range doms {
				if s.VCPUs[i].Domain == d {
					s.VCPUs[i].Fixed = true
				}
			}
		}
	}
	return prev, cur
}

func TestFixedVCPUs(t *testing.T) {
	cpus := cpuset.New(0, 1)
	tests := []struct {
		name   string
		policy Policy
		vs     []tv
		fixed  []string
		want   []Move
	}{
		{
			name:   "Adaptive_FixedHeavyCountsButStays_MovesTheOther",
			policy: NewAdaptive(),
			vs:     cat(busy("fix", 1, 0, 50, 50), busy("vm", 1, 0, 50, 50)),
			fixed:  []string{"fixa"},
			want:   []Move{{Domain: "vma", VCPU: 0, From: 0, To: 1, Reason: ReasonLowersSpread}},
		},
		{
			name:   "Adaptive_AllFixed_NoMove",
			policy: NewAdaptive(),
			vs:     busy("fix", 2, 0, 50, 50),
			fixed:  []string{"fixa", "fixb"},
		},
		{
			name:   "Classic_FixedBusiestSkipped_NextBusiestMoves",
			policy: NewClassic(),
			vs: cat(busy("fix", 1, 0, 90, 0), busy("vm", 1, 0, 10, 0),
				[]tv{{dom: "free", cpu: 1, usage: 5}}),
			fixed: []string{"fixa", "free"},
			want:  []Move{{Domain: "vma", VCPU: 0, From: 0, To: 1, Reason: ReasonBusiestToFreest}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev, cur := fix(samples(cpus, tc.vs))
			prev, cur = fix(prev, cur, tc.fixed...)
			got := tc.policy.Plan(prev, cur, testInterval, Config{Threshold: DefaultThreshold, CPUs: cpus})
			if diff := cmp.Diff(tc.want, got.Moves); diff != "" {
				t.Errorf("moves (-want +got):\n%s", diff)
			}
		})
	}
}
