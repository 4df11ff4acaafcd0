package balancer

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

// busy returns n pinned one-vCPU domains on cpu, each wanting want percent
// of which it ran run.
func busy(prefix string, n, cpu int, run, wait float64) []tv {
	vs := make([]tv, n)
	for i := range vs {
		vs[i] = tv{dom: prefix + string(rune('a'+i)), cpu: cpu, pinned: true, usage: run, wait: wait}
	}
	return vs
}

func cat(parts ...[]tv) []tv {
	var all []tv
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// pcpuDemand is each pCPU's demand after the plan, in percent.
func pcpuDemand(prev, cur Snapshot, cpus cpuset.CPUSet, plan Plan) []float64 {
	prev, cur = applied(prev, cur, plan)
	h := newHost(prev, cur, testInterval, Config{CPUs: cpus}, true)
	out := make([]float64, len(h.cpus))
	for c, l := range newState(h).load {
		out[c] = percent(l)
	}
	return out
}

func TestAdaptivePlan(t *testing.T) {
	cpus := cpuset.New(0, 1, 2, 3)
	tests := []struct {
		name      string
		vs        []tv
		wantMoves []Move    // checked when set
		wantLoad  []float64 // per-pCPU demand after the plan
	}{
		{
			name:     "AllOnCPU0_SpreadsTwoPerCPU",
			vs:       busy("vm", 8, 0, 12.5, 87.5),
			wantLoad: []float64{200, 200, 200, 200},
		},
		{
			name:     "AllOnCPU0HalfAt50_OneOfEachPerCPU",
			vs:       cat(busy("big", 4, 0, 16.67, 83.33), busy("half", 4, 0, 16.67, 33.33)),
			wantLoad: []float64{150, 150, 150, 150},
		},
		{
			name:     "PinnedRoundRobin_NoMove",
			vs:       cat(busy("a", 2, 0, 50, 50), busy("b", 2, 1, 50, 50), busy("c", 2, 2, 50, 50), busy("d", 2, 3, 50, 50)),
			wantLoad: []float64{200, 200, 200, 200},
		},
		{
			name: "HeavyLight_OneHeavyMoveToTheEmptyCPU",
			vs: cat(busy("h", 2, 2, 40, 60), busy("l", 1, 2, 20, 0), busy("x", 1, 0, 80, 20),
				busy("y", 1, 0, 20, 0), busy("z", 1, 3, 80, 20), busy("w", 1, 3, 20, 0), busy("v", 1, 1, 20, 0)),
			wantMoves: []Move{{"ha", 0, 2, 1, ReasonLowersSpread}},
			wantLoad:  []float64{120, 120, 120, 120},
		},
		{
			name:     "LoneHeavy_NoMove",
			vs:       cat(busy("heavy", 1, 0, 100, 0), busy("light", 1, 1, 10, 0)),
			wantLoad: []float64{100, 10, 0, 0},
		},
		{
			name: "NoSingleMoveHelps_Swaps",
			vs: []tv{{"a", 0, 0, true, 60, 0}, {"b", 0, 0, true, 40, 20}, {"c", 0, 1, true, 50, 0},
				{"d", 0, 1, true, 50, 0}, {"e", 0, 2, true, 110, 0}, {"f", 0, 3, true, 100, 10}},
			wantMoves: []Move{{"a", 0, 0, 1, ReasonSwap}, {"c", 0, 1, 0, ReasonSwap}},
			// e and f read more than one pCPU (schedstat's lumpy wait):
			// their demand is capped at 100.
			wantLoad: []float64{110, 110, 100, 100},
		},
		{
			name: "NewVCPU_KeepsItsPlaceAndCounts",
			vs:   cat(busy("old", 2, 0, 50, 0), []tv{{"new", 0, 0, false, 0, 0}}),
			// The new vCPU has no prev sample: load 0, never moved.
			wantMoves: []Move{{"olda", 0, 0, 1, ReasonLowersSpread}},
			wantLoad:  []float64{50, 50, 0, 0},
		},
		{
			name:      "MultiVCPUDomain_SpreadsItsVCPUs",
			vs:        []tv{{"vm", 0, 0, true, 50, 0}, {"vm", 1, 0, true, 50, 0}, {"vm", 2, 0, true, 50, 0}, {"vm", 3, 1, false, 50, 0}},
			wantMoves: []Move{{"vm", 0, 0, 2, ReasonLowersSpread}, {"vm", 1, 0, 3, ReasonLowersSpread}},
			wantLoad:  []float64{50, 50, 50, 50},
		},
		{
			name:     "OutsideCPUs_LeftAlone",
			vs:       []tv{{"vm", 0, 5, true, 100, 0}, {"vm", 1, 6, false, 100, 0}},
			wantLoad: []float64{0, 0, 0, 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev, cur := samples(cpus, tc.vs)
			cfg := Config{Threshold: 10, CPUs: cpus}
			plan := NewAdaptive().Plan(prev, cur, testInterval, cfg)
			if tc.wantMoves != nil {
				if diff := cmp.Diff(tc.wantMoves, plan.Moves); diff != "" {
					t.Errorf("moves (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tc.wantLoad, pcpuDemand(prev, cur, cpus, plan)); diff != "" {
				t.Errorf("pCPU demand after the plan (-want +got):\n%s\nplan: %v", diff, plan.Moves)
			}
			p2, c2 := applied(prev, cur, plan)
			if again := NewAdaptive().Plan(p2, c2, testInterval, cfg).Moves; len(again) != 0 {
				t.Errorf("planning on the plan's result moved again: %v", again)
			}
		})
	}
}

func TestAdaptive_DegenerateInputs_EmptyPlan(t *testing.T) {
	_, cur := samples(cpuset.New(0, 1), busy("vm", 2, 0, 50, 50))
	tests := []struct {
		name     string
		prev     Snapshot
		interval int64
		cpus     cpuset.CPUSet
	}{
		{"NoCPUs", Snapshot{}, 1e9, cpuset.New()},
		{"ZeroInterval", cur, 0, cpuset.New(0, 1)},
		{"NoPrev_AllNew", Snapshot{}, 1e9, cpuset.New(0, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NewAdaptive().Plan(tc.prev, cur, time.Duration(tc.interval), Config{Threshold: 10, CPUs: tc.cpus})
			if len(got.Moves) != 0 {
				t.Errorf("got moves %v, want none", got.Moves)
			}
		})
	}
}
