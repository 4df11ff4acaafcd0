package balancer

import (
	"cmp"
	"slices"
	"time"
)

// Adaptive is the default policy; see NewAdaptive. It keeps memory across
// Plan calls (remembered demand, recent moves, its last prediction, the
// masks of the Allowed sets), keyed by vCPU identity and timed by
// Snapshot.At, so one value serves one sequence of snapshots and is not
// safe for concurrent use.
type Adaptive struct {
	memory
	pcpus     *pcpus // the last Config's pCPUs
	arrays    arrays // the last call's, for the next to reuse
	ranges    ranges
	predicted int64 // the spread the last plan left, in units
	planned   bool  // predicted is set
	lastAt    time.Duration
}

// DefaultCooldownWindows is the default cooldown, in windows: long enough
// for a moved vCPU's demand to be measured again where it went (a window
// or two of settling on a noisy host) before it may move again.
const DefaultCooldownWindows = 5

// NewAdaptive returns the default policy. Each call to Plan:
//   - estimates each vCPU's demand (demand.go): run plus wait, except
//     that a starved vCPU counts the demand it showed when it last ran
//     uncontended (bounded by what it got and by run plus wait), and a
//     pCPU's background the same way;
//   - counts on each pCPU its background and every vCPU there, Fixed
//     ones included, and plans nothing while the spread (busiest minus
//     freest pCPU) is within the threshold;
//   - otherwise searches moves that lower the spread most, the cheapest
//     first among equals (placement.go: cost): inside NUMA nodes first,
//     and across nodes only when that ends above the threshold and no
//     placement inside nodes could reach it (the nodes' mean demands,
//     which moves inside nodes keep, differ by more than the threshold);
//     each step lowers the spread or, without raising it, the sum of
//     squared demands, and a vCPU only goes to a pCPU of its Allowed set;
//     the search stops within the threshold or when no step helps;
//   - adopts the result only if it ends within the threshold or lowers
//     the spread by more than the threshold: a smaller gain is within
//     what the threshold says measurements cannot tell apart (on a
//     crowded host a spin-waiter reads like a burner until it calms, and
//     such a gain is often two vCPUs traded for nothing);
//   - then moves busy vCPUs off cores whose SMT siblings are both busy
//     while a whole core is idle (unstack).
//
// A vCPU moved less than Config.Cooldown ago (default
// DefaultCooldownWindows windows) stays where it is, unless the spread
// now exceeds what the last plan predicted by more than the threshold:
// the measurements contradict the plan, and waiting would hold a worse
// placement; a vCPU moved twice within a cooldown (the second move was
// such a correction) then waits correctedCooldowns cooldowns, whatever
// the spread. Planning on the state its plan produces returns an empty
// plan. If Snapshot.At goes backwards the memory is dropped.
func NewAdaptive() *Adaptive { return &Adaptive{} }

// Name returns "adaptive".
func (*Adaptive) Name() string { return "adaptive" }

// Plan implements Policy.
func (p *Adaptive) Plan(s Snapshot, cfg Config) Plan {
	if s.At < p.lastAt || p.memos == nil {
		*p = Adaptive{memory: memory{memos: map[VCPUID]*memo{}}}
	}
	p.lastAt = s.At
	cooldown := cfg.Cooldown
	if cooldown <= 0 {
		cooldown = DefaultCooldownWindows * s.Window
	}
	if p.pcpus == nil || !p.pcpus.madeFrom(&cfg) {
		p.pcpus = newPCPUs(&cfg)
	}
	l := newLayout(&s, p.pcpus, &p.arrays)
	p.estimate(&s, cooldown)
	for i := range l.vcpus {
		l.vcpus[i].demand = p.order[l.vcpus[i].snap].est.demand
	}
	p.estimateBackground(l)
	if len(l.vcpus) == 0 {
		p.planned = false
		return Plan{}
	}
	t := thresholdUnits(cfg.Threshold)
	home := l.homeDemand()
	spread := spreadOf(home)
	if spread <= t && !l.mayUnstack(home) {
		p.predicted, p.planned = spread, true
		return Plan{} // balanced, the common case: no search
	}
	contradicted := p.planned && spread > p.predicted+t
	for i := range l.vcpus {
		v := &l.vcpus[i]
		e := &p.order[v.snap].est
		v.movable = !s.VCPUs[v.snap].Fixed && v.demand > 0 && (!e.cooling || contradicted && !e.corrected)
	}
	p.ranges.resolve(l, p.maskOf, p.keepMask)
	pl := newPlacement(l, &p.arrays)
	if start := pl.spread(); start > t {
		pl = pl.settle(t, true)
		if pl.spread() > t && l.nodeGap(home) > t {
			pl = pl.settle(t, false)
		}
		if end := pl.spread(); end > t && start-end <= t {
			pl.undo(0) // the adoption rule: too small a gain to act on
		}
	}
	pl.unstack()
	plan, moved := pl.plan()
	p.predicted, p.planned = pl.spread(), true
	for k, v := range moved {
		p.expect(l.vcpus[v].snap, plan.Moves[k].To, s.At)
	}
	return plan
}

