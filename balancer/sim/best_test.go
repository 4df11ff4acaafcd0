package sim

import (
	"math/rand/v2"
	"testing"
)

// bruteBest tries every placement that respects the masks.
func bruteBest(p problem) int64 {
	loads := append([]int64(nil), p.base...)
	best := int64(-1)
	var rec func(i int)
	rec = func(i int) {
		if i == len(p.items) {
			if sp := spreadOf(loads); best < 0 || sp < best {
				best = sp
			}
			return
		}
		for b := range loads {
			if p.items[i].may(b) {
				loads[b] += p.items[i].load
				rec(i + 1)
				loads[b] -= p.items[i].load
			}
		}
	}
	rec(0)
	return best
}

func loads(xs ...int64) []item {
	items := make([]item, len(xs))
	for i, x := range xs {
		items[i] = item{load: x}
	}
	return items
}

func TestBestSpread(t *testing.T) {
	tests := []struct {
		name string
		p    problem
		want int64
	}{
		{"EightEqualOnFour_Zero", problem{items: loads(100, 100, 100, 100, 100, 100, 100, 100), base: make([]int64, 4)}, 0},
		{"LoneHeavy_ItsOwnLoad", problem{items: loads(100, 5), base: make([]int64, 4)}, 100},
		{"HeavyAndLights_HeavyMinusLight", problem{items: loads(100, 10, 10, 10), base: make([]int64, 4)}, 90},
		{"SixtiesAndFifties_Zero", problem{items: loads(60, 60, 50, 50), base: make([]int64, 2)}, 0},
		{"OnePCPU_Zero", problem{items: loads(3, 4), base: make([]int64, 1)}, 0},
		{"BackgroundOwnsCPU0_CountsAsLoad", problem{items: loads(60, 60, 60, 60), base: []int64{100, 0, 0, 0}}, 60},
		{"MaskKeepsBothOnCPU0_Together", problem{items: []item{{100, 1}, {100, 1}}, base: make([]int64, 2)}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, exact := bestSpread(tc.p); got != tc.want || !exact {
				t.Errorf("got %d (exact %v), want %d", got, exact, tc.want)
			}
		})
	}
}

// TestBestSpread_MatchesBruteForce compares with trying every placement,
// with background and cpusets.
func TestBestSpread_MatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 400 {
		m, n := 2+r.IntN(3), 1+r.IntN(7)
		p := problem{base: make([]int64, m)}
		for c := range p.base {
			if r.IntN(3) == 0 {
				p.base[c] = int64(r.IntN(101)) * 1000
			}
		}
		for range n {
			it := item{load: int64(r.IntN(101)) * 1000}
			if r.IntN(3) == 0 {
				it.mask = uint64(1 + r.IntN(1<<m-1))
			}
			p.items = append(p.items, it)
		}
		got, exact := bestSpread(p)
		if want := bruteBest(p); !exact || got != want {
			t.Fatalf("trial %d: %+v: got %d (exact %v), want %d", trial, p, got, exact, want)
		}
	}
}

// TestBestSpread_BigHostIsALowerBound checks the fallback is sound.
func TestBestSpread_BigHostIsALowerBound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	p := problem{base: make([]int64, 64)}
	for range 600 {
		p.items = append(p.items, item{load: int64(r.IntN(101)) * 1000})
	}
	lb, exact := bestSpread(p)
	l := make([]int64, 64)
	for _, x := range p.items {
		j := 0
		for c := range l {
			if l[c] < l[j] {
				j = c
			}
		}
		l[j] += x.load
	}
	if ub := spreadOf(l); lb > ub {
		t.Errorf("lower bound %d (exact %v) above a reachable spread %d", lb, exact, ub)
	}
}
