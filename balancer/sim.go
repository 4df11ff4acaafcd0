package balancer

import (
	"fmt"
	"time"

	"k8s.io/utils/cpuset"
)

// SimInterval is the length of one simulated iteration.
const SimInterval = time.Second

// nsPerUnit converts load units over one SimInterval to nanoseconds.
const nsPerUnit = uint64(SimInterval) / fullCPU

// simVCPU is one vCPU in the host model.
type simVCPU struct {
	vm, index int
	pin       int // single pCPU, or -1 when unpinned
	at        int // pCPU it runs on; -1 before its VM starts
	run, wait uint64
	demand    int64
}

// model is the simulated host.
type model struct {
	sc      *Scenario
	vcpus   []simVCPU
	byName  map[string]int // VM name -> first vCPU in vcpus
	all     cpuset.CPUSet
	singles []cpuset.CPUSet
}

// Simulate runs policy p with the given threshold over the scenario, in
// the host model: one iteration is one SimInterval; the vCPUs on a pCPU
// share it max-min fairly (water-filling); each runs what it got and waits
// for the rest of its demand; a VM's unpinned vCPUs are placed, when it
// starts, on the pCPU with the least demand; a plan made at the end of an
// iteration takes effect in the next. Before iteration 0 the VMs running
// from the start are sampled once with zero counters, so the first plan
// comes at the end of iteration 0. Unpinned vCPUs never migrate by
// themselves in this model.
func Simulate(sc *Scenario, p Policy, threshold float64) (*Result, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	m := newModel(sc)
	res := &Result{Scenario: sc.Name, Policy: p.Name(), PCPUs: sc.PCPUs, Threshold: threshold,
		FinalPins: map[string]int{}}
	cfg := Config{Threshold: threshold, CPUs: m.all}
	m.start(0)
	prev := m.snapshot()
	var judge judge
	for i := range sc.Iterations {
		m.stop(i)
		if i > 0 {
			m.start(i)
		}
		it := m.step(i)
		cur := m.snapshot()
		moved := 0
		for _, mv := range p.Plan(prev, cur, SimInterval, cfg).Moves {
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
		judge.add(&it, moved, m.demands(), sc.PCPUs, thresholdUnits(threshold))
		res.Iterations = append(res.Iterations, it)
		prev = cur
	}
	judge.finish(res)
	for _, v := range m.vcpus {
		if v.at >= 0 {
			res.FinalPins[fmt.Sprintf("%s/%d", sc.VMs[v.vm].Name, v.index)] = v.at
		}
	}
	return res, nil
}

func newModel(sc *Scenario) *model {
	m := &model{sc: sc, byName: make(map[string]int, len(sc.VMs)), singles: make([]cpuset.CPUSet, sc.PCPUs)}
	ids := make([]int, sc.PCPUs)
	for c := range ids {
		ids[c] = c
		m.singles[c] = cpuset.New(c)
	}
	m.all = cpuset.New(ids...)
	for i, vm := range sc.VMs {
		m.byName[vm.Name] = len(m.vcpus)
		for j := range vm.VCPUs {
			m.vcpus = append(m.vcpus, simVCPU{vm: i, index: j, pin: vm.Pin[j], at: -1})
		}
	}
	return m
}

// start places the vCPUs of the VMs that start at iteration i.
func (m *model) start(i int) {
	for k := range m.vcpus {
		v := &m.vcpus[k]
		vm := &m.sc.VMs[v.vm]
		if vm.Start != i {
			continue
		}
		if v.at = v.pin; v.at < 0 {
			load := make([]int64, m.sc.PCPUs)
			for _, w := range m.vcpus {
				if w.at >= 0 {
					load[w.at] += units(m.sc.VMs[w.vm].loadAt(i)[w.index])
				}
			}
			v.at = argmin(load)
		}
	}
}

// stop removes the vCPUs of the VMs that stop at iteration i.
func (m *model) stop(i int) {
	for k := range m.vcpus {
		if m.sc.VMs[m.vcpus[k].vm].Stop == i {
			m.vcpus[k].at = -1
		}
	}
}
