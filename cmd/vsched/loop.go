package main

import (
	"errors"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/pinning"
)

// loop is one daemon's state between cycles: the samples of the planning
// window and the domains the newest was taken of.
type loop struct {
	opts    *daemonOptions
	log     *logrus.Entry
	sampler sampler
	pinner  pinner
	policy  balancer.Policy
	cfg     balancer.Config
	metrics *metrics
	rec     *recorder

	hist      history // samples of the current window, oldest first
	doms      []pinning.Domain
	cgDoms    []cgroupstats.Domain
	connDown  bool
	planned   bool                  // a plan has been made (for --once)
	moved     map[vcpuKey]time.Time // when vsched last moved each vCPU
	streak    int                   // consecutive cycles whose plan was not empty
	listedAt  time.Time             // when l.doms was listed; zero: list again
	relist    time.Duration         // how often to list domains
	transient int                   // vCPUs the sampler reads without kept-open files
}

func newLoop(o *daemonOptions, log *logrus.Entry, s sampler, p pinner, pol balancer.Policy, cfg balancer.Config, m *metrics) *loop {
	return &loop{
		opts: o, log: log, sampler: s, pinner: p, policy: pol, cfg: cfg, metrics: m,
		rec: newRecorder(), hist: newHistory(o.window, o.interval), moved: map[vcpuKey]time.Time{},
		relist: max(o.interval, time.Second),
	}
}

// cycle lists domains, samples them, and once the window is full plans and
// applies the moves. Nothing in it is fatal: a lost connection or a
// vanished domain skips what it must and the next cycle tries again.
func (l *loop) cycle() {
	if !l.list() {
		return
	}
	start := time.Now()
	cur := l.hist.next()
	if err := l.sampler.Sample(l.cgDoms, cur); err != nil {
		l.log.WithError(err).Error("sample failed")
		l.hist.reset()
		return
	}
	l.metrics.sampleDuration.Observe(time.Since(start).Seconds())
	if n := l.sampler.Transient(); n != l.transient {
		l.transient = n
		if n > 0 {
			l.log.WithField("vcpus", n).Warn("open-file limit reached: some vCPUs are read with open-read-close; raise RLIMIT_NOFILE")
		}
	}
	for _, ds := range cur.Domains {
		if ds.Err != nil {
			lvl := logrus.WarnLevel
			if errors.Is(ds.Err, cgroupstats.ErrVanished) {
				lvl = logrus.DebugLevel
			}
			l.log.WithError(ds.Err).WithField("domain", ds.Domain.Name).Log(lvl, "domain not sampled")
			l.listedAt = time.Time{} // list again: it may have stopped or restarted
		}
	}
	if last := l.hist.previous(); last != nil {
		pcpu, rates := pcpuUsage(last, cur), vcpuRates(last, cur)
		l.metrics.observe(rates, pcpu)
		l.rec.add(cur.Time, pcpu, rates)
	}
	if base := l.hist.base(); base != nil {
		if l.plan(base, cur) > 0 {
			l.hist.restart() // judge the new placement on a fresh window
		}
	}
}

// plan runs the policy on the window (base, cur), applies the result and
// returns how many pins changed.
func (l *loop) plan(base, cur *cgroupstats.Sample) int {
	elapsed := cur.Time.Sub(base.Time)
	if elapsed <= 0 {
		return 0
	}
	l.planned = true
	baseSnap := snapshot(base, nil, cur)
	curSnap := snapshot(cur, l.doms, nil)
	l.fix(curSnap, cur.Time)
	rates := vcpuRates(base, cur)
	pcpu := pcpuUsage(base, cur)

	start := time.Now()
	plan := l.policy.Plan(baseSnap, curSnap, elapsed, l.cfg)
	l.metrics.planDuration.Observe(time.Since(start).Seconds())
	l.log.WithFields(logrus.Fields{"pcpu_usage": formatPCPU(pcpu), "window": elapsed.Round(time.Millisecond), "vcpus": len(curSnap.VCPUs), "moves": len(plan.Moves)}).Debug("cycle")
	if len(plan.Moves) == 0 {
		l.streak = 0
		return 0
	}
	if l.streak++; l.streak < l.opts.confirm {
		return 0 // an imbalance must outlast measurement noise
	}
	l.streak = 0
	moved := l.apply(plan, rates, cur)
	l.log.WithFields(logrus.Fields{"moves": moved, "planned": len(plan.Moves), "pcpu_usage": formatPCPU(pcpu), "dry_run": l.opts.dryRun}).Info("rebalanced")
	return moved
}

// apply pins the plan's moves (or only logs them with --dry-run) and returns
// how many took effect.
func (l *loop) apply(plan balancer.Plan, rates map[vcpuKey]vcpuRate, cur *cgroupstats.Sample) int {
	pins := make([]pinning.Pin, 0, len(plan.Moves))
	uuid := make(map[string]string, len(l.doms))
	for _, d := range l.doms {
		uuid[d.Name] = d.UUID
	}
	for _, mv := range plan.Moves {
		r := rates[vcpuKey{mv.Domain, mv.VCPU}]
		l.log.WithFields(logrus.Fields{
			"domain": mv.Domain, "vcpu": mv.VCPU, "tid": r.tid, "from": mv.From, "to": mv.To,
			"usage": round1(r.usage), "wait": round1(r.wait), "reason": mv.Reason, "dry_run": l.opts.dryRun,
		}).Info("move vCPU")
		pins = append(pins, pinning.Pin{Domain: mv.Domain, UUID: uuid[mv.Domain], VCPU: mv.VCPU, CPUs: cpuset.New(mv.To)})
		l.rec.mark(cur.Time, mv)
	}
	if l.opts.dryRun {
		return 0
	}
	moved := 0
	for _, res := range l.pinner.Apply(pins) {
		f := l.log.WithFields(logrus.Fields{"domain": res.Pin.Domain, "vcpu": res.Pin.VCPU, "cpus": res.Pin.CPUs.String()})
		switch {
		case res.Err != nil:
			l.metrics.pinErrors.Inc()
			f.WithError(res.Err).Warn("pin failed")
		case res.Changed:
			l.setPin(res.Pin)
			l.metrics.moves.Inc()
			l.moved[vcpuKey{res.Pin.Domain, res.Pin.VCPU}] = cur.Time
			moved++
		}
	}
	return moved
}
