package sim

import (
	"fmt"
	"math"
	"sort"
	"time"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
)

// Loads are integer milli-percent of one pCPU inside the model.
const (
	unitsPerPercent = 1000
	fullCPU         = 100 * unitsPerPercent
)

// units converts a percentage of one pCPU to load units.
func units(pct float64) int64 { return int64(math.Round(pct * unitsPerPercent)) }

// percent converts load units to a percentage of one pCPU.
func percent(u int64) float64 { return float64(u) / unitsPerPercent }

// simVCPU is one vCPU in the host model.
type simVCPU struct {
	vm, id    int
	pin       int // single pCPU, or -1 when unpinned
	at        int // pCPU it runs on; -1 while its VM is not running
	demand    int64
	got, wait int64 // over the last iteration
}

// model is the simulated host: the vCPUs share each pCPU with its
// background max-min fairly (water-filling, like CFS with equal weights):
// each consumer gets min(what it asks, fair share); a vCPU runs what it
// got and waits for the rest of what it asked. A spin-waiting VM's busy
// vCPU, on a pCPU whose demand exceeds 100%, asks for the whole pCPU.
type model struct {
	sc      *Scenario
	vcpus   []simVCPU
	byUUID  map[string]int // domain UUID -> first vCPU in vcpus
	uuids   []string       // per VM
	allowed []cpuset.CPUSet
	all     cpuset.CPUSet
	topo    balancer.Topology
	singles []cpuset.CPUSet
	bgGot   []int64 // per pCPU: what its background ran in the last iteration
}

