package balancer

import (
	"math"
	"slices"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cpumask"
)

// This file is the model the adaptive search works on, and the pure
// functions that judge it:
//
//   - a layout: the snapshot seen on dense pCPU indices (0..m-1 for the
//     CPUs of Config.CPUs in ascending order), with each pCPU's NUMA node,
//     SMT siblings and background, and each vCPU's home, demand and the
//     pCPUs it may use;
//   - a placement: which vCPU is on which pCPU and the per-pCPU demand
//     that implies, kept in (demand, index) order so that the busiest and
//     the freest pCPU are at hand, with the trail of moves that made it;
//   - its spread (busiest minus freest), whether a vCPU may go to a pCPU
//     (allows), and what a move there costs beyond the spread it leaves
//     (moveCost).

// Demand is integer milli-percent of one pCPU, so that sums are exact and
// the same placement always compares the same way.
const (
	unitsPerPercent = 1000
	fullCPU         = 100 * unitsPerPercent
)

// units converts a percentage of one pCPU to demand units, clamped to 0
// and one pCPU (a thread cannot want more; schedstat's wait is lumpy).
func units(pct float64) int64 {
	if !(pct > 0) {
		return 0
	}
	return min(int64(math.Round(pct*unitsPerPercent)), fullCPU)
}

// thresholdUnits converts a threshold in percentage points to units.
func thresholdUnits(t float64) int64 {
	if !(t > 0) {
		return 0
	}
	return int64(math.Round(t * unitsPerPercent))
}

// layout is a snapshot seen on the dense pCPU indices of Config.CPUs.
type layout struct {
	*pcpus
	background []int64    // per pCPU: demand that is no vCPU's
	vcpus      []vcpu     // the vCPUs that run on a balanced pCPU
	snapshot   []VCPU     // the snapshot's vCPUs, which vcpu.snap indexes
	ranges     [][]uint64 // distinct Allowed sets as masks over dense pCPUs
}

// pcpus is the part of a layout that depends on the Config alone: the
// balanced pCPUs, their NUMA nodes and their SMT siblings.
type pcpus struct {
	cpus    []int     // dense index -> CPU id
	dense   []int32   // CPU id -> dense index, or -1
	node    []int32   // per pCPU: its NUMA node (0 when the topology has none)
	core    []int32   // per pCPU: its core, or -1 when not in any core
	sibling []int32   // per pCPU: its one SMT sibling when its core has two, else -1
	cores   [][]int32 // per core: its pCPUs
	// what it was made from: Config.CPUs, the nodes, each core's CPUs
	set      cpuset.CPUSet
	nodeSets []cpuset.CPUSet
	coreCPUs [][]int
}

// newPCPUs maps cfg's CPUs and topology onto dense indices.
func newPCPUs(cfg *Config) *pcpus {
	h := &pcpus{cpus: cfg.CPUs.List(), set: cfg.CPUs, nodeSets: cfg.Topology.Nodes}
	h.coreCPUs = make([][]int, len(cfg.Topology.Cores))
	for k, set := range cfg.Topology.Cores {
		h.coreCPUs[k] = set.List()
	}
	m := len(h.cpus)
	if m == 0 {
		return h
	}
	h.dense = make([]int32, h.cpus[m-1]+1)
	for i := range h.dense {
		h.dense[i] = -1
	}
	for i, c := range h.cpus {
		h.dense[c] = int32(i)
	}
	h.node, h.core, h.sibling = make([]int32, m), make([]int32, m), make([]int32, m)
	for n, set := range cfg.Topology.Nodes {
		for _, c := range set.UnsortedList() {
			if d := h.index(c); d >= 0 {
				h.node[d] = int32(n)
			}
		}
	}
	for i := range h.core {
		h.core[i], h.sibling[i] = -1, -1
	}
	for _, cpus := range h.coreCPUs {
		var sib []int32
		for _, c := range cpus {
			if d := h.index(c); d >= 0 && h.core[d] < 0 {
				sib = append(sib, d)
			}
		}
		if len(sib) > 1 {
			for _, d := range sib {
				h.core[d] = int32(len(h.cores))
			}
			h.cores = append(h.cores, sib)
		}
		if len(sib) == 2 {
			h.sibling[sib[0]], h.sibling[sib[1]] = sib[1], sib[0]
		}
	}
	return h
}

