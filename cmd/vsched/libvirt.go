package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/pinning"
	"github.com/vsched/vsched/pinning/checkpoint"
)

// pinner is what the daemon needs from pinning.
type pinner interface {
	restorePinner
	Events() <-chan struct{}
}

// pinStore is what the daemon needs from the checkpoint.
type pinStore interface {
	Record(entries []checkpoint.Entry) error
	Entries() []checkpoint.Entry
	Forget(ids ...checkpoint.ID) error
	Claim(c checkpoint.Connection, ids ...checkpoint.ID) error
	Put(entries []checkpoint.Entry) error
}

// listing is one view of the running domains, published by the libvirt
// side for the loop. It is never modified once published.
type listing struct {
	doms     []pinning.Domain
	cg       []cgroupstats.Domain     // doms as the sampler takes them
	byUUID   map[string]int           // index into doms
	live     checkpoint.Live          // each vCPU's pin, by domain UUID and vCPU id
	operator map[balancer.VCPUID]bool // vCPUs whose pin is the operator's
}

// pinOf returns a vCPU's live pin in the listing, if listed.
func (ls *listing) pinOf(id balancer.VCPUID) (cpuset.CPUSet, bool) {
	if pin, ok := ls.live[id.Domain][id.VCPU]; ok {
		return pin, true
	}
	return cpuset.New(), false
}

// libvirtSide owns every libvirt call and the checkpoint. It lists domains
// when libvirt reports a change, on a slow poll, or when the loop asks, and
// applies plans. It runs in its own goroutine, so a slow, busy or
// restarting libvirtd delays listings and pins but never a sample: starting
// or stopping a guest stalls libvirt calls on other domains for about a
// second and a half, and a domain in a migration holds its job lock.
type libvirtSide struct {
	p     pinner
	store pinStore // nil with --dry-run: nothing is pinned
	log   *logrus.Entry
	poll  time.Duration // listing period without events
	own   *ownership
	lost  atomic.Bool           // libvirt is unreachable; the loop makes no plan meanwhile
	conn  checkpoint.Connection // the connection the checkpoint's entries must name to be this side's
	fault func(faultPoint)      // nil in production; tests stop the apply path at a point

	relist  chan struct{} // the loop asks for a listing
	plans   chan handover // the loop hands over a plan
	results chan []pinning.Result
	cur     atomic.Pointer[listing]
}

// handover is a plan the loop hands to the libvirt side: its pins, and the
// listing it was planned from, which the pins are checked against.
type handover struct {
	pins []pinning.Pin
	from *listing
}

func newLibvirtSide(p pinner, store pinStore, log *logrus.Entry, poll time.Duration) *libvirtSide {
	return &libvirtSide{
		p: p, store: store, log: log, poll: poll, own: newOwnership(), conn: connectionOf(p), fault: faultFromEnv(),
		relist: make(chan struct{}, 1), plans: make(chan handover, 1), results: make(chan []pinning.Result, 1),
	}
}

// current returns the newest listing, or nil before the first one.
func (w *libvirtSide) current() *listing { return w.cur.Load() }

// askRelist asks for a listing soon; it never blocks.
func (w *libvirtSide) askRelist() {
	select {
	case w.relist <- struct{}{}:
	default:
	}
}

// run lists and applies until ctx ends.
func (w *libvirtSide) run(ctx context.Context) {
	events := w.p.Events()
	poll := w.poll
	if events != nil {
		poll = eventlessPoll // events tell of changes; the poll only catches what they miss
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-events:
		case <-w.relist:
		case <-t.C:
		case h := <-w.plans:
			w.results <- w.apply(h)
			continue
		}
		w.list()
		next := poll
		if w.lost.Load() {
			next = reconnectPoll // libvirtd restarting: notice it is back soon
		}
		t.Reset(next)
	}
}

// reconnectPoll is how often a lost libvirt is tried again.
const reconnectPoll = time.Second

// eventlessPoll is how often domains are listed when libvirt delivers
// lifecycle events: what the events miss (a vCPU hot-plug, and an operator's
// re-pin: the binding cannot take tunable events) waits at most this long,
// and a plan is checked against a fresh listing before any pin.
const eventlessPoll = 5 * time.Second

