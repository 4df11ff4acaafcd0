package balancer

import "slices"

// state is one placement of a host's vCPUs during the search: per-pCPU
// loads (background and unmovable vCPUs included), the movable vCPUs on
// each pCPU, and the pCPUs kept in (load, index) order so that the
// busiest and the freest are at hand.
type state struct {
	h     *host
	at    []int32   // per vCPU: its pCPU now
	load  []int64   // per pCPU
	key   []int64   // per pCPU: its key (load, then index; see keyShift)
	on    [][]int32 // per pCPU: its movable vCPUs
	order []int64   // the pCPUs' keys, sorted: freest first (see all)
	nodes [][]int64 // per NUMA node: its pCPUs' keys, sorted (nil: one node)
	ext   extremes  // the busiest and freest pCPUs (see ends)
	stale bool      // order is out of date: with nodes, moves keep theirs only
	trail []step    // the moves made, in order

	// Kept for the next reset.
	count     []int
	onBuf     []int32
	nodeBuf   []int64
	nodeLists [][]int64
	heads     []int   // per node, for all
	back      []vload // for bestSwap
	taken     []int   // for extremes
	last      []int32
	moved     []int32
}

// A pCPU's key is its load shifted left by keyShift, with its index in
// the bits below: one comparison orders two pCPUs by load, then index, and
// the sorted keys are the pCPUs in order (cpuOf). A pCPU's load is at most
// its background plus one pCPU per vCPU, far under 2^39 units.
const keyShift = 24

func keyOf(c int32, l int64) int64 { return l<<keyShift | int64(c) }

// cpuOf returns the pCPU of a key.
func cpuOf(k int64) int32 { return int32(k & (1<<keyShift - 1)) }

// extremes is what the search needs of the order's ends, kept until a
// load changes (ok false).
type extremes struct {
	ok          bool
	top, bottom [3]int32 // the busiest and the freest pCPUs, or -1
}

// step is one move of the search, kept to undo it and to explain it.
type step struct {
	v, from, to int32
	why         string
}

func newState(h *host) *state { return new(state).reset(h) }

// reset makes s the placement of h's vCPUs at home, as newState does,
// reusing s's arrays.
func (s *state) reset(h *host) *state {
	m, n := len(h.cpus), len(h.vcpus)
	s.h, s.trail, s.ext = h, s.trail[:0], extremes{}
	s.at, s.load, s.key, s.order = resize(s.at, n), resize(s.load, m), resize(s.key, m), resize(s.order, m)
	s.on, s.count = resize(s.on, m), resize(s.count, m)
	copy(s.load, h.bg)
	for i := range h.vcpus {
		v := &h.vcpus[i]
		s.at[i] = v.home
		s.load[v.home] += v.load
		if v.mov {
			s.count[v.home]++
		}
	}
	// One backing array, with room on each pCPU for a few arrivals.
	slack := 4 + n/max(m, 1)
	s.onBuf = resize(s.onBuf, n+slack*m)
	buf := s.onBuf
	for c, k := range s.count {
		s.on[c], buf = buf[:0:k+slack], buf[k+slack:]
	}
	for i := range h.vcpus {
		if v := &h.vcpus[i]; v.mov {
			s.on[v.home] = append(s.on[v.home], int32(i))
		}
	}
	for c, l := range s.load {
		s.key[c] = keyOf(int32(c), l)
	}
	copy(s.order, s.key)
	slices.Sort(s.order)
	s.stale = false
	s.nodes = nil
	if k := slices.Max(h.node) + 1; k > 1 {
		s.nodeBuf = resize(s.nodeBuf, m)
		s.nodes = resize(s.nodeLists, int(k))
		s.nodeLists = s.nodes
		s.heads = resize(s.heads, int(k))
		for _, k := range s.order {
			s.heads[h.node[cpuOf(k)]]++
		}
		buf := s.nodeBuf
		for k, n := range s.heads {
			s.nodes[k], buf = buf[:0:n], buf[n:]
		}
		for _, k := range s.order {
			n := h.node[cpuOf(k)]
			s.nodes[n] = append(s.nodes[n], k)
		}
	}
	return s
}

// within returns the keys, in order, of the pCPUs that a step from or to
// a pCPU of node n may use: n's when local, else all.
func (s *state) within(local bool, n int32) []int64 {
	if local && s.nodes != nil {
		return s.nodes[n]
	}
	return s.all()
}

// all returns all the pCPUs' keys in order, merging the nodes' when moves
// have left order out of date (steps inside nodes never need it).
func (s *state) all() []int64 {
	if !s.stale {
		return s.order
	}
	s.stale = false
	heads := s.heads
	clear(heads)
	for k := range s.order {
		next, from := int64(-1), -1
		for n, l := range s.nodes {
			if h := heads[n]; h < len(l) && (from < 0 || l[h] < next) {
				next, from = l[h], n
			}
		}
		s.order[k] = next
		heads[from]++
	}
	return s.order
}

// ends returns the three busiest and three freest pCPUs, found again
// after a load changed.
func (s *state) ends() *extremes {
	if !s.ext.ok {
		s.extremes()
	}
	return &s.ext
}

