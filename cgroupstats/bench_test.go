package cgroupstats_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/cgroupstats/cgroupstatstest"
)

// realSampler starts n real OS threads, lays a cgroup tree that lists them
// as vCPUs of 4-vCPU domains, and returns a Sampler over it and the real
// /proc that has sampled once. pinned pins each thread to one CPU, as vsched
// leaves vCPUs; otherwise they may run anywhere and stat is read too.
func realSampler(tb testing.TB, n int, pinned bool) (*cgroupstats.Sampler, []cgroupstats.Domain, *cgroupstats.Sample) {
	tb.Helper()
	th, err := cgroupstatstest.StartThreads(n)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(th.Stop)
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	if pinned {
		err = th.PinRoundRobin(cpus)
	} else {
		err = th.Unpin(cpus)
	}
	if err != nil {
		tb.Fatal(err)
	}
	cgroupstats.RaiseFileLimit(1 << 16)
	doms, cg, err := cgroupstatstest.WriteThreadTree(tb.TempDir(), os.Getpid(), th.TIDs, 4)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := cgroupstats.New(cg, "/proc")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	var smp cgroupstats.Sample
	if err := s.Sample(doms, &smp); err != nil {
		tb.Fatal(err)
	}
	for _, ds := range smp.Domains {
		if ds.Err != nil {
			tb.Fatal(ds.Err)
		}
	}
	return s, doms, &smp
}

func perVCPU(b *testing.B, vcpus int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(vcpus), "ns/vCPU")
}

// BenchmarkSampleRealThreads is one steady-state Sample of real threads
// (the kernel generates every file), pinned and unpinned.
func BenchmarkSampleRealThreads(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, pinned := range []bool{true, false} {
			b.Run(fmt.Sprintf("threads=%d/pinned=%v", n, pinned), func(b *testing.B) {
				s, doms, smp := realSampler(b, n, pinned)
				b.ReportAllocs()
				for b.Loop() {
					if err := s.Sample(doms, smp); err != nil {
						b.Fatal(err)
					}
				}
				perVCPU(b, n)
			})
		}
	}
}

// BenchmarkSchedstatFloor is one bare pread of each thread's kept-open
// schedstat, nothing else: the floor a per-vCPU sample cannot go below.
func BenchmarkSchedstatFloor(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("threads=%d", n), func(b *testing.B) {
			s, _, _ := realSampler(b, n, true)
			fds := s.SchedstatFDs()
			buf := make([]byte, 4096)
			for b.Loop() {
				for _, fd := range fds {
					if _, err := unix.Pread(fd, buf, 0); err != nil {
						b.Fatal(err)
					}
				}
			}
			perVCPU(b, len(fds))
		})
	}
}

// BenchmarkPreadLiveThread is the cost of one read of each per-thread
// source on one live thread of this process, with a kept-open descriptor.
func BenchmarkPreadLiveThread(b *testing.B) {
	th, err := cgroupstatstest.StartThreads(1)
	if err != nil {
		b.Fatal(err)
	}
	defer th.Stop()
	tid := th.TIDs[0]
	dir := filepath.Join("/proc", strconv.Itoa(os.Getpid()), "task", strconv.Itoa(tid))
	buf := make([]byte, 4096)
	for _, f := range []string{"schedstat", "stat", "status"} {
		b.Run(f, func(b *testing.B) {
			fd, err := unix.Open(filepath.Join(dir, f), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer unix.Close(fd)
			for b.Loop() {
				if _, err := unix.Pread(fd, buf, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("sched_getaffinity", func(b *testing.B) {
		var set unix.CPUSet
		for b.Loop() {
			if err := unix.SchedGetaffinity(tid, &set); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkProcStat reads this host's /proc/stat through the Sampler's
// kept-open descriptor and parser: a Sample of no domains.
func BenchmarkProcStat(b *testing.B) {
	s, err := cgroupstats.New("/sys/fs/cgroup", "/proc")
	if err != nil {
		b.Skipf("no usable /sys/fs/cgroup: %v", err)
	}
	defer s.Close()
	var smp cgroupstats.Sample
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Sample(nil, &smp); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(smp.CPUs)), "CPUs")
}

// BenchmarkProcStat256 reads a real-format /proc/stat of a 256-CPU host
// (written at bench time to a file) through the same path: the user-space
// share of the cost on a large host. The kernel's share there is not
// measurable on this machine.
func BenchmarkProcStat256(b *testing.B) {
	proc := writeTree(b, map[string]string{"stat": cgroupstatstest.ProcStat(256, 600)})
	cg := writeTree(b, map[string]string{"cgroup.controllers": "cpu\n"})
	s, err := cgroupstats.New(cg, proc)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var smp cgroupstats.Sample
	if err := s.Sample(nil, &smp); err != nil || len(smp.CPUs) != 256 {
		b.Fatalf("%v, %d CPUs", err, len(smp.CPUs))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Sample(nil, &smp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOnlineWatch is the per-cycle cost of noticing CPU hotplug on
// this host's sysfs.
func BenchmarkOnlineWatch(b *testing.B) {
	w, err := cgroupstats.NewOnlineWatch("/sys")
	if err != nil {
		b.Skip(err)
	}
	defer w.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Changed(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadTopology is one full topology read of this host's sysfs.
func BenchmarkReadTopology(b *testing.B) {
	for b.Loop() {
		if _, err := cgroupstats.ReadTopology("/sys"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSampleSynthetic1000 is one steady-state Sample of a 1,000-vCPU
// synthetic tree on tmpfs: it flatters the sampler (a tmpfs pread is about
// 0.6 us, a kernel-generated file is not) and is kept only to compare with
// older figures; the real-thread benchmarks are the measure.
func BenchmarkSampleSynthetic1000(b *testing.B) {
	doms, s, _, _ := synthetic(b, cgroupstatstest.LayoutHybrid, 250, 4)
	var smp cgroupstats.Sample
	if err := s.Sample(doms, &smp); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Sample(doms, &smp); err != nil {
			b.Fatal(err)
		}
	}
	perVCPU(b, 1000)
}