// list lists the domains, reconciles ownership and publishes the listing.
func (w *libvirtSide) list() {
	doms, err := w.p.Domains()
	if err != nil {
		if !w.lost.Swap(true) {
			w.log.WithError(err).Warn("libvirt unreachable, will reconnect")
		}
		return
	}
	if w.lost.Swap(false) {
		w.log.Info("libvirt connection restored")
	}
	var own owned
	if w.store != nil {
		own = ownEntries(w.store.Entries(), w.conn, doms, knownOf(w.p), time.Now())
		if len(own.touch) > 0 {
			if err := w.store.Put(own.touch); err != nil {
				w.log.WithError(err).Error("checkpoint not updated")
			}
		}
		if len(own.claim) > 0 {
			if err := w.store.Claim(w.conn, own.claim...); err != nil {
				w.log.WithError(err).Error("checkpoint not updated")
			}
		}
	}
	var forget []checkpoint.ID
	var fix []checkpoint.Entry
	for _, v := range w.own.reconcile(doms, own.entries, own.kept) {
		f := w.log.WithFields(logrus.Fields{"domain": v.name, "uuid": v.id.Domain, "vcpu": v.id.VCPU, "set": v.set.String()})
		switch v.kind {
		case verdictOperator:
			f.WithField("cpus", v.live.String()).Warn("vCPU re-pinned by someone else: it is the operator's now, never moved or restored by vsched")
		case verdictReverted:
			f.Debug("vCPU back on the pin vsched found: checkpoint entry dropped")
		case verdictGone:
			f.Info("domain unknown to libvirt for a week: its checkpoint entry is dropped")
		case verdictInactive:
			if own.unknown[v.id.Domain] {
				f.Info("domain unknown to libvirt (undefined, or transient and destroyed or saved to a file): its checkpoint entry is kept a week in case it comes back")
			} else {
				f.Info("domain not running (shut off or saved): its checkpoint entry is kept until it runs again or is undefined")
			}
		case verdictStale:
			e := v.entry
			e.Set = v.live
			fix = append(fix, e)
		}
		if v.forget {
			forget = append(forget, checkpoint.ID{UUID: v.id.Domain, VCPU: v.id.VCPU})
		}
	}
	if w.store != nil {
		w.update(fix, forget)
	}
	w.publish(doms)
}

// publish makes doms, with the current operator marks, the newest listing.
func (w *libvirtSide) publish(doms []pinning.Domain) {
	w.cur.Store(newListing(doms, w.own.isOperator))
}

// newListing indexes doms, marking the vCPUs isOperator names.
func newListing(doms []pinning.Domain, isOperator func(balancer.VCPUID) bool) *listing {
	ls := &listing{doms: doms, cg: make([]cgroupstats.Domain, len(doms)), byUUID: make(map[string]int, len(doms)),
		live: liveOf(doms), operator: map[balancer.VCPUID]bool{}}
	for i, d := range doms {
		ls.byUUID[d.UUID] = i
		ls.cg[i] = cgroupstats.Domain{ID: d.ID, Name: d.Name, UUID: d.UUID, VCPUs: make([]int, len(d.VCPUs))}
		for k, v := range d.VCPUs {
			ls.cg[i].VCPUs[k] = v.ID
		}
		for _, v := range d.VCPUs {
			if id := (balancer.VCPUID{Domain: d.UUID, VCPU: v.ID}); isOperator(id) {
				ls.operator[id] = true
			}
		}
	}
	return ls
}

// errNotCheckpointed fails every pin of a plan whose checkpoint could not be
// written: a pin made without its original on disk could be lost for good.
var errNotCheckpointed = errors.New("checkpoint not written, pin not attempted")

// faultPoint names a step of the apply path, where tests stop it as a crash
// would.
type faultPoint string

const (
	faultBeforeRecord faultPoint = "before-record" // the plan checked, nothing written
	faultAfterRecord  faultPoint = "after-record"  // the checkpoint written, no pin made
	faultAfterPin     faultPoint = "after-pin"     // pins made, their results not yet committed
)

// at passes a fault point.
func (w *libvirtSide) at(p faultPoint) {
	if w.fault != nil {
		w.fault(p)
	}
}

// apply checkpoints the plan's pins (the pin found and the pin to set), then
// pins them. A pin that certainly failed gets its checkpoint entry back as
// it was; one whose outcome is unknown (a deadline passed) keeps the new
// entry, and the next listing tells which pin is in place.
func (w *libvirtSide) apply(h handover) []pinning.Result {
	// List first: libvirt sends no event for a re-pin (the binding cannot
	// take tunable events), so a pin the operator made since the last
	// listing is seen here, and never undone.
	w.list()
	ls := w.current()
	if w.lost.Load() || ls == nil {
		return failAll(h.pins, fmt.Errorf("%w: libvirt unreachable", pinning.ErrConnect))
	}
	var skipped []pinning.Result
	pins := slices.DeleteFunc(slices.Clone(h.pins), func(p pinning.Pin) bool {
		if err := stillPlanned(ls, h.from, p); err != nil {
			skipped = append(skipped, pinning.Result{Pin: p, Err: err})
			return true
		}
		return false
	})
	if len(pins) == 0 {
		return skipped
	}
	prev := map[balancer.VCPUID]checkpoint.Entry{}
	for _, e := range w.store.Entries() {
		prev[balancer.VCPUID{Domain: e.UUID, VCPU: e.VCPU}] = e
	}
	entries := make([]checkpoint.Entry, 0, len(pins))
	for i, p := range pins {
		id := balancer.VCPUID{Domain: p.UUID, VCPU: p.VCPU}
		found, ok := ls.pinOf(id)
		if !ok {
			continue // not listed: Apply will report it gone
		}
		// Apply checks again at the pin itself: the same instance, and
		// still the pin found (else the operator's, left alone).
		pins[i].From, pins[i].DomainID = found, ls.doms[ls.byUUID[p.UUID]].ID
		entries = append(entries, checkpoint.Entry{UUID: p.UUID, Name: p.Name, VCPU: p.VCPU, Original: found, Set: p.CPUs, Conn: w.conn})
	}
	w.at(faultBeforeRecord)
	if err := w.store.Record(entries); err != nil {
		return append(failAll(pins, errors.Join(errNotCheckpointed, err)), skipped...)
	}
	w.at(faultAfterRecord)
	res := w.p.Apply(pins)
	w.at(faultAfterPin)
	var undo []checkpoint.Entry
	var forget []checkpoint.ID
	changed := false
	for i, r := range res {
		id := balancer.VCPUID{Domain: r.Pin.UUID, VCPU: r.Pin.VCPU}
		if errors.Is(r.Err, pinning.ErrPinChanged) {
			res[i].Err = fmt.Errorf("%w: %w", errOperatorsPin, r.Err)
		}
		switch {
		case r.Err == nil:
			w.own.pinned(id, r.Pin.CPUs)
			changed = true
		case errors.Is(r.Err, pinning.ErrTimeout):
			// Unknown outcome: the next listing shows which pin is in place.
		default:
			if e, ok := prev[id]; ok {
				undo = append(undo, e)
			} else {
				forget = append(forget, checkpoint.ID{UUID: id.Domain, VCPU: id.VCPU})
			}
		}
	}
	if len(undo) > 0 {
		if err := w.store.Put(undo); err != nil { // back exactly as it was, previous pin included
			w.log.WithError(err).Error("checkpoint not updated")
		}
	}
	w.update(nil, forget)
	if changed {
		w.publish(withPins(ls.doms, res))
	}
	return append(res, skipped...)
}

