package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
)

// TestFeatureScenarios runs adaptive on the shipped scenario of each
// whole-host feature and checks what the feature promises.
func TestFeatureScenarios(t *testing.T) {
	tests := []struct {
		name, file string
		check      func(t *testing.T, sc *Scenario, res *Result)
	}{
		{"TopologyNUMASMT_BalancesInsideNodes_NoBusySiblings", "topology-numa-smt.json", func(t *testing.T, sc *Scenario, res *Result) {
			wantConverged(t, res, 1)
			node := func(c int) int { return c / 4 }
			for _, it := range res.Iterations {
				for _, m := range it.Moves {
					if node(m.From) != node(m.To) {
						t.Errorf("iteration %d: %s/%d crossed from node %d to %d", it.I, m.VM, m.VCPU, node(m.From), node(m.To))
					}
				}
			}
			if a, b := res.FinalPins["burn/0"], res.FinalPins["burn/1"]; a/2 == b/2 {
				t.Errorf("the two burners ended on SMT siblings %d and %d", a, b)
			}
		}},
		{"BackgroundOwnsCPU0_NoVCPUBesideTheHostProcess", "background-owns-pcpu0.json", func(t *testing.T, sc *Scenario, res *Result) {
			for _, it := range res.Iterations[1:] {
				if it.PCPUDemand[0] != 100 {
					t.Errorf("iteration %d: pCPU 0 demand %v: vCPUs crowd the host process", it.I, it.PCPUDemand[0])
				}
			}
			wantConverged(t, res, 1)
			if res.FinalSpread != res.BestSpread {
				t.Errorf("final spread %v, best %v", res.FinalSpread, res.BestSpread)
			}
		}},
		{"CPUSet_BalancesWithinEachDomainsRange", "cpuset.json", func(t *testing.T, sc *Scenario, res *Result) {
			wantConverged(t, res, 1)
			for k, ranges := range map[string]cpuset.CPUSet{"db/0": cpuset.New(0, 1), "db/1": cpuset.New(0, 1), "batch/0": cpuset.New(0, 3)} {
				if !ranges.Contains(res.FinalPins[k]) {
					t.Errorf("%s ended on %d, outside %s", k, res.FinalPins[k], ranges)
				}
			}
			if res.FinalSpread != res.BestSpread {
				t.Errorf("final spread %v, best %v", res.FinalSpread, res.BestSpread)
			}
		}},
		{"SpinWaitersWithBurnersOnCPU0_OneBurnerPerPCPU", "spin-burners-duty-on-cpu0.json", func(t *testing.T, sc *Scenario, res *Result) {
			wantOneBurnerPerPCPU(t, res)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := loadFile(t, tc.file)
			res, err := Simulate(sc, balancer.NewAdaptive(), balancer.DefaultThreshold)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, sc, res)
		})
	}
}

func wantConverged(t *testing.T, res *Result, at int) {
	t.Helper()
	if res.ConvergedAt == nil || *res.ConvergedAt != at || res.MovesAfterConverged != 0 {
		t.Errorf("converged_at %v with %d moves after, want %d with none", res.ConvergedAt, res.MovesAfterConverged, at)
	}
}

// wantOneBurnerPerPCPU is issue 14's verdict: the burners end apart, the
// host is balanced within two windows and stays still, and no vCPU moves
// more than twice.
func wantOneBurnerPerPCPU(t *testing.T, res *Result) {
	t.Helper()
	if res.FinalPins["burner1/0"] == res.FinalPins["burner2/0"] {
		t.Errorf("burners ended together: %v", res.FinalPins)
	}
	if res.ConvergedAt == nil || *res.ConvergedAt > 2 || res.MovesAfterConverged != 0 {
		t.Errorf("converged_at %v with %d moves after, want at most 2 with none", res.ConvergedAt, res.MovesAfterConverged)
	}
	moves := map[string]int{}
	for _, it := range res.Iterations {
		for _, m := range it.Moves {
			if moves[fmt.Sprintf("%s/%d", m.VM, m.VCPU)]++; moves[fmt.Sprintf("%s/%d", m.VM, m.VCPU)] > 2 {
				t.Errorf("%s/%d moved more than twice", m.VM, m.VCPU)
			}
		}
	}
}

// TestSpinWaiters_AnyOrder_OneBurnerPerPCPU runs issue 14's case with the
// four guests in every order (so every identity order the planner's ties
// can meet): one burner per pCPU every time.
func TestSpinWaiters_AnyOrder_OneBurnerPerPCPU(t *testing.T) {
	base := loadFile(t, "spin-burners-duty-on-cpu0.json")
	for _, perm := range permutations([]int{0, 1, 2, 3}) {
		sc := *base
		sc.VMs = nil
		var names []string
		for _, i := range perm {
			sc.VMs = append(sc.VMs, base.VMs[i])
			names = append(names, base.VMs[i].Name)
		}
		t.Run(strings.Join(names, "_"), func(t *testing.T) {
			res, err := Simulate(&sc, balancer.NewAdaptive(), balancer.DefaultThreshold)
			if err != nil {
				t.Fatal(err)
			}
			wantOneBurnerPerPCPU(t, res)
		})
	}
}