// madeFrom reports whether h is what newPCPUs makes of cfg: the caller
// usually passes the same Config every window. The CPUs and the nodes are
// compared with Equals, quick for the same set value; the cores, hundreds
// of tiny sets, by size and membership, which unlike Equals allocates
// nothing (a fifth of a balanced plan at 768 pCPUs with Equals;
// BenchmarkPlan3072VCPUs768PCPUsBalanced).
func (h *pcpus) madeFrom(cfg *Config) bool {
	if !h.set.Equals(cfg.CPUs) || len(h.coreCPUs) != len(cfg.Topology.Cores) ||
		!slices.EqualFunc(h.nodeSets, cfg.Topology.Nodes, cpuset.CPUSet.Equals) {
		return false
	}
	for k, set := range cfg.Topology.Cores {
		if set.Size() != len(h.coreCPUs[k]) {
			return false
		}
		for _, c := range h.coreCPUs[k] {
			if !set.Contains(c) {
				return false
			}
		}
	}
	return true
}

// Values of vcpu.allowed that name no mask of layout.ranges.
const (
	anyCPU  = -1 // Allowed is empty: any balanced pCPU
	askSets = -2 // no mask made: ask the Allowed set itself
)

// vcpu is one vCPU of a layout.
type vcpu struct {
	snap    int32 // its index in the snapshot
	home    int32 // its pCPU at the start: its pin, or where it ran
	allowed int32 // its Allowed set's mask in layout.ranges, or anyCPU or askSets
	pinned  bool  // pinned to a single pCPU
	movable bool  // the policy may move it
	demand  int64 // what the policy counts for it
}

// newLayout maps s onto h, the pCPUs of its Config, in arrays taken from
// a (nil: new ones). A vCPU with an empty
// affinity, or that runs (or is pinned) outside them, is left out: its
// demand is not on a balanced pCPU. Demands are left to the policy, and
// so are the Allowed masks (see ranges.resolve): every vCPU with an
// Allowed set starts at askSets.
func newLayout(s *Snapshot, h *pcpus, a *arrays) *layout {
	l := &layout{pcpus: h, snapshot: s.VCPUs}
	if a == nil {
		a = new(arrays)
	}
	if len(h.cpus) == 0 {
		return l
	}
	l.background = take(&a.background, len(h.cpus))
	for c, pct := range s.Background {
		if d := l.index(c); d >= 0 {
			l.background[d] = units(pct)
		}
	}
	l.vcpus = take(&a.vcpus, len(s.VCPUs))[:0]
	for i := range s.VCPUs {
		v := &s.VCPUs[i]
		x := vcpu{snap: int32(i), home: l.index(v.PCPU), allowed: anyCPU}
		switch v.Pin.Size() {
		case 0:
			continue
		case 1:
			x.pinned = true
			if !v.Pin.Contains(v.PCPU) {
				x.home = l.index(v.Pin.List()[0])
			}
		}
		if x.home < 0 {
			continue
		}
		if !v.Allowed.IsEmpty() {
			x.allowed = askSets
		}
		l.vcpus = append(l.vcpus, x)
	}
	return l
}

// index returns CPU c's dense index, or -1 when c is not balanced.
func (h *pcpus) index(c int) int32 {
	if c < 0 || c >= len(h.dense) {
		return -1
	}
	return h.dense[c]
}

// allows reports whether v may be pinned to pCPU c: inside its Allowed
// set (the operator's range, which excludes isolated CPUs, ∩ Config.CPUs).
// Node binding is the search's: a local step offers only v's node.
func (l *layout) allows(v *vcpu, c int32) bool {
	switch v.allowed {
	case anyCPU:
		return true
	case askSets:
		return l.snapshot[v.snap].Allowed.Contains(l.cpus[c])
	}
	return cpumask.Has(l.ranges[v.allowed], int(c))
}

