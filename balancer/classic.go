package balancer

import (
	"sort"
	"time"
)

// classic is the seed's policy, kept exactly, flaws included.
type classic struct{}

// NewClassic returns the seed's policy: usage is measured run time only; if
// the busiest pCPU's usage exceeds the freest's by more than the threshold,
// the busiest vCPU on the busiest pCPU is pinned to the freest pCPU (ties
// go to the lowest CPU id and the first vCPU by domain and index); every
// other unpinned vCPU is pinned where it last ran. One move per cycle. It
// never checks that the move helps, so a lone heavy vCPU ping-pongs.
func NewClassic() Policy { return classic{} }

// Name returns "classic".
func (classic) Name() string { return "classic" }

// Plan implements Policy.
func (classic) Plan(prev, cur Snapshot, interval time.Duration, cfg Config) Plan {
	h := newHost(prev, cur, interval, cfg, false)
	if len(h.vcpus) == 0 {
		return Plan{}
	}
	load := make([]int64, len(h.cpus))
	for i := range h.vcpus {
		load[h.vcpus[i].home] += h.vcpus[i].load
	}
	busiest, freest := 0, 0
	for c := range load {
		if load[c] > load[busiest] {
			busiest = c
		}
		if load[c] < load[freest] {
			freest = c
		}
	}
	var plan Plan
	mover := -1
	if load[busiest]-load[freest] > thresholdUnits(cfg.Threshold) {
		for i := range h.vcpus {
			v := &h.vcpus[i]
			if v.home != int32(busiest) || !v.known || v.fixed {
				continue
			}
			if mover < 0 || v.load > h.vcpus[mover].load ||
				v.load == h.vcpus[mover].load && h.less(v, &h.vcpus[mover]) {
				mover = i
			}
		}
	}
	if mover >= 0 {
		v := &h.vcpus[mover]
		plan.Moves = append(plan.Moves, h.move(v, h.cpus[freest], ReasonBusiestToFreest))
	}
	var inPlace []Move
	for i := range h.vcpus {
		if v := &h.vcpus[i]; i != mover && !v.pinned && !v.fixed {
			inPlace = append(inPlace, h.move(v, h.cpus[v.home], ReasonPinInPlace))
		}
	}
	sort.Slice(inPlace, func(i, j int) bool {
		if inPlace[i].Domain != inPlace[j].Domain {
			return inPlace[i].Domain < inPlace[j].Domain
		}
		return inPlace[i].VCPU < inPlace[j].VCPU
	})
	plan.Moves = append(plan.Moves, inPlace...)
	return plan
}
