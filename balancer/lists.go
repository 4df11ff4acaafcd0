package balancer

// Each pCPU's movable vCPUs are kept sorted by (load, domain, index), each
// with its load alongside, so that the step search finds the load closest
// to a target by binary search over contiguous memory, and the first vCPU
// of a run of equal loads is the first by key.

// item is one movable vCPU in a pCPU's list, with what ordering it needs
// at hand.
type item struct {
	load int64
	v    int32 // in host.vcpus
}

// itemOf returns v's item.
func (s *state) itemOf(v int32) item {
	x := &s.h.vcpus[v]
	return item{x.load, v}
}

// iless orders items by load, then by their vCPU's (domain, index).
func (s *state) iless(x, y item) bool {
	if x.load != y.load {
		return x.load < y.load
	}
	return s.h.less(&s.h.vcpus[x.v], &s.h.vcpus[y.v])
}

// icmp is iless as a three-way comparison.
func (s *state) icmp(x, y item) int {
	switch {
	case s.iless(x, y):
		return -1
	case s.iless(y, x):
		return 1
	}
	return 0
}

// atLeast returns the first index in l whose load is at least x.
func atLeast(l []item, x int64) int {
	i, j := 0, len(l)
	for i < j {
		k := int(uint(i+j) >> 1)
		if l[k].load < x {
			i = k + 1
		} else {
			j = k
		}
	}
	return i
}

// place returns the index in l at which x sorts.
func (s *state) place(l []item, x item) int {
	i, j := 0, len(l)
	for i < j {
		k := int(uint(i+j) >> 1)
		if s.iless(l[k], x) {
			i = k + 1
		} else {
			j = k
		}
	}
	return i
}

// take removes v from pCPU c's list.
func (s *state) take(c, v int32) {
	l := s.on[c]
	k := atLeast(l, s.h.vcpus[v].load)
	for l[k].v != v { // along the run of equal loads
		k++
	}
	s.on[c] = append(l[:k], l[k+1:]...)
}

// put inserts v into pCPU c's list.
func (s *state) put(c, v int32) {
	x := s.itemOf(v)
	l := s.on[c]
	k := s.place(l, x)
	l = append(l, item{})
	copy(l[k+1:], l[k:])
	l[k] = x
	s.on[c] = l
}

// carve gives each pCPU an empty list with room for count[c] vCPUs, all
// in one allocation (appending past that room reallocates).
func (s *state) carve(count []int) []item {
	total := 0
	for _, n := range count {
		total += n
	}
	buf := take(s.h.mem, itemsOf, total)
	all := buf
	for c, n := range count {
		s.on[c], buf = buf[:0:n], buf[n:]
	}
	return all
}
