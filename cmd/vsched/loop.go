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

// sampler is what the loop needs from cgroupstats.
type sampler interface {
	Sample(domains []cgroupstats.Domain, into *cgroupstats.Sample) error
	Transient() int
}

// loop is one daemon's state between cycles. A cycle reads the kernel
// (sample), keeps the planning window (history), turns it into the policy's
// input (buildWindow), plans, and hands the plan to the libvirt side, which
// checkpoints and pins in its own goroutine. Nothing in a cycle calls
// libvirt, so a slow libvirtd never delays a sample.
type loop struct {
	opts    *daemonOptions
	log     *logrus.Entry
	sampler sampler
	lv      *libvirtSide
	policy  balancer.Policy
	host    *hostView
	metrics *metrics
	rec     *recorder // nil without --plot
	started time.Time
	// lvDone is closed when the libvirt side's goroutine has returned: a
	// plan handed over after that is never applied (nil: it never returns).
	lvDone <-chan struct{}

	hist      history
	health    domainHealth
	listed    *listing // the listing cgDoms was built from
	cgDoms    []cgroupstats.Domain
	inflight  bool // a plan is with the libvirt side
	planned   bool // a plan has been made (for --once)
	streak    int  // consecutive cycles whose plan was not empty
	transient int  // vCPUs the sampler reads without kept-open files
	warned    map[string]bool
	overran   bool
	thinned   bool            // the window's samples are capped by the memory budget
	unread    map[string]bool // domains (UUID) whose XML the last listing could not read
}

func newLoop(o *daemonOptions, log *logrus.Entry, s sampler, lv *libvirtSide, pol balancer.Policy, host *hostView, m *metrics) *loop {
	l := &loop{
		opts: o, log: log, sampler: s, lv: lv, policy: pol, host: host, metrics: m,
		hist: newHistory(o.window, o.interval), health: domainHealth{}, warned: map[string]bool{},
	}
	if o.plot != "" {
		l.rec = newRecorder(maxPlotFrames)
	}
	return l
}

// cycle samples the listed domains and, once the window is full, plans and
// hands the plan over. Nothing in it is fatal.
func (l *loop) cycle(now time.Time) {
	if l.started.IsZero() {
		l.started = now
	}
	l.collect()
	ls := l.lv.current()
	if ls == nil {
		return // no listing yet: libvirt is slow or down
	}
	l.refreshHost()
	l.noteUnread(ls)
	l.sampleDomains(ls, now)
	start := time.Now()
	cur := l.hist.next()
	if err := l.sampler.Sample(l.cgDoms, cur); err != nil {
		l.log.WithError(err).Error("sample failed")
		l.hist.reset()
		return
	}
	l.metrics.sampleDuration.Observe(time.Since(start).Seconds())
	if thin := l.hist.fit(cur); thin != l.thinned { // a state change, logged once
		l.thinned = thin
		f := l.log.WithFields(logrus.Fields{"samples": l.hist.limit, "window_samples": l.hist.keep, "budget_bytes": historyBudget})
		if thin {
			f.WithField("vcpus", countVCPUs(cur)).Warn("window's samples do not fit the history's memory budget: keeping fewer, evenly spread")
		} else {
			f.Info("window's samples fit the history's memory budget again")
		}
	}
	if n := l.sampler.Transient(); n != l.transient {
		l.transient = n
		if n > 0 {
			l.log.WithField("vcpus", n).Warn("open-file limit reached: some vCPUs are read with open-read-close; raise RLIMIT_NOFILE")
		}
	}
	l.checkDomains(cur, now)
	base := l.hist.base()
	if base == nil {
		return
	}
	w := buildWindow(base, cur, snapshotInputs{listing: ls, cpus: l.host.cpus, nodes: l.host.topo.Nodes, excluded: l.opts.excluded, started: l.started})
	l.noteOffline(w)
	l.metrics.observeWindow(w, ls)
	if l.rec != nil {
		l.rec.add(cur.Time, w)
	}
	if !l.inflight && !l.lv.lost.Load() {
		l.plan(w, ls, cur.Time)
	}
}

