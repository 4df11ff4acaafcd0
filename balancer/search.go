package balancer

import "math"

// The step search's inner loop: for a source pCPU a and the target b, the
// transfer of load d (0 < d < gap, gap = load[a] - load[b]) that brings d
// closest to gap/2, i.e. the lowest e = |2d - gap|, ties going to the first
// by key (v, then w). The spread and the sum of squares after the step
// both grow with e, so this is the best step from a to b. Lists are sorted
// by (load, key), so each side of gap/2 is one binary search away and the
// first vCPU of a run of equal loads is the first by key.

// nearestMove returns the vCPU on a whose move to b is best, or -1 when no
// vCPU on a weighs less than gap.
func (s *state) nearestMove(a int32, gap int64) int32 {
	l := s.on[a]
	v, e := int32(-1), int64(math.MaxInt64)
	i := s.atLeast(l, (gap+1)/2) // the first with 2d >= gap
	if i < len(l) {
		if d := s.h.vcpus[l[i]].load; d < gap {
			v, e = l[i], 2*d-gap
		}
	}
	if i > 0 { // loads are positive, so 0 < d
		d := s.h.vcpus[l[i-1]].load
		j := s.atLeast(l[:i], d)
		if x := gap - 2*d; x < e || x == e && s.h.vcpus[l[j]].less(&s.h.vcpus[v]) {
			v = l[j]
		}
	}
	return v
}

// nearestSwap returns the vCPUs v on a and w on b whose exchange is best;
// v is -1 when no pair has 0 < load(v) - load(w) < gap.
func (s *state) nearestSwap(a, b int32, gap int64) (bv, bw int32) {
	lb := s.on[b]
	bv, bw, be := int32(-1), int32(-1), int64(math.MaxInt64)
	for _, v := range s.on[a] {
		dv := s.h.vcpus[v].load
		w, e := s.nearestPartner(lb, dv, gap)
		if w >= 0 && (e < be || e == be && s.keyLess(v, w, bv, bw)) {
			bv, bw, be = v, w, e
		}
	}
	return bv, bw
}

// nearestPartner returns the vCPU w in l (sorted) with dv - gap < load(w)
// < dv and 2 load(w) closest to t = 2 dv - gap (ties: first by key), and
// e = |t - 2 load(w)|; w is -1 when none qualifies.
func (s *state) nearestPartner(l []int32, dv, gap int64) (w int32, e int64) {
	w, e = -1, math.MaxInt64
	t := 2*dv - gap
	i := 0
	if t > 0 {
		i = s.atLeast(l, (t+1)/2) // the first with 2 load(w) >= t
	}
	if i < len(l) {
		if dw := s.h.vcpus[l[i]].load; dw < dv {
			w, e = l[i], 2*dw-t
		}
	}
	if i > 0 {
		dw := s.h.vcpus[l[i-1]].load
		if dw > dv-gap {
			j := s.atLeast(l[:i], dw)
			if x := t - 2*dw; x < e || x == e && s.h.vcpus[l[j]].less(&s.h.vcpus[w]) {
				w, e = l[j], x
			}
		}
	}
	return w, e
}
