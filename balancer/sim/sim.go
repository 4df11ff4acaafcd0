package sim

import (
	"fmt"
	"time"

	"github.com/vsched/vsched/balancer"
)

// Interval is the length of one simulated iteration: the window each
// Snapshot covers.
const Interval = time.Second

// Simulate runs policy p with the given threshold over the scenario, in
// the host model (model.go): one iteration is one Interval; a plan made
// at the end of an iteration takes effect in the next. The policy sees,
// at the end of every iteration, each running vCPU's usage and wait over
// it, the background each pCPU ran, the topology and the VMs' cpusets.
func Simulate(sc *Scenario, p balancer.Policy, threshold float64) (*Result, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	m := newModel(sc)
	res := &Result{Scenario: sc.Name, Policy: p.Name(), PCPUs: sc.PCPUs, Threshold: threshold,
		FinalPins: map[string]int{}}
	cfg := balancer.Config{Threshold: threshold, CPUs: m.all, Topology: m.topo}
	var judge judge
	for i := range sc.Iterations {
		m.stop(i)
		m.start(i)
		it := m.step(i)
		moved := 0
		for _, mv := range p.Plan(m.snapshot(i), cfg).Moves {
			sm, ok, err := m.apply(mv)
			if err != nil {
				return nil, err
			}
			it.Moves = append(it.Moves, sm)
			res.PinCalls++
			if ok {
				moved++
			}
		}
		res.Moves += moved
		judge.add(&it, moved, m.problem(i), units(threshold))
		res.Iterations = append(res.Iterations, it)
	}
	judge.finish(res)
	for _, v := range m.vcpus {
		if v.at >= 0 {
			res.FinalPins[fmt.Sprintf("%s/%d", sc.VMs[v.vm].Name, v.id)] = v.at
		}
	}
	return res, nil
}
