package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/cgroupstats/cgroupstatstest"
)

// scaleResult is the kernel path alone on n real threads of this process,
// listed as vCPUs in a cgroup tree: ns per vCPU for the sampler (threads
// pinned to one CPU each, as vsched leaves vCPUs, and unpinned) against
// the floor of one schedstat pread per thread, medians of rounds that
// alternate the three so that a noisy host hits them alike.
type scaleResult struct {
	vcpus            int
	pinned, unpinned float64 // sampler ns per vCPU
	floor            float64 // one schedstat pread, ns per thread
	procStat         float64 // the <proc>/stat share of a sample, ns per vCPU
	allocs           int64
	transient        int // vCPUs past the fd budget, pinned
	// unpinnedTransient is the same unpinned: each such vCPU keeps two
	// files open (schedstat and stat).
	unpinnedTransient int
}

// measureScale starts n parked OS threads and benchmarks sampling them.
func measureScale(n int, procRoot string, rounds int) (scaleResult, error) {
	th, err := cgroupstatstest.StartThreads(n)
	if err != nil {
		return scaleResult{}, err
	}
	defer th.Stop()
	dir, err := os.MkdirTemp("", "vsched-bench-")
	if err != nil {
		return scaleResult{}, err
	}
	defer os.RemoveAll(dir)
	doms, cgRoot, err := cgroupstatstest.WriteThreadTree(dir, os.Getpid(), th.TIDs, 4)
	if err != nil {
		return scaleResult{}, err
	}
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	// Each round runs, in turn, a sampler while the threads are pinned
	// round-robin (as vsched leaves vCPUs), the floor, and a sampler while
	// they are unpinned. Each holds its descriptors only for its turn: a
	// process without CAP_SYS_RESOURCE may keep only the hard limit open
	// (20,000 here), and 10,000 unpinned vCPUs alone need that many.
	res := scaleResult{vcpus: n}
	var pin, unpin, fl, ps []float64
	buf := make([]byte, 4096)
	for range rounds {
		if err := th.PinRoundRobin(cpus); err != nil {
			return scaleResult{}, err
		}
		r, err := benchSampler(cgRoot, procRoot, doms)
		if err != nil {
			return scaleResult{}, err
		}
		pin = append(pin, r.perVCPU)
		ps = append(ps, r.procStat)
		res.allocs, res.transient = max(res.allocs, r.allocs), max(res.transient, r.transient)
		floor, err := openAll(th.TIDs, procRoot)
		if err != nil {
			return scaleResult{}, err
		}
		var ferr error
		br := testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				for _, fd := range floor {
					if _, err := unix.Pread(fd, buf, 0); err != nil {
						ferr = err
					}
				}
			}
		})
		closeAll(floor)
		if ferr != nil {
			return scaleResult{}, ferr
		}
		fl = append(fl, float64(br.NsPerOp())/float64(len(floor)))
		if err := th.Unpin(cpus); err != nil {
			return scaleResult{}, err
		}
		if r, err = benchSampler(cgRoot, procRoot, doms); err != nil {
			return scaleResult{}, err
		}
		unpin = append(unpin, r.perVCPU)
		res.unpinnedTransient = max(res.unpinnedTransient, r.transient)
	}
	res.pinned, res.floor, res.unpinned, res.procStat = median(pin), median(fl), median(unpin), median(ps)
	return res, nil
}

// samplerRun is one sampler's benchmark.
type samplerRun struct {
	perVCPU, procStat float64 // ns per vCPU: a whole sample, and its <proc>/stat pread
	allocs            int64
	transient         int
}

// benchSampler opens a Sampler over the tree, samples once (resolving every
// domain), benchmarks steady-state samples and closes it.
func benchSampler(cgRoot, procRoot string, doms []cgroupstats.Domain) (samplerRun, error) {
	smp, err := cgroupstats.New(cgRoot, procRoot)
	if err != nil {
		return samplerRun{}, err
	}
	defer smp.Close()
	var s cgroupstats.Sample
	if err := sampleAll(smp, doms, &s); err != nil {
		return samplerRun{}, err
	}
	n := 0
	for _, d := range doms {
		n += len(d.VCPUs)
	}
	var berr error
	r := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := smp.Sample(doms, &s); err != nil {
				berr = err
			}
		}
	})
	if berr != nil {
		return samplerRun{}, berr
	}
	if err := sampleAll(smp, doms, &s); err != nil { // every domain still read
		return samplerRun{}, err
	}
	statFD, err := unix.Open(procRoot+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return samplerRun{}, err
	}
	defer unix.Close(statFD)
	buf := make([]byte, 64<<10)
	rp := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := unix.Pread(statFD, buf, 0); err != nil {
				berr = err
			}
		}
	})
	return samplerRun{perVCPU: float64(r.NsPerOp()) / float64(n), procStat: float64(rp.NsPerOp()) / float64(n),
		allocs: r.AllocsPerOp(), transient: smp.Transient()}, berr
}

// openAll opens every thread's schedstat for the floor.
func openAll(tids []int, procRoot string) ([]int, error) {
	fds := make([]int, 0, len(tids))
	for _, tid := range tids {
		p := fmt.Sprintf("%s/%d/task/%d/schedstat", procRoot, os.Getpid(), tid)
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
			break
		}
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("opening %s: %w", p, err)
		}
		fds = append(fds, fd)
	}
	if len(fds) == 0 {
		return nil, errors.New("no descriptor left to measure the floor")
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
