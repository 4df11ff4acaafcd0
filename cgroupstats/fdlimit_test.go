package cgroupstats_test

import (
	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/cgroupstats/cgroupstatstest"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Past the open-file limit the sampler must still read every vCPU: the ones
// it cannot keep open are read with open, read and close each time.
func TestSample_PastOpenFileLimit_ReadsEveryVCPU(t *testing.T) {
	doms, s, _, _ := synthetic(t, cgroupstatstest.LayoutHybrid, 20, 4) // 80 vCPUs, 320 files
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	// Room for the test binary's own files and about 60 more: most vCPUs
	// cannot be kept open.
	low := unix.Rlimit{Cur: uint64(countFDs(t) + 60), Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unix.Setrlimit(unix.RLIMIT_NOFILE, &old) }()
	var smp cgroupstats.Sample
	for round := range 2 {
		if err := s.Sample(doms, &smp); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		read := 0
		for _, d := range smp.Domains {
			if d.Err != nil {
				t.Fatalf("round %d: domain %s: %v", round, d.Domain.Name, d.Err)
			}
			for _, v := range d.VCPUs {
				if v.RunNs == 0 || v.TID == 0 {
					t.Errorf("round %d: %s vcpu %d read as %+v", round, d.Domain.Name, v.VCPU, v)
				}
				read++
			}
		}
		if read != 80 {
			t.Fatalf("round %d: %d vCPUs read, want 80", round, read)
		}
	}
	transient := s.Transient()
	if transient == 0 {
		t.Fatal("no vCPU fell back to open-read-close: the limit was not reached")
	}
	t.Logf("%d of 80 vCPUs read with open-read-close", transient)
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
