package balancer

import (
	"fmt"
	"math/rand/v2"
	"time"

	"k8s.io/utils/cpuset"
)

// tv is a vCPU in a literal test host: its domain (also its UUID here),
// vCPU id, where it runs, whether it is pinned there, and its usage and
// run-queue wait over the window in percent of one pCPU.
type tv struct {
	dom         string
	id, cpu     int
	pinned      bool
	usage, wait float64
}

const testWindow = time.Second

// snap builds the snapshot of a literal host at time at.
func snap(all cpuset.CPUSet, at time.Duration, vs []tv) Snapshot {
	s := Snapshot{At: at, Window: testWindow}
	for _, v := range vs {
		pin := all
		if v.pinned {
			pin = cpuset.New(v.cpu)
		}
		s.VCPUs = append(s.VCPUs, VCPU{ID: VCPUID{v.dom, v.id}, Name: fmt.Sprintf("%s/%d", v.dom, v.id),
			PCPU: v.cpu, Pin: pin, Usage: v.usage, Wait: v.wait})
	}
	return s
}

// applied returns the snapshot one window after plan was applied, every
// vCPU's rates unchanged.
func applied(s Snapshot, plan Plan) Snapshot {
	to := map[VCPUID]int{}
	for _, m := range plan.Moves {
		to[m.ID] = m.To
	}
	next := s
	next.At += s.Window
	next.VCPUs = append([]VCPU(nil), s.VCPUs...)
	for i := range next.VCPUs {
		if c, ok := to[next.VCPUs[i].ID]; ok {
			next.VCPUs[i].PCPU, next.VCPUs[i].Pin = c, cpuset.New(c)
		}
	}
	return next
}

func spreadPct(l []float64) float64 {
	mx, mn := l[0], l[0]
	for _, x := range l {
		mx, mn = max(mx, x), min(mn, x)
	}
	return mx - mn
}

func cpusN(m int) cpuset.CPUSet {
	ids := make([]int, m)
	for i := range ids {
		ids[i] = i
	}
	return cpuset.New(ids...)
}

func span(lo, hi int) cpuset.CPUSet {
	var ids []int
	for c := lo; c <= hi; c++ {
		ids = append(ids, c)
	}
	return cpuset.New(ids...)
}

// twoSocket is a host of m pCPUs (m divisible by 4) numbered as Intel
// numbers a two-socket SMT2 machine: node 0 holds 0..m/4-1 and
// m/2..3m/4-1, and the siblings of CPU c < m/2 is c + m/2.
func twoSocket(m int) Topology {
	q := m / 4
	var t Topology
	t.Nodes = []cpuset.CPUSet{span(0, q-1).Union(span(2*q, 3*q-1)), span(q, 2*q-1).Union(span(3*q, 4*q-1))}
	for c := range m / 2 {
		t.Cores = append(t.Cores, cpuset.New(c, c+m/2))
	}
	return t
}

// bigHost is the benchmark's host: n vCPUs in 4-vCPU domains on m pCPUs
// of a two-socket SMT2 machine, placed and loaded at random, some waiting;
// a quarter of the domains restricted to node 0, a quarter to node 1; a
// little background on one pCPU in eight.
func bigHost(r *rand.Rand, n, m int) (Snapshot, Config) {
	topo := twoSocket(m)
	cfg := Config{Threshold: DefaultThreshold, CPUs: cpusN(m), Topology: topo}
	s := Snapshot{At: testWindow, Window: testWindow, Background: map[int]float64{}}
	for c := 0; c < m; c += 8 {
		s.Background[c] = float64(5 + r.IntN(25))
	}
	for i := range n {
		dom := fmt.Sprintf("%08x-0000-4000-8000-000000000000", i/4)
		var allowed cpuset.CPUSet
		switch (i / 4) % 4 {
		case 0:
			allowed = topo.Nodes[0]
		case 1:
			allowed = topo.Nodes[1]
		}
		var cpu int
		if allowed.IsEmpty() {
			cpu = r.IntN(m)
		} else {
			l := allowed.List()
			cpu = l[r.IntN(len(l))]
		}
		d := float64(r.IntN(101))
		wait := 0.0
		if r.IntN(2) == 0 {
			wait, d = d/2, d/2
		}
		s.VCPUs = append(s.VCPUs, VCPU{ID: VCPUID{dom, i % 4}, Name: fmt.Sprintf("vm%d/%d", i/4, i%4),
			PCPU: cpu, Pin: cpuset.New(cpu), Allowed: allowed, Usage: d, Wait: wait})
	}
	return s, cfg
}
