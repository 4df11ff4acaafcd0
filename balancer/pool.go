package balancer

import "sync"

// A plan on a large host needs a few hundred kilobytes of scratch memory
// (the host view, the states, their lists). Plans borrow it from a pool,
// so that a policy value stays safe for concurrent use while a steady
// loop allocates almost nothing. Every slice handed out is zeroed, as
// make's would be, so a plan never depends on what an earlier one left.

// arena hands out slices of one buffer; what does not fit is allocated
// normally, and the buffer grows to fit the next time.
type arena[T any] struct {
	buf        []T
	used, want int
}

// take returns a zeroed slice of n elements whose capacity is n.
func (a *arena[T]) take(n int) []T {
	a.want += n
	if a.used+n > len(a.buf) {
		return make([]T, n)
	}
	s := a.buf[a.used : a.used+n : a.used+n]
	a.used += n
	clear(s)
	return s
}

// reset makes the whole buffer available again, grown to what the last
// round asked for.
func (a *arena[T]) reset() {
	if a.want > len(a.buf) {
		a.buf = make([]T, a.want)
	}
	a.used, a.want = 0, 0
}

// scratch is the memory one plan borrows.
type scratch struct {
	vcpus  arena[hv]
	items  arena[item]
	i32    arena[int32]
	i64    arena[int64]
	ints   arena[int]
	reason arena[reason]
	bools  arena[bool]
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// getScratch borrows a scratch from the pool.
func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// putScratch returns m to the pool; nothing it handed out may be used
// after.
func putScratch(m *scratch) {
	m.vcpus.reset()
	m.items.reset()
	m.i32.reset()
	m.i64.reset()
	m.ints.reset()
	m.reason.reset()
	m.bools.reset()
	scratchPool.Put(m)
}

// take returns a zeroed slice of n from a, or from the heap when m is nil.
func take[T any](m *scratch, a func(*scratch) *arena[T], n int) []T {
	if m == nil {
		return make([]T, n)
	}
	return a(m).take(n)
}

func vcpusOf(m *scratch) *arena[hv]       { return &m.vcpus }
func itemsOf(m *scratch) *arena[item]     { return &m.items }
func i32Of(m *scratch) *arena[int32]      { return &m.i32 }
func i64Of(m *scratch) *arena[int64]      { return &m.i64 }
func intsOf(m *scratch) *arena[int]       { return &m.ints }
func reasonsOf(m *scratch) *arena[reason] { return &m.reason }
func boolsOf(m *scratch) *arena[bool]     { return &m.bools }
