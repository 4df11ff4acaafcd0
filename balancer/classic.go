package balancer

import "slices"

// classic is the seed's policy, kept exactly, flaws included.
type classic struct{}

// NewClassic returns the seed's policy: usage is measured run time only
// (wait, background and topology are ignored); if the busiest pCPU's usage
// exceeds the freest's by more than the threshold, the busiest vCPU on the
// busiest pCPU is pinned to the freest pCPU (ties go to the lowest CPU id
// and the first vCPU by identity); every other unpinned vCPU is pinned
// where it last ran. One move per cycle. It never checks that the move
// helps, so a lone heavy vCPU ping-pongs. The one addition to the seed:
// a vCPU whose Allowed set excludes the freest pCPU is never the mover,
// because vsched never pins outside the operator's range.
func NewClassic() Policy { return classic{} }

// Name returns "classic".
func (classic) Name() string { return "classic" }

// Plan implements Policy.
func (classic) Plan(s Snapshot, cfg Config) Plan {
	h := newLayout(&s, newPCPUs(&cfg), nil)
	if len(h.vcpus) == 0 {
		return Plan{}
	}
	load := make([]int64, len(h.cpus))
	for i := range h.vcpus {
		v := &h.vcpus[i]
		v.demand = units(s.VCPUs[v.snap].Usage)
		load[v.home] += v.demand
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
	mover := int32(-1)
	if load[busiest]-load[freest] > thresholdUnits(cfg.Threshold) {
		for i := range h.vcpus {
			v := &h.vcpus[i]
			if v.home != int32(busiest) || s.VCPUs[v.snap].Fixed || !h.allows(v, int32(freest)) {
				continue
			}
			if mover < 0 || v.demand > h.vcpus[mover].demand ||
				v.demand == h.vcpus[mover].demand && h.less(int32(i), mover) {
				mover = int32(i)
			}
		}
	}
	var plan Plan
	if mover >= 0 {
		plan.Moves = append(plan.Moves, h.move(&h.vcpus[mover], int32(freest), ReasonBusiestToFreest))
	}
	var inPlace []Move
	for i := range h.vcpus {
		if v := &h.vcpus[i]; int32(i) != mover && !v.pinned && !s.VCPUs[v.snap].Fixed {
			inPlace = append(inPlace, h.move(v, v.home, ReasonPinInPlace))
		}
	}
	sortMoves(inPlace)
	plan.Moves = append(plan.Moves, inPlace...)
	return plan
}

// sortMoves orders moves by vCPU identity.
func sortMoves(ms []Move) {
	slices.SortFunc(ms, func(a, b Move) int { return a.ID.Compare(b.ID) })
}
