package balancer

// tieScan bounds how many pCPUs of equal load freestFor compares.
const tieScan = 32

// freestFor returns the freest pCPU other than a that v may use (inside
// a's node when local), or -1. Among pCPUs of equal load it prefers one
// in a's node, then one whose SMT siblings carry the least load, then the
// lowest index.
func (s *state) freestFor(v, a int32, local bool) int32 {
	x := &s.h.vcpus[v]
	best, ties := int32(-1), 0
	for _, c := range s.within(local, s.h.node[a]) {
		if c == a || local && s.h.node[c] != s.h.node[a] || !s.h.allowed(x, c) {
			continue
		}
		switch {
		case best < 0:
			best = c
			continue
		case s.load[c] != s.load[best] || ties >= tieScan:
			return best
		}
		ties++
		if s.tieBefore(c, best, a) {
			best = c
		}
	}
	return best
}

// tieBefore orders two targets of equal load for a move from a: in a's
// node first, then the lighter SMT siblings, then the lower index.
func (s *state) tieBefore(c, d, a int32) bool {
	if nc, nd := s.h.node[c] == s.h.node[a], s.h.node[d] == s.h.node[a]; nc != nd {
		return nc
	}
	if lc, ld := s.siblingLoad(c), s.siblingLoad(d); lc != ld {
		return lc < ld
	}
	return c < d
}

// siblingLoad is the load on c's SMT siblings.
func (s *state) siblingLoad(c int32) int64 {
	k := s.h.core[c]
	if k < 0 {
		return 0
	}
	var l int64
	for _, d := range s.h.cores[k] {
		if d != c {
			l += s.load[d]
		}
	}
	return l
}
