package balancer

// Each pCPU's movable vCPUs are kept sorted by (load, domain, index), so
// that the step search finds the load closest to a target by binary search
// and the first vCPU by key among equal loads is the first of their run.

// vless orders vCPUs by load, then by (domain, index).
func (s *state) vless(v, w int32) bool {
	x, y := &s.h.vcpus[v], &s.h.vcpus[w]
	if x.load != y.load {
		return x.load < y.load
	}
	return x.less(y)
}

// atLeast returns the first index in l whose vCPU's load is at least x.
func (s *state) atLeast(l []int32, x int64) int {
	i, j := 0, len(l)
	for i < j {
		k := int(uint(i+j) >> 1)
		if s.h.vcpus[l[k]].load < x {
			i = k + 1
		} else {
			j = k
		}
	}
	return i
}

// place returns the index in l at which v sorts.
func (s *state) place(l []int32, v int32) int {
	i, j := 0, len(l)
	for i < j {
		k := int(uint(i+j) >> 1)
		if s.vless(l[k], v) {
			i = k + 1
		} else {
			j = k
		}
	}
	return i
}

// lists builds the per-pCPU sorted lists of movable vCPUs; a balanced host
// never needs them.
func (s *state) lists() {
	if s.count == nil {
		return
	}
	s.carve(s.count)
	s.count = nil
	for i := range s.h.vcpus {
		if v := &s.h.vcpus[i]; s.movable(int32(i)) {
			s.on[v.home] = append(s.on[v.home], int32(i))
		}
	}
	for _, l := range s.on {
		s.sortList(l)
	}
}

// sortList sorts l by vless: an insertion sort, since the lists are short
// and often nearly sorted.
func (s *state) sortList(l []int32) {
	for i := 1; i < len(l); i++ {
		v := l[i]
		k := s.place(l[:i], v)
		copy(l[k+1:i+1], l[k:i])
		l[k] = v
	}
}

// carve gives each pCPU an empty list with room for count[c] vCPUs, all
// in one allocation (appending past that room reallocates).
func (s *state) carve(count []int) {
	total := 0
	for _, n := range count {
		total += n
	}
	buf := make([]int32, total)
	for c, n := range count {
		s.on[c], buf = buf[:0:n], buf[n:]
	}
}

// take removes v from pCPU c's list.
func (s *state) take(c, v int32) {
	l := s.on[c]
	k := s.place(l, v)
	for l[k] != v { // only if two vCPUs share a key
		k++
	}
	s.on[c] = append(l[:k], l[k+1:]...)
}

// put inserts v into pCPU c's list.
func (s *state) put(c, v int32) {
	l := s.on[c]
	k := s.place(l, v)
	l = append(l, 0)
	copy(l[k+1:], l[k:])
	l[k] = v
	s.on[c] = l
}
