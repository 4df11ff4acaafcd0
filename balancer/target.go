package balancer

// tieScan bounds how many pCPUs of equal load freestFor compares.
const tieScan = 32

// freestFor returns the freest pCPU other than a that v may use (inside
// a's node when local), or -1. Among pCPUs of equal load it prefers one
// in a's node, then one whose SMT siblings carry the least load, then the
// lowest index.
func (s *state) freestFor(v, a int32, local bool) int32 {
	x := &s.h.vcpus[v]
	var mask []uint64 // x's allowed pCPUs, when a mask has them
	if x.mask >= 0 {
		mask = s.h.masks[x.mask]
	}
	node := s.h.node
	best, ties := int32(-1), 0
	var bestLoad int64
	var bestLocal bool // best is in a's node
	var bestSib int64  // the load on best's siblings, once ties > 0
	// within holds only a's node when local.
	for _, k := range s.within(local, node[a]) {
		c := cpuOf(k)
		switch {
		case c == a:
			continue
		case mask != nil:
			if mask[c>>6]&(1<<(c&63)) == 0 {
				continue
			}
		case x.mask != anyCPU && !s.h.allowed(x, c):
			continue
		}
		switch {
		case best < 0:
			best, bestLoad = c, k>>keyShift
			continue
		case k>>keyShift != bestLoad || ties >= tieScan:
			return best
		}
		if ties == 0 {
			bestLocal, bestSib = node[best] == node[a], s.siblingLoad(best)
		}
		ties++
		// Equal loads: in a's node first, then the lighter siblings, then
		// the lower index.
		cLocal := node[c] == node[a]
		if cLocal != bestLocal {
			if cLocal {
				best, bestLocal, bestSib = c, true, s.siblingLoad(c)
			}
			continue
		}
		if l := s.siblingLoad(c); l < bestSib || l == bestSib && c < best {
			best, bestSib = c, l
		}
	}
	return best
}

// siblingLoad is the load on c's SMT siblings.
func (s *state) siblingLoad(c int32) int64 {
	if d := s.h.pair[c]; d >= 0 {
		return s.load[d]
	}
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
