package balancer

import "math"

// The step search's inner loop: for a source pCPU a and the target b, the
// transfer of load d (0 < d < gap, gap = load[a] - load[b]) that brings d
// closest to gap/2, i.e. the lowest e = |2d - gap|, ties going to the first
// by key (v, then w). The spread and the sum of squares after the step
// both grow with e, so this is the best step from a to b. Lists are sorted
// by (load, key), so each side of gap/2 is one binary search away and the
// first vCPU of a run of equal loads is the first by key.

// nearestMove returns the vCPU on a whose move to b is best and its load,
// or -1 when no vCPU on a weighs less than gap.
func (s *state) nearestMove(a int32, gap int64) (v int32, load int64) {
	l := s.on[a]
	v, e := int32(-1), int64(math.MaxInt64)
	i := atLeast(l, (gap+1)/2) // the first with 2d >= gap
	if i < len(l) {
		if d := l[i].load; d < gap {
			v, e, load = l[i].v, 2*d-gap, d
		}
	}
	if i > 0 { // loads are positive, so 0 < d
		d := l[i-1].load
		j := atLeast(l[:i], d)
		if x := gap - 2*d; x < e || x == e && s.h.less(&s.h.vcpus[l[j].v], &s.h.vcpus[v]) {
			v, load = l[j].v, d
		}
	}
	return v, load
}

// nearestSwap returns the vCPUs v on a and w on b whose exchange is best
// and load(v) - load(w); v is -1 when no pair has 0 < load(v) - load(w) <
// gap.
func (s *state) nearestSwap(a, b int32, gap int64) (bv, bw int32, d int64) {
	lb := s.on[b]
	bv, bw, be := int32(-1), int32(-1), int64(math.MaxInt64)
	for _, x := range s.on[a] {
		w, dw, e := s.nearestPartner(lb, x.load, gap)
		if w >= 0 && (e < be || e == be && s.keyLess(x.v, w, bv, bw)) {
			bv, bw, be, d = x.v, w, e, x.load-dw
		}
	}
	return bv, bw, d
}

// nearestPartner returns the vCPU w in l (sorted) with dv - gap < load(w)
// < dv and 2 load(w) closest to t = 2 dv - gap (ties: first by key), its
// load, and e = |t - 2 load(w)|; w is -1 when none qualifies.
func (s *state) nearestPartner(l []item, dv, gap int64) (w int32, load, e int64) {
	w, e = -1, math.MaxInt64
	t := 2*dv - gap
	i := 0
	if t > 0 {
		i = atLeast(l, (t+1)/2) // the first with 2 load(w) >= t
	}
	if i < len(l) {
		if dw := l[i].load; dw < dv {
			w, load, e = l[i].v, dw, 2*dw-t
		}
	}
	if i > 0 {
		dw := l[i-1].load
		if dw > dv-gap {
			j := atLeast(l[:i], dw)
			if x := t - 2*dw; x < e || x == e && s.h.less(&s.h.vcpus[l[j].v], &s.h.vcpus[w]) {
				w, load, e = l[j].v, dw, x
			}
		}
	}
	return w, load, e
}