// sameAllowed reports whether v and w are known to share their Allowed set.
func sameAllowed(v, w *vcpu) bool { return v.allowed == w.allowed && v.allowed != askSets }

// id returns v's identity.
func (l *layout) id(v int32) VCPUID { return l.snapshot[l.vcpus[v].snap].ID }

// less orders vCPUs by identity (domain UUID, then vCPU id): the
// package's tie-break.
func (l *layout) less(v, w int32) bool { return l.id(v).Compare(l.id(w)) < 0 }

// move returns the Move that pins v to dense pCPU to.
func (l *layout) move(v *vcpu, to int32, reason string) Move {
	x := &l.snapshot[v.snap]
	from := Unpinned
	if v.pinned {
		from = l.cpus[v.home]
	}
	return Move{ID: x.ID, Name: x.Name, From: from, To: l.cpus[to], Reason: reason}
}

// homeDemand returns each pCPU's demand with every vCPU at home.
func (l *layout) homeDemand() []int64 {
	d := slices.Clone(l.background)
	for i := range l.vcpus {
		d[l.vcpus[i].home] += l.vcpus[i].demand
	}
	return d
}

// nodeTotals returns, per NUMA node, the sum of demand over its pCPUs and
// their number; with byNode false, the host's as node 0.
func (l *layout) nodeTotals(demand []int64, byNode bool) (sum, n []int64) {
	for c, d := range demand {
		k := 0
		if byNode {
			k = int(l.node[c])
		}
		for k >= len(sum) {
			sum, n = append(sum, 0), append(n, 0)
		}
		sum[k] += d
		n[k]++
	}
	return sum, n
}

// nodeGap is the highest NUMA node's mean pCPU demand minus the lowest's:
// moves inside nodes keep each node's mean, so no such moves bring the
// spread under it. 0 with fewer than two nodes.
func (l *layout) nodeGap(demand []int64) int64 {
	sum, n := l.nodeTotals(demand, true)
	var hi, lo int64
	first := true
	for k := range sum {
		if n[k] == 0 {
			continue
		}
		mean := sum[k] / n[k]
		if first {
			hi, lo, first = mean, mean, false
		}
		hi, lo = max(hi, mean), min(lo, mean)
	}
	return hi - lo
}

// SMT: two busy vCPUs on the siblings of one core share its throughput,
// which per-pCPU demand cannot see. These bounds say what busy and idle
// are for that judgement.
const (
	busyDemand = 50 * unitsPerPercent // a vCPU or pCPU this loaded is busy
	idleDemand = 5 * unitsPerPercent  // a pCPU this loaded is idle
)

// idleCore reports whether every pCPU of a core is idle under demand.
func idleCore(demand []int64, sib []int32) bool {
	for _, c := range sib {
		if demand[c] >= idleDemand {
			return false
		}
	}
	return true
}

// stacked reports whether two or more pCPUs of a core are busy under demand.
func stacked(demand []int64, sib []int32) bool {
	busy := 0
	for _, c := range sib {
		if demand[c] >= busyDemand {
			busy++
		}
	}
	return busy >= 2
}

// mayUnstack reports whether, under demand, some core holds two busy pCPUs
// while some core is idle: the only case the unstack step acts on.
func (l *layout) mayUnstack(demand []int64) bool {
	return slices.ContainsFunc(l.cores, func(sib []int32) bool { return stacked(demand, sib) }) &&
		slices.ContainsFunc(l.cores, func(sib []int32) bool { return idleCore(demand, sib) })
}

// spreadOf is the highest demand minus the lowest.
func spreadOf(demand []int64) int64 {
	if len(demand) == 0 {
		return 0
	}
	return slices.Max(demand) - slices.Min(demand)
}

