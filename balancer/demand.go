package balancer

import "time"

// Demand that survives contention, and what adaptive remembers between
// Plan calls to estimate it and to time its moves.
//
// A vCPU's run plus run-queue wait is what it asked for over the window,
// but only while it is not starved: a spin-waiting guest that cannot run
// keeps its vCPU runnable, so under contention it reads about 100%
// whatever it needs. So the policy remembers each vCPU's demand from the
// last window in which it ran uncontended (wait under waitNoise) and,
// while it is starved, counts
//
//	max(usage, min(calm, usage + wait))
//
// its remembered demand, but never less than what it did get (a vCPU that
// runs more than it used to wants more) nor more than run plus wait (the
// upper bound). A vCPU never seen uncontended counts run plus wait.

// waitNoise is the run-queue wait, in units, under which a vCPU counts as
// uncontended: schedstat's wait is lumpy, and a few percent of it is
// scheduling noise on any busy host, not a want.
const waitNoise = 5 * unitsPerPercent

// correctedCooldowns is how many cooldowns a vCPU waits after a
// correction: long enough that a correction is never itself corrected
// back within the windows that measure its effect.
const correctedCooldowns = 3

// demand returns v's demand estimate and, when v ran uncontended, the
// figure to remember (ok false otherwise).
func demand(v *VCPU, calm int64, known bool) (est, remember int64, ok bool) {
	usage, wait := units(v.Usage), units(v.Wait)
	raw := min(usage+wait, fullCPU)
	if wait < waitNoise {
		return raw, raw, true
	}
	if !known {
		return raw, 0, false
	}
	return max(usage, min(calm, raw)), 0, false
}

// memory is what adaptive keeps between calls.
type memory struct {
	memos map[VCPUID]*memo
	// order is this (or the last) snapshot's vCPUs, their memos and
	// estimates, in its order; spare is the array of the one before, which
	// the next call fills: at 3,072 vCPUs allocating it anew cost a fifth
	// of a balanced plan (BenchmarkPlan3072VCPUs768PCPUsBalanced).
	order, spare []slot
	bgCalm       []int64 // per CPU id: background when last uncontended, or -1
	calls        uint64
}

// memo is what adaptive remembers of one vCPU between Plan calls.
type memo struct {
	// calm is its demand when it last ran uncontended (if hasCalm).
	calm    int64
	hasCalm bool
	// movedAt is when a move adaptive planned for it was seen applied (if
	// hasMoved, and less than a cooldown ago).
	movedAt  time.Duration
	hasMoved bool
	// corrected is set when it moved again within the cooldown (a
	// correction): it then waits correctedCooldowns cooldowns, whatever
	// the spread, so a vCPU whose moves keep missing their prediction (an
	// overloaded host, guests coming and going) does not flap.
	corrected bool
	// pendingTo and pendingAt are the move planned by the last call (if
	// pending), which the next snapshot shows applied or not.
	pendingTo int
	pendingAt time.Duration
	pending   bool
	// mask is its Allowed set as a mask, from the last call that made one.
	mask *allowedMask
	// seen is the number of the last call whose snapshot held it.
	seen uint64
}

// slot is one vCPU of a snapshot: its memo and this call's estimate.
type slot struct {
	id  VCPUID
	m   *memo
	est estimate
}

// estimate is what one call found for one snapshot vCPU.
type estimate struct {
	demand             int64
	cooling, corrected bool
}

