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
	"github.com/vsched/vsched/internal/usageplot"
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
	if o.plot != "" {
		if err := usageplot.Check(); err != nil {
			return fmt.Errorf("%w: --plot %s: %w", errUsage, o.plot, err)
		}
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
	smp, err := cgroupstats.New(o.cgroupRoot, o.procRoot, cgroupstats.WithQEMURunDir(qemuRunDir))
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
	l.lvDone = lvDone
	log.WithFields(logrus.Fields{
		"connect": conn.URI(), "cgroup_mode": smp.Mode(), "cpus": host.cpus.String(), "online": host.topo.Online.String(),
		"nodes": len(host.topo.Nodes), "interval": o.interval, "window": o.window, "confirm": o.confirm, "cooldown": o.cooldown,
		"policy": policy.Name(), "threshold": o.threshold, "dry_run": o.dryRun, "state_dir": o.stateDir,
		"metrics_addr": m.addr, "open_files_limit": nofile,
	}).Info("vsched started")
	l.run(ctx)
	lvStop()
	<-lvDone // its libvirt calls are bounded by pinning's deadline
	var left error
	if o.restoreOnExit && store != nil {
		left = restoreOnExit(store, conn, log, stopDeadline)
	}
	if l.rec != nil {
		if err := l.rec.write(o.plot); err != nil {
			return errors.Join(left, fmt.Errorf("%w: --plot %s: %w", errRuntime, o.plot, err))
		}
		log.WithField("file", o.plot).Info("plot written")
	}
	log.Info("vsched stopped")
	return left
}

// stopDeadline bounds how long --restore-on-exit keeps trying at exit while
// libvirt does not answer: a call that overran pinning's deadline (5 s) is
// still pending, or libvirtd is restarting. It stays below the
// TimeoutStopSec of scripts/package/vsched.service.in (45 s), so vsched
// exits by itself, with its status, before systemd kills it.
const stopDeadline = 30 * time.Second

// restoreRetry is how often restoreOnExit tries again meanwhile. A try
// while a call is pending fails at once, without reaching libvirt.
const restoreRetry = 100 * time.Millisecond

// restoreOnExit restores the checkpoint's pins (--restore-on-exit). While
// libvirt times out or is unreachable it tries again, every restoreRetry,
// for at most within; restored entries leave the checkpoint, so each try
// takes up only what is left. It returns an error wrapping errRuntime when
// pins are left (not restored; they stay in the checkpoint for `vsched
// restore`), so that the exit status tells systemd.
func restoreOnExit(store *checkpoint.Store, p restorePinner, log *logrus.Entry, within time.Duration) error {
	deadline := time.Now().Add(within)
	logged := map[checkpoint.ID]bool{} // an entry kept (vCPU offline) is said once, not at every try
	for {
		outcomes, err := restoreFromCheckpoint(store, p)
		retry := retryable(err)
		for _, o := range outcomes {
			retry = retry || retryable(o.Err)
		}
		last := !retry || !time.Now().Add(restoreRetry).Before(deadline)
		left := 0
		for _, o := range outcomes {
			if o.failed() {
				left++
			}
			id := checkpoint.ID{UUID: o.Entry.UUID, VCPU: o.Entry.VCPU}
			if (last || !retryable(o.Err)) && !logged[id] {
				logged[id] = true
				o.logTo(log)
			}
		}
		if err != nil {
			left = len(store.Entries())
		}
		f := log.WithField("left", left)
		if err != nil {
			f = f.WithError(err)
		}
		switch {
		case !last:
			f.Debug("restore on exit: libvirt not answering, trying again")
			time.Sleep(restoreRetry)
			continue
		case err != nil:
			f.Error("restore on exit incomplete")
		}
		if left > 0 {
			return fmt.Errorf("%w: --restore-on-exit: %d pins not restored (kept in the checkpoint; run 'vsched restore')", errRuntime, left)
		}
		return nil
	}
}

// retryable reports whether err is libvirt not answering (a deadline, a
// call still pending, a connection being re-made): worth another try.
func retryable(err error) bool {
	return errors.Is(err, pinning.ErrTimeout) || errors.Is(err, pinning.ErrConnect)
}

// qemuRunDir is where libvirt's QEMU driver writes NAME.pid for each
// running domain: the sampler's last resort for a domain whose cgroup
// names no process.
const qemuRunDir = "/run/libvirt/qemu"

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
