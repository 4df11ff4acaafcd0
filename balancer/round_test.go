package balancer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRoundUpIsRound checks that roundUp equals math.Round on loads' whole
// range, halves and their neighbours included.
func TestRoundUpIsRound(t *testing.T) {
	xs := []float64{0, 0.5, 0.49999999999999994, 1.5, 2.5, 99999.5, 1 << 52, 1<<52 + 1,
		1 << 53, 4503599627370495.5, math.MaxFloat64}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		h := float64(r.IntN(400_000)) + 0.5
		xs = append(xs, r.Float64()*200_000, h, math.Nextafter(h, 0), math.Nextafter(h, math.Inf(1)),
			float64(r.Uint64N(1<<40))*fullCPU/float64(1+r.Uint64N(1<<40)))
	}
	for _, x := range xs {
		if got, want := roundUp(x), math.Round(x); got != want {
			t.Fatalf("roundUp(%v) = %v, want %v", x, got, want)
		}
	}
}
