package sim

import (
	"cmp"
	"fmt"
	"slices"
)

// judge tracks, iteration by iteration, whether the host is balanced (on
// demand) and whether it meets the course's pass rule (on usage).
type judge struct {
	balanced, passed []bool
	moved            []int
	lastKey          string
	lastBest         int64
	lastExact        bool
	final            problem
}

// passRulePct is the course's pass rule: usage stddev within 5% of its mean.
const passRulePct = 5.0

// add judges one iteration: balanced when the demand spread is within t,
// or within t of the best spread the iteration's demands allow.
func (j *judge) add(it *Iteration, moved int, p problem, t int64) {
	load := make([]int64, len(it.PCPUDemand))
	for c, d := range it.PCPUDemand {
		load[c] = units(d)
	}
	sp := spreadOf(load)
	ok := sp <= t
	if !ok {
		best, _ := j.best(p)
		ok = sp <= best+t
	}
	j.balanced = append(j.balanced, ok)
	j.passed = append(j.passed, StddevPctOfMean(it.PCPUUsage) <= passRulePct)
	j.moved = append(j.moved, moved)
	j.final = p
}

// best returns bestSpread(p), reusing the last answer when the problem
// (the multiset of demands and masks, and the background) has not changed.
func (j *judge) best(p problem) (int64, bool) {
	items := slices.Clone(p.items)
	slices.SortFunc(items, func(a, b item) int {
		if c := cmp.Compare(a.load, b.load); c != 0 {
			return c
		}
		return cmp.Compare(a.mask, b.mask)
	})
	key := fmt.Sprint(items, p.base)
	if key != j.lastKey {
		j.lastKey = key
		j.lastBest, j.lastExact = bestSpread(p)
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
	best, exact := j.best(j.final)
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
