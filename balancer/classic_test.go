package balancer

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

func TestClassicPlan(t *testing.T) {
	cpus := cpuset.New(0, 1, 2, 3)
	tests := []struct {
		name    string
		vs      []tv
		fixed   []string
		allowed map[string]cpuset.CPUSet
		want    []Move
	}{
		{
			name: "AllOnCPU0_MovesFirstBusiestToLowestFreest",
			vs: []tv{{"vm1", 0, 0, true, 50, 50}, {"vm2", 0, 0, true, 50, 50},
				{"vm3", 0, 2, true, 10, 0}},
			want: []Move{mv("vm1", 0, 0, 1, ReasonBusiestToFreest)},
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
			want: []Move{mv("vm1", 1, Unpinned, 0, ReasonPinInPlace), mv("vm2", 0, Unpinned, 1, ReasonPinInPlace)},
		},
		{
			name: "UnpinnedBusiest_MovedFromUnpinned",
			vs:   []tv{{"vm1", 0, 3, false, 90, 0}, {"vm2", 0, 0, true, 5, 0}},
			want: []Move{mv("vm1", 0, Unpinned, 1, ReasonBusiestToFreest)},
		},
		{
			name: "UsageOnly_WaitIgnored",
			vs:   []tv{{"vm1", 0, 0, true, 5, 95}, {"vm2", 0, 1, true, 5, 95}},
		},
		{
			name: "OutsideCPUs_LeftAlone",
			vs:   []tv{{"vm1", 0, 7, true, 100, 0}, {"vm2", 0, 6, false, 100, 0}},
		},
		{
			name: "FixedBusiestSkipped_NextBusiestMoves",
			vs: cat(busy("fix", 1, 0, 90, 0), busy("vm", 1, 0, 10, 0),
				[]tv{{dom: "free", cpu: 1, usage: 5}}),
			fixed: []string{"fixa", "free"},
			want:  []Move{mv("vma", 0, 0, 2, ReasonBusiestToFreest)},
		},
		{
			name:    "FreestOutsideAllowed_BusiestSkipped",
			vs:      cat(busy("db", 1, 0, 90, 0), busy("vm", 1, 0, 10, 0)),
			allowed: map[string]cpuset.CPUSet{"dba": cpuset.New(0)},
			want:    []Move{mv("vma", 0, 0, 1, ReasonBusiestToFreest)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := snap(cpus, testWindow, tc.vs)
			for i := range s.VCPUs {
				v := &s.VCPUs[i]
				v.Allowed = tc.allowed[v.ID.Domain]
				for _, f := range tc.fixed {
					v.Fixed = v.Fixed || v.ID.Domain == f
				}
			}
			got := NewClassic().Plan(s, Config{Threshold: 10, CPUs: cpus}).Moves
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
	s := snap(cpus, testWindow, []tv{{"heavy", 0, 0, true, 100, 0}})
	cfg := Config{Threshold: 10, CPUs: cpus}
	var trail []int
	for range 4 {
		plan := NewClassic().Plan(s, cfg)
		if len(plan.Moves) != 1 {
			t.Fatalf("classic planned %v, want one move", plan.Moves)
		}
		trail = append(trail, plan.Moves[0].To)
		s = applied(s, plan)
	}
	if diff := cmp.Diff([]int{1, 0, 1, 0}, trail); diff != "" {
		t.Errorf("classic's targets (-want +got):\n%s", diff)
	}
	if got := NewAdaptive().Plan(s, cfg).Moves; len(got) != 0 {
		t.Errorf("adaptive moved a lone heavy vCPU: %v", got)
	}
}

func TestPolicyByName(t *testing.T) {
	for _, name := range PolicyNames() {
		if p, err := PolicyByName(name); err != nil || p.Name() != name {
			t.Errorf("PolicyByName(%q) = %v, %v", name, p, err)
		}
	}
	if _, err := PolicyByName("fair"); !errors.Is(err, ErrUnknownPolicy) {
		t.Errorf("PolicyByName(fair) = %v, want ErrUnknownPolicy", err)
	}
}
