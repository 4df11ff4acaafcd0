package balancer

import "slices"

// judge tracks, iteration by iteration, whether the host is balanced (on
// demand) and whether it meets the course's pass rule (on usage).
type judge struct {
	balanced, passed []bool
	moved            []int
	lastItems        []int64
	lastBest         int64
	lastExact        bool
	final            []int64
	m                int
}

// passRulePct is the course's pass rule: usage stddev within 5% of its mean.
const passRulePct = 5.0

// add judges one iteration: balanced when the demand spread is within t,
// or within t of the best spread the iteration's demands allow.
func (j *judge) add(it *Iteration, moved int, items []int64, m int, t int64) {
	load := make([]int64, len(it.PCPUDemand))
	for c, d := range it.PCPUDemand {
		load[c] = units(d)
	}
	sp := spreadOf(load)
	ok := sp <= t
	if !ok {
		best, _ := j.best(items, m)
		ok = sp <= best+t
	}
	j.balanced = append(j.balanced, ok)
	j.passed = append(j.passed, StddevPctOfMean(it.PCPUUsage) <= passRulePct)
	j.moved = append(j.moved, moved)
	j.final, j.m = items, m
}

// best returns bestSpread(items, m), reusing the last answer when the
// multiset of demands has not changed.
func (j *judge) best(items []int64, m int) (int64, bool) {
	s := slices.Clone(items)
	slices.Sort(s)
	if j.lastItems == nil || !slices.Equal(s, j.lastItems) {
		j.lastItems = s
		j.lastBest, j.lastExact = bestSpread(s, m)
	}
	return j.lastBest, j.lastExact
}

// finish fills the result's summary fields.
func (j *judge) finish(res *Result) {
	res.ConvergedAt = settledFrom(j.balanced)
	res.PassRuleAt = settledFrom(j.passed)
	if res.ConvergedAt != nil {
		for _, n := range j.moved[*res.ConvergedAt:] {
			res.MovesAfterConverged += n
		}
	}
	best, exact := j.best(j.final, j.m)
	res.BestSpread, res.BestSpreadExact = percent(best), exact
	if n := len(res.Iterations); n > 0 {
		last := res.Iterations[n-1]
		res.FinalSpread = Spread(last.PCPUDemand)
		res.FinalStddevPctOfMean = StddevPctOfMean(last.PCPUUsage)
	}
}

// settledFrom returns the first index from which every flag is true.
func settledFrom(flags []bool) *int {
	i := len(flags)
	for i > 0 && flags[i-1] {
		i--
	}
	if i == len(flags) {
		return nil
	}
	return &i
}
