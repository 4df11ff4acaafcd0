package balancer

import "time"

// memo is what adaptive remembers of one vCPU between Plan calls.
type memo struct {
	calm      int64         // demand when it last ran uncontended
	hasCalm   bool          //
	movedAt   time.Duration // when a planned move of it was seen applied
	hasMoved  bool          //
	pendingTo int           // a planned move not yet seen applied
	pendingAt time.Duration //
	pending   bool          //
	seen      uint64        // the last call that saw it
}

// remember updates v's memo from this window and returns its demand
// estimate and whether it moved less than cooldown ago: it refreshes the
// remembered demand, notes a planned move the snapshot shows applied,
// and forgets moves older than the cooldown.
func (p *Adaptive) remember(v *VCPU, at, cooldown time.Duration) (int64, bool) {
	m := p.memos[v.ID]
	if m == nil {
		m = &memo{}
		p.memos[v.ID] = m
	}
	m.seen = p.calls
	est, calm, ok := demand(v, m.calm, m.hasCalm)
	if ok {
		m.calm, m.hasCalm = calm, true
	}
	if m.pending && v.Pin.Size() == 1 && v.Pin.Contains(m.pendingTo) {
		m.movedAt, m.hasMoved = m.pendingAt, true
	}
	m.pending = false
	if m.hasMoved && at-m.movedAt >= cooldown {
		m.hasMoved = false
	}
	return est, m.hasMoved
}

// forget drops the memos of vCPUs this call did not see.
func (p *Adaptive) forget() {
	for id, m := range p.memos {
		if m.seen != p.calls {
			delete(p.memos, id)
		}
	}
}
