package balancer

import (
	"slices"
	"sort"
	"time"
)

// adaptive is the default policy; see NewAdaptive.
type adaptive struct{}

// NewAdaptive returns the default policy. It balances demand (run plus
// run-queue wait), so a crowded pCPU is spread in one cycle, and:
//   - does nothing while the demand spread (busiest minus freest pCPU) is
//     within the threshold;
//   - otherwise takes, one at a time, the move that lowers the spread most
//     (ties: lower sum of squared loads, then domain, vCPU, CPU), falling
//     back to a swap of two vCPUs when no single move helps, for as long as
//     steps lower it; no step raises the spread, every step strictly lowers
//     the sum of squares (so an imbalance is never just swapped), and the
//     sequence is cut where the spread was lowest;
//   - when that stalls above the threshold, also tries a re-pack (largest
//     vCPUs first, each kept where it fits under the mean, the rest on the
//     freest pCPU) and keeps whichever ends lower;
//   - adopts a result only if it is within the threshold or lowers the
//     spread by more than half the threshold (hysteresis), and repeats
//     until nothing is adopted.
//
// Planning on the state its plan produces therefore returns an empty plan.
// Unpinned vCPUs are left to the kernel unless moved; new vCPUs (absent
// from prev) keep their place until measured.
func NewAdaptive() Policy { return adaptive{} }

// Name returns "adaptive".
func (adaptive) Name() string { return "adaptive" }

// Plan implements Policy.
func (adaptive) Plan(prev, cur Snapshot, interval time.Duration, cfg Config) Plan {
	m := getScratch()
	defer putScratch(m)
	h := fillHost(&host{mem: m}, prev, cur, interval, cfg, true)
	if len(h.vcpus) == 0 {
		return Plan{}
	}
	return settle(newState(h), thresholdUnits(cfg.Threshold)).plan()
}

// settle runs adaptive's search on s to its fixed point.
func settle(s *state, t int64) *state {
	gain := t / 2
	for s.spread() > t {
		cand := s.clone()
		greedy(cand, t)
		if cand.spread() > t {
			r := repack(s, t)
			greedy(r, t)
			if r.spread() < cand.spread() {
				cand = r
			}
		}
		if sp := cand.spread(); sp > t && sp >= s.spread()-gain {
			break
		}
		s = cand
	}
	return s
}

// repack returns s re-packed: movable vCPUs in decreasing load (ties by
// domain and index) stay where they are while their pCPU stays at or under
// the mean plus half the threshold; the others go, in the same order, to
// the freest pCPU (lowest CPU id among ties).
func repack(s *state, t int64) *state {
	var order []int32
	var total int64
	load := slices.Clone(s.load)
	for v := range s.at {
		total += s.h.vcpus[v].load
		if s.movable(int32(v)) {
			order = append(order, int32(v))
			load[s.at[v]] -= s.h.vcpus[v].load
		}
	}
	sort.Slice(order, func(i, j int) bool {
		x, y := &s.h.vcpus[order[i]], &s.h.vcpus[order[j]]
		if x.load != y.load {
			return x.load > y.load
		}
		return s.h.less(x, y)
	})
	limit := (total+int64(len(load))-1)/int64(len(load)) + t/2
	var pool []int32
	for _, v := range order {
		if c := s.at[v]; load[c]+s.h.vcpus[v].load <= limit {
			load[c] += s.h.vcpus[v].load
		} else {
			pool = append(pool, v)
		}
	}
	r := s.clone()
	for _, v := range pool {
		to := int32(argmin(load))
		load[to] += s.h.vcpus[v].load
		if to != s.at[v] {
			r.move(v, to, repacked)
		}
	}
	return r
}
