package balancer

import "math"

// transfer is a candidate step: vCPU v moves from pCPU a to pCPU b, and
// for a swap vCPU w (else -1) moves back from b to a.
type transfer struct {
	v, w   int32
	a, b   int32
	spread int64 // spread after the step
	sq     int64 // change of the sum of squared pCPU loads
}

// better orders candidates: lower spread, then lower sum of squares, then
// (domain, index) of v and of w.
func (s *state) better(x, y *transfer) bool {
	if x.spread != y.spread {
		return x.spread < y.spread
	}
	if x.sq != y.sq {
		return x.sq < y.sq
	}
	return s.keyLess(x.v, x.w, y.v, y.w)
}

// keyLess orders (v, w) pairs of vCPUs by their (domain, index) keys, a
// move (w < 0) before a swap; v < 0 sorts last.
func (s *state) keyLess(v, w, v2, w2 int32) bool {
	switch {
	case v2 < 0:
		return v >= 0
	case v < 0:
		return false
	case v != v2:
		return s.h.less(&s.h.vcpus[v], &s.h.vcpus[v2])
	case w == w2:
		return false
	case w < 0 || w2 < 0:
		return w < 0
	}
	return s.h.less(&s.h.vcpus[w], &s.h.vcpus[w2])
}

// greedy applies, one at a time, the best step that does not raise the
// spread and strictly lowers the sum of squared loads, until the spread is
// within t or no step qualifies; then it rolls back to the first point
// where the spread was lowest. The result depends only on the state, so
// running greedy on its own result changes nothing.
func greedy(s *state, t int64) {
	type undo struct {
		v, w, a, b int32
		trail      int32
		rv, rw     reason
	}
	var log []undo
	best, bestAt := s.spread(), 0
	for s.spread() > t {
		c, ok := s.bestStep(false, false)
		if !ok {
			c, ok = s.bestStep(true, false)
		}
		if !ok && len(s.h.vcpus) <= maxPairsVCPUs {
			c, ok = s.bestStep(true, true)
		}
		if !ok {
			break
		}
		u := undo{v: c.v, w: c.w, a: c.a, b: c.b, trail: int32(len(s.trail)), rv: s.reason[c.v]}
		if c.w < 0 {
			s.move(c.v, c.b, lowersSpread)
		} else {
			u.rw = s.reason[c.w]
			s.move(c.v, c.b, swapped)
			s.move(c.w, c.a, swapped)
		}
		log = append(log, u)
		if sp := s.spread(); sp < best {
			best, bestAt = sp, len(log)
		}
	}
	for i := len(log) - 1; i >= bestAt; i-- {
		u := log[i]
		s.move(u.v, u.a, u.rv)
		if u.w >= 0 {
			s.move(u.w, u.b, u.rw)
		}
		s.trail = s.trail[:u.trail]
	}
}

// bestStep finds the best transfer into the freest pCPU (the lowest CPU id
// among ties), which is at least as good as any other target for the same
// source and vCPU: moves only, or swaps only. Sources are scanned busiest
// first; the bounds on what a source can reach only worsen as its load
// falls, so the scan stops at the first source that cannot win (the two
// freest after the target are still tried, their bounds differ).
func (s *state) bestStep(swaps, pairs bool) (transfer, bool) {
	m := len(s.order)
	b := s.order[0]
	cur := s.spread()
	var best transfer
	found := false
	// try evaluates source a; false when a cannot beat the best so far.
	load := s.load
	try := func(a int32) bool {
		la, lb := load[a], load[b]
		gap := la - lb
		if gap <= 1 {
			return false
		}
		rmx, rmn := s.rest(a, b)
		half := (la + lb) / 2
		lbS := max(rmx, la+lb-half) - min(rmn, half)
		lbQ := -(gap*gap + 1) / 2
		if lbS > cur || found && (lbS > best.spread || lbS == best.spread && lbQ > best.sq) {
			return false
		}
		// The spread and the sum of squares after a transfer of d both grow
		// with |d - gap/2|, so the closest d wins (ties: first by key).
		var bv, bw int32
		var d int64
		if swaps {
			bv, bw, d = s.nearestSwap(a, b, gap)
		} else {
			bv, d = s.nearestMove(a, gap)
			bw = -1
		}
		if bv < 0 {
			return true
		}
		na, nb := la-d, lb+d
		sp := max(rmx, na, nb) - min(rmn, na, nb)
		if sp > cur {
			return true
		}
		c := transfer{v: bv, w: bw, a: a, b: b, spread: sp, sq: 2 * d * (d - gap)}
		if !found || s.better(&c, &best) {
			best, found = c, true
		}
		return true
	}
	if pairs {
		for kb := range m - 1 {
			b = s.order[kb]
			for k := m - 1; k > kb; k-- {
				try(s.order[k])
			}
		}
		return best, found
	}
	for k := m - 1; k >= 1; k-- {
		if !try(s.order[k]) && k > 3 {
			k = 3 // next: order[2] and order[1]
		}
	}
	return best, found
}

// maxPairsVCPUs bounds the host size on which greedy, stuck, also tries
// moves and swaps between every pair of pCPUs (cubic in the worst case).
const maxPairsVCPUs = 512

// rest returns the highest and lowest loads among pCPUs other than a and b.
func (s *state) rest(a, b int32) (mx, mn int64) {
	mx, mn = math.MinInt64, math.MaxInt64
	m := len(s.order)
	for k := m - 1; k >= max(0, m-3); k-- {
		if c := s.order[k]; c != a && c != b {
			mx = s.load[c]
			break
		}
	}
	for k := 0; k < min(3, m); k++ {
		if c := s.order[k]; c != a && c != b {
			mn = s.load[c]
			break
		}
	}
	return mx, mn
}