// estimate updates every snapshot vCPU's memo from this window and
// finds, per snapshot vCPU (in p.order), its demand, whether it moved less than
// cooldown ago, and whether that move was already a correction. It
// refreshes the remembered demand, notes a planned move the snapshot
// shows applied, forgets moves older than the cooldown, and drops the
// memos of vCPUs the snapshot no longer holds.
func (p *memory) estimate(s *Snapshot, cooldown time.Duration) {
	p.calls++
	order := p.spare[:0]
	seen := 0
	for i := range s.VCPUs {
		v := &s.VCPUs[i]
		m := p.memoOf(i, v.ID)
		if m.seen != p.calls {
			m.seen = p.calls
			seen++
		}
		d, calm, ok := demand(v, m.calm, m.hasCalm)
		if ok {
			m.calm, m.hasCalm = calm, true
		}
		if m.pending && v.Pin.Size() == 1 && v.Pin.Contains(m.pendingTo) {
			m.corrected = m.hasMoved
			m.movedAt, m.hasMoved = m.pendingAt, true
		}
		m.pending = false
		wait := cooldown
		if m.corrected {
			wait = correctedCooldowns * cooldown
		}
		if m.hasMoved && s.At-m.movedAt >= wait {
			m.hasMoved, m.corrected = false, false
		}
		order = append(order, slot{v.ID, m, estimate{demand: d, cooling: m.hasMoved, corrected: m.corrected}})
	}
	p.order, p.spare = order, p.order
	if seen != len(p.memos) {
		for id, m := range p.memos {
			if m.seen != p.calls {
				delete(p.memos, id)
			}
		}
	}
}

// memoOf returns the memo of the vCPU at index i of this call's snapshot.
// Snapshots usually list vCPUs in the same order every window, so the
// memo at the same index of the last call is tried before the map
// (hashing 3,072 UUIDs costs as much as a tenth of a plan).
func (p *memory) memoOf(i int, id VCPUID) *memo {
	if i < len(p.order) && p.order[i].id == id {
		return p.order[i].m
	}
	m := p.memos[id]
	if m == nil {
		m = &memo{}
		p.memos[id] = m
	}
	return m
}

// maskOf and keepMask read and keep the Allowed mask of the vCPU at index
// i of this call's snapshot (ranges.resolve).
func (p *memory) maskOf(i int32) *allowedMask      { return p.order[i].m.mask }
func (p *memory) keepMask(i int32, m *allowedMask) { p.order[i].m.mask = m }

// expect notes that this call planned to pin the vCPU at index i of its
// snapshot to CPU to: the next snapshot shows whether it was applied.
func (p *memory) expect(i int32, to int, at time.Duration) {
	m := p.order[i].m
	m.pending, m.pendingTo, m.pendingAt = true, to, at
}

// Background demand is measured as what it ran (busy time minus vCPU run
// time); its wait is not seen. On a contended pCPU (a vCPU there waits,
// and the pCPU ran full) where the background got as much as the busiest
// vCPU, it was capped at the fair share like them, so what it ran is not
// what it wants: it counts as starved, and the policy counts its demand
// when it last ran uncontended, or failing that the whole pCPU (the upper
// bound, as run plus wait is for a vCPU). A host process burning a pCPU
// then keeps its pCPU to itself instead of looking half free.

// estimateBackground replaces each pCPU's measured background in l with
// its demand estimate.
func (p *memory) estimateBackground(l *layout) {
	m := len(l.cpus)
	// per pCPU: the most a vCPU there ran, what all ran there, and
	// whether a vCPU there waited
	maxUsage, ran, waits := make([]int64, m), make([]int64, m), make([]bool, m)
	copy(ran, l.background)
	for i := range l.vcpus {
		x := &l.vcpus[i]
		v := &l.snapshot[x.snap]
		u := units(v.Usage)
		maxUsage[x.home] = max(maxUsage[x.home], u)
		ran[x.home] += u
		waits[x.home] = waits[x.home] || units(v.Wait) >= waitNoise
	}
	for c := range l.background {
		contended := waits[c] && ran[c] >= fullCPU-waitNoise
		l.background[c] = p.backgroundDemand(l.cpus[c], l.background[c], maxUsage[c], contended)
	}
}

// backgroundDemand returns the background estimate of CPU cpu given what
// it ran, the most any vCPU there ran, and whether the pCPU was contended;
// it updates the remembered figure.
func (p *memory) backgroundDemand(cpu int, got, maxUsage int64, contended bool) int64 {
	for cpu >= len(p.bgCalm) {
		p.bgCalm = append(p.bgCalm, -1)
	}
	if !contended || got+waitNoise < maxUsage || got == 0 {
		p.bgCalm[cpu] = got
		return got
	}
	if calm := p.bgCalm[cpu]; calm >= 0 {
		return max(got, calm)
	}
	return fullCPU
}