// placement is where each vCPU of a layout is during the search, and the
// per-pCPU demand it implies (background and unmovable vCPUs included).
// The pCPUs are kept sorted by key (demand, then index), per NUMA node
// when there are several: moves inside a node keep only that node's order,
// and the host's order is merged from them when asked for.
type placement struct {
	l      *layout
	at     []int32   // per vCPU: its pCPU now
	demand []int64   // per pCPU
	key    []int64   // per pCPU: its key (see keyOf)
	on     [][]int32 // per pCPU: its movable vCPUs
	order  []int64   // the pCPUs' keys, sorted: freest first (see all)
	nodes  [][]int64 // per NUMA node: its pCPUs' keys, sorted (nil: one node)
	stale  bool      // order is out of date (with nodes only)
	edges  edges     // the busiest and freest pCPUs
	trail  []step    // the moves made, in order
	heads  []int     // per node: a cursor for merging the nodes' orders
	back   []vdemand // bestSwap's: the vCPUs of a pCPU that may go to another
}

// vdemand is a vCPU and its demand.
type vdemand struct {
	v      int32
	demand int64
}

// A pCPU's key is its demand shifted left by keyShift, with its index in
// the bits below: one comparison orders two pCPUs by demand, then index,
// and the sorted keys are the pCPUs in order (cpuOf). keyShift leaves room
// for 2^24 pCPUs, and demand is at most the background plus one pCPU per
// vCPU, far under 2^39 units.
const keyShift = 24

func keyOf(c int32, d int64) int64 { return d<<keyShift | int64(c) }

// cpuOf returns the pCPU of a key.
func cpuOf(k int64) int32 { return int32(k & (1<<keyShift - 1)) }

// edgeCount is how many of the busiest and of the freest pCPUs the
// placement keeps at hand: with three, whichever two pCPUs a move
// touches, one of each is neither.
const edgeCount = 3

// edges are the busiest and the freest pCPUs (-1 where there are fewer),
// kept until a demand changes (ok false).
type edges struct {
	ok          bool
	top, bottom [edgeCount]int32
}

// onSlack is the room, beyond its share of the vCPUs, that each pCPU's
// list of movable vCPUs starts with for vCPUs moved there.
const onSlack = 4

// step is one move of the search, kept to undo it and to explain it.
type step struct {
	v, from, to int32
	reason      reason
}

// reason is a Move's Reason, as a small number so that the trail holds no
// pointer (the garbage collector skips it).
type reason uint8

const (
	lowersSpread reason = iota
	swap
	unstack
)

// reasons are the Reason strings, by reason.
var reasons = [...]string{lowersSpread: ReasonLowersSpread, swap: ReasonSwap, unstack: ReasonUnstack}

// newPlacement puts every vCPU of l at home, in arrays taken from a (nil:
// new ones).
func newPlacement(l *layout, a *arrays) *placement {
	if a == nil {
		a = new(arrays)
	}
	m, n := len(l.cpus), len(l.vcpus)
	p := &placement{l: l, at: take(&a.at, n), demand: take(&a.demand, m),
		key: take(&a.key, m), on: take(&a.on, m), trail: take(&a.trail, n)[:0]}
	copy(p.demand, l.background)
	count := take(&a.count, m) // per pCPU: its movable vCPUs
	for i := range l.vcpus {
		v := &l.vcpus[i]
		p.at[i] = v.home
		p.demand[v.home] += v.demand
		if v.movable {
			count[v.home]++
		}
	}
	// One backing array, with room on each pCPU for a few arrivals
	// (onSlack): growing 768 lists one vCPU at a time cost a tenth of a
	// plan (BenchmarkPlan3072VCPUs768PCPUs).
	slack := onSlack + n/max(m, 1)
	buf := take(&a.onBuf, n+slack*m)
	for c, k := range count {
		p.on[c], buf = buf[:0:k+slack], buf[k+slack:]
	}
	for i := range l.vcpus {
		if v := &l.vcpus[i]; v.movable {
			p.on[v.home] = append(p.on[v.home], int32(i))
		}
	}
	for c, d := range p.demand {
		p.key[c] = keyOf(int32(c), d)
	}
	p.order = take(&a.order, m)
	copy(p.order, p.key)
	slices.Sort(p.order)
	if k := int(slices.Max(l.node)) + 1; k > 1 {
		p.nodes, p.heads = make([][]int64, k), make([]int, k)
		for _, key := range p.order {
			p.heads[l.node[cpuOf(key)]]++
		}
		buf := take(&a.nodeKeys, m)
		for n, size := range p.heads {
			p.nodes[n], buf = buf[:0:size], buf[size:]
		}
		for _, key := range p.order {
			n := l.node[cpuOf(key)]
			p.nodes[n] = append(p.nodes[n], key)
		}
	}
	return p
}

