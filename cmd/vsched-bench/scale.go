package main

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vsched/vsched/cgroupstats"
)

// scaleResult is the kernel path alone on a synthetic tree: nanoseconds per
// vCPU for the sampler, the bare pread floor and open-read-close, and the
// sampler's allocations per sample.
type scaleResult struct {
	vcpus                 int
	sampler, floor, naive float64 // ns per vCPU
	samplerAllocs         int64
	transient             int // vCPUs past the open-file limit, read with open-read-close
}

// measureScale builds a synthetic tree (libvirt's hybrid layout, 4 vCPUs per
// domain) and benchmarks the three ways of reading it.
func measureScale(n int) (scaleResult, error) {
	dir, err := os.MkdirTemp("", "vsched-bench-")
	if err != nil {
		return scaleResult{}, err
	}
	defer os.RemoveAll(dir)
	per := 4
	doms, cgRoot, procRoot, err := cgroupstats.WriteSyntheticTree(dir, cgroupstats.LayoutHybrid, (n+per-1)/per, per)
	if err != nil {
		return scaleResult{}, err
	}
	smp, err := cgroupstats.New(cgRoot, procRoot)
	if err != nil {
		return scaleResult{}, err
	}
	defer smp.Close()
	var s cgroupstats.Sample
	if err := sampleAll(smp, doms, &s); err != nil {
		return scaleResult{}, err
	}
	vcpus := 0
	for _, d := range s.Domains {
		vcpus += len(d.VCPUs)
	}
	files := smp.Files()
	var benchErr error
	bs := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := smp.Sample(doms, &s); err != nil {
				benchErr = err
			}
		}
	})
	transient := smp.Transient()
	_ = smp.Close() // give its descriptors to the floor
	floor, err := preadFloor(files, &benchErr)
	if err != nil {
		return scaleResult{}, err
	}
	bn := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			for _, f := range files {
				if _, err := os.ReadFile(f); err != nil {
					benchErr = err
				}
			}
		}
	})
	if benchErr != nil {
		return scaleResult{}, benchErr
	}
	perVCPU := func(r testing.BenchmarkResult) float64 { return float64(r.NsPerOp()) / float64(vcpus) }
	return scaleResult{vcpus: vcpus, sampler: perVCPU(bs), floor: floor * float64(len(files)) / float64(vcpus),
		naive: perVCPU(bn), samplerAllocs: bs.AllocsPerOp(), transient: transient}, nil
}

// preadFloor opens as many of files as the open-file limit allows and
// returns the cost of one pread at offset 0 per file, in ns: the floor any
// reader of these files pays.
func preadFloor(files []string, benchErr *error) (float64, error) {
	fds := make([]int, 0, len(files))
	defer func() {
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
	}()
	for _, f := range files {
		fd, err := unix.Open(f, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("opening %s: %w", f, err)
		}
		fds = append(fds, fd)
	}
	if len(fds) == 0 {
		return 0, errors.New("no descriptor left to measure the pread floor")
	}
	buf := make([]byte, 4096)
	bf := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			for _, fd := range fds {
				if _, err := unix.Pread(fd, buf, 0); err != nil {
					*benchErr = err
				}
			}
		}
	})
	return float64(bf.NsPerOp()) / float64(len(fds)), nil
}
