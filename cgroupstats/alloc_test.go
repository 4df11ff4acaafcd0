package cgroupstats

import "testing"

func TestSample_SteadyState_ZeroAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	for _, l := range Layouts() {
		t.Run(l.String(), func(t *testing.T) {
			doms, s, _, _ := synthetic(t, l, 20, 3)
			var smp Sample
			if err := s.Sample(doms, &smp); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(20, func() {
				if err := s.Sample(doms, &smp); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per steady-state Sample, want 0", allocs)
			}
		})
	}
}
