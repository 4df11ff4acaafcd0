package cgroupstats

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/utils/cpuset"
)

// osThread is one locked OS thread of the test process, named like a QEMU
// vCPU thread, that burns CPU on request.
type osThread struct {
	tid  int
	burn chan time.Duration
	done chan struct{}
}

// startThread starts a locked OS thread named name. stop ends the thread
// itself: a goroutine that exits while locked takes its thread with it,
// except the process's main thread, which Go keeps; a goroutine that lands
// there holds it (so the next try lands elsewhere) until a good one runs.
func startThread(t *testing.T, name string) *osThread {
	t.Helper()
	release := make(chan struct{})
	defer close(release)
	for range 8 {
		th := &osThread{burn: make(chan time.Duration), done: make(chan struct{})}
		ready := make(chan error)
		go th.run(name, ready, release)
		if err := <-ready; errors.Is(err, errMainThread) {
			continue
		} else if err != nil {
			t.Skipf("cannot name own thread: %v", err)
		}
		return th
	}
	t.Skip("no locked thread apart from the main thread")
	return nil
}

var errMainThread = errors.New("main thread")

func (th *osThread) run(name string, ready chan<- error, release <-chan struct{}) {
	runtime.LockOSThread() // never unlocked on a spare thread: it exits with us
	th.tid = unix.Gettid()
	if th.tid == unix.Getpid() {
		ready <- errMainThread
		<-release
		runtime.UnlockOSThread()
		return
	}
	ready <- os.WriteFile(fmt.Sprintf("/proc/self/task/%d/comm", th.tid), []byte(name), 0)
	for d := range th.burn {
		// Burn thread CPU time, not wall time: the host may be busy.
		var ts unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
		for end := ts.Nano() + d.Nanoseconds(); ts.Nano() < end; {
			_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
		}
		th.done <- struct{}{}
	}
}

func (th *osThread) spin(d time.Duration) { th.burn <- d; <-th.done }