// arrays are the large arrays of one call's layout and placement, which
// Adaptive keeps for the next call to reuse (nil: allocate). At 3,072
// vCPUs they are 380 KB a plan: allocated anew, they brought 61 garbage
// collections in 500 plans of BenchmarkPlan3072VCPUs768PCPUs against 18,
// and on two cores each one holds a core for milliseconds.
type arrays struct {
	vcpus                                    []vcpu
	background, demand, key, order, nodeKeys []int64
	at, onBuf                                []int32
	count                                    []int
	on                                       [][]int32
	trail                                    []step
}

// take returns n zero elements of *b, reusing its array when it is large
// enough and keeping a new one in *b otherwise.
func take[T any](b *[]T, n int) []T {
	if cap(*b) < n {
		*b = make([]T, n)
		return *b
	}
	*b = (*b)[:n]
	clear(*b)
	return *b
}

// clone returns a copy of p that can change on its own.
func (p *placement) clone() *placement {
	c := *p
	c.at, c.demand, c.key = slices.Clone(p.at), slices.Clone(p.demand), slices.Clone(p.key)
	c.order, c.trail, c.heads = slices.Clone(p.order), slices.Clone(p.trail), slices.Clone(p.heads)
	c.back = nil // scratch: each placement its own
	c.on = make([][]int32, len(p.on))
	for i, l := range p.on {
		c.on[i] = slices.Clone(l)
	}
	if p.nodes != nil {
		c.nodes = make([][]int64, len(p.nodes))
		for i, l := range p.nodes {
			c.nodes[i] = slices.Clone(l)
		}
	}
	return &c
}

// within returns the keys, in order, of the pCPUs that a step from or to
// a pCPU of node n may use: n's when local, else all.
func (p *placement) within(local bool, n int32) []int64 {
	if local && p.nodes != nil {
		return p.nodes[n]
	}
	return p.all()
}

// all returns all the pCPUs' keys in order, merging the nodes' when moves
// have left order out of date (steps inside nodes never need it).
func (p *placement) all() []int64 {
	if !p.stale {
		return p.order
	}
	p.stale = false
	clear(p.heads)
	for k := range p.order {
		next, from := int64(-1), -1
		for n, l := range p.nodes {
			if h := p.heads[n]; h < len(l) && (from < 0 || l[h] < next) {
				next, from = l[h], n
			}
		}
		p.order[k] = next
		p.heads[from]++
	}
	return p.order
}

// busiest and freest return the busiest pCPU and the freest; there must
// be one.
func (p *placement) busiest() int32 { return p.ends().top[0] }
func (p *placement) freest() int32  { return p.ends().bottom[0] }

// spread is the busiest pCPU's demand minus the freest's: what the search
// lowers.
func (p *placement) spread() int64 {
	if len(p.order) == 0 {
		return 0
	}
	e := p.ends()
	return p.demand[e.top[0]] - p.demand[e.bottom[0]]
}

// spreadAfter is the spread once demand d leaves pCPU a for pCPU b: the
// new demands of a and b against the busiest and the freest of the others.
func (p *placement) spreadAfter(a, b int32, d int64) int64 {
	e := p.ends()
	na, nb := p.demand[a]-d, p.demand[b]+d
	hi, lo := max(na, nb), min(na, nb)
	for _, c := range e.top {
		if c != a && c != b {
			if c >= 0 {
				hi = max(hi, p.demand[c])
			}
			break
		}
	}
	for _, c := range e.bottom {
		if c != a && c != b {
			if c >= 0 {
				lo = min(lo, p.demand[c])
			}
			break
		}
	}
	return hi - lo
}

