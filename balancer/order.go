package balancer

import "slices"

// pCPU order: order lists the pCPUs by (load, index), freest first, and
// move keeps it sorted.

// find returns c's place in order, while loads agree with order.
func (s *state) find(c int32) int {
	i, j := 0, len(s.order) // the first i with !before(order[i], c)
	for i < j {
		if h := int(uint(i+j) >> 1); s.before(s.order[h], c) {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(s.order) && s.order[i] == c {
		return i
	}
	return slices.Index(s.order, c) // not reached while order is sorted
}

// reorder restores c, at order[k], to its place after its load changed,
// and returns where it went. It searches exactly as sort.Search does (move
// changes two loads before reordering either, and plans must not depend
// on how this search is written).
func (s *state) reorder(c int32, k int) int {
	n := len(s.order)
	switch {
	case k > 0 && s.before(c, s.order[k-1]):
		i, j := 0, k // the first i with before(c, order[i])
		for i < j {
			if h := int(uint(i+j) >> 1); !s.before(c, s.order[h]) {
				i = h + 1
			} else {
				j = h
			}
		}
		copy(s.order[i+1:k+1], s.order[i:k])
		s.order[i] = c
		return i
	case k < n-1 && s.before(s.order[k+1], c):
		i, j := k+1, n // the first i > k with !before(order[i], c)
		for i < j {
			if h := int(uint(i+j) >> 1); s.before(s.order[h], c) {
				i = h + 1
			} else {
				j = h
			}
		}
		copy(s.order[k:i-1], s.order[k+1:i])
		s.order[i-1] = c
		return i - 1
	}
	return k
}
