package sim

import (
	"slices"
	"sort"
)

// consumer is one claim on a pCPU in the water-filling: a vCPU (k >= 0)
// or the background (k = -1).
type consumer struct {
	k   int
	ask int64
}

// step runs iteration i and returns its usage and (useful) demand per pCPU.
func (m *model) step(i int) Iteration {
	n := m.sc.PCPUs
	it := Iteration{I: i, PCPUUsage: make([]float64, n), PCPUDemand: make([]float64, n), Moves: []Move{}}
	bg := m.background(i)
	demand := slices.Clone(bg)
	for k := range m.vcpus {
		if v := &m.vcpus[k]; v.at >= 0 {
			v.demand = units(m.sc.VMs[v.vm].loadAt(i)[v.id])
			demand[v.at] += v.demand
		}
	}
	on := make([][]consumer, n)
	for c := range on {
		if bg[c] > 0 {
			on[c] = append(on[c], consumer{k: -1, ask: bg[c]})
		}
	}
	for k := range m.vcpus {
		v := &m.vcpus[k]
		if v.at < 0 {
			continue
		}
		ask := v.demand
		if m.sc.VMs[v.vm].Spin && ask > 0 && demand[v.at] > fullCPU {
			ask = fullCPU // starved spin-waiter: runnable all the time
		}
		on[v.at] = append(on[v.at], consumer{k: k, ask: ask})
	}
	for c, cs := range on {
		sort.SliceStable(cs, func(a, b int) bool { return cs[a].ask < cs[b].ask })
		free, used := int64(fullCPU), int64(0)
		m.bgGot[c] = 0
		for j, x := range cs {
			got := min(x.ask, free/int64(len(cs)-j))
			free -= got
			used += got
			if x.k < 0 {
				m.bgGot[c] = got
				continue
			}
			m.vcpus[x.k].got, m.vcpus[x.k].wait = got, x.ask-got
		}
		it.PCPUUsage[c], it.PCPUDemand[c] = percent(used), percent(demand[c])
	}
	return it
}
