package balancer

import (
	"math"
	"time"
)

// Loads are handled as integer milli-percent of one pCPU, so that sums are
// exact and the same state always compares the same way.
const (
	unitsPerPercent = 1000
	fullCPU         = 100 * unitsPerPercent
)

// hv is one managed vCPU inside a host view. It holds no pointer (its
// name stays in the snapshot), so that a large host is cheap to build and
// costs the garbage collector nothing to scan.
type hv struct {
	load   int64 // usage or demand, in units
	key    int64 // orders as (domain, index) when host.keyed
	src    int32 // its place in the current snapshot
	home   int32 // dense pCPU at the start: its pin, or where it ran
	pinned bool  // pinned to a single pCPU of the balanced set
	known  bool  // present in prev, so load was measured
	fixed  bool  // counted but never moved (VCPU.Fixed)
	mov    bool  // movable: known, load > 0 and not fixed
}

// move returns the Move that pins v to pCPU to (a CPU id).
func (h *host) move(v *hv, to int, reason string) Move {
	x := &h.src[v.src]
	from := Unpinned
	if v.pinned {
		from = h.cpus[v.home]
	}
	return Move{Domain: x.Domain, VCPU: x.Index, From: from, To: to, Reason: reason}
}

// host is what a policy sees: the balanced pCPUs (dense indices, in
// ascending CPU id order) and the vCPUs it may manage.
type host struct {
	cpus  []int // dense index -> CPU id
	vcpus []hv
	src   []VCPU // the current snapshot's vCPUs, which hv.src indexes
	keyed bool   // hv.key orders vCPUs (see keyer)
	// grouped (with keyed): within each domain, vCPUs come in ascending
	// index order, so a stable sort by domain rank sorts them by key.
	grouped bool
	domains int      // distinct domains, when keyed
	mem     *scratch // where states allocate; nil: the heap
}

type vkey struct {
	domain string
	index  int
}

// newHost keeps the vCPUs cfg lets the policy manage and measures their
// load over the interval: run time only, or run plus wait when demand is
// set, at most one full pCPU. A vCPU absent from prev (or whose counters went backwards) is new:
// it keeps its place, with load 0, and is never moved.
func newHost(prev, cur Snapshot, interval time.Duration, cfg Config, demand bool) *host {
	return fillHost(&host{}, prev, cur, interval, cfg, demand)
}

// fillHost is newHost into h, whose mem (if any) it allocates from.
func fillHost(h *host, prev, cur Snapshot, interval time.Duration, cfg Config, demand bool) *host {
	h.cpus, h.src = cfg.CPUs.List(), cur.VCPUs
	if len(h.cpus) == 0 || interval <= 0 {
		return h
	}
	dense := make([]int32, h.cpus[len(h.cpus)-1]+1)
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
	var byKey map[vkey]int
	var keys keyer
	h.vcpus = take(h.mem, vcpusOf, len(cur.VCPUs))
	n, ns := 0, float64(interval.Nanoseconds())
	for i := range cur.VCPUs {
		v := &cur.VCPUs[i]
		home, pinned := in(v.PCPU), false
		switch n := v.Pin.Size(); {
		case home < 0 || n == 0:
			continue
		case n == 1:
			pinned = true
			if !v.Pin.Contains(v.PCPU) {
				home = in(v.Pin.List()[0])
			}
		case !v.Pin.Contains(v.PCPU) && v.Pin.Intersection(cfg.CPUs).IsEmpty():
			home = -1
		}
		if home < 0 {
			continue
		}
		x := hv{src: int32(i), pinned: pinned, home: home, fixed: v.Fixed, key: keys.key(v)}
		var p *VCPU
		if i < len(prev.VCPUs) && prev.VCPUs[i].Index == v.Index && prev.VCPUs[i].Domain == v.Domain {
			p = &prev.VCPUs[i]
		} else {
			if byKey == nil {
				byKey = make(map[vkey]int, len(prev.VCPUs))
				for j, w := range prev.VCPUs {
					byKey[vkey{w.Domain, w.Index}] = j
				}
			}
			if j, ok := byKey[vkey{v.Domain, v.Index}]; ok {
				p = &prev.VCPUs[j]
			}
		}
		if p != nil && v.RunNs >= p.RunNs && v.WaitNs >= p.WaitNs {
			d := v.RunNs - p.RunNs
			if demand {
				d += v.WaitNs - p.WaitNs
			}
			x.known = true
			// A thread cannot want more than one pCPU: run plus wait above
			// the interval is schedstat's lumpy accounting (wait is added
			// when the thread next runs), not demand.
			x.load = min(int64(roundUp(float64(d)*fullCPU/ns)), fullCPU)
		}
		x.mov = x.known && x.load > 0 && !x.fixed
		h.vcpus[n] = x
		n++
	}
	h.vcpus = h.vcpus[:n]
	keys.rank(h)
	return h
}

// thresholdUnits converts a threshold in percentage points to units.
func thresholdUnits(t float64) int64 {
	if !(t > 0) {
		return 0
	}
	return int64(math.Round(t * unitsPerPercent))
}

// roundUp is math.Round for finite x >= 0 (halves away from zero), which
// it equals exactly: x - Trunc(x) is exact. Trunc is one instruction where
// Round is not.
func roundUp(x float64) float64 {
	t := math.Trunc(x)
	if x-t >= 0.5 {
		t++
	}
	return t
}
