package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"libvirt.org/go/libvirt"

	"github.com/vsched/vsched/cgroupstats"
)

// summary is a per-sample cost over the rounds, in microseconds.
type summary struct{ median, min, max float64 }

func summarize(v []float64) summary {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return summary{median: s[len(s)/2], min: s[0], max: s[len(s)-1]}
}

// pathResult is one path's cost per sample: wall time, and CPU time of this
// process plus libvirtd's.
type pathResult struct {
	name      string
	wall, cpu summary
}

// hostResult is the real-host comparison.
type hostResult struct {
	domains, vcpus int
	pinned         int // vCPUs pinned to one CPU (their stat is not read)
	paths          []pathResult
	files          []fileCost
	floorUS        float64 // one schedstat pread per vCPU, us per sample
}

func (h *hostResult) byName(name string) *pathResult {
	for i := range h.paths {
		if h.paths[i].name == name {
			return &h.paths[i]
		}
	}
	return nil
}

// The names of the two paths the speedup lines compare.
const (
	libvirtPath = "libvirt GetAllDomainStats"
	samplerPath = "vsched sampler (kept open)"
)

type path struct {
	name string
	run  func() error
}

// measureHost runs every path on the running guests, alternating them
// within each round so drift on a noisy host hits all paths alike.
func measureHost(o options) (*hostResult, error) {
	conn, err := libvirt.NewConnect(o.connect)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", o.connect, err)
	}
	defer conn.Close()
	doms, err := conn.ListAllDomains(libvirt.CONNECT_LIST_DOMAINS_ACTIVE)
	if err != nil {
		return nil, fmt.Errorf("listing domains on %s: %w", o.connect, err)
	}
	defer func() {
		for i := range doms {
			_ = doms[i].Free()
		}
	}()
	if len(doms) == 0 {
		return nil, fmt.Errorf("no running domains on %s to measure (scripts/bench.sh starts some)", o.connect)
	}
	cg, err := cgDomains(doms)
	if err != nil {
		return nil, err
	}
	smp, err := cgroupstats.New(o.cgroupRoot, o.procRoot)
	if err != nil {
		return nil, err
	}
	defer smp.Close()
	var sample cgroupstats.Sample
	if err := sampleAll(smp, cg, &sample); err != nil {
		return nil, err
	}
	res := &hostResult{domains: len(cg)}
	for _, d := range sample.Domains {
		res.vcpus += len(d.VCPUs)
		for _, v := range d.VCPUs {
			if v.Affinity.Size() == 1 {
				res.pinned++
			}
		}
	}
	if res.files, err = measureFiles(o.procRoot, &sample); err != nil {
		return nil, err
	}
	for _, f := range res.files {
		if f.name == "schedstat" {
			res.floorUS = f.ns * float64(res.vcpus) / 1000
		}
	}
	files := naiveFiles(o.procRoot, &sample)
	paths := []path{
		{libvirtPath, func() error {
			st, err := conn.GetAllDomainStats(nil, libvirt.DOMAIN_STATS_VCPU|libvirt.DOMAIN_STATS_CPU_TOTAL, libvirt.CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
			for i := range st {
				_ = st[i].Domain.Free()
			}
			return err
		}},
		{"libvirt GetCPUStats+GetVcpus", func() error {
			for i := range doms {
				if _, err := doms[i].GetCPUStats(-1, 1, 0); err != nil {
					return err
				}
				if _, err := doms[i].GetVcpus(); err != nil {
					return err
				}
			}
			return nil
		}},
		{samplerPath, func() error { return sampleAll(smp, cg, &sample) }},
		{"naive open-read-close of schedstat, stat, status", func() error {
			for _, f := range files {
				if _, err := os.ReadFile(f); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	wall := make([][]float64, len(paths))
	cpu := make([][]float64, len(paths))
	for r := 0; r < o.rounds; r++ {
		for i, p := range paths {
			w, c, err := timeIt(p.run, o.samples, o.libvirtdPIDFile)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
			wall[i] = append(wall[i], w)
			cpu[i] = append(cpu[i], c)
		}
	}
	for i, p := range paths {
		res.paths = append(res.paths, pathResult{name: p.name, wall: summarize(wall[i]), cpu: summarize(cpu[i])})
	}
	return res, nil
}

// cgDomains lists the domains with their online vCPU ids, as libvirt
// reports them (GetVcpus lists online vCPUs only).
func cgDomains(doms []libvirt.Domain) ([]cgroupstats.Domain, error) {
	var out []cgroupstats.Domain
	for i := range doms {
		id, err1 := doms[i].GetID()
		name, err2 := doms[i].GetName()
		uuid, err3 := doms[i].GetUUIDString()
		vcpus, err4 := doms[i].GetVcpus()
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, fmt.Errorf("reading domain %d: %w", i, err)
		}
		d := cgroupstats.Domain{ID: int(id), Name: name, UUID: uuid}
		for _, v := range vcpus {
			d.VCPUs = append(d.VCPUs, int(v.Number))
		}
		out = append(out, d)
	}
	return out, nil
}

// sampleAll takes one sample and fails if any domain could not be read:
// a path that silently skips domains would look cheaper than it is.
func sampleAll(smp *cgroupstats.Sampler, doms []cgroupstats.Domain, into *cgroupstats.Sample) error {
	if err := smp.Sample(doms, into); err != nil {
		return err
	}
	for _, d := range into.Domains {
		if d.Err != nil {
			return fmt.Errorf("domain %s: %w", d.Domain.Name, d.Err)
		}
	}
	return nil
}

// timeIt runs fn n times and returns wall and CPU microseconds per run; CPU
// is this process's user+system time plus libvirtd's, when its PID is known.
func timeIt(fn func() error, n int, pidFile string) (wallUS, cpuUS float64, err error) {
	ld0 := daemonCPU(pidFile)
	c0 := selfCPU()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if err := fn(); err != nil {
			return 0, 0, err
		}
	}
	wall := time.Since(t0)
	cpu := selfCPU() - c0 + daemonCPU(pidFile) - ld0
	return float64(wall.Microseconds()) / float64(n), float64(cpu.Microseconds()) / float64(n), nil
}

func selfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// daemonCPU returns the CPU time of every thread of the process named by
// pidFile, summed from /proc/<pid>/task/*/schedstat (ns, not 10 ms ticks);
// 0 when there is none. A thread that exits between two readings takes its
// time with it, so the figure can only be low, never high.
func daemonCPU(pidFile string) time.Duration {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0
	}
	dir := "/proc/" + strings.TrimSpace(string(b)) + "/task"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, e := range ents {
		st, err := os.ReadFile(dir + "/" + e.Name() + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(st))
		if len(f) == 0 {
			continue
		}
		ns, _ := strconv.ParseInt(f[0], 10, 64)
		sum += time.Duration(ns)
	}
	return sum
}
