package balancer

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

// busy returns n pinned one-vCPU domains on cpu, each running run and
// waiting wait percent of the window.
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

func mv(dom string, id, from, to int, why string) Move {
	return Move{ID: VCPUID{dom, id}, Name: dom + "/" + string(rune('0'+id)), From: from, To: to, Reason: why}
}

func TestAdaptivePlan(t *testing.T) {
	four := cpuset.New(0, 1, 2, 3)
	tests := []struct {
		name      string
		vs        []tv
		cfg       Config
		bg        map[int]float64
		allowed   map[string]cpuset.CPUSet // per domain
		fixed     []string
		wantMoves []Move    // checked when not nil ([]Move{}: no move)
		wantLoad  []float64 // per-pCPU load (run + wait + background) after the plan
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
			name:      "PinnedRoundRobin_NoMove",
			vs:        cat(busy("a", 2, 0, 50, 50), busy("b", 2, 1, 50, 50), busy("c", 2, 2, 50, 50), busy("d", 2, 3, 50, 50)),
			wantMoves: []Move{},
			wantLoad:  []float64{200, 200, 200, 200},
		},
		{
			name:      "LoneHeavy_NoMove",
			vs:        cat(busy("heavy", 1, 0, 100, 0), busy("light", 1, 1, 10, 0)),
			wantMoves: []Move{},
			wantLoad:  []float64{100, 10, 0, 0},
		},
		{
			name: "NoSingleMoveHelps_Swaps",
			vs: []tv{{"a", 0, 0, true, 60, 0}, {"b", 0, 0, true, 40, 20}, {"c", 0, 1, true, 50, 0},
				{"d", 0, 1, true, 50, 0}, {"e", 0, 2, true, 110, 0}, {"f", 0, 3, true, 100, 10}},
			wantMoves: []Move{mv("a", 0, 0, 1, ReasonSwap), mv("c", 0, 1, 0, ReasonSwap)},
			wantLoad:  []float64{110, 110, 100, 100},
		},
		{
			name:      "MultiVCPUDomain_SpreadsItsVCPUs",
			vs:        []tv{{"vm", 0, 0, true, 50, 0}, {"vm", 1, 0, true, 50, 0}, {"vm", 2, 0, true, 50, 0}, {"vm", 3, 1, false, 50, 0}},
			wantMoves: []Move{mv("vm", 0, 0, 2, ReasonLowersSpread), mv("vm", 1, 0, 3, ReasonLowersSpread)},
			wantLoad:  []float64{50, 50, 50, 50},
		},
		{
			name:      "OutsideCPUs_LeftAlone",
			vs:        []tv{{"vm", 0, 5, true, 100, 0}, {"vm", 1, 6, false, 100, 0}},
			wantMoves: []Move{},
			wantLoad:  []float64{0, 0, 0, 0},
		},
		{
			name:      "FixedHeavyCountsButStays_MovesTheOther",
			vs:        cat(busy("fix", 1, 0, 50, 50), busy("vm", 1, 0, 50, 50)),
			fixed:     []string{"fixa"},
			wantMoves: []Move{mv("vma", 0, 0, 1, ReasonLowersSpread)},
			wantLoad:  []float64{100, 100, 0, 0},
		},
		{
			name:      "AllFixed_NoMove",
			vs:        busy("fix", 2, 0, 50, 50),
			fixed:     []string{"fixa", "fixb"},
			wantMoves: []Move{},
			wantLoad:  []float64{200, 0, 0, 0},
		},
		{
			name: "HostProcessOwnsCPU0_VCPUsLeaveIt",
			// A host process and two vCPUs share pCPU 0 evenly: the process
			// was capped like them, so it counts as wanting the whole pCPU.
			vs:        cat(busy("vm", 2, 0, 33.3, 66.7), busy("idle", 2, 3, 0, 0)),
			bg:        map[int]float64{0: 33.3},
			wantMoves: []Move{mv("vma", 0, 0, 1, ReasonLowersSpread), mv("vmb", 0, 0, 2, ReasonLowersSpread)},
			wantLoad:  []float64{33.3, 100, 100, 0},
		},
		{
			name: "LightEmulatorThread_CountsWhatItRan",
			vs:   busy("vm", 2, 0, 35, 15),
			bg:   map[int]float64{0: 30},
			// 30 + 50 + 50 on pCPU 0: both vCPUs go, the thread stays.
			wantMoves: []Move{mv("vma", 0, 0, 1, ReasonLowersSpread), mv("vmb", 0, 0, 2, ReasonLowersSpread)},
			wantLoad:  []float64{30, 50, 50, 0},
		},
		{
			name:      "CPUSet_StaysInsideAllowedThoughCPU2IsFreer",
			vs:        cat(busy("db", 1, 0, 50, 50), busy("dc", 1, 0, 50, 50), busy("web", 1, 1, 30, 0)),
			allowed:   map[string]cpuset.CPUSet{"dba": cpuset.New(0, 1), "dca": cpuset.New(0, 1)},
			wantMoves: []Move{mv("dba", 0, 0, 1, ReasonLowersSpread), mv("weba", 0, 1, 2, ReasonLowersSpread)},
			wantLoad:  []float64{100, 100, 30, 0},
		},
		{
			name:      "TwoNodes_InNodeMovesSuffice_NoneCrosses",
			vs:        cat(busy("a", 2, 0, 50, 50), busy("b", 2, 2, 50, 50)),
			cfg:       Config{Topology: Topology{Nodes: []cpuset.CPUSet{cpuset.New(0, 1), cpuset.New(2, 3)}}},
			wantMoves: []Move{mv("ba", 0, 2, 3, ReasonLowersSpread), mv("aa", 0, 0, 1, ReasonLowersSpread)},
			wantLoad:  []float64{100, 100, 100, 100},
		},
		{
			name:     "TwoNodes_InNodeCannotReach_Crosses",
			vs:       busy("a", 4, 0, 25, 75),
			cfg:      Config{Topology: Topology{Nodes: []cpuset.CPUSet{cpuset.New(0, 1), cpuset.New(2, 3)}}},
			wantLoad: []float64{100, 100, 100, 100},
		},
		{
			name:      "SMT_SecondBurnerGoesToAnIdleCoreNotTheSibling",
			vs:        busy("b", 2, 0, 50, 50),
			cfg:       Config{Topology: Topology{Cores: []cpuset.CPUSet{cpuset.New(0, 1), cpuset.New(2, 3)}}},
			wantMoves: []Move{mv("ba", 0, 0, 2, ReasonLowersSpread)},
			wantLoad:  []float64{100, 0, 100, 0},
		},
		{
			name: "SMT_BusySiblingsBesideAnIdleCore_Unstacked",
			// The spread (100) cannot fall, so only the SMT rule moves.
			vs:        cat(busy("b", 1, 0, 100, 0), busy("c", 1, 1, 100, 0)),
			cfg:       Config{Topology: Topology{Cores: []cpuset.CPUSet{cpuset.New(0, 1), cpuset.New(2, 3)}}},
			wantMoves: []Move{mv("ba", 0, 0, 2, ReasonUnstack)},
			wantLoad:  []float64{0, 100, 100, 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Threshold, cfg.CPUs = 10, four
			s := snap(four, testWindow, tc.vs)
			s.Background = tc.bg
			for i := range s.VCPUs {
				v := &s.VCPUs[i]
				v.Allowed = tc.allowed[v.ID.Domain]
				for _, f := range tc.fixed {
					v.Fixed = v.Fixed || v.ID.Domain == f
				}
			}
			p := NewAdaptive()
			plan := p.Plan(s, cfg)
			if tc.wantMoves != nil && len(tc.wantMoves)+len(plan.Moves) > 0 {
				if diff := cmp.Diff(tc.wantMoves, plan.Moves); diff != "" {
					t.Errorf("moves (-want +got):\n%s", diff)
				}
			}
			after := applied(s, plan)
			if diff := cmp.Diff(tc.wantLoad, planned(p, after, cfg)); diff != "" {
				t.Errorf("pCPU load after the plan (-want +got):\n%s\nplan: %v", diff, plan.Moves)
			}
			if again := p.Plan(after, cfg).Moves; len(again) != 0 {
				t.Errorf("planning on the plan's result moved again: %v", again)
			}
		})
	}
}