// siblingDemand is the demand on c's SMT siblings.
func (p *placement) siblingDemand(c int32) int64 {
	if d := p.l.sibling[c]; d >= 0 {
		return p.demand[d]
	}
	k := p.l.core[c]
	if k < 0 {
		return 0
	}
	var sum int64
	for _, d := range p.l.cores[k] {
		if d != c {
			sum += p.demand[d]
		}
	}
	return sum
}

// cost is what a move costs beyond the spread it leaves, compared when
// two targets leave the same spread: first whether it crosses the
// vCPU's NUMA node (its memory stays behind), then the demand on the
// target's SMT siblings (what the vCPU would share a core with), then
// the target's index, so that the choice is a function of the inputs.
type cost struct {
	crossesNode bool
	siblings    int64
	index       int32
}

// moveCost is the cost of moving a vCPU from pCPU a to pCPU c.
func (p *placement) moveCost(a, c int32) cost {
	return cost{crossesNode: p.l.node[c] != p.l.node[a], siblings: p.siblingDemand(c), index: c}
}

// cheaper orders costs: within the node, then lighter siblings, then the
// lower index.
func (x cost) cheaper(y cost) bool {
	if x.crossesNode != y.crossesNode {
		return !x.crossesNode
	}
	if x.siblings != y.siblings {
		return x.siblings < y.siblings
	}
	return x.index < y.index
}

// move puts movable vCPU v on pCPU to.
func (p *placement) move(v, to int32, why reason) {
	from := p.at[v]
	d := p.l.vcpus[v].demand
	if k := slices.Index(p.on[from], v); k >= 0 {
		p.on[from] = slices.Delete(p.on[from], k, k+1)
	}
	p.on[to] = append(p.on[to], v)
	p.at[v] = to
	p.setDemand(from, p.demand[from]-d)
	p.setDemand(to, p.demand[to]+d)
	p.trail = append(p.trail, step{v: v, from: from, to: to, reason: why})
}

// undo takes back the moves made after the first n.
func (p *placement) undo(n int) {
	for len(p.trail) > n {
		st := p.trail[len(p.trail)-1]
		p.move(st.v, st.from, st.reason)
		p.trail = p.trail[:len(p.trail)-2]
	}
}

// setDemand changes c's demand and moves its key to its new place in
// order (and in its node's), shifting only the keys it passes.
func (p *placement) setDemand(c int32, d int64) {
	old, key := p.key[c], keyOf(c, d)
	p.demand[c], p.key[c], p.edges.ok = d, key, false
	if p.nodes == nil {
		resort(p.order, old, key)
		return
	}
	resort(p.nodes[p.l.node[c]], old, key)
	p.stale = true
}

// resort replaces key old in sorted o with key, keeping o sorted. Moves
// mostly take demand off the busiest pCPU and onto the freest, so old is
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