// busiest and freest return the busiest pCPU and the freest (the
// highest and lowest key); there must be one.
func (s *state) busiest() int32 { return s.ends().top[0] }
func (s *state) freest() int32  { return s.ends().bottom[0] }

// spread is the busiest pCPU's load minus the freest's.
func (s *state) spread() int64 {
	if len(s.order) == 0 {
		return 0
	}
	e := s.ends()
	return s.load[e.top[0]] - s.load[e.bottom[0]]
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

// setLoad changes c's load and moves its key to its new place in order
// (and in its node's), shifting only the keys it passes.
func (s *state) setLoad(c int32, l int64) {
	old, key := s.key[c], keyOf(c, l)
	s.load[c], s.key[c], s.ext.ok = l, key, false
	if s.nodes == nil {
		resort(s.order, old, key)
		return
	}
	resort(s.nodes[s.h.node[c]], old, key)
	s.stale = true
}

// resort replaces key old in sorted o with key, keeping o sorted. Moves
// mostly take load off the busiest pCPU and onto the freest, so old is
// looked for at the ends first.
func resort(o []int64, old, key int64) {
	k := len(o) - 1
	switch {
	case o[k] == old:
	case o[0] == old:
		k = 0
	default:
		k = search(o, old)
	}
	switch {
	case key > old:
		t := k + 1 + search(o[k+1:], key)
		copy(o[k:t-1], o[k+1:t])
		o[t-1] = key
	case key < old:
		t := search(o[:k], key)
		copy(o[t+1:k+1], o[t:k])
		o[t] = key
	}
}

// search returns the first index of sorted o whose key is not below k.
// It halves o without a branch on the comparison, which nothing predicts:
// keys are not negative, so x-k < 0 exactly when x < k, and its sign bit,
// shifted down, is all ones then.
func search(o []int64, k int64) int {
	base, n := 0, len(o)
	for n > 1 {
		half := n >> 1
		base += half & int((o[base+half-1]-k)>>63)
		n -= half
	}
	if n == 1 && o[base] < k {
		base++
	}
	return base
}

// undo takes back the moves made after the first n.
func (s *state) undo(n int) {
	for len(s.trail) > n {
		st := s.trail[len(s.trail)-1]
		s.move(st.v, st.from, "")
		s.trail = s.trail[:len(s.trail)-2]
	}
}

// spreadAfter is the spread once load d leaves pCPU a for pCPU b: the
// new loads of a and b against the busiest and the freest of the others.
func (s *state) spreadAfter(a, b int32, d int64) int64 {
	e := s.ends()
	na, nb := s.load[a]-d, s.load[b]+d
	hi, lo := max(na, nb), min(na, nb)
	for _, c := range e.top {
		if c != a && c != b {
			if c >= 0 {
				hi = max(hi, s.load[c])
			}
			break
		}
	}
	for _, c := range e.bottom {
		if c != a && c != b {
			if c >= 0 {
				lo = min(lo, s.load[c])
			}
			break
		}
	}
	return hi - lo
}

// extremes finds the three busiest and the three freest pCPUs (-1 where
// there are fewer): whatever a and b are, one of each is neither.
func (s *state) extremes() {
	e := &s.ext
	e.ok = true
	lists := s.nodes
	if lists == nil {
		lists = [][]int64{s.order}
	}
	s.taken = resize(s.taken, 2*len(lists))
	hi, lo := s.taken[:len(lists)], s.taken[len(lists):] // per list: how many taken from its top and bottom
	for k := range 3 {
		e.top[k], e.bottom[k] = -1, -1
		top, bottom := -1, -1
		for n, o := range lists {
			if m := len(o) - hi[n]; m > 0 && (top < 0 || o[m-1] > lists[top][len(lists[top])-1-hi[top]]) {
				top = n
			}
			if m := lo[n]; m < len(o) && (bottom < 0 || o[m] < lists[bottom][lo[bottom]]) {
				bottom = n
			}
		}
		if top >= 0 {
			e.top[k] = cpuOf(lists[top][len(lists[top])-1-hi[top]])
			hi[top]++
		}
		if bottom >= 0 {
			e.bottom[k] = cpuOf(lists[bottom][lo[bottom]])
			lo[bottom]++
		}
	}
}

// plan lists, in the order they first moved, the vCPUs whose pCPU differs
// from where they started, each with the reason of its last move; vs is
// the same vCPUs, by host index.
func (s *state) plan() (p Plan, vs []int32) {
	if len(s.trail) == 0 {
		return p, nil
	}
	s.last = resize(s.last, len(s.at)) // per vCPU: 1 + its last step, or 0
	vs = s.moved[:0]
	for k, st := range s.trail {
		if s.last[st.v] == 0 {
			vs = append(vs, st.v)
		}
		s.last[st.v] = int32(k + 1)
	}
	n := 0
	for _, v := range vs {
		if s.at[v] != s.h.vcpus[v].home {
			vs[n], n = v, n+1
		}
	}
	vs, s.moved = vs[:n], vs
	if n == 0 {
		return p, nil // every vCPU ended where it started
	}
	p.Moves = make([]Move, n)
	for k, v := range vs {
		p.Moves[k] = s.h.move(&s.h.vcpus[v], s.at[v], s.trail[s.last[v]-1].why)
	}
	return p, vs
}
