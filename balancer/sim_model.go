package balancer

import (
	"fmt"
	"math"
	"sort"
)

// units converts a percentage of one pCPU to load units.
func units(pct float64) int64 { return int64(math.Round(pct * unitsPerPercent)) }

// percent converts load units to a percentage of one pCPU.
func percent(u int64) float64 { return float64(u) / unitsPerPercent }

// step runs iteration i: each pCPU is shared max-min fairly between its
// vCPUs (the smallest demands are met first, the rest split evenly), and
// every running vCPU's counters advance by what it got and what it waited.
func (m *model) step(i int) Iteration {
	it := Iteration{I: i, PCPUUsage: make([]float64, m.sc.PCPUs),
		PCPUDemand: make([]float64, m.sc.PCPUs), Moves: []SimMove{}}
	on := make([][]int, m.sc.PCPUs)
	for k := range m.vcpus {
		v := &m.vcpus[k]
		if v.at < 0 {
			continue
		}
		v.demand = units(m.sc.VMs[v.vm].loadAt(i)[v.index])
		on[v.at] = append(on[v.at], k)
	}
	for c, ks := range on {
		sort.SliceStable(ks, func(a, b int) bool { return m.vcpus[ks[a]].demand < m.vcpus[ks[b]].demand })
		free, used, demand := int64(fullCPU), int64(0), int64(0)
		for j, k := range ks {
			v := &m.vcpus[k]
			got := min(v.demand, free/int64(len(ks)-j))
			free -= got
			used += got
			demand += v.demand
			v.run += uint64(got) * nsPerUnit
			v.wait += uint64(v.demand-got) * nsPerUnit
		}
		it.PCPUUsage[c], it.PCPUDemand[c] = percent(used), percent(demand)
	}
	return it
}

// snapshot is what the daemon would sample now.
func (m *model) snapshot() Snapshot {
	s := Snapshot{VCPUs: make([]VCPU, 0, len(m.vcpus))}
	for _, v := range m.vcpus {
		if v.at < 0 {
			continue
		}
		pin := m.all
		if v.pin >= 0 {
			pin = m.singles[v.pin]
		}
		s.VCPUs = append(s.VCPUs, VCPU{Domain: m.sc.VMs[v.vm].Name, Index: v.index, PCPU: v.at,
			RunNs: v.run, WaitNs: v.wait, Pin: pin})
	}
	return s
}

// apply pins a vCPU as mv says; moved reports whether it changes pCPU.
func (m *model) apply(mv Move) (SimMove, bool, error) {
	sm := SimMove{VM: mv.Domain, VCPU: mv.VCPU, From: mv.From, To: mv.To, Reason: mv.Reason}
	first, ok := m.byName[mv.Domain]
	if !ok || mv.VCPU < 0 || mv.VCPU >= m.sc.VMs[m.vcpus[first].vm].VCPUs ||
		mv.To < 0 || mv.To >= m.sc.PCPUs || m.vcpus[first+mv.VCPU].at < 0 {
		return sm, false, fmt.Errorf("policy planned an impossible move %v", mv)
	}
	v := &m.vcpus[first+mv.VCPU]
	moved := v.at != mv.To
	v.pin, v.at = mv.To, mv.To
	return sm, moved, nil
}

// demands returns the current demand of every running vCPU, in units.
func (m *model) demands() []int64 {
	var d []int64
	for _, v := range m.vcpus {
		if v.at >= 0 {
			d = append(d, v.demand)
		}
	}
	return d
}
