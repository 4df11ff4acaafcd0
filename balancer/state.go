package balancer

import (
	"cmp"
	"slices"
	"sort"
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
	nodes [][]int32 // per NUMA node: its pCPUs in the same order (nil: one node)
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
	if n := slices.Max(h.node) + 1; n > 1 {
		s.nodes = make([][]int32, n)
		for _, c := range s.order {
			s.nodes[h.node[c]] = append(s.nodes[h.node[c]], c)
		}
	}
	return s
}

// within returns the pCPUs, in order, that a step from or to a pCPU of
// node n may use: n's when local, else all.
func (s *state) within(local bool, n int32) []int32 {
	if local && s.nodes != nil {
		return s.nodes[n]
	}
	return s.order
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

// setLoad changes c's load and moves c to its new place in order (and in
// its node's), shifting only the pCPUs it passes.
func (s *state) setLoad(c int32, l int64) {
	k := s.place(s.order, c)
	var nk int
	if s.nodes != nil {
		nk = s.place(s.nodes[s.h.node[c]], c)
	}
	s.load[c] = l
	s.resort(s.order, k, c)
	if s.nodes != nil {
		s.resort(s.nodes[s.h.node[c]], nk, c)
	}
}

// resort moves c, at index k of o, to where its new load sorts.
func (s *state) resort(o []int32, k int, c int32) {
	switch {
	case k+1 < len(o) && s.before(o[k+1], c):
		t := k + 1 + sort.Search(len(o)-k-1, func(i int) bool { return !s.before(o[k+1+i], c) })
		copy(o[k:t-1], o[k+1:t])
		o[t-1] = c
	case k > 0 && s.before(c, o[k-1]):
		t := sort.Search(k, func(i int) bool { return !s.before(o[i], c) })
		copy(o[t+1:k+1], o[t:k])
		o[t] = c
	}
}

// place returns the index in o at which c sorts by its current load.
func (s *state) place(o []int32, c int32) int {
	i, j := 0, len(o)
	for i < j {
		k := int(uint(i+j) >> 1)
		if s.before(o[k], c) {
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
	if len(s.trail) == 0 {
		return p
	}
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
