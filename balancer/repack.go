package balancer

import (
	"cmp"
	"slices"
)

// Moving one vCPU at a time can corner itself on a crowded host (four
// burners and four half-loads on one pCPU of four: two burners land
// together before the halves move). So when the search ends above the
// threshold, adaptive also tries a re-pack and keeps it if it ends lower:
// movable vCPUs, largest first, stay where they are while their pCPU
// stays at or under its node's mean plus half the threshold; the others,
// in the same order, go to the freest pCPU they may use (inside their
// node when local) if that pCPU is then still under the one they leave.
// The search then continues from there.

// repack re-packs s. Who moves is decided on the loads before the
// re-pack (base, limits, each vCPU's pCPU); where to, on the loads as the
// re-pack goes.
func (s *state) repack(t int64, local bool) {
	var vs []int32
	base := append([]int64(nil), s.load...)
	for c, l := range s.on {
		for _, v := range l {
			vs = append(vs, v)
			base[c] -= s.h.vcpus[v].load
		}
	}
	slices.SortFunc(vs, func(v, w int32) int { // largest first, then by identity
		return cmp.Or(cmp.Compare(s.h.vcpus[w].load, s.h.vcpus[v].load), s.h.id(v).Compare(s.h.id(w)))
	})
	limit := s.limits(t, local)
	for _, v := range vs {
		c, d := s.at[v], s.h.vcpus[v].load
		if base[c]+d <= limit[c] {
			base[c] += d
			continue
		}
		if to := s.freestFor(v, c, local); to >= 0 && s.load[to]+d < s.load[c] {
			s.move(v, to, ReasonLowersSpread)
		}
	}
}

// limits is, per pCPU, the load a re-pack keeps there: the mean of its
// node (of the host, unless local) rounded up, plus half the threshold.
func (s *state) limits(t int64, local bool) []int64 {
	sum, n := s.h.nodeTotals(s.load, local)
	out := make([]int64, len(s.load))
	for c := range out {
		k := 0
		if local {
			k = int(s.h.node[c])
		}
		out[c] = (sum[k]+n[k]-1)/n[k] + t/2
	}
	return out
}

// clone returns a copy of s that can change on its own.
func (s *state) clone() *state {
	c := &state{h: s.h, at: append([]int32(nil), s.at...), load: append([]int64(nil), s.load...),
		key: append([]int64(nil), s.key...),
		on:  make([][]int32, len(s.on)), order: append([]int64(nil), s.order...),
		trail: append([]step(nil), s.trail...),
		ext:   s.ext, stale: s.stale, heads: make([]int, len(s.heads))}
	for i, l := range s.on {
		c.on[i] = append([]int32(nil), l...)
	}
	if s.nodes != nil {
		c.nodes = make([][]int64, len(s.nodes))
		for i, l := range s.nodes {
			c.nodes[i] = append([]int64(nil), l...)
		}
	}
	return c
}
