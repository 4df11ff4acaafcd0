package main

import (
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/pinning"
	"github.com/vsched/vsched/pinning/checkpoint"
)

// ownership decides, listing after listing, whose pin each vCPU has: the
// one vsched found, the one vsched set, or one the operator made while
// vsched ran. A pin that changes to something vsched did not set is the
// operator's from then on: never moved, never restored, until its domain
// stops (docs/DESIGN.md, "The operator's pins").
type ownership struct {
	incarnation map[string]int                    // domain UUID -> libvirt domain ID
	seen        map[balancer.VCPUID]cpuset.CPUSet // last pin seen or set by vsched
	operator    map[balancer.VCPUID]bool          // vCPUs the operator re-pinned
	parked      map[balancer.VCPUID]bool          // entries kept while their domain is away, already said
}

func newOwnership() *ownership {
	return &ownership{
		incarnation: map[string]int{},
		seen:        map[balancer.VCPUID]cpuset.CPUSet{},
		operator:    map[balancer.VCPUID]bool{},
		parked:      map[balancer.VCPUID]bool{},
	}
}

// verdict is what reconcile found for one vCPU or domain, for the log.
type verdict struct {
	kind   string // verdictOperator, verdictReverted, verdictGone
	name   string // the domain's name
	id     balancer.VCPUID
	live   cpuset.CPUSet
	set    cpuset.CPUSet
	forget bool             // the checkpoint entry goes
	entry  checkpoint.Entry // with verdictStale: the entry to correct
}

const (
	verdictOperator = "operator" // re-pinned by someone else: now the operator's
	verdictReverted = "reverted" // back on the pin vsched found (a pin that never took)
	verdictGone     = "gone"     // its domain has been unknown to libvirt too long: the entry goes
	verdictInactive = "inactive" // its domain does not run but may come back: the entry is kept
	verdictStale    = "stale"    // the pin vsched asked for never took: entry corrected
)

// reconcile compares a successful listing with what vsched knows: the
// checkpoint's entries, judged against the live pins as `vsched restore`
// judges them (checkpoint.Reconcile), and the pins seen at the last
// listing, which tell a pin that never took from one someone else made. It
// returns one verdict per change of ownership; the caller forgets the
// entries so marked. The entries of the domains kept names (not running
// but may come back: shut off, saved, or unknown to libvirt for less than
// goneGrace) stay, said once.
func (o *ownership) reconcile(doms []pinning.Domain, entries []checkpoint.Entry, kept map[string]bool) []verdict {
	var out []verdict
	judged := make(map[balancer.VCPUID]checkpoint.Verdict, len(entries))
	for _, v := range checkpoint.Reconcile(entries, liveOf(doms)) {
		id := balancer.VCPUID{Domain: v.Entry.UUID, VCPU: v.Entry.VCPU}
		switch {
		case v.Status == checkpoint.DomainGone && kept[id.Domain]:
			if !o.parked[id] {
				o.parked[id] = true
				out = append(out, verdict{kind: verdictInactive, name: v.Entry.Name, id: id, set: v.Entry.Set})
			}
			continue
		case v.Status == checkpoint.DomainGone:
			delete(o.parked, id)
			out = append(out, verdict{kind: verdictGone, name: v.Entry.Name, id: id, set: v.Entry.Set, forget: true})
			continue
		}
		delete(o.parked, id)
		judged[id] = v
	}
	running := make(map[string]bool, len(doms))
	for _, d := range doms {
		running[d.UUID] = true
		if id, ok := o.incarnation[d.UUID]; ok && id != d.ID {
			o.dropDomain(d.UUID) // restarted: a new life, nobody's pins yet
		}
		o.incarnation[d.UUID] = d.ID
		for _, v := range d.VCPUs {
			id := balancer.VCPUID{Domain: d.UUID, VCPU: v.ID}
			prev, seen := o.seen[id]
			o.seen[id] = v.Pin
			if o.operator[id] {
				continue
			}
			if jv, ok := judged[id]; ok {
				out = append(out, o.judge(id, d.Name, jv, seen && v.Pin.Equals(prev), seen)...)
				continue
			}
			if seen && !v.Pin.Equals(prev) {
				o.operator[id] = true
				out = append(out, verdict{kind: verdictOperator, name: d.Name, id: id, live: v.Pin, set: prev})
			}
		}
	}
	for uuid := range o.incarnation {
		if !running[uuid] {
			o.dropDomain(uuid)
		}
	}
	return out
}

// judge decides whose pin a checkpointed vCPU has, from the checkpoint's
// verdict on it and whether its pin is unchanged since the last listing
// (when seen there).
func (o *ownership) judge(id balancer.VCPUID, name string, jv checkpoint.Verdict, unchanged, seen bool) []verdict {
	e, live := jv.Entry, jv.Live
	switch {
	case jv.Status == checkpoint.Restorable:
		return nil // still the pin vsched set
	case jv.Status == checkpoint.Unchanged && (!seen || unchanged):
		// Back on the pin vsched found, and nobody changed it since the
		// last listing: a pin that never took (or a restart after one).
		return []verdict{{kind: verdictReverted, name: name, id: id, live: live, set: e.Set, forget: true}}
	case unchanged:
		// Unchanged since the last listing: a pin vsched asked for did
		// not take (its reply was lost); still vsched's.
		return []verdict{{kind: verdictStale, name: name, id: id, live: live, set: e.Set, entry: e}}
	}
	o.operator[id] = true
	return []verdict{{kind: verdictOperator, name: name, id: id, live: live, set: e.Set, forget: true}}
}

// pinned records a pin vsched made, so the next listing does not take it
// for the operator's.
func (o *ownership) pinned(id balancer.VCPUID, cpus cpuset.CPUSet) { o.seen[id] = cpus }

// isOperator reports whether the operator owns the vCPU's pin.
func (o *ownership) isOperator(id balancer.VCPUID) bool { return o.operator[id] }

// dropDomain forgets everything about one domain's vCPUs.
func (o *ownership) dropDomain(uuid string) {
	delete(o.incarnation, uuid)
	for id := range o.seen {
		if id.Domain == uuid {
			delete(o.seen, id)
		}
	}
	for id := range o.operator {
		if id.Domain == uuid {
			delete(o.operator, id)
		}
	}
}
