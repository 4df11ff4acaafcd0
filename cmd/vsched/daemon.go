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
	"github.com/vsched/vsched/pinning/checkpoint"
	"github.com/vsched/vsched/pinning/cpulist"
)

// runDaemon validates the options, opens the kernel, libvirt and
// checkpoint sides and runs the balancing loop until SIGINT/SIGTERM (or one
// cycle with --once).
func runDaemon(ctx context.Context, o *daemonOptions, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	log := newLogger(o.logFormat, o.logLevel, stderr)
	nofile := cgroupstats.RaiseFileLimit(1 << 20)
	policy, _ := balancer.PolicyByName(o.policy) // validated above
	want := cpuset.New()
	if o.cpus != "" {
		want, _ = cpulist.Parse(o.cpus) // validated above
	}
	host, err := newHostView(o.sysRoot, want)
	if err != nil {
		return fmt.Errorf("%w: --sys-root: %w", errUsage, err)
	}
	defer host.close()
	smp, err := cgroupstats.New(o.cgroupRoot, o.procRoot)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	defer smp.Close()
	var store *checkpoint.Store
	if !o.dryRun {
		if store, err = openCheckpoint(o.stateDir, log); err != nil {
			return fmt.Errorf("%w: --state-dir: %w", errUsage, err)
		}
		if store == nil { // a newer vsched's: pins change over it never
			o.dryRun = true
		} else {
			defer store.Close()
		}
	}
	conn, err := pinning.Open(o.connect)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	defer conn.Close()
	m, err := startMetrics(o.metricsAddr)
	if err != nil {
		return fmt.Errorf("%w: --metrics-addr %q: %w", errUsage, o.metricsAddr, err)
	}
	defer m.shutdown()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var ps pinStore
	if store != nil {
		ps = store
	}
	lv := newLibvirtSide(conn, ps, log, max(o.interval, time.Second))
	lvCtx, lvStop := context.WithCancel(ctx)
	lvDone := make(chan struct{})
	go func() { defer close(lvDone); lv.run(lvCtx) }()
	l := newLoop(o, log, smp, lv, policy, host, m)
	log.WithFields(logrus.Fields{
		"connect": conn.URI(), "cgroup_mode": smp.Mode(), "cpus": host.cpus.String(), "online": host.topo.Online.String(),
		"nodes": len(host.topo.Nodes), "interval": o.interval, "window": o.window, "confirm": o.confirm, "cooldown": o.cooldown,
		"policy": policy.Name(), "threshold": o.threshold, "dry_run": o.dryRun, "state_dir": o.stateDir,
		"metrics_addr": m.addr, "open_files_limit": nofile,
	}).Info("vsched started")
	l.run(ctx)
	lvStop()
	<-lvDone // its libvirt calls are bounded by pinning's deadline
	if o.restoreOnExit && store != nil {
		outcomes, err := restoreFromCheckpoint(store, conn)
		for _, o := range outcomes {
			o.logTo(log)
		}
		if err != nil {
			log.WithError(err).Error("restore on exit incomplete")
		}
	}
	if l.rec != nil {
		if err := l.rec.write(o.plot); err != nil {
			return fmt.Errorf("%w: --plot %s: %w", errRuntime, o.plot, err)
		}
		log.WithField("file", o.plot).Info("plot written")
	}
	log.Info("vsched stopped")
	return nil
}

// openCheckpoint opens the checkpoint in dir. A corrupt file was set aside
// by the store: one line says where, and vsched goes on with an empty one.
// A newer vsched's file is left in place: one line says so, and it returns
// no store and no error, for vsched to run without pinning (as --dry-run)
// rather than exit into a restart loop.
func openCheckpoint(dir string, log *logrus.Entry) (*checkpoint.Store, error) {
	store, err := checkpoint.Open(dir)
	var corrupt *checkpoint.CorruptError
	switch {
	case errors.As(err, &corrupt):
		log.WithError(err).Warn("checkpoint unreadable: set aside, starting with an empty one")
		return store, nil
	case errors.Is(err, checkpoint.ErrNewerVersion):
		log.WithError(err).Error("checkpoint of a newer vsched: nothing is pinned, as with --dry-run, until that vsched runs or the file is moved away")
		return nil, nil
	}
	return store, err
}

// run ticks every interval until ctx ends; with --once it stops after the
// first plan (two samples one window apart).
func (l *loop) run(ctx context.Context) {
	t := time.NewTicker(l.opts.interval)
	defer t.Stop()
	for {
		start := time.Now()
		l.cycle(start)
		if l.opts.once && l.planned {
			return
		}
		took := time.Since(start)
		over := took > l.opts.interval
		if over {
			l.metrics.overruns.Inc()
		}
		if over != l.overran { // a state change, logged once
			l.overran = over
			if over {
				l.log.WithField("took", took).Warn("cycle overran its interval")
			} else {
				l.log.Info("cycles back within their interval")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
