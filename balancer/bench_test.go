package balancer

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkPlan3072VCPUs768PCPUs plans once for 3,072 vCPUs placed at
// random on 768 pCPUs of a two-socket SMT2 host, half of them restricted
// to one node (target: under 2 ms).
func BenchmarkPlan3072VCPUs768PCPUs(b *testing.B) {
	s, cfg := bigHost(rand.New(rand.NewPCG(1, 2)), 3072, 768)
	p := NewAdaptive() // one policy, as the daemon keeps it: warm caches
	var n int
	for b.Loop() {
		n = len(p.Plan(s, cfg).Moves)
	}
	b.ReportMetric(float64(n), "moves")
}

// BenchmarkPlan3072VCPUs768PCPUsBalanced plans on the balanced result:
// the steady state, zero moves.
func BenchmarkPlan3072VCPUs768PCPUsBalanced(b *testing.B) {
	s, cfg := bigHost(rand.New(rand.NewPCG(1, 2)), 3072, 768)
	p := NewAdaptive()
	s = applied(s, p.Plan(s, cfg))
	var n int
	for b.Loop() {
		s.At += s.Window
		n = len(p.Plan(s, cfg).Moves)
	}
	if n != 0 {
		b.Fatalf("balanced host got %d moves", n)
	}
}

// BenchmarkClassic3072VCPUs768PCPUs is the seed's policy on the same host.
func BenchmarkClassic3072VCPUs768PCPUs(b *testing.B) {
	s, cfg := bigHost(rand.New(rand.NewPCG(1, 2)), 3072, 768)
	for b.Loop() {
		NewClassic().Plan(s, cfg)
	}
}