// settle searches from p and, when that ends above t, from a re-pack of
// p too (repack); it returns whichever ends with the lower spread.
func (p *placement) settle(t int64, local bool) *placement {
	n := len(p.trail)
	p.search(t, local)
	if p.spread() <= t {
		return p
	}
	r := p.clone()
	r.undo(n)
	r.repack(t, local)
	r.search(t, local)
	if r.spread() < p.spread() {
		return r
	}
	return p
}

// searchBudget bounds the steps of one search, per vCPU plus a few: each
// step strictly lowers the sum of squared demands, so the search ends
// anyway; the bound keeps a pathological host from taking long.
const (
	searchStepsPerVCPU = 4
	searchStepsExtra   = 16
)

// search takes steps until the spread is within t or none qualifies, then
// undoes the moves after the first point with the lowest spread, so that
// searching again from the result changes nothing. A step, the best of a
// few candidates:
//
//  1. move a vCPU off the busiest pCPU to the freest pCPU it may use;
//  2. if none helps, swap a vCPU of the busiest pCPU with a lighter one
//     of one of the freest pCPUs;
//  3. if none helps, move a vCPU from any pCPU onto the freest pCPU
//     (raising the minimum when the busiest cannot shed demand).
//
// A step is taken only if it does not raise the spread and strictly
// lowers the sum of squared demands (demand d moves from a to b with
// 0 < d < demand(a) - demand(b)), so the search never just swaps an
// imbalance. With local set, every step stays inside one NUMA node.
func (p *placement) search(t int64, local bool) {
	start := len(p.trail)
	best, bestAt := p.spread(), start
	for budget := searchStepsPerVCPU*len(p.l.vcpus) + searchStepsExtra; budget > 0 && p.spread() > t; budget-- {
		c, ok := p.bestMove(local)
		if !ok {
			c, ok = p.bestSwap(local)
		}
		if !ok {
			c, ok = p.bestFill(local)
		}
		if !ok {
			break
		}
		if c.w < 0 {
			p.move(c.v, c.b, lowersSpread)
		} else {
			p.move(c.v, c.b, swap)
			p.move(c.w, c.a, swap)
		}
		if sp := p.spread(); sp < best {
			best, bestAt = sp, len(p.trail)
		}
	}
	p.undo(bestAt)
}

// candidate is a step under consideration: v goes from a to b and, for a
// swap, w comes back from b to a; d is the net demand moved.
type candidate struct {
	v, w   int32
	a, b   int32
	d      int64
	spread int64 // after the step
	sq     int64 // change of the sum of squared demands, halved
}

// better orders candidates: lower spread, then lower sum of squares (the
// net demand closer to half the gap), then by vCPU identity, then a move
// before a swap.
func (p *placement) better(x, y *candidate) bool {
	if x.spread != y.spread {
		return x.spread < y.spread
	}
	if x.sq != y.sq {
		return x.sq < y.sq
	}
	if x.v != y.v {
		return p.l.less(x.v, y.v)
	}
	if (x.w < 0) != (y.w < 0) {
		return x.w < 0
	}
	return x.w >= 0 && p.l.less(x.w, y.w)
}

// consider keeps, in *best, the step that moves v (and, for a swap, w
// back) between a and b, d net, when it qualifies and is better.
func (p *placement) consider(best *candidate, found *bool, v, w, a, b int32, d int64) {
	gap := p.demand[a] - p.demand[b]
	if d <= 0 || d >= gap {
		return
	}
	c := candidate{v: v, w: w, a: a, b: b, d: d, spread: p.spreadAfter(a, b, d), sq: d * (d - gap)}
	if c.spread > p.spread() {
		return
	}
	if !*found || p.better(&c, best) {
		*best, *found = c, true
	}
}

