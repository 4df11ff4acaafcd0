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

// consider keeps, in *best, the step that moves v (and, for a swap, w
// back) between a and b, d net, when it qualifies and is better.
func (s *state) consider(best *candidate, found *bool, v, w, a, b int32, d int64) {
	gap := s.load[a] - s.load[b]
	if d <= 0 || d >= gap {
		return
	}
	c := candidate{v: v, w: w, a: a, b: b, d: d, spread: s.spreadAfter(a, b, d), sq: d * (d - gap)}
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
	r.repack(t, local)
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