// uuidOf returns VM i's made-up, stable domain UUID.
func uuidOf(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012x", i+1) }

func newModel(sc *Scenario) (*model, error) {
	m := &model{sc: sc, byUUID: make(map[string]int, len(sc.VMs)), singles: make([]cpuset.CPUSet, sc.PCPUs),
		bgGot: make([]int64, sc.PCPUs)}
	ids := make([]int, sc.PCPUs)
	for c := range ids {
		ids[c] = c
		m.singles[c] = cpuset.New(c)
	}
	m.all = cpuset.New(ids...)
	if t := sc.Topology; t != nil {
		for _, l := range t.Nodes {
			s, _ := cpuset.Parse(l) // validated
			m.topo.Nodes = append(m.topo.Nodes, s)
		}
		for _, l := range t.Cores {
			s, _ := cpuset.Parse(l)
			m.topo.Cores = append(m.topo.Cores, s)
		}
	}
	for i, vm := range sc.VMs {
		m.uuids = append(m.uuids, uuidOf(i))
		m.byUUID[uuidOf(i)] = len(m.vcpus)
		set, _ := cpuset.Parse(vm.CPUSet)
		m.allowed = append(m.allowed, set)
		for j := range vm.VCPUs {
			m.vcpus = append(m.vcpus, simVCPU{vm: i, id: j, pin: vm.Pin[j], at: -1})
		}
	}
	return m, nil
}

// background returns each pCPU's background demand at iteration i.
func (m *model) background(i int) []int64 {
	bg := make([]int64, m.sc.PCPUs)
	if b := m.sc.Background; b != nil {
		for c, l := range phaseAt(b.Load, b.Phases, i) {
			bg[c] = units(l)
		}
	}
	return bg
}

// start places the vCPUs of the VMs that start at iteration i: at their
// pin, or on the pCPU of their cpuset with the least demand (background
// included; ties to the lowest CPU).
func (m *model) start(i int) {
	for k := range m.vcpus {
		v := &m.vcpus[k]
		vm := &m.sc.VMs[v.vm]
		if vm.Start != i {
			continue
		}
		if v.at = v.pin; v.at >= 0 {
			continue
		}
		load := m.background(i)
		for _, w := range m.vcpus {
			if w.at >= 0 {
				load[w.at] += units(m.sc.VMs[w.vm].loadAt(i)[w.id])
			}
		}
		for c := range load {
			if m.may(v.vm, c) && (v.at < 0 || load[c] < load[v.at]) {
				v.at = c
			}
		}
	}
}

// may reports whether VM vm's vCPUs may run on pCPU c.
func (m *model) may(vm, c int) bool { return m.allowed[vm].IsEmpty() || m.allowed[vm].Contains(c) }

// stop removes the vCPUs of the VMs that stop at iteration i.
func (m *model) stop(i int) {
	for k := range m.vcpus {
		if m.sc.VMs[m.vcpus[k].vm].Stop == i {
			m.vcpus[k].at = -1
		}
	}
}

// consumer is one claim on a pCPU in the water-filling: a vCPU (k >= 0)
// or the background (k = -1).
type consumer struct {
	k   int
	ask int64
}

// step runs iteration i and returns its usage and (useful) demand per pCPU.
func (m *model) step(i int) Iteration {
	n := m.sc.PCPUs
	it := Iteration{I: i, PCPUUsage: make([]float64, n), PCPUDemand: make([]float64, n), Moves: []SimMove{}}
	bg := m.background(i)
	demand := slicesClone(bg)
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

func slicesClone(l []int64) []int64 { return append([]int64(nil), l...) }

// snapshot is what the daemon would measure over iteration i.
func (m *model) snapshot(i int) balancer.Snapshot {
	s := balancer.Snapshot{At: time.Duration(i+1) * Interval, Window: Interval,
		VCPUs: make([]balancer.VCPU, 0, len(m.vcpus)), Background: map[int]float64{}}
	for c, g := range m.bgGot {
		if g > 0 {
			s.Background[c] = percent(g)
		}
	}
	for _, v := range m.vcpus {
		if v.at < 0 {
			continue
		}
		pin := m.all
		if !m.allowed[v.vm].IsEmpty() {
			pin = m.allowed[v.vm]
		}
		if v.pin >= 0 {
			pin = m.singles[v.pin]
		}
		s.VCPUs = append(s.VCPUs, balancer.VCPU{
			ID:   balancer.VCPUID{Domain: m.uuids[v.vm], VCPU: v.id},
			Name: fmt.Sprintf("%s/%d", m.sc.VMs[v.vm].Name, v.id),
			PCPU: v.at, Pin: pin, Allowed: m.allowed[v.vm],
			Usage: percent(v.got), Wait: percent(v.wait),
		})
	}
	return s
}

// apply pins a vCPU as mv says; moved reports whether it changes pCPU. A
// move of an unknown vCPU, or outside the host or the VM's cpuset, is an
// error: the policy broke a contract.
func (m *model) apply(mv balancer.Move) (SimMove, bool, error) {
	first, ok := m.byUUID[mv.ID.Domain]
	if !ok || mv.ID.VCPU < 0 || mv.ID.VCPU >= m.sc.VMs[m.vcpus[first].vm].VCPUs ||
		mv.To < 0 || mv.To >= m.sc.PCPUs || m.vcpus[first+mv.ID.VCPU].at < 0 {
		return SimMove{}, false, fmt.Errorf("policy planned an impossible move %v", mv)
	}
	v := &m.vcpus[first+mv.ID.VCPU]
	if !m.may(v.vm, mv.To) {
		return SimMove{}, false, fmt.Errorf("policy planned a move outside the cpuset of %s: %v", m.sc.VMs[v.vm].Name, mv)
	}
	sm := SimMove{VM: m.sc.VMs[v.vm].Name, VCPU: v.id, From: mv.From, To: mv.To, Reason: mv.Reason}
	moved := v.at != mv.To
	v.pin, v.at = mv.To, mv.To
	return sm, moved, nil
}

// problem is iteration i's placement problem for the judge: every running
// vCPU's useful demand and where it may go, and each pCPU's background.
func (m *model) problem(i int) problem {
	p := problem{base: m.background(i)}
	for _, v := range m.vcpus {
		if v.at < 0 {
			continue
		}
		var mask uint64
		if set := m.allowed[v.vm]; !set.IsEmpty() {
			if m.sc.PCPUs > 64 {
				p.loose = true // counted as unconstrained: a lower bound
			}
			for _, c := range set.List() {
				mask |= 1 << (c % 64)
			}
		}
		p.items = append(p.items, item{load: v.demand, mask: mask})
	}
	return p
}
