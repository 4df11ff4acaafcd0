package balancer

import "slices"

// state is one assignment of a host's managed vCPUs to its pCPUs, with the
// per-pCPU load and the moves that led to it.
type state struct {
	h      *host
	at     []int32  // per vCPU: dense pCPU
	load   []int64  // per dense pCPU
	on     [][]item // per dense pCPU: its movable vCPUs (measured, load > 0)
	count  []int    // per dense pCPU: movable vCPUs, while on is unbuilt
	order  []int32  // pCPUs by (load, index), freest first
	reason []reason // per vCPU: why it last moved
	trail  []int32  // vCPUs in the order they moved
}

func newState(h *host) *state {
	m := h.mem
	s := &state{h: h, at: take(m, i32Of, len(h.vcpus)), load: take(m, i64Of, len(h.cpus)),
		on: make([][]item, len(h.cpus)), reason: take(m, reasonsOf, len(h.vcpus))}
	count := take(m, intsOf, len(h.cpus))
	for i := range h.vcpus {
		v := &h.vcpus[i]
		s.at[i] = v.home
		s.load[v.home] += v.load
		if s.movable(int32(i)) {
			count[v.home]++
		}
	}
	s.count = count
	s.order = take(m, i32Of, len(h.cpus))
	for c := range s.order {
		s.order[c] = int32(c)
	}
	// (load, index) is a total order, so any sort gives the same order.
	slices.SortFunc(s.order, func(c, d int32) int {
		if s.before(c, d) {
			return -1
		}
		return 1
	})
	return s
}

// before orders pCPUs by load, then index.
func (s *state) before(c, d int32) bool {
	return s.load[c] < s.load[d] || s.load[c] == s.load[d] && c < d
}

func (s *state) movable(v int32) bool { return s.h.vcpus[v].mov }

// listSlack is the room each list of a clone has to grow before an
// insertion reallocates it.
const listSlack = 4

// clone returns a copy of s that can change on its own. A state that never
// moved keeps no lists (a balanced host needs none); its clone builds them.
func (s *state) clone() *state {
	m := s.h.mem
	c := &state{h: s.h, at: take(m, i32Of, len(s.at)), load: take(m, i64Of, len(s.load)),
		on: make([][]item, len(s.on)), order: take(m, i32Of, len(s.order)),
		reason: take(m, reasonsOf, len(s.reason)),
		trail:  append([]int32(nil), s.trail...)}
	copy(c.at, s.at)
	copy(c.load, s.load)
	copy(c.order, s.order)
	copy(c.reason, s.reason)
	count := take(m, intsOf, len(s.on))
	if s.count != nil {
		for i, n := range s.count {
			count[i] = n + listSlack
		}
		c.lists(count)
		return c
	}
	for i, l := range s.on {
		count[i] = len(l) + listSlack
	}
	c.carve(count)
	for i, l := range s.on {
		c.on[i] = append(c.on[i], l...)
	}
	return c
}

// move puts movable vCPU v on dense pCPU to.
func (s *state) move(v, to int32, why reason) {
	from := s.at[v]
	s.take(from, v)
	s.put(to, v)
	// Reorder as if order kept a pCPU -> place index, found before the
	// loads change: from's shift moves to's place by at most one.
	kf, kt := s.find(from), s.find(to)
	d := s.h.vcpus[v].load
	s.load[from] -= d
	s.load[to] += d
	switch nf := s.reorder(from, kf); {
	case nf < kf && nf <= kt && kt < kf:
		kt++
	case nf > kf && kf < kt && kt <= nf:
		kt--
	}
	s.reorder(to, kt)
	s.at[v] = to
	s.reason[v] = why
	s.trail = append(s.trail, v)
}

// reason is a Move's Reason while the search runs.
type reason uint8

const (
	noReason reason = iota
	lowersSpread
	swapped
	repacked
)

// String returns the Reason constant r stands for.
func (r reason) String() string {
	return [...]string{"", ReasonLowersSpread, ReasonSwap, ReasonRepack}[r]
}

// spread is the busiest pCPU's load minus the freest's.
func (s *state) spread() int64 {
	if len(s.order) == 0 {
		return 0
	}
	return s.load[s.order[len(s.order)-1]] - s.load[s.order[0]]
}

func spreadOf(load []int64) int64 {
	if len(load) == 0 {
		return 0
	}
	mx, mn := load[0], load[0]
	for _, l := range load[1:] {
		mx, mn = max(mx, l), min(mn, l)
	}
	return mx - mn
}

// plan lists, in the order they first moved, the vCPUs whose pCPU differs
// from where they started.
func (s *state) plan() Plan {
	seen := take(s.h.mem, boolsOf, len(s.at))
	n := 0
	for _, v := range s.trail {
		if !seen[v] && s.at[v] != s.h.vcpus[v].home {
			seen[v] = true
			n++
		}
	}
	var p Plan
	if n == 0 {
		return p
	}
	clear(seen)
	p.Moves = make([]Move, 0, n)
	for _, v := range s.trail {
		x := &s.h.vcpus[v]
		if seen[v] || s.at[v] == x.home {
			continue
		}
		seen[v] = true
		p.Moves = append(p.Moves, s.h.move(x, s.h.cpus[s.at[v]], s.reason[v].String()))
	}
	return p
}
