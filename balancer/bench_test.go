package balancer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// BenchmarkPlan10kVCPUs256PCPUs plans once for 10,000 vCPUs placed at
// random on 256 pCPUs (target: at most 1 ms).
func BenchmarkPlan10kVCPUs256PCPUs(b *testing.B) {
	cpus := cpusN(256)
	prev, cur := samples(cpus, randomTopology(rand.New(rand.NewPCG(1, 2)), 10000, 256))
	cfg := Config{Threshold: DefaultThreshold, CPUs: cpus}
	p := NewAdaptive()
	var n int
	for b.Loop() {
		n = len(p.Plan(prev, cur, testInterval, cfg).Moves)
	}
	b.ReportMetric(float64(n), "moves")
}

// BenchmarkPlan10kVCPUs256PCPUsBalanced plans on the balanced result: the
// steady state, zero moves.
func BenchmarkPlan10kVCPUs256PCPUsBalanced(b *testing.B) {
	cpus := cpusN(256)
	prev, cur := samples(cpus, randomTopology(rand.New(rand.NewPCG(1, 2)), 10000, 256))
	cfg := Config{Threshold: DefaultThreshold, CPUs: cpus}
	p := NewAdaptive()
	prev, cur = applied(prev, cur, p.Plan(prev, cur, testInterval, cfg))
	var n int
	for b.Loop() {
		n = len(p.Plan(prev, cur, testInterval, cfg).Moves)
	}
	if n != 0 {
		b.Fatalf("balanced host got %d moves", n)
	}
}

// BenchmarkSimulate64PCPUs300VMs40Iterations runs the whole simulator on a
// large host (target: under 1 s).
func BenchmarkSimulate64PCPUs300VMs40Iterations(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	sc := &Scenario{Name: "big", PCPUs: 64, Iterations: 40}
	for i := range 300 {
		n := 1 + r.IntN(4)
		vm := VMSpec{Name: fmt.Sprintf("vm%03d", i), VCPUs: n, Stop: 40}
		for range n {
			vm.Pin = append(vm.Pin, r.IntN(65)-1)
			vm.Load = append(vm.Load, float64(r.IntN(101)))
		}
		if i%10 == 0 {
			vm.Phases = []Phase{{At: 20, Load: slices.Repeat([]float64{90}, n)}}
		}
		if i%25 == 0 {
			vm.Start, vm.Stop = 5, 30
		}
		sc.VMs = append(sc.VMs, vm)
	}
	for b.Loop() {
		if _, err := Simulate(sc, NewAdaptive(), DefaultThreshold); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlan10kVCPUs256PCPUsReference plans the same host with the
// reference search (reference_search_test.go), for comparison in one run.
func BenchmarkPlan10kVCPUs256PCPUsReference(b *testing.B) {
	cpus := cpusN(256)
	prev, cur := samples(cpus, randomTopology(rand.New(rand.NewPCG(1, 2)), 10000, 256))
	cfg := Config{Threshold: DefaultThreshold, CPUs: cpus}
	var n int
	for b.Loop() {
		n = len(referencePlan(prev, cur, testInterval, cfg).Moves)
	}
	b.ReportMetric(float64(n), "moves")
}
