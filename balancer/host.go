package balancer

import "math"

// Loads are integer milli-percent of one pCPU, so that sums are exact and
// the same state always compares the same way.
const (
	unitsPerPercent = 1000
	fullCPU         = 100 * unitsPerPercent
)

// units converts a percentage of one pCPU to load units, clamped to 0 and
// one pCPU (a thread cannot want more; schedstat's wait is lumpy).
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

// host is a snapshot seen on dense pCPU indices: 0..m-1 for the CPUs of
// Config.CPUs in ascending id order.
type host struct {
	cpus  []int      // dense index -> CPU id
	node  []int32    // per pCPU: its NUMA node (0 when the topology has none)
	core  []int32    // per pCPU: its core, or -1 when not in any core
	pair  []int32    // per pCPU: its one SMT sibling when its core has two, else -1
	cores [][]int32  // per core: its pCPUs
	bg    []int64    // per pCPU: background load
	vcpus []hv       // the vCPUs that run on a balanced pCPU
	src   []VCPU     // the snapshot's vCPUs, which hv.src indexes
	masks [][]uint64 // distinct Allowed sets over dense pCPUs, which hv.mask indexes

	// Kept for the next reset: dense CPU id -> index, the cores' pCPUs,
	// and masks' indices by address.
	dense   []int32
	coreBuf []int32
	maskOf  map[*uint64]int32
	loadBuf []int64
}

// Values of hv.mask that index no mask.
const (
	anyCPU = -1 // Allowed is empty: any balanced pCPU
	noMask = -2 // no cache: ask Allowed itself
)

// hv is one vCPU inside a host view.
type hv struct {
	src    int32 // its place in the snapshot
	home   int32 // pCPU at the start: its pin, or where it ran
	mask   int32 // its Allowed set in host.masks, or anyCPU or noMask
	pinned bool  // pinned to a single pCPU
	mov    bool  // the policy may move it
	load   int64 // what the policy counts for it
}

// newHost maps s onto cfg's pCPUs. A vCPU with an empty affinity, or that
// runs (or is pinned) outside cfg.CPUs, is left out: its load is not on a
// balanced pCPU. Loads are left to the policy.
func newHost(s *Snapshot, cfg *Config) *host {
	return new(host).reset(s, cfg, nil)
}

// reset makes h the view of s on cfg's pCPUs, as newHost does, reusing
// h's arrays; sets, when not nil, caches CPU-set conversions between calls.
func (h *host) reset(s *Snapshot, cfg *Config, sets *setCache) *host {
	if sets != nil {
		sets.begin(cfg.CPUs)
		defer sets.end()
	}
	h.cpus, h.src = sets.list(cfg.CPUs), s.VCPUs
	h.cores, h.vcpus, h.masks = h.cores[:0], h.vcpus[:0], h.masks[:0]
	h.node, h.core, h.pair, h.bg = h.node[:0], h.core[:0], h.pair[:0], h.bg[:0]
	m := len(h.cpus)
	if m == 0 {
		return h
	}
	h.dense = resize(h.dense, h.cpus[m-1]+1)
	dense := h.dense
	for i := range dense {
		dense[i] = -1
	}
	for i, c := range h.cpus {
		dense[c] = int32(i)
	}
	in := func(c int) int32 {
		if c < 0 || c >= len(dense) {
			return -1
		}
		return dense[c]
	}
	h.node, h.core, h.bg = resize(h.node, m), resize(h.core, m), resize(h.bg, m)
	for n, set := range cfg.Topology.Nodes {
		for _, c := range sets.list(set) {
			if d := in(c); d >= 0 {
				h.node[d] = int32(n)
			}
		}
	}
	h.pair = resize(h.pair, m)
	for i := range h.core {
		h.core[i], h.pair[i] = -1, -1
	}
	h.coreBuf = resize(h.coreBuf, m) // each pCPU is in one core at most
	free := h.coreBuf
	for _, set := range cfg.Topology.Cores {
		sib := free[:0]
		for _, c := range sets.list(set) {
			if d := in(c); d >= 0 && h.core[d] < 0 {
				sib = append(sib, d)
			}
		}
		if len(sib) > 1 {
			sib, free = sib[:len(sib):len(sib)], free[len(sib):]
			for _, d := range sib {
				h.core[d] = int32(len(h.cores))
			}
			h.cores = append(h.cores, sib)
		}
		if len(sib) == 2 {
			h.pair[sib[0]], h.pair[sib[1]] = sib[1], sib[0]
		}
	}
	for c, pct := range s.Background {
		if d := in(c); d >= 0 {
			h.bg[d] = units(pct)
		}
	}
	if h.maskOf == nil {
		h.maskOf = map[*uint64]int32{}
	}
	maskOf := h.maskOf
	clear(maskOf)
	var lastSet uintptr // the last Allowed set seen, and its mask index
	var lastMask int32
	for i := range s.VCPUs {
		v := &s.VCPUs[i]
		x := hv{src: int32(i), home: in(v.PCPU), mask: anyCPU}
		switch v.Pin.Size() {
		case 0:
			continue
		case 1:
			x.pinned = true
			if !v.Pin.Contains(v.PCPU) {
				x.home = in(v.Pin.List()[0])
			}
		}
		if x.home < 0 {
			continue
		}
		if !v.Allowed.IsEmpty() {
			x.mask = noMask
			if id := setID(v.Allowed); id != 0 && id == lastSet {
				x.mask = lastMask // a domain's vCPUs usually share one set
			} else if m := sets.mask(v.Allowed, in); m != nil {
				k, ok := maskOf[&m[0]]
				if !ok {
					k = int32(len(h.masks))
					maskOf[&m[0]] = k
					h.masks = append(h.masks, m)
				}
				x.mask, lastSet, lastMask = k, id, k
			}
		}
		h.vcpus = append(h.vcpus, x)
	}
	return h
}

