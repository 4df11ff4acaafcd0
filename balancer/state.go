package balancer

import (
	"cmp"
	"slices"
)

// state is one placement of a host's vCPUs during the search: per-pCPU
// loads (background and unmovable vCPUs included), the movable vCPUs on
// each pCPU, and the pCPUs kept in (load, index) order so that the
// busiest and the freest are at hand.
type state struct {
	h     *host
	at    []int32   // per vCPU: its pCPU now
	load  []int64   // per pCPU
	on    [][]int32 // per pCPU: its movable vCPUs
	order []int32   // pCPUs by (load, index), freest first
	trail []step    // the moves made, in order
}

// step is one move of the search, kept to undo it and to explain it.
type step struct {
	v, from, to int32
	why         string
}

func newState(h *host) *state {
	m := len(h.cpus)
	s := &state{h: h, at: make([]int32, len(h.vcpus)), load: make([]int64, m),
		on: make([][]int32, m), order: make([]int32, m)}
	copy(s.load, h.bg)
	count := make([]int, m)
	for i := range h.vcpus {
		v := &h.vcpus[i]
		s.at[i] = v.home
		s.load[v.home] += v.load
		if v.mov {
			count[v.home]++
		}
	}
	// One backing array, with room on each pCPU for a few arrivals.
	const slack = 4
	buf := make([]int32, len(h.vcpus)+slack*m)
	for c, n := range count {
		s.on[c], buf = buf[:0:n+slack], buf[n+slack:]
	}
	for i := range h.vcpus {
		if v := &h.vcpus[i]; v.mov {
			s.on[v.home] = append(s.on[v.home], int32(i))
		}
	}
	for c := range s.order {
		s.order[c] = int32(c)
	}
	slices.SortFunc(s.order, func(c, d int32) int {
		if l := cmp.Compare(s.load[c], s.load[d]); l != 0 {
			return l
		}
		return cmp.Compare(c, d)
	})
	return s
}

// before orders pCPUs by load, then index.
func (s *state) before(c, d int32) bool {
	return s.load[c] < s.load[d] || s.load[c] == s.load[d] && c < d
}

// spread is the busiest pCPU's load minus the freest's.
func (s *state) spread() int64 {
	if len(s.order) == 0 {
		return 0
	}
	return s.load[s.order[len(s.order)-1]] - s.load[s.order[0]]
}

// move puts movable vCPU v on pCPU to.
func (s *state) move(v, to int32, why string) {
	from := s.at[v]
	d := s.h.vcpus[v].load
	l := s.on[from]
	for k := range l {
		if l[k] == v {
			s.on[from] = append(l[:k], l[k+1:]...)
			break
		}
	}
	s.on[to] = append(s.on[to], v)
	s.at[v] = to
	s.setLoad(from, s.load[from]-d)
	s.setLoad(to, s.load[to]+d)
	s.trail = append(s.trail, step{v: v, from: from, to: to, why: why})
}

// setLoad changes c's load and moves c to its new place in order.
func (s *state) setLoad(c int32, l int64) {
	k := s.place(c)
	s.order = append(s.order[:k], s.order[k+1:]...)
	s.load[c] = l
	k = s.place(c)
	s.order = append(s.order, 0)
	copy(s.order[k+1:], s.order[k:])
	s.order[k] = c
}

// place returns the index in order at which c sorts by its current load.
func (s *state) place(c int32) int {
	i, j := 0, len(s.order)
	for i < j {
		k := int(uint(i+j) >> 1)
		if s.before(s.order[k], c) {
			i = k + 1
		} else {
			j = k
		}
	}
	return i
}

// undo takes back the moves made after the first n.
func (s *state) undo(n int) {
	for len(s.trail) > n {
		st := s.trail[len(s.trail)-1]
		s.move(st.v, st.from, "")
		s.trail = s.trail[:len(s.trail)-2]
	}
}

// spreadAfter is the spread once load d leaves pCPU a for pCPU b.
func (s *state) spreadAfter(a, b int32, d int64) int64 {
	na, nb := s.load[a]-d, s.load[b]+d
	mx, mn := max(na, nb), min(na, nb)
	m := len(s.order)
	for k := m - 1; k >= max(0, m-3); k-- {
		if c := s.order[k]; c != a && c != b {
			mx = max(mx, s.load[c])
			break
		}
	}
	for k := 0; k < min(3, m); k++ {
		if c := s.order[k]; c != a && c != b {
			mn = min(mn, s.load[c])
			break
		}
	}
	return mx - mn
}

// plan lists, in the order they first moved, the vCPUs whose pCPU differs
// from where they started, each with the reason of its last move.
func (s *state) plan() Plan {
	var p Plan
	why := make([]string, len(s.at))
	var first []int32
	for _, st := range s.trail {
		if why[st.v] == "" {
			first = append(first, st.v)
		}
		why[st.v] = st.why
	}
	for _, v := range first {
		x := &s.h.vcpus[v]
		if s.at[v] != x.home {
			p.Moves = append(p.Moves, s.h.move(x, s.at[v], why[v]))
		}
	}
	return p
}
