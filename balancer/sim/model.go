package sim

import (
	"fmt"
	"math"

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

func newModel(sc *Scenario) *model {
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
	return m
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