// cannotBeat reports whether no step between a and b (gap apart) can beat
// best, given the spread after half the gap moved: at most a step moves
// half the gap, which bounds both the spread after and the change of the
// sum of squares.
func cannotBeat(best *candidate, spread, gap int64) bool {
	sq := -(gap * gap) / 4
	return spread > best.spread || spread == best.spread && sq > best.sq
}

// bestMove is step 1: the best move off the busiest pCPU. vCPUs known to
// share an Allowed set share their freest target, found once.
func (p *placement) bestMove(local bool) (candidate, bool) {
	var best candidate
	found := false
	a := p.busiest()
	type target struct{ v, to int32 }
	var seen [4]target
	known := seen[:0]
	for _, v := range p.on[a] {
		x := &p.l.vcpus[v]
		b := int32(-2)
		for _, k := range known {
			if sameAllowed(x, &p.l.vcpus[k.v]) {
				b = k.to
				break
			}
		}
		if b == -2 {
			b = p.freestFor(v, a, local)
			known = append(known, target{v, b})
		}
		if b >= 0 {
			p.consider(&best, &found, v, -1, a, b, x.demand)
		}
	}
	return best, found
}

// swapTargets is how many of the freest pCPUs step 2 pairs the busiest
// with, and swapNearest how many of them it tries even when a farther
// one cannot beat the best so far (their bounds differ: spreadAfter skips
// the three freest).
const (
	swapTargets = 8
	swapNearest = edgeCount
)

// bestSwap is step 2: the best exchange between the busiest pCPU and one
// of the freest (of its node, when local).
func (p *placement) bestSwap(local bool) (candidate, bool) {
	var best candidate
	found := false
	a := p.busiest()
	n := 0

	for _, kb := range p.within(local, p.l.node[a]) {
		b := cpuOf(kb)
		if b == a || local && p.l.node[a] != p.l.node[b] {
			continue
		}
		if n++; n > swapTargets {
			break
		}
		gap := p.demand[a] - p.demand[b]
		if found && cannotBeat(&best, p.spreadAfter(a, b, gap/2), gap) {
			if n > swapNearest {
				break // farther targets only do worse
			}
			continue
		}
		back := p.back[:0] // the vCPUs of b that may go to a
		for _, w := range p.on[b] {
			if x := &p.l.vcpus[w]; p.l.allows(x, a) {
				back = append(back, vdemand{w, x.demand})
			}
		}
		p.back = back
		for _, v := range p.on[a] {
			dv := p.l.vcpus[v].demand
			if dv <= 0 || len(back) == 0 || !p.l.allows(&p.l.vcpus[v], b) {
				continue
			}
			for _, w := range back {
				if d := dv - w.demand; d > 0 && d < gap {
					p.consider(&best, &found, v, w.v, a, b, d)
				}
			}
		}
	}
	return best, found
}

// bestFill is step 3: the best move onto the freest pCPU b, from any pCPU
// (of b's node, when local). Sources are scanned busiest first; below the
// busiest, what a source can reach only worsens as its demand falls (the
// rest's maximum is the host's, and the pair meets lower), so the scan
// stops at the first that cannot beat the best so far, except among the
// freest few, whose bounds differ.
func (p *placement) bestFill(local bool) (candidate, bool) {
	var best candidate
	found := false
	b := p.freest()
	o := p.within(local, p.l.node[b])
	m := len(o)
	cur := p.spread()
	for k := m - 1; k >= 1; k-- {
		a := cpuOf(o[k])
		gap := p.demand[a] - p.demand[b]
		if gap <= 1 {
			break
		}
		if local && p.l.node[a] != p.l.node[b] {
			continue
		}
		if lb := p.spreadAfter(a, b, gap/2); lb > cur || found && cannotBeat(&best, lb, gap) {
			if k < m-1 && k > edgeCount {
				break
			}
			continue
		}
		for _, v := range p.on[a] {
			if d := p.l.vcpus[v].demand; d < gap && p.l.allows(&p.l.vcpus[v], b) {
				p.consider(&best, &found, v, -1, a, b, d)
			}
		}
	}
	return best, found
}

// tieScan bounds how many pCPUs of equal demand freestFor compares by
// cost: enough for a core's siblings and a node's first idle cores, few
// enough that an idle host does not cost a scan of every pCPU per vCPU.
const tieScan = 32

