package balancer

import "sort"

// bbWork bounds the exact search (nodes times pCPUs).
const bbWork = 4_000_000

// maxExactPCPUs is the most pCPUs the exact search is tried on.
const maxExactPCPUs = 16

// bestSpread returns the lowest spread (max minus min pCPU load) any
// placement of items on m pCPUs can reach. It is exact (second result true)
// when LPT meets the lower bound, or when a branch and bound over the
// items, largest first, finishes within its budget (tried up to 16 pCPUs); otherwise it returns a sound lower bound: the larger of
// "total not divisible by m" (1 unit) and "the largest item minus the mean
// of the rest over the other m-1 pCPUs".
func bestSpread(items []int64, m int) (int64, bool) {
	var xs []int64
	var total int64
	for _, x := range items {
		if x > 0 {
			xs = append(xs, x)
			total += x
		}
	}
	if m <= 1 || len(xs) == 0 {
		return 0, true
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i] > xs[j] })
	if len(xs) < m {
		return xs[0], true // some pCPU stays empty and one holds the largest
	}
	lo, hi := total/int64(m), (total+int64(m)-1)/int64(m)
	lb := max(hi-lo, xs[0]-(total-xs[0])/int64(m-1))
	loads := make([]int64, m)
	for _, x := range xs { // LPT: a good first answer
		loads[argmin(loads)] += x
	}
	best := spreadOf(loads)
	if best == lb {
		return best, true
	}
	if m > maxExactPCPUs {
		return lb, false
	}
	rem := make([]int64, len(xs)+1)
	for i := len(xs) - 1; i >= 0; i-- {
		rem[i] = rem[i+1] + xs[i]
	}
	clear(loads)
	budget := bbWork / m
	var rec func(i int) bool // false once the budget is spent
	rec = func(i int) bool {
		if budget--; budget < 0 {
			return false
		}
		mx, mn := loads[0], loads[0]
		for _, l := range loads[1:] {
			mx, mn = max(mx, l), min(mn, l)
		}
		if i == len(xs) {
			best = min(best, mx-mn)
			return true
		}
		if max(mx, hi)-min(lo, mn+rem[i]) >= best {
			return true
		}
		for b := range loads {
			if dupLoad(loads, b) {
				continue // same as an earlier pCPU with this load
			}
			loads[b] += xs[i]
			ok := rec(i + 1)
			loads[b] -= xs[i]
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
	return best, true
}

func dupLoad(loads []int64, b int) bool {
	for _, l := range loads[:b] {
		if l == loads[b] {
			return true
		}
	}
	return false
}

func argmin(l []int64) int {
	j := 0
	for i := range l {
		if l[i] < l[j] {
			j = i
		}
	}
	return j
}
