package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/pinning"
)

// sampler is what the loop needs from cgroupstats.
type sampler interface {
	Sample(domains []cgroupstats.Domain, into *cgroupstats.Sample) error
	Transient() int
}

// pinner is what the loop needs from pinning.
type pinner interface {
	Domains() ([]pinning.Domain, error)
	Apply(pins []pinning.Pin) []pinning.Result
	Restore() []pinning.Result
}

// runDaemon validates the options, opens the kernel and libvirt sides and
// runs the balancing loop until SIGINT/SIGTERM (or one cycle with --once).
func runDaemon(ctx context.Context, o *daemonOptions, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	log := newLogger(o.logFormat, o.logLevel, stderr)
	nofile := cgroupstats.RaiseFileLimit(1 << 20)
	policy, _ := balancer.PolicyByName(o.policy) // validated above
	smp, err := cgroupstats.New(o.cgroupRoot, o.procRoot)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	defer smp.Close()
	conn, err := pinning.Open(o.connect)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	defer conn.Close()
	cpus, err := balanceCPUs(o.cpus, o.procRoot, isolatedCPUsFile)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	m, err := startMetrics(o.metricsAddr)
	if err != nil {
		return fmt.Errorf("%w: --metrics-addr %q: %w", errUsage, o.metricsAddr, err)
	}
	defer m.shutdown()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	l := newLoop(o, log, smp, conn, policy, balancer.Config{Threshold: o.threshold, CPUs: cpus}, m)
	log.WithFields(logrus.Fields{
		"connect": conn.URI(), "cgroup_mode": smp.Mode(), "cpus": cpus.String(),
		"interval": o.interval, "window": o.window, "confirm": o.confirm, "cooldown": o.cooldown, "policy": policy.Name(), "threshold": o.threshold, "dry_run": o.dryRun,
		"metrics_addr":     m.addr,
		"open_files_limit": nofile,
	}).Info("vsched started")
	l.run(ctx)
	if o.restoreOnExit && !o.dryRun {
		l.restore()
	}
	if o.plot != "" {
		if err := l.rec.write(o.plot); err != nil {
			return fmt.Errorf("%w: --plot %s: %w", errRuntime, o.plot, err)
		}
		log.WithField("file", o.plot).Info("plot written")
	}
	log.Info("vsched stopped")
	return nil
}

// run ticks every interval until ctx ends; with --once it stops after the
// second sample's cycle.
func (l *loop) run(ctx context.Context) {
	t := time.NewTicker(l.opts.interval)
	defer t.Stop()
	for {
		start := time.Now()
		l.cycle()
		if l.opts.once && l.planned {
			return
		}
		if took := time.Since(start); took > l.opts.interval {
			l.metrics.overruns.Inc()
			l.log.WithField("took", took).Warn("cycle overran its interval")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// restore puts back every pin vsched changed, logging each result.
func (l *loop) restore() {
	for _, r := range l.pinner.Restore() {
		f := l.log.WithFields(logrus.Fields{"domain": r.Pin.Domain, "vcpu": r.Pin.VCPU, "cpus": r.Pin.CPUs.String()})
		switch {
		case r.Err != nil && errors.Is(r.Err, pinning.ErrDomainGone):
			f.WithError(r.Err).Debug("domain gone, nothing to restore")
		case r.Err != nil:
			f.WithError(r.Err).Error("restore pin failed")
		case r.Changed:
			f.Info("pin restored")
		}
	}
}

// balanceCPUs returns the pCPUs to balance over: the --cpus list if given
// (which must be online), else every online CPU except the isolated ones.
func balanceCPUs(list, procRoot, isolatedFile string) (cpuset.CPUSet, error) {
	online, err := onlineCPUs(procRoot)
	if err != nil {
		return cpuset.New(), err
	}
	if list != "" {
		want, err := parseCPUList(list)
		if err != nil {
			return cpuset.New(), fmt.Errorf("--cpus %q: %w", list, err)
		}
		if off := want.Difference(online); !off.IsEmpty() {
			return cpuset.New(), fmt.Errorf("--cpus %q: CPUs %s are not online (online: %s)", list, off, online)
		}
		return want, nil
	}
	isolated := cpuset.New()
	if b, err := os.ReadFile(isolatedFile); err == nil {
		if s, err := parseCPUList(string(b)); err == nil {
			isolated = s
		}
	}
	cpus := online.Difference(isolated)
	if cpus.IsEmpty() {
		return cpus, fmt.Errorf("no online, non-isolated CPUs to balance over (online %s, isolated %s)", online, isolated)
	}
	return cpus, nil
}
