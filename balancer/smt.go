package balancer

import "slices"

// Two busy vCPUs on the SMT siblings of one core share that core's
// throughput. The pCPU loads the search balances cannot see it (each
// sibling counts as a whole pCPU), so after the search unstack moves, one
// at a time, a busy vCPU off a core with two busy siblings onto a whole
// idle core, of the same NUMA node if one can take it, else of another
// (a whole core is worth more than memory locality to a busy vCPU), when
// that does not raise the spread.
const (
	busyLoad = 50 * unitsPerPercent // a vCPU or pCPU this loaded is busy
	idleLoad = 5 * unitsPerPercent  // a pCPU this loaded is idle
)

// unstack moves busy vCPUs off stacked cores while an idle core of the
// same node can take one.
func (s *state) unstack() {
	for budget := len(s.h.cores); budget > 0; budget-- {
		v, to, ok := s.unstackStep()
		if !ok {
			return
		}
		s.move(v, to, ReasonUnstack)
	}
}

// unstackStep finds the first (by core, then pCPU index) busy movable
// vCPU on a stacked core that an idle core of its node can take.
func (s *state) unstackStep() (v, to int32, ok bool) {
	if !slices.ContainsFunc(s.h.cores, func(sib []int32) bool { return idleCore(s.load, sib) }) {
		return -1, -1, false
	}
	for _, sib := range s.h.cores {
		if !stacked(s.load, sib) {
			continue
		}
		for _, c := range sib {
			for _, v := range s.on[c] {
				x := &s.h.vcpus[v]
				if x.load < busyLoad {
					continue
				}
				if to := s.idleCoreFor(v, c); to >= 0 && s.spreadAfter(c, to, x.load) <= s.spread() {
					return v, to, true
				}
			}
		}
	}
	return -1, -1, false
}

// idleCoreFor returns the freest pCPU that v may use in the first whole
// idle core of c's node or, failing that, of any node; or -1.
func (s *state) idleCoreFor(v, c int32) int32 {
	x := &s.h.vcpus[v]
	for _, local := range []bool{true, false} {
		for _, sib := range s.h.cores {
			if local && s.h.node[sib[0]] != s.h.node[c] || !idleCore(s.load, sib) {
				continue
			}
			best := int32(-1)
			for _, d := range sib {
				if s.h.allowed(x, d) && (best < 0 || s.load[d] < s.load[best]) {
					best = d
				}
			}
			if best >= 0 {
				return best
			}
		}
	}
	return -1
}

// idleCore reports whether every pCPU of a core is idle under load.
func idleCore(load []int64, sib []int32) bool {
	for _, c := range sib {
		if load[c] >= idleLoad {
			return false
		}
	}
	return true
}

// stacked reports whether two or more pCPUs of a core are busy under load.
func stacked(load []int64, sib []int32) bool {
	busy := 0
	for _, c := range sib {
		if load[c] >= busyLoad {
			busy++
		}
	}
	return busy >= 2
}

// mayUnstack reports whether, with every vCPU at home (load), some core holds two
// busy pCPUs while some core is idle: the only case unstack acts on.
func (h *host) mayUnstack(load []int64) bool {
	if len(h.cores) == 0 {
		return false
	}
	return slices.ContainsFunc(h.cores, func(sib []int32) bool { return stacked(load, sib) }) &&
		slices.ContainsFunc(h.cores, func(sib []int32) bool { return idleCore(load, sib) })
}
