package balancer

import (
	"math/rand/v2"
	"slices"
	"testing"

	"k8s.io/utils/cpuset"
)

// TestPlacement_MovesKeepOrderAndDemand checks the search's bookkeeping over
// random moves and their undoing, with and without NUMA nodes: loads are
// the sum of what is on each pCPU, the host's and each node's pCPUs stay
// sorted by (load, index), the busiest and the freest are at hand,
// spreadAfter agrees with moving the load and measuring, and undo
// restores the start.
func TestPlacement_MovesKeepOrderAndDemand(t *testing.T) {
	t.Run("two nodes", func(t *testing.T) { testStateMoves(t, false) })
	t.Run("one node", func(t *testing.T) { testStateMoves(t, true) })
}

func testStateMoves(t *testing.T, flat bool) {
	r := rand.New(rand.NewPCG(8, 9))
	s, cfg := bigHost(r, 300, 32)
	if flat {
		cfg.Topology.Nodes = nil
	}
	h := newLayout(&s, newPCPUs(&cfg), nil)
	for i := range h.vcpus {
		h.vcpus[i].demand, h.vcpus[i].movable = int64(r.IntN(100_001)), true
	}
	st := newPlacement(h, nil)
	start := slices.Clone(st.demand)
	check := func(when string) {
		t.Helper()
		load := slices.Clone(h.background)
		for v, c := range st.at {
			load[c] += h.vcpus[v].demand
		}
		if !slices.Equal(load, st.demand) {
			t.Fatalf("%s: loads %v, want %v", when, st.demand, load)
		}
		sorted := func(o []int64) bool {
			for k, key := range o {
				if c := cpuOf(key); key != keyOf(c, st.demand[c]) || k > 0 && o[k-1] >= key {
					return false
				}
			}
			return true
		}
		if !sorted(st.all()) {
			t.Fatalf("%s: order not sorted by (load, index)", when)
		}
		n := 0
		for k, o := range st.nodes {
			n += len(o)
			for _, key := range o {
				if c := cpuOf(key); h.node[c] != int32(k) {
					t.Fatalf("%s: pCPU %d listed in node %d", when, c, k)
				}
			}
			if !sorted(o) {
				t.Fatalf("%s: node %d's order not sorted", when, k)
			}
		}
		if flat != (st.nodes == nil) || !flat && n != len(st.order) {
			t.Fatalf("%s: node orders hold %d pCPUs, want %d", when, n, len(st.order))
		}
		o := st.all()
		if st.busiest() != cpuOf(o[len(o)-1]) || st.freest() != cpuOf(o[0]) {
			t.Fatalf("%s: busiest %d and freest %d, want %d and %d", when,
				st.busiest(), st.freest(), cpuOf(o[len(o)-1]), cpuOf(o[0]))
		}
		for range 20 {
			a, b := int32(r.IntN(len(h.cpus))), int32(r.IntN(len(h.cpus)))
			if a == b {
				continue
			}
			d := int64(r.IntN(int(st.demand[a]) + 1))
			after := slices.Clone(st.demand)
			after[a] -= d
			after[b] += d
			if got, want := st.spreadAfter(a, b, d), slices.Max(after)-slices.Min(after); got != want {
				t.Fatalf("%s: spreadAfter(%d, %d, %d) = %d, want %d", when, a, b, d, got, want)
			}
		}
	}
	for range 2000 {
		v := int32(r.IntN(len(h.vcpus)))
		st.move(v, int32(r.IntN(len(h.cpus))), lowersSpread)
		check("after a move")
	}
	st.undo(0)
	check("after undo")
	if !slices.Equal(start, st.demand) {
		t.Errorf("undo did not restore the loads")
	}
}

// TestSearch checks the branch-free binary search against the library's.
func TestSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		o := make([]int64, r.IntN(40))
		for i := range o {
			o[i] = int64(r.IntN(50)) << keyShift
		}
		slices.Sort(o)
		o = slices.Compact(o)
		k := int64(r.IntN(52)) << keyShift
		want, _ := slices.BinarySearch(o, k)
		if got := search(o, k); got != want {
			t.Fatalf("search(%v, %d) = %d, want %d", o, k, got, want)
		}
	}
}

// TestAdaptive_AllowedOrCPUsChangeBetweenCalls_NewSetsRespected plans
// with one policy while the Allowed sets, then the balanced CPUs, change:
// the masks the policy kept from an earlier call must not steer a later
// one. Four burners on pCPU 0 go to every other pCPU they may use; with
// CPU 1 no longer balanced, a mask over the old CPU list would offer CPU
// 5 alone.
func TestAdaptive_AllowedOrCPUsChangeBetweenCalls_NewSetsRespected(t *testing.T) {
	all := cpuset.New(0, 1, 2, 3, 4, 5)
	vs := []tv{{"vm", 0, 0, true, 100, 0}, {"vm", 1, 0, true, 100, 0}, {"vm", 2, 0, true, 100, 0}, {"vm", 3, 0, true, 100, 0}}
	tests := []struct {
		name        string
		allowed     cpuset.CPUSet
		cpus        cpuset.CPUSet
		wantTargets cpuset.CPUSet
	}{
		{"FirstRange", cpuset.New(0, 1, 2), all, cpuset.New(1, 2)},
		{"SecondRange", cpuset.New(0, 4, 5), all, cpuset.New(4, 5)},
		{"SecondRangeWithoutCPU1", cpuset.New(0, 4, 5), all.Difference(cpuset.New(1)), cpuset.New(4, 5)},
	}
	p := NewAdaptive()
	at := testWindow
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at += 10 * DefaultCooldownWindows * testWindow // past every cooldown
			s := snap(all, at, vs)
			for i := range s.VCPUs {
				s.VCPUs[i].Allowed = tc.allowed
			}
			plan := p.Plan(s, Config{Threshold: DefaultThreshold, CPUs: tc.cpus})
			var to []int
			for _, m := range plan.Moves {
				to = append(to, m.To)
			}
			if got := cpuset.New(to...); !got.Equals(tc.wantTargets) {
				t.Errorf("moves went to %s, want %s: %v", got, tc.wantTargets, plan.Moves)
			}
		})
	}
}