func permutations(xs []int) [][]int {
	if len(xs) <= 1 {
		return [][]int{slices.Clone(xs)}
	}
	var out [][]int
	for i := range xs {
		rest := append(slices.Clone(xs[:i]), xs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]int{xs[i]}, p...))
		}
	}
	return out
}

// TestModel_OneIteration checks the water-filling with background and
// spin-waiters: what each vCPU runs and waits, and what the policy sees.
func TestModel_OneIteration(t *testing.T) {
	tests := []struct {
		name       string
		sc         Scenario
		wantUsage  []float64 // per pCPU
		wantDemand []float64
		wantVCPUs  map[string][2]float64 // name -> usage, wait
		wantBg     map[int]float64
	}{
		{
			name: "SpinWaiterBesideBurner_ReadsAFullPCPU",
			sc: Scenario{Name: "t", PCPUs: 1, Iterations: 1, VMs: []VMSpec{
				{Name: "b", VCPUs: 1, Pin: []int{0}, Load: []float64{100}, Stop: 1},
				{Name: "d", VCPUs: 1, Pin: []int{0}, Load: []float64{16}, Stop: 1, Spin: true}}},
			wantUsage: []float64{100}, wantDemand: []float64{116},
			wantVCPUs: map[string][2]float64{"b/0": {50, 50}, "d/0": {50, 50}},
			wantBg:    map[int]float64{},
		},
		{
			name: "SpinWaiterUncontended_ReadsItsDemand",
			sc: Scenario{Name: "t", PCPUs: 1, Iterations: 1, VMs: []VMSpec{
				{Name: "d", VCPUs: 1, Pin: []int{0}, Load: []float64{16}, Stop: 1, Spin: true},
				{Name: "e", VCPUs: 1, Pin: []int{0}, Load: []float64{16}, Stop: 1, Spin: true}}},
			wantUsage: []float64{32}, wantDemand: []float64{32},
			wantVCPUs: map[string][2]float64{"d/0": {16, 0}, "e/0": {16, 0}},
			wantBg:    map[int]float64{},
		},
		{
			name: "Background_OneMoreConsumer",
			sc: Scenario{Name: "t", PCPUs: 2, Iterations: 1, Background: &BackgroundSpec{Load: []float64{60, 10}},
				VMs: []VMSpec{{Name: "v", VCPUs: 1, Pin: []int{0}, Load: []float64{100}, Stop: 1}}},
			wantUsage: []float64{100, 10}, wantDemand: []float64{160, 10},
			wantVCPUs: map[string][2]float64{"v/0": {50, 50}},
			wantBg:    map[int]float64{0: 50, 1: 10},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.sc.Validate(); err != nil {
				t.Fatal(err)
			}
			m := newModel(&tc.sc)
			m.start(0)
			it := m.step(0)
			if diff := cmp.Diff(tc.wantUsage, it.PCPUUsage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantDemand, it.PCPUDemand); diff != "" {
				t.Errorf("demand (-want +got):\n%s", diff)
			}
			s := m.snapshot(0)
			got := map[string][2]float64{}
			for _, v := range s.VCPUs {
				got[v.Name] = [2]float64{v.Usage, v.Wait}
			}
			if diff := cmp.Diff(tc.wantVCPUs, got); diff != "" {
				t.Errorf("vCPU usage and wait (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantBg, s.Background); diff != "" {
				t.Errorf("background seen (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSimulate_BackgroundPhase_HostProcessStops: when the process owning
// pCPU 0 stops, adaptive puts a vCPU there within a cycle.
func TestSimulate_BackgroundPhase_HostProcessStops(t *testing.T) {
	sc := loadFile(t, "background-owns-pcpu0.json")
	sc.Background.Phases = []Phase{{At: 12, Load: []float64{0, 0, 0, 0}}}
	res, err := Simulate(sc, balancer.NewAdaptive(), balancer.DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Iterations[12].PCPUDemand[0]; d != 0 {
		t.Errorf("iteration 12: pCPU 0 demand %v, want 0 (the process stopped)", d)
	}
	if res.FinalSpread != 0 || res.ConvergedAt == nil || *res.ConvergedAt != 13 {
		t.Errorf("final spread %v, converged_at %v; want 0 from iteration 13", res.FinalSpread, res.ConvergedAt)
	}
}

// outside is a policy that pins every vCPU to the last pCPU.
type outside struct{}

func (outside) Name() string { return "outside" }
func (outside) Plan(s balancer.Snapshot, _ balancer.Config) balancer.Plan {
	var p balancer.Plan
	for _, v := range s.VCPUs {
		p.Moves = append(p.Moves, balancer.Move{ID: v.ID, Name: v.Name, From: v.PCPU, To: 3})
	}
	return p
}

func TestSimulate_PolicyPinsOutsideCPUSet_Fails(t *testing.T) {
	_, err := Simulate(loadFile(t, "cpuset.json"), outside{}, balancer.DefaultThreshold)
	if err == nil || !strings.Contains(err.Error(), "outside the cpuset of db") {
		t.Errorf("got %v, want an error naming db's cpuset", err)
	}
}
