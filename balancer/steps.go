package balancer

// The three kinds of step search.go takes, each finding its best
// candidate on the current state.

// bestMove is step 1: the best move off the busiest pCPU. vCPUs known
// to share an allowed set share their freest target, found once.
func (s *state) bestMove(local bool) (candidate, bool) {
	var best candidate
	found := false
	a := s.busiest()
	var seen [4]struct {
		v, to int32
	}
	known := seen[:0]
	for _, v := range s.on[a] {
		x := &s.h.vcpus[v]
		b := int32(-2)
		for _, k := range known {
			if sameAllowed(x, &s.h.vcpus[k.v]) {
				b = k.to
				break
			}
		}
		if b == -2 {
			b = s.freestFor(v, a, local)
			known = append(known, struct{ v, to int32 }{v, b})
		}
		if b >= 0 {
			s.consider(&best, &found, v, -1, a, b, x.load)
		}
	}
	return best, found
}

// bestFill is step 3: the best move onto the freest pCPU b, from any
// pCPU (of b's node, when local). Sources are
// scanned busiest first; below the busiest, what a source can reach only
// worsens as its load falls (the rest's maximum is the host's, and the
// pair meets lower), so the scan stops at the first that cannot beat the
// best so far, except among the three freest, whose bounds differ.
func (s *state) bestFill(local bool) (candidate, bool) {
	var best candidate
	found := false
	b := s.freest()
	o := s.within(local, s.h.node[b])
	m := len(o)
	cur := s.spread()
	for k := m - 1; k >= 1; k-- {
		a := cpuOf(o[k])
		gap := s.load[a] - s.load[b]
		if gap <= 1 {
			break
		}
		if local && s.h.node[a] != s.h.node[b] {
			continue
		}
		if lb := s.spreadAfter(a, b, gap/2); lb > cur || found && beyond(&best, lb, gap) {
			if k < m-1 && k > 3 {
				break
			}
			continue
		}
		for _, v := range s.on[a] {
			if d := s.h.vcpus[v].load; d < gap && s.h.allowed(&s.h.vcpus[v], b) {
				s.consider(&best, &found, v, -1, a, b, d)
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
	a := s.busiest()
	n := 0
	for _, kb := range s.within(local, s.h.node[a]) {
		b := cpuOf(kb)
		if b == a || local && s.h.node[a] != s.h.node[b] {
			continue
		}
		if n++; n > swapTargets {
			break
		}
		gap := s.load[a] - s.load[b]
		if found && s.cannotBeat(&best, a, b, gap) {
			if n > 3 {
				break // farther targets only do worse
			}
			continue
		}
		back := s.back[:0] // the vCPUs of b that may go to a
		for _, w := range s.on[b] {
			if x := &s.h.vcpus[w]; s.h.allowed(x, a) {
				back = append(back, vload{w, x.load})
			}
		}
		s.back = back
		for _, v := range s.on[a] {
			dv := s.h.vcpus[v].load
			if dv <= 0 || len(back) == 0 || !s.h.allowed(&s.h.vcpus[v], b) {
				continue
			}
			for _, w := range back {
				if d := dv - w.load; d > 0 && d < gap {
					s.consider(&best, &found, v, w.v, a, b, d)
				}
			}
		}
	}
	return best, found
}

// cannotBeat reports whether no step between a and b (gap apart) can beat
// best: at most it moves half the gap, which bounds both the spread after
// and the change of the sum of squares.
func (s *state) cannotBeat(best *candidate, a, b int32, gap int64) bool {
	return beyond(best, s.spreadAfter(a, b, gap/2), gap)
}

// beyond is cannotBeat given the spread after half the gap moved.
func beyond(best *candidate, spread, gap int64) bool {
	sq := -(gap * gap) / 4
	return spread > best.spread || spread == best.spread && sq > best.sq
}

// vload is a vCPU and its load.
type vload struct {
	v    int32
	load int64
}
