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

// loop is one daemon's state between cycles: the last sample and the
// domains it was taken of, so each cycle plans on (previous, current).
type loop struct {
	opts    *daemonOptions
	log     *logrus.Entry
	sampler sampler
	pinner  pinner
	policy  balancer.Policy
	cfg     balancer.Config
	metrics *metrics
	rec     *recorder

	prev, cur       *cgroupstats.Sample
	prevDoms, doms  []pinning.Domain
	cgDoms          []cgroupstats.Domain
	havePrev        bool
	connDown        bool
	cycles          int
}

func newLoop(o *daemonOptions, log *logrus.Entry, s sampler, p pinner, pol balancer.Policy, cfg balancer.Config, m *metrics) *loop {
	return &loop{
		opts: o, log: log, sampler: s, pinner: p, policy: pol, cfg: cfg, metrics: m,
		rec: newRecorder(), prev: &cgroupstats.Sample{}, cur: &cgroupstats.Sample{},
	}
}

// cycle lists domains, samples them, and when a previous sample exists plans
// and applies the moves. Nothing in it is fatal: a lost connection or a
// vanished domain skips what it must and the next cycle tries again.
func (l *loop) cycle() {
	l.cycles++
	doms, err := l.pinner.Domains()
	if err != nil {
		if !l.connDown {
			l.log.WithError(err).Warn("libvirt unreachable, will reconnect")
		}
		l.connDown = true
		l.havePrev = false
		return
	}
	if l.connDown {
		l.log.Info("libvirt connection restored")
		l.connDown = false
	}
	l.doms = l.doms[:0]
	l.cgDoms = l.cgDoms[:0]
	for _, d := range doms {
		if l.opts.excluded(d.Name) {
			continue
		}
		l.doms = append(l.doms, d)
		l.cgDoms = append(l.cgDoms, cgroupstats.Domain{ID: d.ID, Name: d.Name, UUID: d.UUID, VCPUs: d.VCPUs})
	}
	start := time.Now()
	if err := l.sampler.Sample(l.cgDoms, l.cur); err != nil {
		l.log.WithError(err).Error("sample failed")
		l.havePrev = false
		return
	}
	l.metrics.sampleDuration.Observe(time.Since(start).Seconds())
	for _, ds := range l.cur.Domains {
		if ds.Err != nil {
			lvl := logrus.WarnLevel
			if errors.Is(ds.Err, cgroupstats.ErrVanished) {
				lvl = logrus.DebugLevel
			}
			l.log.WithError(ds.Err).WithField("domain", ds.Domain.Name).Log(lvl, "domain not sampled")
		}
	}
	if l.havePrev {
		l.plan()
	}
	l.prev, l.cur = l.cur, l.prev
	l.prevDoms, l.doms = l.doms, l.prevDoms
	l.havePrev = true
}

// plan runs the policy on (previous, current) and applies the result.
func (l *loop) plan() {
	elapsed := l.cur.Time.Sub(l.prev.Time)
	if elapsed <= 0 {
		return
	}
	prevSnap := snapshot(l.prev, l.prevDoms, l.cur)
	curSnap := snapshot(l.cur, l.doms, nil)
	rates := vcpuRates(l.prev, l.cur)
	pcpu := pcpuUsage(l.prev, l.cur)
	l.metrics.observe(rates, pcpu)
	l.rec.add(l.cur.Time, pcpu)

	start := time.Now()
	plan := l.policy.Plan(prevSnap, curSnap, elapsed, l.cfg)
	l.metrics.planDuration.Observe(time.Since(start).Seconds())
	l.log.WithFields(logrus.Fields{"pcpu_usage": formatPCPU(pcpu), "vcpus": len(curSnap.VCPUs), "moves": len(plan.Moves)}).Debug("cycle")
	if len(plan.Moves) == 0 {
		return
	}
	moved := l.apply(plan, rates)
	l.log.WithFields(logrus.Fields{"moves": moved, "planned": len(plan.Moves), "pcpu_usage": formatPCPU(pcpu), "dry_run": l.opts.dryRun}).Info("rebalanced")
}

// apply pins the plan's moves (or only logs them with --dry-run) and returns
// how many took effect.
func (l *loop) apply(plan balancer.Plan, rates map[vcpuKey]vcpuRate) int {
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
		l.rec.mark(l.cur.Time, mv)
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
			l.metrics.moves.Inc()
			moved++
		}
	}
	return moved
}
