// Command vsched-bench measures, on the same running guests and in one run,
// the cost of one full sample through vsched's kernel path (cgroupstats with
// kept-open descriptors, and a naive open-read-close variant) against
// libvirt's stats path (GetAllDomainStats, and per-domain GetCPUStats +
// GetVcpus), each source's cost per read on the guests' real vCPU threads,
// and then the kernel path alone on 100, 1,000 and 10,000 real threads of
// its own, listed as vCPUs in a cgroup tree, against a floor of one
// schedstat pread per thread measured in the same run. scripts/bench.sh
// runs it; docs/DESIGN.md has the contract.
//
// It prints Markdown tables and, as its last two lines,
// "cpu speedup: <x>x" (CPU time per sample, this process's plus
// libvirtd's) and "speedup: <x>x" (wall time per sample), both
// GetAllDomainStats against vsched's sampler. It exits non-zero, with the
// reason, whenever it cannot measure.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vsched/vsched/cgroupstats"
)

type options struct {
	connect, cgroupRoot, procRoot string
	rounds, samples               int
	scale                         []int
	plot                          string
	libvirtdPIDFile               string
	host                          bool
	scaleRounds                   int
}

func main() {
	var o options
	var scale string
	flag.StringVar(&o.connect, "connect", "qemu:///system", "libvirt connection URI")
	flag.StringVar(&o.cgroupRoot, "cgroup-root", "/sys/fs/cgroup", "cgroup mount point")
	flag.StringVar(&o.procRoot, "proc-root", "/proc", "proc mount point")
	flag.IntVar(&o.rounds, "rounds", 7, "rounds; each round runs every path in turn")
	flag.IntVar(&o.samples, "samples", 50, "samples per path per round")
	flag.StringVar(&scale, "scale", "100,1000,10000", "real-thread counts to sample (empty: skip)")
	flag.StringVar(&o.plot, "plot", "bench.svg", "SVG plot of cost per sample against vCPU count (empty: none)")
	flag.StringVar(&o.libvirtdPIDFile, "libvirtd-pidfile", "/run/libvirtd.pid", "libvirtd's PID file, to charge its CPU time to each path")
	flag.IntVar(&o.scaleRounds, "scale-rounds", 5, "rounds per thread count; each runs the sampler and the floor in turn")
	flag.BoolVar(&o.host, "host", true, "measure the running guests (false: only the real-thread scaling, no speedup lines)")
	flag.Parse()
	for _, f := range strings.Split(scale, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fail(fmt.Errorf("--scale %q: %q is not a positive count", scale, f))
		}
		o.scale = append(o.scale, n)
	}
	if o.rounds < 3 || o.samples < 1 || o.scaleRounds < 1 {
		fail(errors.New("--rounds must be at least 3, --samples and --scale-rounds at least 1"))
	}
	if err := run(o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "vsched-bench: %v\n", err)
	os.Exit(1)
}

func run(o options) error {
	start := time.Now()
	cgroupstats.RaiseFileLimit(1 << 20) // 10,000 threads: the sampler's and the floor's descriptors
	host := &hostResult{}
	if o.host {
		var err error
		if host, err = measureHost(o); err != nil {
			return err
		}
	}
	var scaled []scaleResult
	for _, n := range o.scale {
		r, err := measureScale(n, o.procRoot, o.scaleRounds)
		if err != nil {
			return fmt.Errorf("%d real threads: %w", n, err)
		}
		scaled = append(scaled, r)
	}
	printReport(os.Stdout, host, scaled)
	if o.plot != "" {
		if err := writePlot(o.plot, host, scaled); err != nil {
			return fmt.Errorf("--plot %s: %w", o.plot, err)
		}
		fmt.Printf("\nplot: %s\n", o.plot)
	}
	fmt.Printf("measured in %s\n", time.Since(start).Round(time.Second))
	if !o.host {
		return nil
	}
	lv, cg := host.byName(libvirtPath), host.byName(samplerPath)
	if lv == nil || cg == nil || cg.wall.median <= 0 || cg.cpu.median <= 0 {
		return errors.New("missing a measurement for the speedup lines")
	}
	fmt.Printf("cpu speedup: %.0fx\n", lv.cpu.median/cg.cpu.median)
	fmt.Printf("speedup: %.0fx\n", lv.wall.median/cg.wall.median)
	return nil
}
