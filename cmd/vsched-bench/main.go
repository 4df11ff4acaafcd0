// Command vsched-bench measures, on the same running guests and in one run,
// the cost of one full sample through vsched's kernel path (cgroupstats with
// kept-open descriptors, and a naive open-read-close variant) against
// libvirt's stats path (GetAllDomainStats, and per-domain GetCPUStats +
// GetVcpus), then the kernel path alone on synthetic trees against a bare
// pread loop. scripts/bench.sh runs it; see DESIGN.md for the contract.
//
// It prints a Markdown table and, as its last line,
// "speedup: <libvirt us per sample / cgroup us per sample>x". It exits
// non-zero, with the reason, whenever it cannot measure.
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
}

func main() {
	var o options
	var scale string
	flag.StringVar(&o.connect, "connect", "qemu:///system", "libvirt connection URI")
	flag.StringVar(&o.cgroupRoot, "cgroup-root", "/sys/fs/cgroup", "cgroup mount point")
	flag.StringVar(&o.procRoot, "proc-root", "/proc", "proc mount point")
	flag.IntVar(&o.rounds, "rounds", 7, "rounds; each round runs every path in turn")
	flag.IntVar(&o.samples, "samples", 50, "samples per path per round")
	flag.StringVar(&scale, "scale", "100,1000,10000", "synthetic tree sizes in vCPUs (empty: skip)")
	flag.StringVar(&o.plot, "plot", "bench.svg", "SVG plot of cost per sample against vCPU count (empty: none)")
	flag.StringVar(&o.libvirtdPIDFile, "libvirtd-pidfile", "/run/libvirtd.pid", "libvirtd's PID file, to charge its CPU time to the libvirt paths")
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
	if o.rounds < 3 || o.samples < 1 {
		fail(errors.New("--rounds must be at least 3 and --samples at least 1"))
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
	cgroupstats.RaiseFileLimit(1 << 20) // 10,000 vCPUs keep about 40,000 files open
	host, err := measureHost(o)
	if err != nil {
		return err
	}
	var scaled []scaleResult
	for _, n := range o.scale {
		r, err := measureScale(n)
		if err != nil {
			return fmt.Errorf("synthetic tree of %d vCPUs: %w", n, err)
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
	lv, cg := host.byName("libvirt GetAllDomainStats"), host.byName("cgroup sampler (kept open)")
	if lv == nil || cg == nil || cg.wall.median <= 0 {
		return errors.New("missing a measurement for the speedup line")
	}
	fmt.Printf("speedup: %.0fx\n", lv.wall.median/cg.wall.median)
	return nil
}