// allowed reports whether v may be pinned to pCPU c.
func (h *host) allowed(v *hv, c int32) bool {
	switch v.mask {
	case anyCPU:
		return true
	case noMask:
		return h.src[v.src].Allowed.Contains(h.cpus[c])
	}
	m := h.masks[v.mask]
	return m[c>>6]&(1<<(c&63)) != 0
}

// sameAllowed reports whether v and w are known to share their Allowed set.
func sameAllowed(v, w *hv) bool { return v.mask == w.mask && v.mask != noMask }

// less orders vCPUs by identity (domain UUID, then vCPU id): the
// package's tie-break.
func (h *host) less(v, w int32) bool { return h.id(v).Compare(h.id(w)) < 0 }

// id returns v's identity.
func (h *host) id(v int32) VCPUID { return h.src[h.vcpus[v].src].ID }

// move returns the Move that pins v to dense pCPU to.
func (h *host) move(v *hv, to int32, reason string) Move {
	x := &h.src[v.src]
	from := Unpinned
	if v.pinned {
		from = h.cpus[v.home]
	}
	return Move{ID: x.ID, Name: x.Name, From: from, To: h.cpus[to], Reason: reason}
}

// loads returns each pCPU's load with every vCPU at home, in an array
// the next call reuses.
func (h *host) loads() []int64 {
	h.loadBuf = append(h.loadBuf[:0], h.bg...)
	l := h.loadBuf
	for i := range h.vcpus {
		l[h.vcpus[i].home] += h.vcpus[i].load
	}
	return l
}

// nodeGap is the highest NUMA node's mean pCPU load minus the lowest's
// for load, the loads with every vCPU at home: moves inside nodes keep each node's mean, so
// no such moves bring the spread under it. 0 with fewer than two nodes.
func (h *host) nodeGap(load []int64) int64 {
	sum, n := h.nodeTotals(load, true)
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

// nodeTotals returns, per NUMA node, the sum of load over its pCPUs and
// their number; with byNode false, the host's as node 0.
func (h *host) nodeTotals(load []int64, byNode bool) (sum, n []int64) {
	for c, l := range load {
		k := 0
		if byNode {
			k = int(h.node[c])
		}
		for k >= len(sum) {
			sum, n = append(sum, 0), append(n, 0)
		}
		sum[k] += l
		n[k]++
	}
	return sum, n
}

// resize returns b with n zero elements, reusing its array when it can.
func resize[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	b = b[:n]
	clear(b)
	return b
}
