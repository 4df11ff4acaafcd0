package main

import (
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
	fds := make([]int, 0, len(files))
	defer func() {
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
	}()
	for _, f := range files {
		fd, err := unix.Open(f, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return scaleResult{}, fmt.Errorf("opening %s: %w", f, err)
		}
		fds = append(fds, fd)
	}
	buf := make([]byte, 4096)
	var benchErr error
	bs := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := smp.Sample(doms, &s); err != nil {
				benchErr = err
			}
		}
	})
	bf := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			for _, fd := range fds {
				if _, err := unix.Pread(fd, buf, 0); err != nil {
					benchErr = err
				}
			}
		}
	})
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
	per1 := func(r testing.BenchmarkResult) float64 { return float64(r.NsPerOp()) / float64(vcpus) }
	return scaleResult{vcpus: vcpus, sampler: per1(bs), floor: per1(bf), naive: per1(bn), samplerAllocs: bs.AllocsPerOp()}, nil
}
