package cgroupstatstest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/vsched/vsched/cgroupstats"
)

// Threads is a set of real OS threads of this process: each is a goroutine
// locked to its thread and parked (asleep in the kernel, using no CPU) until
// Stop. They stand in for QEMU vCPU threads in benchmarks on real kernel
// files.
type Threads struct {
	TIDs []int // thread ids, in start order; never the process's main thread
	stop chan struct{}
	done chan struct{}
	n    int // goroutines started (TIDs plus one parked on the main thread, if any)
}

// StartThreads starts n parked OS threads. It raises the runtime's thread
// limit (debug.SetMaxThreads) to fit them.
func StartThreads(n int) (*Threads, error) {
	if n < 0 {
		return nil, fmt.Errorf("StartThreads(%d): negative count", n)
	}
	debug.SetMaxThreads(max(10_000, 2*n+1_000))
	th := &Threads{stop: make(chan struct{}), done: make(chan struct{}, n+1)}
	tids := make(chan int)
	for len(th.TIDs) < n {
		th.n++
		go th.park(tids)
		tid := <-tids
		if tid == os.Getpid() {
			// Go keeps the main thread when a locked goroutine exits; it
			// stays parked here until Stop and the next one lands elsewhere.
			continue
		}
		th.TIDs = append(th.TIDs, tid)
	}
	return th, nil
}

func (th *Threads) park(tids chan<- int) {
	runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
	tids <- unix.Gettid()
	<-th.stop
	th.done <- struct{}{}
}

// PinRoundRobin pins thread i to the i-th CPU of cpus, modulo its length, as
// vsched leaves vCPUs in steady state (each pinned to one pCPU).
func (th *Threads) PinRoundRobin(cpus []int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("PinRoundRobin: no CPUs")
	}
	for i, tid := range th.TIDs {
		var set unix.CPUSet
		set.Set(cpus[i%len(cpus)])
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("pinning thread %d: %w", tid, err)
		}
	}
	return nil
}

// Unpin lets every thread run on every CPU of cpus.
func (th *Threads) Unpin(cpus []int) error {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	for _, tid := range th.TIDs {
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("unpinning thread %d: %w", tid, err)
		}
	}
	return nil
}

// Stop ends every thread and waits until their goroutines have returned.
// The kernel reaps the threads shortly after.
func (th *Threads) Stop() {
	close(th.stop)
	for range th.n {
		<-th.done
	}
}

// WriteThreadTree writes under dir a cgroup v2 root without systemd (as
// libvirt lays it: machine/qemu-ID-NAME.libvirt-qemu/vcpuN/cgroup.threads)
// whose domains list the given real threads of process pid, perDomain
// vCPUs each, and returns the domains and the cgroup root. The proc root to
// sample them with is the real /proc: a Sampler then reads the kernel's own
// /proc/<pid>/task/<tid> files.
func WriteThreadTree(dir string, pid int, tids []int, perDomain int) ([]cgroupstats.Domain, string, error) {
	if perDomain < 1 {
		return nil, "", fmt.Errorf("WriteThreadTree: %d vCPUs per domain", perDomain)
	}
	files := map[string]string{"cgroup.controllers": "cpuset cpu io memory pids\n", "cgroup.procs": ""}
	var doms []cgroupstats.Domain
	for i := 0; i < len(tids); i += perDomain {
		d := cgroupstats.Domain{ID: len(doms) + 1, Name: fmt.Sprintf("bench-%05d", len(doms)),
			UUID: fmt.Sprintf("%08x-be0c-4c0d-9e8f-%012x", len(doms)+1, len(doms)+1)}
		base := "machine/" + cgroupstats.MachineName(d.ID, d.Name) + ".libvirt-qemu/"
		files[base+"cgroup.procs"] = strconv.Itoa(pid) + "\n"
		files[base+"cgroup.type"] = "domain threaded\n"
		for n, tid := range tids[i:min(i+perDomain, len(tids))] {
			d.VCPUs = append(d.VCPUs, n)
			files[base+"vcpu"+strconv.Itoa(n)+"/cgroup.threads"] = strconv.Itoa(tid) + "\n"
		}
		doms = append(doms, d)
	}
	root := filepath.Join(dir, "cgroup")
	if err := WriteFiles(root, files, nil); err != nil {
		return nil, "", err
	}
	return doms, root, nil
}
