package balancer

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestState_MovesKeepOrderAndLoads checks the search's bookkeeping over
// random moves and their undoing: loads are the sum of what is on each
// pCPU, the host's and each node's pCPUs stay sorted by (load, index),
// and undo restores the start.
func TestState_MovesKeepOrderAndLoads(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	s, cfg := bigHost(r, 300, 32)
	h := newHost(&s, &cfg, nil)
	for i := range h.vcpus {
		h.vcpus[i].load, h.vcpus[i].mov = int64(r.IntN(100_001)), true
	}
	st := newState(h)
	start := slices.Clone(st.load)
	check := func(when string) {
		t.Helper()
		load := slices.Clone(h.bg)
		for v, c := range st.at {
			load[c] += h.vcpus[v].load
		}
		if !slices.Equal(load, st.load) {
			t.Fatalf("%s: loads %v, want %v", when, st.load, load)
		}
		sorted := func(o []int64) bool {
			for k, key := range o {
				if c := cpuOf(key); key != keyOf(c, st.load[c]) || k > 0 && o[k-1] >= key {
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
		if st.nodes == nil || n != len(st.order) {
			t.Fatalf("%s: node orders hold %d pCPUs, want %d", when, n, len(st.order))
		}
	}
	for range 2000 {
		v := int32(r.IntN(len(h.vcpus)))
		st.move(v, int32(r.IntN(len(h.cpus))), ReasonLowersSpread)
		check("after a move")
	}
	st.undo(0)
	check("after undo")
	if !slices.Equal(start, st.load) {
		t.Errorf("undo did not restore the loads")
	}
}