// stop ends the thread and waits until the kernel has reaped it.
func (th *osThread) stop(t *testing.T) {
	close(th.burn)
	p := fmt.Sprintf("/proc/self/task/%d", th.tid)
	for range 400 {
		if _, err := os.Stat(p); err != nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("thread %d did not exit", th.tid)
}

// selfCgroup is a v2 cgroup tree whose domain "self" (ID 1) lists tid as
// vcpu0 (or has no vcpu0 when tid is 0, with the process in cgroup.procs).
func selfCgroup(t *testing.T, tid int) string {
	files := map[string]string{"cgroup.controllers": "cpu\n",
		"machine/qemu-1-self.libvirt-qemu/cgroup.procs": strconv.Itoa(os.Getpid()) + "\n"}
	if tid != 0 {
		files["machine/qemu-1-self.libvirt-qemu/vcpu0/cgroup.threads"] = strconv.Itoa(tid) + "\n"
		files["machine/qemu-1-self.libvirt-qemu/vcpu0/cpu.stat"] = capture(t, "cpu_stat_hybrid.txt")
	}
	return writeTree(t, files)
}

func sampleOne(t *testing.T, s *Sampler, d Domain) DomainSample {
	t.Helper()
	var got Sample
	if err := s.Sample([]Domain{d}, &got); err != nil {
		t.Fatal(err)
	}
	return got.Domains[0]
}

func TestRealKernel_OwnThread_RunGrowsAndAffinityMatches(t *testing.T) {
	for _, viaCgroup := range []bool{true, false} {
		t.Run(fmt.Sprintf("vcpuCgroup=%v", viaCgroup), func(t *testing.T) {
			th := startThread(t, "CPU 0/KVM")
			defer th.stop(t)
			tid := 0
			if viaCgroup {
				tid = th.tid
			}
			s, err := New(selfCgroup(t, tid), "/proc")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			d := Domain{ID: 1, Name: "self", VCPUs: []int{0}}
			before := sampleOne(t, s, d)
			if before.Err != nil {
				t.Fatal(before.Err)
			}
			if err := unix.SchedSetaffinity(th.tid, cpuSetOf(0)); err != nil {
				t.Fatal(err)
			}
			th.spin(50 * time.Millisecond)
			after := sampleOne(t, s, d)
			if after.Err != nil {
				t.Fatal(after.Err)
			}
			v0, v1 := before.VCPUs[0], after.VCPUs[0]
			if v1.TID != th.tid || after.PID != os.Getpid() {
				t.Errorf("TID, PID = %d, %d; want %d, %d", v1.TID, after.PID, th.tid, os.Getpid())
			}
			if grew := v1.RunNs - v0.RunNs; grew < 50_000_000 || grew > 5_000_000_000 {
				t.Errorf("RunNs grew %d ns over 50 ms of thread CPU time, want >= 50 ms", grew)
			}
			var kernel unix.CPUSet
			if err := unix.SchedGetaffinity(th.tid, &kernel); err != nil {
				t.Fatal(err)
			}
			if want := fromUnix(kernel); !v1.Affinity.Equals(want) || !want.Equals(cpuset.New(0)) {
				t.Errorf("Affinity = %v, kernel says %v, want 0", v1.Affinity, want)
			}
			if v1.LastCPU != 0 {
				t.Errorf("LastCPU = %d after burning pinned to CPU 0", v1.LastCPU)
			}
			if !s.sysAffinity {
				t.Error("the real /proc did not select sched_getaffinity")
			}
			if v1.Start == 0 || v1.Start != v0.Start {
				t.Errorf("Start = %d then %d, want the same non-zero start time", v0.Start, v1.Start)
			}
		})
	}
}

func TestRealKernel_ThreadExits_ErrVanishedForThatDomainOnly(t *testing.T) {
	gone, stays := startThread(t, "CPU 0/KVM"), startThread(t, "CPU 0/TCG")
	defer stays.stop(t)
	root := writeTree(t, map[string]string{
		"cgroup.controllers": "cpu\n",
		"machine/qemu-1-gone.libvirt-qemu/vcpu0/cgroup.threads":  strconv.Itoa(gone.tid) + "\n",
		"machine/qemu-1-gone.libvirt-qemu/vcpu0/cpu.stat":        capture(t, "cpu_stat_hybrid.txt"),
		"machine/qemu-2-stays.libvirt-qemu/vcpu0/cgroup.threads": strconv.Itoa(stays.tid) + "\n",
		"machine/qemu-2-stays.libvirt-qemu/vcpu0/cpu.stat":       capture(t, "cpu_stat_hybrid.txt"),
	})
	s, err := New(root, "/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	doms := []Domain{{ID: 1, Name: "gone", VCPUs: []int{0}}, {ID: 2, Name: "stays", VCPUs: []int{0}}}
	var got Sample
	if err := s.Sample(doms, &got); err != nil || got.Domains[0].Err != nil || got.Domains[1].Err != nil {
		t.Fatalf("first sample: %v, %+v", err, got.Domains)
	}
	gone.stop(t)
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if ds := got.Domains[0]; !errors.Is(ds.Err, ErrVanished) || len(ds.VCPUs) != 0 {
		t.Errorf("gone: Err = %v, VCPUs = %v; want ErrVanished and none", ds.Err, ds.VCPUs)
	}
	if ds := got.Domains[1]; ds.Err != nil || len(ds.VCPUs) != 1 || ds.VCPUs[0].TID != stays.tid {
		t.Errorf("stays: %+v, want its one vCPU read", ds)
	}
}

func TestRealKernel_RealRoots_ModeAndCPUs(t *testing.T) {
	s, err := New("/sys/fs/cgroup", "/proc")
	if err != nil {
		t.Skipf("no usable /sys/fs/cgroup: %v", err)
	}
	defer s.Close()
	if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil && s.Mode() != modeHybrid {
		t.Errorf("Mode() = %q on a host with unified/, want hybrid", s.Mode())
	}
	var got Sample
	if err := s.Sample(nil, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.CPUs) != runtime.NumCPU() && len(got.CPUs) < 1 {
		t.Errorf("got %d online CPUs", len(got.CPUs))
	}
	for _, c := range got.CPUs {
		if c.BusyNs > c.TotalNs {
			t.Errorf("CPU %d: busy %d > total %d", c.CPU, c.BusyNs, c.TotalNs)
		}
	}
}

func cpuSetOf(cpus ...int) *unix.CPUSet {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	return &set
}

func fromUnix(set unix.CPUSet) cpuset.CPUSet {
	var cpus []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpuset.New(cpus...)
}

// An unpinned thread's last CPU comes from its stat; once pinned to one CPU
// the pin is reported without reading stat.
func TestRealKernel_UnpinnedReadsStat_PinnedReportsPin(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs")
	}
	th := startThread(t, "CPU 0/KVM")
	defer th.stop(t)
	s, err := New(selfCgroup(t, th.tid), "/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := Domain{ID: 1, Name: "self", VCPUs: []int{0}}
	if err := unix.SchedSetaffinity(th.tid, cpuSetOf(1)); err != nil {
		t.Fatal(err)
	}
	th.spin(5 * time.Millisecond) // runs on CPU 1: stat says so
	if err := unix.SchedSetaffinity(th.tid, cpuSetOf(0, 1)); err != nil {
		t.Fatal(err)
	}
	got := sampleOne(t, s, d)
	if got.Err != nil || got.VCPUs[0].LastCPU != 1 || got.VCPUs[0].Affinity.Size() != 2 {
		t.Fatalf("unpinned: %+v, want last CPU 1 from stat, affinity 0-1", got)
	}
	if err := unix.SchedSetaffinity(th.tid, cpuSetOf(0)); err != nil {
		t.Fatal(err)
	}
	got = sampleOne(t, s, d)
	if got.Err != nil || got.VCPUs[0].LastCPU != 0 || !got.VCPUs[0].Affinity.Equals(cpuset.New(0)) {
		t.Fatalf("pinned to 0: %+v, want last CPU 0 (the pin)", got)
	}
}

// A vCPU whose thread exits and is replaced by a new one (unplug and
// replug) is ErrVanished once, then read as the new thread: never a delta
// across the two.
func TestRealKernel_ThreadReplaced_VanishedOnceThenNewThread(t *testing.T) {
	old, repl := startThread(t, "CPU 0/KVM"), startThread(t, "CPU 0/KVM")
	defer repl.stop(t)
	root := selfCgroup(t, old.tid)
	s, err := New(root, "/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := Domain{ID: 1, Name: "self", VCPUs: []int{0}}
	if got := sampleOne(t, s, d); got.Err != nil || got.VCPUs[0].TID != old.tid {
		t.Fatalf("first: %+v", got)
	}
	old.stop(t)
	threads := root + "/machine/qemu-1-self.libvirt-qemu/vcpu0/cgroup.threads"
	if err := os.WriteFile(threads, []byte(strconv.Itoa(repl.tid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := sampleOne(t, s, d); !errors.Is(got.Err, ErrVanished) || len(got.VCPUs) != 0 {
		t.Fatalf("after replacement: Err = %v, VCPUs = %v; want ErrVanished, none", got.Err, got.VCPUs)
	}
	if got := sampleOne(t, s, d); got.Err != nil || got.VCPUs[0].TID != repl.tid {
		t.Fatalf("next: %+v, want the new thread %d", got, repl.tid)
	}
}
