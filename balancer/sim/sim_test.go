package sim

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vsched/vsched/balancer"
)

func loadFile(t testing.TB, name string) *Scenario {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "scenarios", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, err := LoadScenario(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return sc
}

func intp(i int) *int { return &i }

// summary is what the shipped-scenario tests pin down.
type summary struct {
	ConvergedAt, PassRuleAt *int
	Moves, MovesAfter       int
}

// TestShippedScenarios holds the course's pass rule (usage stddev within
// 5% of its mean within 25 iterations, then no change) and DESIGN.md's
// balance on demand to each policy.
func TestShippedScenarios(t *testing.T) {
	tests := []struct {
		name, file, policy string
		want               summary
	}{
		{"PinnedRoundRobin_AdaptiveNeverMoves", "pinned-round-robin.json", "adaptive", summary{intp(0), intp(0), 0, 0}},
		{"PinnedRoundRobin_ClassicNeverMoves", "pinned-round-robin.json", "classic", summary{intp(0), intp(0), 0, 0}},
		{"AllOnCPU0_AdaptiveSpreadsTwoPerCPUInOneCycle", "all-on-cpu0.json", "adaptive", summary{intp(1), intp(1), 6, 0}},
		// The seed stops at 5/1/1/1: usage reads 100 everywhere, demand does not.
		{"AllOnCPU0_ClassicStopsAt5111", "all-on-cpu0.json", "classic", summary{nil, intp(3), 3, 0}},
		{"RandomHeavyLight_AdaptiveOneHeavyOneLightPerCPU", "random-heavy-light.json", "adaptive", summary{intp(1), intp(1), 1, 0}},
		{"RandomHeavyLight_ClassicPingPongs", "random-heavy-light.json", "classic", summary{nil, nil, 25, 0}},
		{"AllOnCPU0Half50_AdaptiveOneOfEachPerCPU", "all-on-cpu0-half-50.json", "adaptive", summary{intp(1), intp(1), 6, 0}},
		{"AllOnCPU0Half50_ClassicStopsOnUsage", "all-on-cpu0-half-50.json", "classic", summary{nil, intp(3), 3, 0}},
		{"PingPong_AdaptiveStaysStill", "pingpong.json", "adaptive", summary{intp(0), nil, 0, 0}},
		{"PingPong_ClassicMovesEveryCycle", "pingpong.json", "classic", summary{intp(24), nil, 25, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := balancer.PolicyByName(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Simulate(loadFile(t, tc.file), p, balancer.DefaultThreshold)
			if err != nil {
				t.Fatal(err)
			}
			got := summary{res.ConvergedAt, res.PassRuleAt, res.Moves, res.MovesAfterConverged}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

// TestShippedScenarios_AdaptiveFinalPlacement checks who ends up where.
func TestShippedScenarios_AdaptiveFinalPlacement(t *testing.T) {
	tests := []struct {
		name, file string
		want       map[int][]string // pCPU -> its vCPUs' load class
	}{
		{"AllOnCPU0_TwoPerCPU", "all-on-cpu0.json",
			map[int][]string{0: {"100", "100"}, 1: {"100", "100"}, 2: {"100", "100"}, 3: {"100", "100"}}},
		{"RandomHeavyLight_OneHeavyOneLightPerCPU", "random-heavy-light.json",
			map[int][]string{0: {"100", "20"}, 1: {"100", "20"}, 2: {"100", "20"}, 3: {"100", "20"}}},
		{"AllOnCPU0Half50_OneOfEachPerCPU", "all-on-cpu0-half-50.json",
			map[int][]string{0: {"100", "50"}, 1: {"100", "50"}, 2: {"100", "50"}, 3: {"100", "50"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := loadFile(t, tc.file)
			res, err := Simulate(sc, balancer.NewAdaptive(), balancer.DefaultThreshold)
			if err != nil {
				t.Fatal(err)
			}
			load := map[string]string{}
			for _, vm := range sc.VMs {
				load[vm.Name+"/0"] = strconv.FormatFloat(vm.Load[0], 'f', -1, 64)
			}
			got := map[int][]string{}
			for _, k := range slices.Sorted(maps.Keys(res.FinalPins)) {
				got[res.FinalPins[k]] = append(got[res.FinalPins[k]], load[k])
			}
			for c := range got {
				slices.Sort(got[c])
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("placement (-want +got):\n%s", diff)
			}
		})
	}
}
