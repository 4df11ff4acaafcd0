package balancer

import "time"

// Adaptive is the default policy; see NewAdaptive. It keeps memory across
// Plan calls (remembered demand, recent moves, its last prediction), keyed
// by vCPU identity and timed by Snapshot.At, so one value serves one
// sequence of snapshots and is not safe for concurrent use.
type Adaptive struct {
	memos     map[VCPUID]*memo
	order     []slot // the last snapshot's vCPUs and their memos, in its order
	next      []slot
	bgCalm    []int64 // per CPU id: background when last uncontended, or -1
	sets      setCache
	calls     uint64
	seen      int   // distinct vCPUs this call saw
	predicted int64 // the spread the last plan left, in units
	planned   bool  // predicted is set
	lastAt    time.Duration

	// Reused by each call.
	est []estimate // per snapshot vCPU
	// per pCPU, for background: the most a vCPU there ran, what all ran
	// there, and whether a vCPU there waited
	maxUsage, ran []int64
	waits         []bool
	host          host
	state         state
}

// estimate is what remember found for one vCPU of a call.
type estimate struct {
	load               int64
	cooling, corrected bool
}

// DefaultCooldownWindows is the default cooldown, in windows.
const DefaultCooldownWindows = 5

// NewAdaptive returns the default policy. Each call to Plan:
//   - estimates each vCPU's demand (demand.go): run plus wait, except
//     that a starved vCPU counts the demand it showed when it last ran
//     uncontended (bounded by what it got and by run plus wait);
//   - counts on each pCPU its background load and every vCPU there,
//     Fixed ones included, and plans nothing while the spread (busiest
//     minus freest pCPU) is within the threshold;
//   - otherwise searches (search.go) with moves inside NUMA nodes first,
//     and across nodes only when that ends above the threshold and no
//     placement inside nodes could reach it (the nodes' mean loads, which
//     moves inside nodes keep, differ by more than the threshold); each
//     step lowers the spread or, without raising it, the sum of squared
//     loads, and a vCPU only goes to a pCPU of its Allowed set;
//   - adopts the result only if it ends within the threshold or lowers
//     the spread by more than the threshold: a smaller gain is within
//     what the threshold says measurements cannot tell apart (on a
//     crowded host a spin-waiter reads like a burner until it calms, and
//     such a gain is often two vCPUs traded for nothing);
//   - then moves busy vCPUs off cores whose SMT siblings are both busy
//     while a whole core of the node is idle (smt.go).
//
// A vCPU moved less than Config.Cooldown ago (default
// DefaultCooldownWindows windows) stays where it is, unless the spread
// now exceeds what the last plan predicted by more than the threshold:
// the measurements contradict the plan, and waiting would hold a worse
// placement; a vCPU moved twice within a cooldown (the second move was
// such a correction) then waits three cooldowns, whatever the spread.
// Planning on the state its plan produces returns an empty
// plan. If Snapshot.At goes backwards the memory is dropped.
func NewAdaptive() *Adaptive { return &Adaptive{} }

// Name returns "adaptive".
func (*Adaptive) Name() string { return "adaptive" }

// Plan implements Policy.
func (p *Adaptive) Plan(s Snapshot, cfg Config) Plan {
	if s.At < p.lastAt || p.memos == nil {
		*p = Adaptive{memos: map[VCPUID]*memo{}}
	}
	p.lastAt = s.At
	p.calls++
	cooldown := cfg.Cooldown
	if cooldown <= 0 {
		cooldown = DefaultCooldownWindows * s.Window
	}
	h := p.host.reset(&s, &cfg, &p.sets)
	defer func() { h.src = nil }() // keep no snapshot past the call
	p.est = resize(p.est, len(s.VCPUs))
	p.next, p.seen = p.next[:0], 0
	for i := range s.VCPUs {
		e := &p.est[i]
		e.load, e.cooling, e.corrected = p.remember(i, &s.VCPUs[i], s.At, cooldown)
	}
	p.order, p.next = p.next, p.order
	for i := range h.vcpus {
		h.vcpus[i].load = p.est[h.vcpus[i].src].load
	}
	p.forget()
	p.background(h)
	if len(h.vcpus) == 0 {
		p.planned = false
		return Plan{}
	}
	t := thresholdUnits(cfg.Threshold)
	home := h.loads() // every vCPU where it is
	spread := spreadOf(home)
	if spread <= t && !h.mayUnstack(home) {
		p.predicted, p.planned = spread, true
		return Plan{} // balanced, the common case: no search
	}
	contradicted := p.planned && spread > p.predicted+t
	for i := range h.vcpus {
		x := &h.vcpus[i]
		e := &p.est[x.src]
		x.mov = !s.VCPUs[x.src].Fixed && x.load > 0 && (!e.cooling || contradicted && !e.corrected)
	}
	st := p.state.reset(h)
	if start := st.spread(); start > t {
		st = st.settle(t, true)
		if st.spread() > t && h.nodeGap(home) > t {
			st = st.settle(t, false)
		}
		if end := st.spread(); end > t && start-end <= t {
			st.undo(0)
		}
	}
	st.unstack()
	plan, moved := st.plan()
	p.predicted, p.planned = st.spread(), true
	for k, v := range moved {
		m := p.order[h.vcpus[v].src].m // p.order follows s.VCPUs
		m.pending, m.pendingTo, m.pendingAt = true, plan.Moves[k].To, s.At
	}
	return plan
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

// background replaces each pCPU's measured background with its demand
// estimate (demand.go).
func (p *Adaptive) background(h *host) {
	m := len(h.cpus)
	p.maxUsage, p.ran, p.waits = resize(p.maxUsage, m), resize(p.ran, m), resize(p.waits, m)
	copy(p.ran, h.bg)
	for i := range h.vcpus {
		x := &h.vcpus[i]
		v := &h.src[x.src]
		u := units(v.Usage)
		p.maxUsage[x.home] = max(p.maxUsage[x.home], u)
		p.ran[x.home] += u
		p.waits[x.home] = p.waits[x.home] || units(v.Wait) >= waitNoise
	}
	for c := range h.bg {
		contended := p.waits[c] && p.ran[c] >= fullCPU-waitNoise
		h.bg[c] = p.backgroundDemand(h.cpus[c], h.bg[c], p.maxUsage[c], contended)
	}
}
