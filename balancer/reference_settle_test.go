package balancer

import (
	"slices"
	"sort"
)

// refSettle runs adaptive's search on s to its fixed point.
func refSettle(s *refState, t int64) *refState {
	gain := t / 2
	for s.spread() > t {
		cand := s.clone()
		refGreedy(cand, t)
		if cand.spread() > t {
			r := refRepack(s, t)
			refGreedy(r, t)
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

// refRepack returns s re-packed: movable vCPUs in decreasing load (ties by
// domain and index) stay where they are while their pCPU stays at or under
// the mean plus half the threshold; the others go, in the same order, to
// the freest pCPU (lowest CPU id among ties).
func refRepack(s *refState, t int64) *refState {
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
			r.move(v, to, ReasonRepack)
		}
	}
	return r
}
