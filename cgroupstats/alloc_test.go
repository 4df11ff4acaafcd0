package cgroupstats_test

import (
	"testing"

	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/cgroupstats/cgroupstatstest"
)

func TestSample_SteadyState_ZeroAllocations(t *testing.T) {
	if cgroupstats.RaceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	for _, l := range cgroupstatstest.Layouts() {
		t.Run(l.String(), func(t *testing.T) {
			doms, s, _, _ := synthetic(t, l, 20, 3)
			var smp cgroupstats.Sample
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

// The same on real threads, where the affinity comes from
// sched_getaffinity and unpinned threads also read stat.
func TestSample_RealThreads_SteadyState_ZeroAllocations(t *testing.T) {
	if cgroupstats.RaceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	for _, pinned := range []bool{true, false} {
		s, doms, smp := realSampler(t, 8, pinned)
		if !s.SysAffinity() {
			t.Fatal("the real /proc did not select sched_getaffinity")
		}
		allocs := testing.AllocsPerRun(20, func() {
			if err := s.Sample(doms, smp); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("pinned=%v: %v allocations per steady-state Sample, want 0", pinned, allocs)
		}
	}
}