// noteUnread logs, once when it starts and once when it ends, a domain
// whose XML libvirt cannot give (pinning.Domain.Unread): it is sampled and
// its load counts, but its operator settings are unknown, so it is never
// pinned; each listing tries it again. Only a new listing can change it.
func (l *loop) noteUnread(ls *listing) {
	if ls == l.listed {
		return
	}
	var now map[string]bool
	for _, d := range ls.doms {
		f := l.log.WithFields(logrus.Fields{"domain": d.Name, "uuid": d.UUID})
		if d.Unread == nil {
			if l.unread[d.UUID] {
				f.Info("domain XML read again: managed as its settings say")
			}
			continue
		}
		if now == nil {
			now = map[string]bool{}
		}
		now[d.UUID] = true
		if !l.unread[d.UUID] {
			f.WithError(d.Unread).WithField("vcpus", len(d.VCPUs)).Warn("domain XML unreadable: its load counts, its vCPUs are not pinned until it reads again")
		}
	}
	l.unread = now
}

// countVCPUs is the number of vCPUs sampled in s.
func countVCPUs(s *cgroupstats.Sample) int {
	n := 0
	for i := range s.Domains {
		n += len(s.Domains[i].VCPUs)
	}
	return n
}

// sampleDomains builds the sampler's domain list from the listing, leaving
// out domains that are backing off.
func (l *loop) sampleDomains(ls *listing, now time.Time) {
	if ls == l.listed && !l.health.any() {
		return // same listing, nobody backing off: same domains
	}
	l.listed = ls
	l.cgDoms = l.cgDoms[:0]
	for _, d := range ls.cg {
		if !l.health.skip(d.UUID, now) {
			l.cgDoms = append(l.cgDoms, d)
		}
	}
	l.health.prune(ls)
}

// checkDomains handles the domains the sample could not read. A vanished
// one (stopped mid-sample) asks for a new listing; any other failure backs
// the domain off, at debug while it may be a guest still starting, then
// logged once as a warning, and once more when it ends.
func (l *loop) checkDomains(cur *cgroupstats.Sample, now time.Time) {
	for _, ds := range cur.Domains {
		if ds.Err == nil {
			if l.health.any() && l.health.ok(ds.Domain.UUID) {
				l.log.WithField("domain", ds.Domain.Name).Info("domain sampled again")
			}
			continue // the common case: no log entry built
		}
		f := l.log.WithField("domain", ds.Domain.Name)
		switch {
		case errors.Is(ds.Err, cgroupstats.ErrVanished):
			f.WithError(ds.Err).Debug("domain vanished mid-sample")
			l.lv.askRelist()
		default:
			d, warn := l.health.fail(ds.Domain.UUID, now)
			e := f.WithError(ds.Err).WithField("retry_in", d)
			if warn {
				e.Warn("domain not sampled for a while; backing off")
			} else {
				e.Debug("domain not sampled yet; backing off")
			}
		}
	}
}

// plan runs the policy on the window and hands a confirmed plan over.
func (l *loop) plan(w window, ls *listing, now time.Time) {
	cfg := balancer.Config{Threshold: l.opts.threshold, CPUs: l.host.cpus, Topology: balancer.Topology{Nodes: l.host.topo.Nodes, Cores: l.host.topo.Cores}, Cooldown: l.opts.cooldown}
	l.planned = true
	start := time.Now()
	plan := l.policy.Plan(w.snap, cfg)
	l.metrics.planDuration.Observe(time.Since(start).Seconds())
	l.log.WithFields(logrus.Fields{"pcpu_usage": formatPCPU(w.pcpu), "window": w.snap.Window.Round(time.Millisecond), "vcpus": len(w.snap.VCPUs), "moves": len(plan.Moves)}).Debug("cycle")
	if len(plan.Moves) == 0 {
		l.streak = 0
		return
	}
	if l.streak++; l.streak < l.opts.confirm {
		return // an imbalance must outlast measurement noise
	}
	l.streak = 0
	pins := make([]pinning.Pin, 0, len(plan.Moves))
	byID := map[balancer.VCPUID]balancer.VCPU{}
	for _, v := range w.snap.VCPUs {
		byID[v.ID] = v
	}
	for _, mv := range plan.Moves {
		v := byID[mv.ID]
		name := mv.ID.Domain
		if i, ok := ls.byUUID[mv.ID.Domain]; ok {
			name = ls.doms[i].Name
		}
		l.log.WithFields(logrus.Fields{
			"domain": name, "uuid": mv.ID.Domain, "vcpu": mv.ID.VCPU, "tid": w.tids[mv.ID], "from": mv.From, "to": mv.To,
			"usage": round1(v.Usage), "wait": round1(v.Wait), "reason": mv.Reason, "dry_run": l.opts.dryRun,
		}).Info("move vCPU")
		if l.rec != nil {
			l.rec.mark(now, mv)
		}
		pins = append(pins, pinning.Pin{UUID: mv.ID.Domain, Name: name, VCPU: mv.ID.VCPU, CPUs: cpuset.New(mv.To)})
	}
	if l.opts.dryRun {
		l.log.WithFields(logrus.Fields{"planned": len(plan.Moves), "pcpu_usage": formatPCPU(w.pcpu), "dry_run": true}).Info("rebalanced")
		return
	}
	l.inflight = true
	l.lv.plans <- handover{pins: pins, from: ls} // buffered; the libvirt side holds at most this one plan
	if l.opts.once {
		l.wait()
	}
}

