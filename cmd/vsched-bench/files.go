package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vsched/vsched/cgroupstats"
)

// fileCost is the cost of one read of one kind of kernel source, averaged
// over every vCPU of the running guests: a pread at offset 0 on a kept-open
// descriptor, or one sched_getaffinity.
type fileCost struct {
	name string
	n    int     // sources read per round (vCPUs, or 1 for /proc/stat)
	ns   float64 // per read
}

// measureFiles measures each per-vCPU source on the sampled guests' real
// threads and cgroups, and <proc>/stat.
func measureFiles(procRoot string, s *cgroupstats.Sample) ([]fileCost, error) {
	kinds := []struct {
		name  string
		paths func(d cgroupstats.DomainSample, v cgroupstats.VCPUStat) string
	}{
		{"schedstat", func(d cgroupstats.DomainSample, v cgroupstats.VCPUStat) string {
			return taskFile(procRoot, d, v, "schedstat")
		}},
		{"stat", func(d cgroupstats.DomainSample, v cgroupstats.VCPUStat) string {
			return taskFile(procRoot, d, v, "stat")
		}},
		{"status", func(d cgroupstats.DomainSample, v cgroupstats.VCPUStat) string {
			return taskFile(procRoot, d, v, "status")
		}},
		{"vcpuN cgroup cpu.stat", func(d cgroupstats.DomainSample, v cgroupstats.VCPUStat) string {
			return cgroupFile(d, v, "cpu.stat")
		}},
		{"vcpuN cgroup.threads", func(d cgroupstats.DomainSample, v cgroupstats.VCPUStat) string {
			return cgroupFile(d, v, "cgroup.threads")
		}},
	}
	var out []fileCost
	for _, k := range kinds {
		var paths []string
		for _, d := range s.Domains {
			for _, v := range d.VCPUs {
				if p := k.paths(d, v); p != "" {
					paths = append(paths, p)
				}
			}
		}
		if len(paths) == 0 {
			continue
		}
		ns, err := preadCost(paths)
		if err != nil {
			return nil, err
		}
		out = append(out, fileCost{k.name, len(paths), ns})
	}
	ns, err := preadCost([]string{filepath.Join(procRoot, "stat")})
	if err != nil {
		return nil, err
	}
	out = append(out, fileCost{"/proc/stat (" + strconv.Itoa(len(s.CPUs)) + " CPUs)", 1, ns})
	var tids []int
	for _, d := range s.Domains {
		for _, v := range d.VCPUs {
			tids = append(tids, v.TID)
		}
	}
	var set unix.CPUSet
	var berr error
	r := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			for _, tid := range tids {
				if err := unix.SchedGetaffinity(tid, &set); err != nil {
					berr = err
				}
			}
		}
	})
	if berr != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", berr)
	}
	out = append(out, fileCost{"sched_getaffinity(tid)", len(tids), float64(r.NsPerOp()) / float64(len(tids))})
	return out, nil
}

func taskFile(procRoot string, d cgroupstats.DomainSample, v cgroupstats.VCPUStat, name string) string {
	return filepath.Join(procRoot, strconv.Itoa(d.PID), "task", strconv.Itoa(v.TID), name)
}

// cgroupFile is a file of the vCPU's cgroup, or "" without one.
func cgroupFile(d cgroupstats.DomainSample, v cgroupstats.VCPUStat, name string) string {
	if d.Cgroup == "" {
		return ""
	}
	p := filepath.Join(d.Cgroup, "vcpu"+strconv.Itoa(v.VCPU), name)
	if fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		_ = unix.Close(fd)
		return p
	}
	return ""
}

// naiveFiles lists the files a sampler without kept-open descriptors and
// without the syscall would read per cycle: schedstat, stat and status of
// every vCPU, and <proc>/stat.
func naiveFiles(procRoot string, s *cgroupstats.Sample) []string {
	out := []string{filepath.Join(procRoot, "stat")}
	for _, d := range s.Domains {
		for _, v := range d.VCPUs {
			for _, f := range []string{"schedstat", "stat", "status"} {
				out = append(out, taskFile(procRoot, d, v, f))
			}
		}
	}
	return out
}

// preadCost opens paths and returns the cost of one pread at offset 0 per
// file, in ns.
func preadCost(paths []string) (float64, error) {
	fds := make([]int, 0, len(paths))
	defer func() {
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
	}()
	for _, p := range paths {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("opening %s: %w", p, err)
		}
		fds = append(fds, fd)
	}
	if len(fds) == 0 {
		return 0, errors.New("no descriptor left to measure a pread")
	}
	buf := make([]byte, 64<<10)
	var berr error
	r := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			for _, fd := range fds {
				if _, err := unix.Pread(fd, buf, 0); err != nil {
					berr = err
				}
			}
		}
	})
	if berr != nil {
		return 0, berr
	}
	return float64(r.NsPerOp()) / float64(len(fds)), nil
}
