package balancer

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

// randomHost is a random host: 2-16 pCPUs, one or two NUMA nodes, SMT2
// numbered either way (siblings adjacent or half the host apart), some
// domains restricted to a random cpuset, some Fixed, random loads; with
// background load on some pCPUs when noWait (waits would make the
// background's estimate depend on its neighbours, see demand.go).
func randomHost(r *rand.Rand) (Snapshot, Config) {
	m := 2 * (1 + r.IntN(8))
	cfg := Config{Threshold: 10, CPUs: cpusN(m)}
	switch r.IntN(3) {
	case 1: // siblings adjacent, as AMD numbers them
		for c := 0; c < m; c += 2 {
			cfg.Topology.Cores = append(cfg.Topology.Cores, cpuset.New(c, c+1))
		}
	case 2: // siblings half the host apart, as Intel numbers them
		for c := range m / 2 {
			cfg.Topology.Cores = append(cfg.Topology.Cores, cpuset.New(c, c+m/2))
		}
	}
	if r.IntN(2) == 0 && m >= 4 {
		cfg.Topology.Nodes = []cpuset.CPUSet{span(0, m/2-1), span(m/2, m-1)}
	}
	s := Snapshot{At: testWindow, Window: testWindow}
	noWait := r.IntN(2) == 0
	if noWait {
		s.Background = map[int]float64{}
		for c := range m {
			if r.IntN(4) == 0 {
				s.Background[c] = float64(r.IntN(101))
			}
		}
	}
	n := 1 + r.IntN(3*m)
	for i := range n {
		dom := fmt.Sprintf("dom%02d", i/2)
		var allowed cpuset.CPUSet
		if (i/2)%3 == 0 {
			lo := r.IntN(m)
			allowed = span(lo, lo+r.IntN(m-lo))
		}
		cpu := r.IntN(m)
		if !allowed.IsEmpty() {
			l := allowed.List()
			cpu = l[r.IntN(len(l))]
		}
		d := float64(r.IntN(101))
		if r.IntN(4) == 0 {
			d = float64(r.IntN(5)) * 25
		}
		wait := 0.0
		if !noWait && r.IntN(2) == 0 {
			wait, d = d/2, d/2
		}
		pin := cpuset.New(cpu)
		if r.IntN(4) == 0 {
			pin = cfg.CPUs
		}
		s.VCPUs = append(s.VCPUs, VCPU{ID: VCPUID{dom, i % 2}, Name: fmt.Sprintf("%s/%d", dom, i%2),
			PCPU: cpu, Pin: pin, Allowed: allowed, Usage: d, Wait: wait, Fixed: r.IntN(10) == 0})
	}
	return s, cfg
}

// TestAdaptiveProperties checks, on random hosts with a fixed seed: a plan
// never leaves a vCPU's Allowed set; never raises the spread, and lowers
// it when it moves for balance; never crosses a NUMA node when a placement
// inside nodes might reach the threshold (the nodes' mean loads are
// within it) nor when its own search inside nodes does; never leaves busy
// SMT siblings beside
// a whole idle core that could take one; plans nothing more on its own
// result; and does not depend on the input order.
func TestAdaptiveProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	for trial := range 3000 {
		s, cfg := randomHost(r)
		p := NewAdaptive()
		plan := p.Plan(s, cfg)
		before, after := spreadPct(planned(p, s, cfg)), spreadPct(planned(p, applied(s, plan), cfg))
		fail := func(format string, args ...any) {
			t.Fatalf("trial %d: %s\nplan %v\nhost %+v\ncfg %+v", trial, fmt.Sprintf(format, args...), plan.Moves, s, cfg)
		}
		byID := map[VCPUID]VCPU{}
		for _, v := range s.VCPUs {
			byID[v.ID] = v
		}
		balance := 0
		for _, m := range plan.Moves {
			v := byID[m.ID]
			if v.Fixed || !v.Allowed.IsEmpty() && !v.Allowed.Contains(m.To) || !cfg.CPUs.Contains(m.To) {
				fail("%v leaves the allowed set %v (fixed %v)", m, v.Allowed, v.Fixed)
			}
			if m.Reason != ReasonUnstack {
				balance++
			}
		}
		switch {
		case after > before+1e-9:
			fail("spread rose %.3f -> %.3f", before, after)
		case balance > 0 && after >= before:
			fail("moves did not lower the spread %.3f", before)
		case before <= cfg.Threshold && balance > 0:
			fail("balanced (spread %.3f) yet moved", before)
		}
		if again := p.Plan(applied(s, plan), cfg); len(again.Moves) != 0 {
			fail("planning on the result moved again: %v", again.Moves)
		}
		if len(cfg.Topology.Nodes) > 1 && (inNodeReaches(s, cfg) || nodeMeansWithin(p, s, cfg)) {
			for _, m := range plan.Moves {
				if node(cfg, byID[m.ID].PCPU) != node(cfg, m.To) && m.Reason != ReasonUnstack {
					fail("%v crosses a node though balance inside nodes may be reachable", m)
				}
			}
		}
		if c, d := stackedBesideIdle(applied(s, plan), cfg); c >= 0 {
			fail("core %d holds busy siblings while core %d is idle", c, d)
		}
		shuffled := s
		shuffled.VCPUs = append([]VCPU(nil), s.VCPUs...)
		r.Shuffle(len(shuffled.VCPUs), func(i, j int) {
			shuffled.VCPUs[i], shuffled.VCPUs[j] = shuffled.VCPUs[j], shuffled.VCPUs[i]
		})
		if diff := cmp.Diff(plan, NewAdaptive().Plan(shuffled, cfg)); diff != "" {
			fail("input order changed the plan (-want +got):\n%s", diff)
		}
	}
}

