package sim

import "math"

// Result is the outcome of one simulation, in the `vsched simulate` JSON
// contract's shape.
type Result struct {
	// Scenario is the scenario's name.
	Scenario string `json:"scenario"`
	// Policy is the policy's name.
	Policy string `json:"policy"`
	// PCPUs is the number of pCPUs.
	PCPUs int `json:"pcpus"`
	// Threshold is the policy's threshold in percentage points.
	Threshold float64 `json:"threshold"`
	// Iterations holds one entry per simulated interval.
	Iterations []Iteration `json:"iterations"`
	// ConvergedAt is the first iteration from which every later one is
	// balanced, or nil.
	ConvergedAt *int `json:"converged_at"`
	// FinalSpread is max minus min of the last iteration's pCPU demand.
	FinalSpread float64 `json:"final_spread"`
	// FinalStddevPctOfMean is the population standard deviation of the last
	// iteration's pCPU usage in percent of its mean (0 when idle).
	FinalStddevPctOfMean float64 `json:"final_stddev_pct_of_mean"`
	// Moves counts pin changes that put a vCPU on another pCPU.
	Moves int `json:"moves"`
	// MovesAfterConverged counts those planned at or after ConvergedAt (0
	// when it never converged).
	MovesAfterConverged int `json:"moves_after_converged"`
	// PinCalls counts every pin the plans asked for, pin-in-place included.
	PinCalls int `json:"pin_calls"`
	// BestSpread is the lowest demand spread any placement of the final
	// demands could reach, background counted and each VM within its
	// cpuset (a lower bound when BestSpreadExact is false).
	BestSpread float64 `json:"best_spread"`
	// FinalPins maps "vm/vcpu" to the pCPU each running vCPU is on after the
	// last plan.
	FinalPins map[string]int `json:"final_pins"`
	// BestSpreadExact says whether BestSpread was computed exactly.
	BestSpreadExact bool `json:"-"`
	// PassRuleAt is the first iteration from which every later one meets the
	// course's pass rule (usage stddev within 5% of its mean), or nil.
	PassRuleAt *int `json:"-"`
}

// Iteration is one simulated interval.
type Iteration struct {
	// I is the iteration's number, from 0.
	I int `json:"i"`
	// PCPUUsage is what each pCPU ran, background included, in percent
	// (at most 100).
	PCPUUsage []float64 `json:"pcpu_usage"`
	// PCPUDemand is the sum of each pCPU's useful vCPU demands and its
	// background, in percent (a starved spin-waiter counts its load, not
	// the 100% it spins).
	PCPUDemand []float64 `json:"pcpu_demand"`
	// Moves are the pins the policy asked for at the end of the interval;
	// they take effect in the next one.
	Moves []Move `json:"moves"`
}

// Move is one planned pin in a simulation.
type Move struct {
	// VM and VCPU name the vCPU.
	VM   string `json:"vm"`
	VCPU int    `json:"vcpu"`
	// From is the pCPU it was pinned to, or -1 when unpinned; To is its new pin.
	From int `json:"from"`
	To   int `json:"to"`
	// Reason is the policy's reason.
	Reason string `json:"reason"`
}

// StddevPctOfMean returns the population standard deviation of xs in
// percent of their mean, or 0 when the mean is 0: the course's pass rule
// wants it at most 5 for pCPU usage.
func StddevPctOfMean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum, sq float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	if mean <= 0 {
		return 0
	}
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	return 100 * math.Sqrt(sq/float64(len(xs))) / mean
}

// Spread returns max minus min of xs (0 when empty).
func Spread(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	mx, mn := xs[0], xs[0]
	for _, x := range xs {
		mx, mn = max(mx, x), min(mn, x)
	}
	return mx - mn
}
