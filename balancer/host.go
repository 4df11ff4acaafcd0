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

// hv is one managed vCPU inside a host view.
type hv struct {
	domain string
	index  int
	pinned bool  // pinned to a single pCPU of the balanced set
	home   int32 // dense pCPU at the start: its pin, or where it ran
	load   int64 // usage or demand, in units
	known  bool  // present in prev, so load was measured
}

// less orders vCPUs by (domain, index): the package's stable tie-break.
func (v *hv) less(w *hv) bool {
	if v.domain != w.domain {
		return v.domain < w.domain
	}
	return v.index < w.index
}

// host is what a policy sees: the balanced pCPUs (dense indices, in
// ascending CPU id order) and the vCPUs it may manage.
type host struct {
	cpus  []int // dense index -> CPU id
	vcpus []hv
}

type vkey struct {
	domain string
	index  int
}

// newHost keeps the vCPUs cfg lets the policy manage and measures their
// load over the interval: run time only, or run plus wait when demand is
// set. A vCPU absent from prev (or whose counters went backwards) is new:
// it keeps its place, with load 0, and is never moved.
func newHost(prev, cur Snapshot, interval time.Duration, cfg Config, demand bool) *host {
	h := &host{cpus: cfg.CPUs.List()}
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
	h.vcpus = make([]hv, 0, len(cur.VCPUs))
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
		x := hv{domain: v.Domain, index: v.Index, pinned: pinned, home: home}
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
			x.load = int64(math.Round(float64(d) * fullCPU / float64(interval.Nanoseconds())))
		}
		h.vcpus = append(h.vcpus, x)
	}
	return h
}

// thresholdUnits converts a threshold in percentage points to units.
func thresholdUnits(t float64) int64 {
	if !(t > 0) {
		return 0
	}
	return int64(math.Round(t * unitsPerPercent))
}
