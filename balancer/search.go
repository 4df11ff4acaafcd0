package balancer

// The search behind adaptive. It works on a state and changes one thing
// at a time, always the best of a few candidate steps:
//
//  1. move a vCPU off the busiest pCPU to the freest pCPU it may use;
//  2. if none helps, swap a vCPU of the busiest pCPU with a lighter one
//     of one of the freest pCPUs;
//  3. if none helps, move a vCPU from any pCPU onto the freest pCPU
//     (raising the minimum when the busiest cannot shed load).
//
// A step is taken only if it does not raise the spread and strictly lowers
// the sum of squared loads (load d moves from a to b with 0 < d < load(a)
// - load(b)), so the search ends and never just swaps an imbalance. When
// no step qualifies, or the spread is within the threshold, the moves
// after the first point with the lowest spread are undone: the result
// depends only on the state, so searching again from it changes nothing.
//
// With local set, every step stays inside one NUMA node.

// candidate is a step under consideration: v goes from a to b and, for a
// swap, w comes back from b to a; d is the net load moved.
type candidate struct {
	v, w   int32
	a, b   int32
	d      int64
	spread int64 // after the step
	sq     int64 // change of the sum of squared loads, halved
}

// better orders candidates: lower spread, then lower sum of squares (the
// net load closer to half the gap), then a move before a swap, then by
// vCPU identity.
func (s *state) better(x, y *candidate) bool {
	if x.spread != y.spread {
		return x.spread < y.spread
	}
	if x.sq != y.sq {
		return x.sq < y.sq
	}
	if x.v != y.v {
		return s.h.less(x.v, y.v)
	}
	if (x.w < 0) != (y.w < 0) {
		return x.w < 0
	}
	return x.w >= 0 && s.h.less(x.w, y.w)
}

// consider keeps c in *best when it qualifies and is better.
func (s *state) consider(best *candidate, found *bool, c candidate) {
	gap := s.load[c.a] - s.load[c.b]
	if c.d <= 0 || c.d >= gap {
		return
	}
	c.spread, c.sq = s.spreadAfter(c.a, c.b, c.d), c.d*(c.d-gap)
	if c.spread > s.spread() {
		return
	}
	if !*found || s.better(&c, best) {
		*best, *found = c, true
	}
}

// settle searches from s and, when that ends above t, from a re-pack of
// s too (repack.go); it returns whichever ends with the lower spread.
func (s *state) settle(t int64, local bool) *state {
	n := len(s.trail)
	s.search(t, local)
	if s.spread() <= t {
		return s
	}
	r := s.clone()
	r.undo(n)
	r = r.repacked(t, local)
	r.search(t, local)
	if r.spread() < s.spread() {
		return r
	}
	return s
}

// search takes steps until the spread is within t or none qualifies, then
// undoes the moves after the first point with the lowest spread.
func (s *state) search(t int64, local bool) {
	start := len(s.trail)
	best, bestAt := s.spread(), start
	for budget := 4*len(s.h.vcpus) + 16; budget > 0 && s.spread() > t; budget-- {
		c, ok := s.bestMove(local)
		if !ok {
			c, ok = s.bestSwap(local)
		}
		if !ok {
			c, ok = s.bestFill(local)
		}
		if !ok {
			break
		}
		if c.w < 0 {
			s.move(c.v, c.b, ReasonLowersSpread)
		} else {
			s.move(c.v, c.b, ReasonSwap)
			s.move(c.w, c.a, ReasonSwap)
		}
		if sp := s.spread(); sp < best {
			best, bestAt = sp, len(s.trail)
		}
	}
	s.undo(bestAt)
}

// bestMove is step 1: the best move off the busiest pCPU. vCPUs with
// the same allowed set share their freest target, found once.
func (s *state) bestMove(local bool) (candidate, bool) {
	var best candidate
	found := false
	a := s.order[len(s.order)-1]
	type class struct {
		mask *uint64 // nil: any pCPU
		to   int32
	}
	var seen [4]class
	known := seen[:0]
	for _, v := range s.on[a] {
		x := &s.h.vcpus[v]
		b := int32(-2)
		var key *uint64
		if !x.any && x.mask != nil {
			key = &x.mask[0]
		}
		if x.any || x.mask != nil {
			for _, c := range known {
				if c.mask == key {
					b = c.to
				}
			}
		}
		if b == -2 {
			b = s.freestFor(v, a, local)
			if x.any || x.mask != nil {
				known = append(known, class{key, b})
			}
		}
		if b >= 0 {
			s.consider(&best, &found, candidate{v: v, w: -1, a: a, b: b, d: x.load})
		}
	}
	return best, found
}

// bestFill is step 3: the best move onto the freest pCPU b, from any
// pCPU. Sources are scanned busiest first; below the busiest, what a
// source can reach only worsens as its load falls (the rest's maximum is
// the host's, and the pair meets lower), so the scan stops at the first
// that cannot beat the best so far, except among the three freest, whose
// bounds differ.
func (s *state) bestFill(local bool) (candidate, bool) {
	var best candidate
	found := false
	m := len(s.order)
	b := s.order[0]
	cur := s.spread()
	for k := m - 1; k >= 1; k-- {
		a := s.order[k]
		gap := s.load[a] - s.load[b]
		if gap <= 1 {
			break
		}
		if local && s.h.node[a] != s.h.node[b] {
			continue
		}
		// The best a source can do: half the gap each way.
		lbS, lbQ := s.spreadAfter(a, b, gap/2), -(gap*gap)/4
		if lbS > cur || found && (lbS > best.spread || lbS == best.spread && lbQ > best.sq) {
			if k < m-1 && k > 3 {
				break
			}
			continue
		}
		for _, v := range s.on[a] {
			if s.h.allowed(&s.h.vcpus[v], b) {
				s.consider(&best, &found, candidate{v: v, w: -1, a: a, b: b, d: s.h.vcpus[v].load})
			}
		}
	}
	return best, found
}

// swapTargets is how many of the freest pCPUs step 3 pairs the busiest
// with.
const swapTargets = 8

// bestSwap is step 2: the best exchange between the busiest pCPU and one
// of the freest (of its node, when local).
func (s *state) bestSwap(local bool) (candidate, bool) {
	var best candidate
	found := false
	a := s.order[len(s.order)-1]
	n := 0
	for _, b := range s.order {
		if b == a || local && s.h.node[a] != s.h.node[b] {
			continue
		}
		if n++; n > swapTargets {
			break
		}
		gap := s.load[a] - s.load[b]
		for _, v := range s.on[a] {
			dv := s.h.vcpus[v].load
			if dv <= 0 || !s.h.allowed(&s.h.vcpus[v], b) {
				continue
			}
			for _, w := range s.on[b] {
				if d := dv - s.h.vcpus[w].load; d > 0 && d < gap && s.h.allowed(&s.h.vcpus[w], a) {
					s.consider(&best, &found, candidate{v: v, w: w, a: a, b: b, d: d})
				}
			}
		}
	}
	return best, found
}

// tieScan bounds how many pCPUs of equal load freestFor compares.
const tieScan = 32

// freestFor returns the freest pCPU other than a that v may use (inside
// a's node when local), or -1. Among pCPUs of equal load it prefers one
// in a's node, then one whose SMT siblings carry the least load, then the
// lowest index.
func (s *state) freestFor(v, a int32, local bool) int32 {
	x := &s.h.vcpus[v]
	best, ties := int32(-1), 0
	for _, c := range s.order {
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
