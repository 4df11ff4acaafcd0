package balancer

// This file, reference_search_test.go and reference_settle_test.go keep
// adaptive's search as it was before the indexed step search (lists.go,
// search.go): unsorted per-pCPU lists and a scan of every vCPU (and every
// pair, for swaps) of each candidate source. It is the oracle of
// TestAdaptiveMatchesReference and is never built into the package.

import "sort"

// refState is one assignment of a host's managed vCPUs to its pCPUs, with the
// per-pCPU load and the moves that led to it.
type refState struct {
	h      *host
	at     []int32   // per vCPU: dense pCPU
	load   []int64   // per dense pCPU
	on     [][]int32 // per dense pCPU: its movable vCPUs (measured, load > 0)
	count  []int     // per dense pCPU: movable vCPUs, until lists are built
	order  []int32   // pCPUs by (load, index), freest first
	pos    []int32   // per dense pCPU: its place in order
	reason []string  // per vCPU: why it last moved
	trail  []int32   // vCPUs in the order they moved
}

func refNewState(h *host) *refState {
	s := &refState{h: h, at: make([]int32, len(h.vcpus)), load: make([]int64, len(h.cpus)),
		on: make([][]int32, len(h.cpus)), reason: make([]string, len(h.vcpus))}
	count := make([]int, len(h.cpus))
	for i := range h.vcpus {
		v := &h.vcpus[i]
		s.at[i] = v.home
		s.load[v.home] += v.load
		if s.movable(int32(i)) {
			count[v.home]++
		}
	}
	s.count = count
	s.order, s.pos = make([]int32, len(h.cpus)), make([]int32, len(h.cpus))
	for c := range s.order {
		s.order[c] = int32(c)
	}
	sort.Slice(s.order, func(i, j int) bool { return s.before(s.order[i], s.order[j]) })
	for k, c := range s.order {
		s.pos[c] = int32(k)
	}
	return s
}

// before orders pCPUs by load, then index.
func (s *refState) before(c, d int32) bool {
	return s.load[c] < s.load[d] || s.load[c] == s.load[d] && c < d
}

// reorder restores c's place in order after its load changed.
func (s *refState) reorder(c int32) {
	k := int(s.pos[c])
	n := len(s.order)
	switch {
	case k > 0 && s.before(c, s.order[k-1]):
		j := sort.Search(k, func(i int) bool { return s.before(c, s.order[i]) })
		copy(s.order[j+1:k+1], s.order[j:k])
		s.order[j] = c
		s.renumber(j, k+1)
	case k < n-1 && s.before(s.order[k+1], c):
		j := k + 1 + sort.Search(n-k-1, func(i int) bool { return !s.before(s.order[k+1+i], c) })
		copy(s.order[k:j-1], s.order[k+1:j])
		s.order[j-1] = c
		s.renumber(k, j)
	}
}

func (s *refState) renumber(from, to int) {
	for k := from; k < to; k++ {
		s.pos[s.order[k]] = int32(k)
	}
}

func (s *refState) movable(v int32) bool { return s.h.vcpus[v].known && s.h.vcpus[v].load > 0 }

// lists builds the per-pCPU lists of movable vCPUs; a balanced host never
// needs them.
func (s *refState) lists() {
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
}

// carve gives each pCPU an empty list with room for count[c] vCPUs, all
// in one allocation (appending past that room reallocates).
func (s *refState) carve(count []int) {
	total := 0
	for _, n := range count {
		total += n
	}
	buf := make([]int32, total)
	for c, n := range count {
		s.on[c], buf = buf[:0:n], buf[n:]
	}
}

func (s *refState) clone() *refState {
	s.lists()
	c := &refState{h: s.h, at: append([]int32(nil), s.at...), load: append([]int64(nil), s.load...),
		on: make([][]int32, len(s.on)), order: append([]int32(nil), s.order...),
		pos: append([]int32(nil), s.pos...), reason: append([]string(nil), s.reason...),
		trail: append([]int32(nil), s.trail...)}
	count := make([]int, len(s.on))
	for i, l := range s.on {
		count[i] = len(l) + 4
	}
	c.carve(count)
	for i, l := range s.on {
		c.on[i] = append(c.on[i], l...)
	}
	return c
}

// move puts movable vCPU v on dense pCPU to.
func (s *refState) move(v, to int32, reason string) {
	from := s.at[v]
	l := s.on[from]
	for i, x := range l {
		if x == v {
			l[i] = l[len(l)-1]
			s.on[from] = l[:len(l)-1]
			break
		}
	}
	s.on[to] = append(s.on[to], v)
	d := s.h.vcpus[v].load
	s.load[from] -= d
	s.load[to] += d
	s.reorder(from)
	s.reorder(to)
	s.at[v] = to
	s.reason[v] = reason
	s.trail = append(s.trail, v)
}

// spread is the busiest pCPU's load minus the freest's.
func (s *refState) spread() int64 {
	if len(s.order) == 0 {
		return 0
	}
	return s.load[s.order[len(s.order)-1]] - s.load[s.order[0]]
}

// plan lists, in the order they first moved, the vCPUs whose pCPU differs
// from where they started.
func (s *refState) plan() Plan {
	var p Plan
	seen := make([]bool, len(s.at))
	for _, v := range s.trail {
		x := &s.h.vcpus[v]
		if seen[v] || s.at[v] == x.home {
			continue
		}
		seen[v] = true
		p.Moves = append(p.Moves, s.h.move(x, s.h.cpus[s.at[v]], s.reason[v]))
	}
	return p
}
