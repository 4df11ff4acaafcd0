package balancer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

func TestClassicPlan(t *testing.T) {
	cpus := cpuset.New(0, 1, 2, 3)
	tests := []struct {
		name string
		vs   []tv
		want []Move
	}{
		{
			name: "AllOnCPU0_MovesFirstBusiestToLowestFreest",
			vs: []tv{{"vm1", 0, 0, true, 50, 50}, {"vm2", 0, 0, true, 50, 50},
				{"vm3", 0, 2, true, 10, 0}},
			want: []Move{{"vm1", 0, 0, 1, ReasonBusiestToFreest}},
		},
		{
			name: "WithinThreshold_NoMove",
			vs: []tv{{"vm1", 0, 0, true, 45, 0}, {"vm2", 0, 1, true, 40, 0},
				{"vm3", 0, 2, true, 38, 0}, {"vm4", 0, 3, true, 36, 0}},
		},
		{
			name: "Unpinned_PinnedWhereTheyRanEvenWhenBalanced",
			vs: []tv{{"vm2", 0, 1, false, 40, 0}, {"vm1", 1, 0, false, 40, 0},
				{"vm1", 0, 2, true, 40, 0}, {"vm3", 0, 3, true, 40, 0}},
			want: []Move{{"vm1", 1, Unpinned, 0, ReasonPinInPlace}, {"vm2", 0, Unpinned, 1, ReasonPinInPlace}},
		},
		{
			name: "UnpinnedBusiest_MovedFromUnpinned",
			vs:   []tv{{"vm1", 0, 3, false, 90, 0}, {"vm2", 0, 0, true, 5, 0}},
			want: []Move{{"vm1", 0, Unpinned, 1, ReasonBusiestToFreest}},
		},
		{
			name: "UsageOnly_WaitIgnored",
			vs:   []tv{{"vm1", 0, 0, true, 5, 95}, {"vm2", 0, 1, true, 5, 95}},
		},
		{
			name: "OutsideCPUs_LeftAlone",
			vs:   []tv{{"vm1", 0, 7, true, 100, 0}, {"vm2", 0, 6, false, 100, 0}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev, cur := samples(cpus, tc.vs)
			got := NewClassic().Plan(prev, cur, testInterval, Config{Threshold: 10, CPUs: cpus}).Moves
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// The seed's flaw: a lone heavy vCPU is moved to the freest pCPU every
// cycle, so it ping-pongs; adaptive leaves it where it is.
func TestLoneHeavy_ClassicPingPongsAdaptiveStays(t *testing.T) {
	cpus := cpuset.New(0, 1)
	prev, cur := samples(cpus, []tv{{"heavy", 0, 0, true, 100, 0}})
	cfg := Config{Threshold: 10, CPUs: cpus}
	var trail []int
	for range 4 {
		plan := NewClassic().Plan(prev, cur, testInterval, cfg)
		if len(plan.Moves) != 1 {
			t.Fatalf("classic planned %v, want one move", plan.Moves)
		}
		trail = append(trail, plan.Moves[0].To)
		prev, cur = applied(prev, cur, plan)
	}
	if diff := cmp.Diff([]int{1, 0, 1, 0}, trail); diff != "" {
		t.Errorf("classic's targets (-want +got):\n%s", diff)
	}
	if got := NewAdaptive().Plan(prev, cur, testInterval, cfg).Moves; len(got) != 0 {
		t.Errorf("adaptive moved a lone heavy vCPU: %v", got)
	}
}