// failAll is the result of pins none of which was attempted, for err.
func failAll(pins []pinning.Pin, err error) []pinning.Result {
	out := make([]pinning.Result, len(pins))
	for i, p := range pins {
		out[i] = pinning.Result{Pin: p, Err: err}
	}
	return out
}

// errOperatorsPin is the result of a planned pin of a vCPU the operator
// re-pinned since the plan was made: it is left as the operator set it.
var errOperatorsPin = errors.New("re-pinned by the operator since the plan: left alone")

// errSkipped is wrapped by the results of planned pins that no longer
// apply: errUnmanaged, errRestarted.
var errSkipped = errors.New("pin skipped")

// errUnmanaged is the result of a planned pin of a domain marked
// <vsched manage="no"/> since the plan was made.
var errUnmanaged = fmt.Errorf(`%w: domain marked manage="no" since the plan`, errSkipped)

// errRestarted is the result of a planned pin of a domain that restarted
// since the plan was made: the plan was for another life of it.
var errRestarted = fmt.Errorf("%w: domain restarted since the plan", errSkipped)

// stillPlanned checks a planned pin against the fresh listing ls, taken
// just before pinning, and the listing the plan was made from: the pin is
// made only while the vCPU's pin is still the one planned from (otherwise
// the operator re-pinned it), its domain is still managed, and it is the
// same running instance (libvirt's domain ID). A domain gone from ls is let
// through: Apply reports it gone.
func stillPlanned(ls, from *listing, p pinning.Pin) error {
	id := balancer.VCPUID{Domain: p.UUID, VCPU: p.VCPU}
	if ls.operator[id] {
		return errOperatorsPin
	}
	i, ok := ls.byUUID[p.UUID]
	if !ok {
		return nil
	}
	if ls.doms[i].Unmanaged {
		return errUnmanaged
	}
	if from == nil {
		return nil
	}
	j, ok := from.byUUID[p.UUID]
	if !ok || from.doms[j].ID != ls.doms[i].ID {
		return errRestarted
	}
	planned, _ := from.pinOf(id)
	if live, ok := ls.pinOf(id); ok && !live.Equals(planned) {
		return errOperatorsPin
	}
	return nil
}

// update re-records and forgets checkpoint entries, logging a failure.
func (w *libvirtSide) update(record []checkpoint.Entry, forget []checkpoint.ID) {
	if len(record) > 0 {
		if err := w.store.Record(record); err != nil {
			w.log.WithError(err).Error("checkpoint not updated")
		}
	}
	if len(forget) > 0 {
		if err := w.store.Forget(forget...); err != nil {
			w.log.WithError(err).Error("checkpoint not updated")
		}
	}
}

// withPins returns a copy of doms with the pins that took effect.
func withPins(doms []pinning.Domain, res []pinning.Result) []pinning.Domain {
	out := make([]pinning.Domain, len(doms))
	for i, d := range doms {
		out[i] = d
		out[i].VCPUs = append([]pinning.VCPU(nil), d.VCPUs...)
		for _, r := range res {
			if r.Err != nil || r.Pin.UUID != d.UUID {
				continue
			}
			for j := range out[i].VCPUs {
				if out[i].VCPUs[j].ID == r.Pin.VCPU {
					out[i].VCPUs[j].Pin = r.Pin.CPUs
				}
			}
		}
	}
	return out
}