func node(cfg Config, c int) int {
	for n, set := range cfg.Topology.Nodes {
		if set.Contains(c) {
			return n
		}
	}
	return -1
}

// inNodeReaches reports whether the search restricted to moves inside
// nodes reaches the threshold on s.
func inNodeReaches(s Snapshot, cfg Config) bool {
	p := &memory{}
	h := newLayout(&s, newPCPUs(&cfg), nil)
	for i := range h.vcpus {
		x := &h.vcpus[i]
		v := &s.VCPUs[x.snap]
		x.demand = min(units(v.Usage+v.Wait), fullCPU)
		x.movable = !s.VCPUs[x.snap].Fixed && x.demand > 0
	}
	p.estimateBackground(h)
	st := newPlacement(h, nil)
	t := thresholdUnits(cfg.Threshold)
	return st.spread() > t && st.settle(t, true).spread() <= t
}

// nodeMeansWithin reports whether the nodes' mean loads (as adaptive
// counts them) are within the threshold of each other.
func nodeMeansWithin(p *Adaptive, s Snapshot, cfg Config) bool {
	load := planned(p, s, cfg)
	var mean []float64
	for _, set := range cfg.Topology.Nodes {
		sum := 0.0
		for _, c := range set.List() {
			sum += load[c]
		}
		mean = append(mean, sum/float64(set.Size()))
	}
	return spreadPct(mean) <= cfg.Threshold
}

// stackedBesideIdle returns a core with two busy pCPUs, one of which
// holds a busy movable vCPU that a pCPU of a whole idle core may take
// without becoming the busiest, and that idle core; -1 when there is none.
func stackedBesideIdle(s Snapshot, cfg Config) (int, int) {
	load := planned(NewAdaptive(), s, cfg)
	top := load[0]
	for _, l := range load {
		top = max(top, l)
	}
	idle := func(set cpuset.CPUSet) bool {
		for _, c := range set.List() {
			if load[c] >= float64(idleDemand)/unitsPerPercent {
				return false
			}
		}
		return true
	}
	for k, core := range cfg.Topology.Cores {
		n := 0
		for _, c := range core.List() {
			if load[c] >= float64(busyDemand)/unitsPerPercent {
				n++
			}
		}
		if n < 2 {
			continue
		}
		for _, v := range s.VCPUs {
			if v.Fixed || !core.Contains(v.PCPU) || min(v.Usage+v.Wait, 100) < float64(busyDemand)/unitsPerPercent {
				continue
			}
			for j, other := range cfg.Topology.Cores {
				if !idle(other) {
					continue
				}
				for _, c := range other.List() {
					if (v.Allowed.IsEmpty() || v.Allowed.Contains(c)) && load[c]+min(v.Usage+v.Wait, 100) <= top {
						return k, j
					}
				}
			}
		}
	}
	return -1, -1
}

// TestAdaptive_InNodeBalanceReachable_NeverCrosses builds two-node hosts
// where balance inside each node is reachable by construction (every
// pCPU's share of its node's vCPUs sums to the same load, then the vCPUs
// are scattered inside their node) and checks that no move crosses a node.
func TestAdaptive_InNodeBalanceReachable_NeverCrosses(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 1000 {
		m := 4 * (1 + r.IntN(4))
		cfg := Config{Threshold: 10, CPUs: cpusN(m),
			Topology: Topology{Nodes: []cpuset.CPUSet{span(0, m/2-1), span(m/2, m-1)}}}
		s := Snapshot{At: testWindow, Window: testWindow}
		for c := range m {
			lo := 0
			if c >= m/2 {
				lo = m / 2
			}
			left := 100
			for k := 0; left > 0; k++ {
				d := min(left, 5*(1+r.IntN(20)))
				left -= d
				id := VCPUID{fmt.Sprintf("dom%02d-%d", c, k), 0}
				at := lo + r.IntN(m/2)
				s.VCPUs = append(s.VCPUs, VCPU{ID: id, Name: id.Domain + "/0", PCPU: at, Pin: cpuset.New(at), Usage: float64(d)})
			}
		}
		plan := NewAdaptive().Plan(s, cfg)
		for _, mv := range plan.Moves {
			if node(cfg, mv.From) != node(cfg, mv.To) {
				t.Fatalf("trial %d: %v crosses a node though each node can balance alone\nplan %v", trial, mv, plan.Moves)
			}
		}
	}
}