// freestFor returns the freest pCPU other than a that v may use (inside
// a's node when local), or -1; among pCPUs of equal demand, the cheapest
// move from a (moveCost).
func (p *placement) freestFor(v, a int32, local bool) int32 {
	x := &p.l.vcpus[v]
	best, ties := int32(-1), 0
	var bestDemand int64
	var bestCost cost // once ties > 0
	for _, k := range p.within(local, p.l.node[a]) {
		c := cpuOf(k)
		if c == a || !p.l.allows(x, c) {
			continue
		}
		switch {
		case best < 0:
			best, bestDemand = c, k>>keyShift
			continue
		case k>>keyShift != bestDemand || ties >= tieScan:
			return best
		}
		if ties == 0 {
			bestCost = p.moveCost(a, best)
		}
		ties++
		if cc := p.moveCost(a, c); cc.cheaper(bestCost) {
			best, bestCost = c, cc
		}
	}
	return best
}

// Moving one vCPU at a time can corner itself on a crowded host (four
// burners and four half-loads on one pCPU of four: two burners land
// together before the halves move). So when the search ends above the
// threshold, settle also tries a re-pack and keeps it if it ends lower:
// movable vCPUs, largest first, stay where they are while their pCPU
// stays at or under its node's mean plus half the threshold
// (repackSlackOfThreshold); the others, in the same order, go to the
// freest pCPU they may use (inside their node when local) if that pCPU
// is then still under the one they leave.
const repackSlackOfThreshold = 2 // the limit is the mean plus t / this

// repack re-packs p. Who moves is decided on the demands before the
// re-pack (kept, limits, each vCPU's pCPU); where to, on the demands as
// the re-pack goes.
func (p *placement) repack(t int64, local bool) {
	var vs []int32
	kept := slices.Clone(p.demand) // per pCPU: what stays there
	for c, on := range p.on {
		for _, v := range on {
			vs = append(vs, v)
			kept[c] -= p.l.vcpus[v].demand
		}
	}
	slices.SortFunc(vs, func(v, w int32) int { // largest first, then by identity
		return cmp.Or(cmp.Compare(p.l.vcpus[w].demand, p.l.vcpus[v].demand), p.l.id(v).Compare(p.l.id(w)))
	})
	sum, n := p.l.nodeTotals(p.demand, local)
	for _, v := range vs {
		c, d := p.at[v], p.l.vcpus[v].demand
		k := 0
		if local {
			k = int(p.l.node[c])
		}
		if limit := (sum[k]+n[k]-1)/n[k] + t/repackSlackOfThreshold; kept[c]+d <= limit {
			kept[c] += d
			continue
		}
		if to := p.freestFor(v, c, local); to >= 0 && p.demand[to]+d < p.demand[c] {
			p.move(v, to, lowersSpread)
		}
	}
}

// unstack moves, one at a time, a busy vCPU off a core whose SMT siblings
// are both busy onto a whole idle core, of the same NUMA node if one can
// take it, else of another (a whole core is worth more than memory
// locality to a busy vCPU), when that does not raise the spread: the
// per-pCPU demands the search balances count each sibling as a whole
// pCPU. At most one move per core.
func (p *placement) unstack() {
	for budget := len(p.l.cores); budget > 0; budget-- {
		v, to, ok := p.unstackStep()
		if !ok {
			return
		}
		p.move(v, to, unstack)
	}
}

// unstackStep finds the first (by core, then pCPU index) busy movable
// vCPU on a stacked core that an idle core can take.
func (p *placement) unstackStep() (v, to int32, ok bool) {
	if !slices.ContainsFunc(p.l.cores, func(sib []int32) bool { return idleCore(p.demand, sib) }) {
		return -1, -1, false
	}
	for _, sib := range p.l.cores {
		if !stacked(p.demand, sib) {
			continue
		}
		for _, c := range sib {
			for _, v := range p.on[c] {
				x := &p.l.vcpus[v]
				if x.demand < busyDemand {
					continue
				}
				if to := p.idleCoreFor(v, c); to >= 0 && p.spreadAfter(c, to, x.demand) <= p.spread() {
					return v, to, true
				}
			}
		}
	}
	return -1, -1, false
}

// idleCoreFor returns the freest pCPU that v may use in the first whole
// idle core of c's node or, failing that, of any node; or -1.
func (p *placement) idleCoreFor(v, c int32) int32 {
	x := &p.l.vcpus[v]
	for _, local := range []bool{true, false} {
		for _, sib := range p.l.cores {
			if local && p.l.node[sib[0]] != p.l.node[c] || !idleCore(p.demand, sib) {
				continue
			}
			best := int32(-1)
			for _, d := range sib {
				if p.l.allows(x, d) && (best < 0 || p.demand[d] < p.demand[best]) {
					best = d
				}
			}
			if best >= 0 {
				return best
			}
		}
	}
	return -1
}