// planned is each pCPU's load in s as adaptive counts it, background at
// its estimate, in percent (one decimal).
func planned(p *Adaptive, s Snapshot, cfg Config) []float64 {
	h := newLayout(&s, newPCPUs(&cfg), nil)
	for i := range h.vcpus {
		v := &s.VCPUs[h.vcpus[i].snap]
		h.vcpus[i].demand = min(units(v.Usage+v.Wait), fullCPU)
	}
	q := &memory{bgCalm: append([]int64(nil), p.bgCalm...)}
	q.estimateBackground(h)
	out := make([]float64, len(h.cpus))
	for c, l := range h.homeDemand() {
		out[c] = float64((l+50)/100) / 10
	}
	return out
}

func TestAdaptive_DegenerateInputs_EmptyPlan(t *testing.T) {
	s := snap(cpuset.New(0, 1), testWindow, busy("vm", 2, 0, 50, 50))
	tests := []struct {
		name string
		s    Snapshot
		cpus cpuset.CPUSet
	}{
		{"NoCPUs", s, cpuset.New()},
		{"NoVCPUs", Snapshot{At: time.Second, Window: time.Second}, cpuset.New(0, 1)},
		{"EmptyAffinity", Snapshot{At: time.Second, Window: time.Second, VCPUs: []VCPU{{ID: VCPUID{"x", 0}, PCPU: 0, Usage: 100}}}, cpuset.New(0, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewAdaptive().Plan(tc.s, Config{Threshold: 10, CPUs: tc.cpus}); len(got.Moves) != 0 {
				t.Errorf("got moves %v, want none", got.Moves)
			}
		})
	}
}

// TestAdaptive_HostChangesSize_OnePolicy: the policy reuses its arrays from
// call to call, so one policy plans hosts that grow, shrink and vanish (the
// --cpus taken offline) in turn: never a panic, no move without CPUs, and
// every move onto one of the host's CPUs that the vCPU may use.
func TestAdaptive_HostChangesSize_OnePolicy(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	p := NewAdaptive()
	at := testWindow
	for i, size := range [][2]int{{300, 64}, {0, 0}, {40, 8}, {600, 128}, {12, 4}, {0, 0}, {300, 64}} {
		s, cfg := bigHost(r, size[0], max(size[1], 4))
		if size[1] == 0 {
			cfg.CPUs = cpuset.New()
		}
		s.At, at = at, at+testWindow
		plan := p.Plan(s, cfg)
		if cfg.CPUs.IsEmpty() && len(plan.Moves) != 0 {
			t.Fatalf("call %d, no CPUs: moves %v", i, plan.Moves)
		}
		allowed := map[VCPUID]cpuset.CPUSet{}
		for _, v := range s.VCPUs {
			allowed[v.ID] = v.Allowed
		}
		for _, mv := range plan.Moves {
			if !cfg.CPUs.Contains(mv.To) || !allowed[mv.ID].IsEmpty() && !allowed[mv.ID].Contains(mv.To) {
				t.Fatalf("call %d: move %+v outside CPUs %s or allowed %s", i, mv, cfg.CPUs, allowed[mv.ID])
			}
		}
	}
}