// ends returns the busiest and freest pCPUs, found again after a demand
// changed: the top of each node's order (or the host's) merged.
func (p *placement) ends() *edges {
	if p.edges.ok {
		return &p.edges
	}
	e := &p.edges
	e.ok = true
	lists := p.nodes
	if lists == nil {
		lists = [][]int64{p.order}
	}
	var taken [2 * 8]int // per list: how many taken from its top and bottom
	t := taken[:]
	if len(lists) > len(taken)/2 {
		t = make([]int, 2*len(lists))
	}
	hi, lo := t[:len(lists)], t[len(lists):2*len(lists)]
	for k := range edgeCount {
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
	return e
}

// plan lists, in the order they first moved, the vCPUs whose pCPU differs
// from where they started, each with the reason of its last move; moved
// is the same vCPUs, by layout index.
func (p *placement) plan() (plan Plan, moved []int32) {
	last := make([]int, len(p.at)) // per vCPU: 1 + its last step, or 0
	for k, st := range p.trail {
		if last[st.v] == 0 {
			moved = append(moved, st.v)
		}
		last[st.v] = k + 1
	}
	moved = slices.DeleteFunc(moved, func(v int32) bool { return p.at[v] == p.l.vcpus[v].home })
	if len(moved) == 0 {
		return plan, nil // every vCPU ended where it started
	}
	plan.Moves = make([]Move, len(moved))
	for k, v := range moved {
		plan.Moves[k] = p.l.move(&p.l.vcpus[v], p.at[v], reasons[p.trail[last[v]-1].reason])
	}
	return plan, moved
}

// ranges turns Allowed sets into masks over a layout's dense pCPUs, once
// per distinct set rather than once per vCPU and call. A vCPU whose set
// is one of the last few distinct sets of this call (recentMasks: a
// domain's vCPUs share one set and are listed together, and a few ranges
// such as the NUMA nodes recur across domains) shares that mask; else the
// mask its memo kept from an earlier call is reused when the set is the
// same; only a new set is turned into a mask.
type ranges struct {
	cpus []int  // the dense CPU list the kept masks index
	gen  uint64 // counts the changes of cpus
	call uint64
}

// recentMasks is how many of this call's distinct sets a vCPU's set is
// compared with before its memo's: enough for the node-wide ranges a host
// has, few enough that a host of all-different ranges pays little.
const recentMasks = 8

// allowedMask is one Allowed set and its mask, kept by the memos of the
// vCPUs that have that set.
type allowedMask struct {
	set             cpuset.CPUSet
	size, low, high int      // set's size, lowest and highest CPU: see holds
	bits            []uint64 // over the dense CPUs of generation gen
	gen             uint64
	call            uint64 // the last call that used it, and its index in that call's layout.ranges
	index           int32
}

// holds reports whether m is set's entry. Most sets that differ differ in
// size or in an end, which is checked first: cpuset's Equals lists every
// CPU of two distinct sets before comparing them (a tenth of
// BenchmarkPlan3072VCPUs768PCPUs went there).
func (m *allowedMask) holds(set cpuset.CPUSet) bool {
	return m != nil && set.Size() == m.size && set.Contains(m.low) && set.Contains(m.high) && set.Equals(m.set)
}

// build makes m's mask over l's pCPUs (of generation gen) and notes its
// size and ends.
func (m *allowedMask) build(l *layout, gen uint64) {
	m.gen, m.bits = gen, make([]uint64, cpumask.Words(len(l.cpus)))
	m.size, m.low, m.high = 0, -1, -1
	for _, c := range m.set.UnsortedList() {
		if m.size == 0 || c < m.low {
			m.low = c
		}
		m.high, m.size = max(m.high, c), m.size+1
		if d := l.index(c); d >= 0 {
			cpumask.Set(m.bits, int(d))
		}
	}
}

// resolve gives each vCPU of l with an Allowed set its mask; mask returns
// the mask kept for the vCPU at snapshot index i, and keep stores one.
func (r *ranges) resolve(l *layout, mask func(i int32) *allowedMask, keep func(i int32, m *allowedMask)) {
	r.call++
	if !slices.Equal(r.cpus, l.cpus) {
		r.cpus = l.cpus // the kept masks index other pCPUs: made again below
		r.gen++
	}
	var recent []*allowedMask // this call's distinct masks, the latest last
	for i := range l.vcpus {
		v := &l.vcpus[i]
		if v.allowed != askSets {
			continue
		}
		set := l.snapshot[v.snap].Allowed
		var m *allowedMask
		for k := len(recent) - 1; k >= max(0, len(recent)-recentMasks); k-- {
			if recent[k].holds(set) {
				m = recent[k]
				break
			}
		}
		if m == nil {
			if m = mask(v.snap); !m.holds(set) {
				m = &allowedMask{set: set}
			}
		}
		if m.call != r.call {
			if m.gen != r.gen || m.bits == nil {
				m.build(l, r.gen)
			}
			m.call, m.index = r.call, int32(len(l.ranges))
			l.ranges = append(l.ranges, m.bits)
			recent = append(recent, m)
		}
		keep(v.snap, m)
		v.allowed = m.index
	}
}