// collect takes the libvirt side's results of the plan in flight, if any.
func (l *loop) collect() {
	if !l.inflight {
		return
	}
	select {
	case res := <-l.lv.results:
		l.finish(res)
	default:
	}
}

// wait blocks until the plan in flight is applied (--once), or until the
// libvirt side has stopped (SIGINT/SIGTERM): it may have stopped before it
// took the plan, and then no result ever comes.
func (l *loop) wait() {
	if !l.inflight {
		return
	}
	select {
	case res := <-l.lv.results:
		l.finish(res)
	case <-l.lvDone:
		select { // it may have applied the plan just before it returned
		case res := <-l.lv.results:
			l.finish(res)
		default:
			l.inflight = false
			l.log.Info("stopping: the plan in flight was not applied")
		}
	}
}

// finish logs a plan's results; when pins changed, the next plan judges
// the new placement on a window of its own.
func (l *loop) finish(res []pinning.Result) {
	l.inflight = false
	moved := 0
	for _, r := range res {
		f := l.log.WithFields(logrus.Fields{"domain": r.Pin.Name, "uuid": r.Pin.UUID, "vcpu": r.Pin.VCPU, "cpus": r.Pin.CPUs.String()})
		switch {
		case errors.Is(r.Err, errOperatorsPin):
			f.Info("pin skipped: the vCPU is the operator's now")
		case errors.Is(r.Err, errSkipped):
			f.WithError(r.Err).Info("pin skipped: its domain changed since the plan")
		case r.Err != nil:
			l.metrics.pinErrors.Inc()
			f.WithError(r.Err).Warn("pin failed")
		case r.Changed:
			l.metrics.moves.Inc()
			moved++
		}
	}
	l.log.WithFields(logrus.Fields{"moves": moved, "planned": len(res)}).Info("rebalanced")
	if moved > 0 {
		l.hist.restart()
	}
}

// refreshHost re-reads the topology when CPUs were hot-plugged.
func (l *loop) refreshHost() {
	changed, err := l.host.refresh()
	switch {
	case err != nil:
		if !l.warned["topology"] {
			l.log.WithError(err).Warn("host topology not re-read; keeping the last one")
			l.warned["topology"] = true
		}
	case changed:
		l.warned["topology"] = false
		f := l.log.WithFields(logrus.Fields{"online": l.host.topo.Online.String(), "cpus": l.host.cpus.String()})
		if l.host.cpus.IsEmpty() {
			f.Warn("CPUs changed: none to balance over is online; nothing moves until one is")
		} else {
			f.Info("CPUs changed: balancing over the new set")
		}
		l.hist.reset()
	}
}

// noteOffline logs once per domain a <vcpu cpuset> naming CPUs vsched
// does not balance over; the rest of the cpuset is used.
func (l *loop) noteOffline(w window) {
	for name, cpus := range w.offline {
		if key := "cpuset/" + name + "/" + cpus.String(); !l.warned[key] {
			l.warned[key] = true
			l.log.WithFields(logrus.Fields{"domain": name, "cpus": cpus.String()}).Warn("domain cpuset names CPUs that are offline or not balanced; using the rest")
		}
	}
}
