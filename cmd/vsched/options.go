package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/pinning/cpulist"
)

// daemonOptions holds the daemon's command line, as DESIGN.md's contract
// gives it. Values flow down from here; no package reads flags.
type daemonOptions struct {
	connect       string
	cgroupRoot    string
	procRoot      string
	sysRoot       string
	stateDir      string
	interval      time.Duration
	window        time.Duration
	cooldown      time.Duration
	confirm       int
	threshold     float64
	policy        string
	cpus          string
	exclude       []string
	dryRun        bool
	once          bool
	logFormat     string
	logLevel      string
	metricsAddr   string
	restoreOnExit bool
	plot          string
}

func defaultDaemonOptions() *daemonOptions {
	return &daemonOptions{
		connect:    "qemu:///system",
		cgroupRoot: "/sys/fs/cgroup",
		procRoot:   "/proc",
		sysRoot:    "/sys",
		stateDir:   "/var/lib/vsched",
		interval:   time.Second,
		cooldown:   10 * time.Second,
		confirm:    3,
		threshold:  10,
		policy:     "adaptive",
		logFormat:  "text",
		logLevel:   "info",
	}
}

// registerSource adds the flags shared by the daemon and `vsched sample`.
func (o *daemonOptions) registerSource(fs *pflag.FlagSet) {
	fs.StringVar(&o.connect, "connect", o.connect, "libvirt connection `URI`")
	fs.StringVar(&o.cgroupRoot, "cgroup-root", o.cgroupRoot, "cgroup file system mount `DIR`")
	fs.StringVar(&o.procRoot, "proc-root", o.procRoot, "proc file system mount `DIR`")
	fs.DurationVar(&o.interval, "interval", o.interval, "sample and balance every `DUR` (e.g. 250ms, 1s)")
}

func (o *daemonOptions) register(fs *pflag.FlagSet) {
	o.registerSource(fs)
	fs.StringVar(&o.sysRoot, "sys-root", o.sysRoot, "sysfs mount `DIR` (CPU topology, NUMA nodes, isolated CPUs)")
	fs.StringVar(&o.stateDir, "state-dir", o.stateDir, "`DIR` of the checkpoint state.json: the pins vsched found and set (see vsched restore)")
	fs.DurationVar(&o.window, "window", 0, "judge balance on CPU time averaged over `DUR`; after pins change, wait a full window before judging again (default: the larger of --interval and 1s)")
	fs.DurationVar(&o.cooldown, "cooldown", o.cooldown, "leave a vCPU vsched moved where it is for `DUR` (its load still counts); 0 turns this off")
	fs.IntVar(&o.confirm, "confirm", o.confirm, "act only when `N` consecutive cycles find the same imbalance (1 with --once)")
	fs.Float64Var(&o.threshold, "threshold", o.threshold, "rebalance when the busiest pCPU exceeds the freest by more than `N` percentage points")
	fs.StringVar(&o.policy, "policy", o.policy, "balancing `POLICY`: adaptive or classic")
	fs.StringVar(&o.cpus, "cpus", "", "pCPUs to balance over, as a `LIST` like 2-7,12 or 0-15,^3 (default: all online except the kernel's isolated CPUs)")
	fs.StringSliceVar(&o.exclude, "exclude", nil, "domain `NAME`s never to pin, comma-separated (their load still counts)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "plan and log every move, pin nothing")
	fs.BoolVar(&o.once, "once", false, "run one cycle (two samples one interval apart) and exit")
	fs.StringVar(&o.logFormat, "log-format", o.logFormat, "log `FORMAT`: text or json")
	fs.StringVar(&o.logLevel, "log-level", o.logLevel, "log `LEVEL`: debug, info, warn, error")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on `ADDR` (e.g. :9477); off when empty")
	fs.BoolVar(&o.restoreOnExit, "restore-on-exit", false, "on SIGINT/SIGTERM put back the pin vsched found on every vCPU whose pin is still the one vsched set (as vsched restore does), waiting at most 30s for libvirt to answer, and exit 1 when any is left; refused with --once, whose point is to leave its pins")
	fs.StringVar(&o.plot, "plot", "", "on exit, write an SVG plot of per-pCPU usage over time with the moves marked to `FILE`")
	fs.SortFlags = false
}

// validate checks the flags that need no I/O beyond stat of the roots. Every
// error wraps errUsage and names the flag.
func (o *daemonOptions) validate() error {
	if o.interval < 10*time.Millisecond {
		return fmt.Errorf("%w: --interval %s: must be at least 10ms", errUsage, o.interval)
	}
	if o.window == 0 {
		o.window = max(o.interval, time.Second)
		if o.once {
			o.window = o.interval // one cycle is two samples
		}
	}
	if o.once {
		o.confirm = 1
	}
	if o.confirm < 1 {
		return fmt.Errorf("%w: --confirm %d: must be at least 1", errUsage, o.confirm)
	}
	if o.cooldown < 0 {
		return fmt.Errorf("%w: --cooldown %s: must not be negative", errUsage, o.cooldown)
	}
	if o.window > maxWindow {
		return fmt.Errorf("%w: --window %s: must be at most %s", errUsage, o.window, maxWindow)
	}
	if o.once && o.restoreOnExit {
		return fmt.Errorf("%w: --restore-on-exit with --once would undo the cycle's own pins as it exits; run 'vsched restore' when they should go back", errUsage)
	}
	if o.window < o.interval {
		return fmt.Errorf("%w: --window %s: must be at least --interval (%s)", errUsage, o.window, o.interval)
	}
	if n := historySamples(o.window, o.interval); n > maxHistorySamples {
		return fmt.Errorf("%w: --window %s at --interval %s keeps %d samples; the history holds at most %d (its memory budget is %d MiB): use a longer --interval or a shorter --window",
			errUsage, o.window, o.interval, n, maxHistorySamples, historyBudget>>20)
	}
	if !(o.threshold > 0 && o.threshold <= 100) { // also refuses NaN
		return fmt.Errorf("%w: --threshold %g: must be in (0, 100]", errUsage, o.threshold)
	}
	if _, err := balancer.PolicyByName(o.policy); err != nil {
		return fmt.Errorf("%w: --policy %q: %w", errUsage, o.policy, err)
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return fmt.Errorf("%w: --log-format %q: must be text or json", errUsage, o.logFormat)
	}
	if _, err := logrus.ParseLevel(o.logLevel); err != nil {
		return fmt.Errorf("%w: --log-level %q: %w", errUsage, o.logLevel, err)
	}
	if o.cpus != "" {
		switch set, err := cpulist.Parse(o.cpus); {
		case err != nil:
			return fmt.Errorf("%w: --cpus: %w", errUsage, err)
		case set.IsEmpty(): // "" is the default, all CPUs: never what "^0-3" means
			return fmt.Errorf("%w: --cpus %q names no CPU", errUsage, o.cpus)
		}
	}
	for _, r := range []struct{ flag, dir string }{{"--cgroup-root", o.cgroupRoot}, {"--proc-root", o.procRoot}, {"--sys-root", o.sysRoot}} {
		if err := checkDir(r.dir); err != nil {
			return fmt.Errorf("%w: %s: %w", errUsage, r.flag, err)
		}
	}
	return nil
}

func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	return nil
}

// maxWindow bounds --window: the window's samples are kept in memory, and a
// policy judging on averages older than this would act on a host that no
// longer exists.
const maxWindow = 10 * time.Minute

// excluded reports whether the domain name is one --exclude names.
func (o *daemonOptions) excluded(name string) bool {
	for _, e := range o.exclude {
		if e == name {
			return true
		}
	}
	return false
}
