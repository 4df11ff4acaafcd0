package sim

import (
	"slices"
)

// bbWork bounds the exact search (nodes times pCPUs).
const bbWork = 4_000_000

// maxExactPCPUs is the most pCPUs the exact search is tried on.
const maxExactPCPUs = 16

// item is one vCPU's demand and the pCPUs it may use (bit c set: pCPU c;
// 0: any).
type item struct {
	load int64
	mask uint64
}

// problem is a placement problem: items on len(base) pCPUs, each pCPU
// starting at its background load.
type problem struct {
	items []item
	base  []int64
	loose bool // some constraint could not be expressed: bestSpread is a lower bound
}

func (it item) may(c int) bool { return it.mask == 0 || it.mask&(1<<c) != 0 }

// bestSpread returns the lowest spread (max minus min pCPU load,
// background included) any placement of the items, each within its mask,
// can reach. It is exact (second result true) when a greedy placement
// meets a lower bound, or when a branch and bound over the items, largest
// first, finishes within its budget (tried up to 16 pCPUs); otherwise it
// returns a sound lower bound.
func bestSpread(p problem) (int64, bool) {
	m := len(p.base)
	var xs []item
	total := int64(0)
	constrained := false
	for _, x := range p.items {
		if x.load > 0 {
			xs = append(xs, x)
			total += x.load
			constrained = constrained || x.mask != 0
		}
	}
	for _, b := range p.base {
		total += b
	}
	if m <= 1 {
		return 0, true
	}
	slices.SortStableFunc(xs, func(a, b item) int {
		switch {
		case a.load > b.load:
			return -1
		case a.load < b.load:
			return 1
		}
		return 0
	})
	lb := lowerBound(xs, p.base, total)
	loads := slices.Clone(p.base)
	for _, x := range xs { // greedy: largest first, each on the freest pCPU it may use
		best := -1
		for c := range loads {
			if x.may(c) && (best < 0 || loads[c] < loads[best]) {
				best = c
			}
		}
		loads[best] += x.load
	}
	best := spreadOf(loads)
	if best == lb {
		return best, !p.loose
	}
	if m > maxExactPCPUs {
		return lb, false
	}
	copy(loads, p.base)
	rem := make([]int64, len(xs)+1)
	for i := len(xs) - 1; i >= 0; i-- {
		rem[i] = rem[i+1] + xs[i].load
	}
	lo, hi := total/int64(m), (total+int64(m)-1)/int64(m)
	budget := bbWork / m
	var rec func(i int) bool // false once the budget is spent
	rec = func(i int) bool {
		if budget--; budget < 0 {
			return false
		}
		if i == len(xs) {
			best = min(best, spreadOf(loads))
			return true
		}
		// The max only grows, to at least the mean; the min rises at most
		// to the mean, or by what is left to place.
		if max(slices.Max(loads), hi)-min(lo, slices.Min(loads)+rem[i]) >= best {
			return true
		}
		for b := range loads {
			if !xs[i].may(b) || !constrained && dupLoad(loads, b) {
				continue // not allowed, or the same as an earlier pCPU with this load
			}
			loads[b] += xs[i].load
			ok := rec(i + 1)
			loads[b] -= xs[i].load
			if !ok {
				return false
			}
			if best == lb {
				return true
			}
		}
		return true
	}
	if !rec(0) {
		return lb, false
	}
	return best, !p.loose
}

// lowerBound is a sound lower bound on the spread: the mean's rounding;
// the largest background; and the pCPU with the largest item against the
// mean of the others.
func lowerBound(xs []item, base []int64, total int64) int64 {
	m := int64(len(base))
	lo, hi := total/m, (total+m-1)/m
	lb := max(hi, slices.Max(base)) - lo
	if len(xs) > 0 {
		top := xs[0].load + slices.Min(base)
		lb = max(lb, top-(total-top)/(m-1))
	}
	return max(lb, 0)
}

func spreadOf(load []int64) int64 {
	if len(load) == 0 {
		return 0
	}
	return slices.Max(load) - slices.Min(load)
}

func dupLoad(loads []int64, b int) bool {
	for _, l := range loads[:b] {
		if l == loads[b] {
			return true
		}
	}
	return false
}
