package balancer

import "time"

// correctedCooldowns is how many cooldowns a vCPU waits after a
// correction.
const correctedCooldowns = 3

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
	// the spread, so a correction is never itself corrected back and a
	// vCPU whose moves keep missing their prediction (an overloaded host,
	// guests coming and going) does not flap.
	corrected bool
	// pendingTo and pendingAt are the move planned by the last call (if
	// pending), which the next snapshot shows applied or not.
	pendingTo int
	pendingAt time.Duration
	pending   bool
	// seen is the number of the last call whose snapshot held it.
	seen uint64
}

// remember updates v's memo from this window and returns its demand
// estimate, whether it moved less than cooldown ago, and whether that
// move was already a correction: it refreshes the remembered demand,
// notes a planned move the snapshot shows applied, and forgets moves
// older than the cooldown.
func (p *Adaptive) remember(i int, v *VCPU, at, cooldown time.Duration) (int64, bool, bool) {
	m := p.memoOf(i, v.ID)
	if m.seen != p.calls {
		m.seen = p.calls
		p.seen++
	}
	est, calm, ok := demand(v, m.calm, m.hasCalm)
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
	if m.hasMoved && at-m.movedAt >= wait {
		m.hasMoved, m.corrected = false, false
	}
	return est, m.hasMoved, m.corrected
}

// forget drops the memos of vCPUs this call did not see.
func (p *Adaptive) forget() {
	if p.seen == len(p.memos) {
		return
	}
	for id, m := range p.memos {
		if m.seen != p.calls {
			delete(p.memos, id)
		}
	}
}

// memoOf returns the memo of the vCPU at index i of this call's snapshot.
// Snapshots usually list vCPUs in the same order every window, so the
// memo at the same index of the last call is tried before the map
// (hashing 3,072 UUIDs costs as much as a tenth of a plan).
func (p *Adaptive) memoOf(i int, id VCPUID) *memo {
	if i < len(p.order) && p.order[i].id == id {
		m := p.order[i].m
		p.next = append(p.next, p.order[i])
		return m
	}
	m := p.memos[id]
	if m == nil {
		m = &memo{}
		p.memos[id] = m
	}
	p.next = append(p.next, slot{id, m})
	return m
}

// slot is one entry of the snapshot order memoOf remembers.
type slot struct {
	id VCPUID
	m  *memo
}
