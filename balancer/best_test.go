package balancer

import (
	"math/rand/v2"
	"testing"
)

// bruteBest tries every placement.
func bruteBest(items []int64, m int) int64 {
	loads := make([]int64, m)
	best := int64(-1)
	var rec func(i int)
	rec = func(i int) {
		if i == len(items) {
			if sp := spreadOf(loads); best < 0 || sp < best {
				best = sp
			}
			return
		}
		for b := range loads {
			loads[b] += items[i]
			rec(i + 1)
			loads[b] -= items[i]
		}
	}
	rec(0)
	return best
}

func TestBestSpread(t *testing.T) {
	tests := []struct {
		name  string
		items []int64
		m     int
		want  int64
	}{
		{"EightEqualOnFour_Zero", []int64{100, 100, 100, 100, 100, 100, 100, 100}, 4, 0},
		{"LoneHeavy_ItsOwnLoad", []int64{100, 5}, 4, 100},
		{"HeavyAndLights_HeavyMinusLight", []int64{100, 10, 10, 10}, 4, 90},
		{"SixtiesAndFifties_Zero", []int64{60, 60, 50, 50}, 2, 0},
		{"OnePCPU_Zero", []int64{3, 4}, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, exact := bestSpread(tc.items, tc.m); got != tc.want || !exact {
				t.Errorf("got %d (exact %v), want %d", got, exact, tc.want)
			}
		})
	}
}

// TestBestSpread_MatchesBruteForce compares with trying every placement.
func TestBestSpread_MatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 400 {
		m, n := 2+r.IntN(3), 1+r.IntN(8)
		items := make([]int64, n)
		for i := range items {
			items[i] = int64(r.IntN(101)) * 1000
		}
		got, exact := bestSpread(items, m)
		if want := bruteBest(items, m); !exact || got != want {
			t.Fatalf("trial %d: %v on %d: got %d (exact %v), want %d", trial, items, m, got, exact, want)
		}
	}
}

// TestBestSpread_BigHostIsALowerBound checks the fallback is sound.
func TestBestSpread_BigHostIsALowerBound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	items := make([]int64, 600)
	for i := range items {
		items[i] = int64(r.IntN(101)) * 1000
	}
	lb, exact := bestSpread(items, 64)
	loads := make([]int64, 64)
	for _, x := range items {
		loads[argmin(loads)] += x
	}
	if ub := spreadOf(loads); lb > ub {
		t.Errorf("lower bound %d (exact %v) above a reachable spread %d", lb, exact, ub)
	}
}
