package checkpoint

import "k8s.io/utils/cpuset"

// Live is what libvirt shows now: for each running domain, by UUID, the live
// pin of each online vCPU, by vCPU id.
type Live map[string]map[int]cpuset.CPUSet

// Status says how an entry compares with the live pins.
type Status int

const (
	// Restorable means the live pin is still the one vsched set: vsched may
	// go on managing the vCPU, or put Original back.
	Restorable Status = iota + 1
	// Unchanged means the live pin is the original again (the domain was
	// restarted, or the pin was put back). Nothing to do; forget the entry.
	Unchanged
	// DomainGone means no running domain has the UUID. Forget the entry.
	DomainGone
	// Repinned means the live pin is neither the original nor vsched's:
	// someone else re-pinned the vCPU, and it is theirs. Leave it; forget
	// the entry.
	Repinned
	// VCPUOffline means the domain runs but the vCPU is not online. Keep the
	// entry: the pin vsched set may return with the vCPU.
	VCPUOffline
	// DomainInactive means the domain does not run but is still defined:
	// shut off, or saved (virsh save, managedsave, libvirt-guests at host
	// shutdown). Reconcile never returns it (Live holds running domains
	// only); the caller, which can ask libvirt, turns DomainGone into it.
	// Keep the entry: a saved guest comes back on vsched's pin.
	DomainInactive
)

var statusNames = map[Status]string{
	Restorable:     "restorable",
	Unchanged:      "unchanged",
	DomainGone:     "domain gone",
	Repinned:       "re-pinned by someone else",
	VCPUOffline:    "vCPU offline",
	DomainInactive: "domain not running",
}

// String returns a short lower-case description.
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return "unknown"
}

// Forget reports whether an entry with this status should leave the
// checkpoint: true for Unchanged, DomainGone and Repinned.
func (s Status) Forget() bool { return s == Unchanged || s == DomainGone || s == Repinned }

// Verdict is Reconcile's finding for one entry.
type Verdict struct {
	// Entry is the checkpoint entry.
	Entry Entry
	// Status is how it compares with the live pins.
	Status Status
	// Live is the vCPU's live pin; empty when the domain or vCPU is gone.
	Live cpuset.CPUSet
}

// Reconcile compares each entry with the live pins and returns one Verdict
// per entry, in the entries' order. A live pin equal to Set or Previous is
// vsched's (Restorable). When Original and Set are equal and live, the entry
// is Unchanged.
func Reconcile(entries []Entry, live Live) []Verdict {
	out := make([]Verdict, len(entries))
	for i, e := range entries {
		v := Verdict{Entry: e, Live: cpuset.New()}
		vcpus, running := live[e.UUID]
		pin, online := vcpus[e.VCPU]
		switch {
		case !running:
			v.Status = DomainGone
		case !online:
			v.Status = VCPUOffline
		case equalSets(pin, e.Original):
			v.Status, v.Live = Unchanged, pin
		case e.Vscheds(pin):
			v.Status, v.Live = Restorable, pin
		default:
			v.Status, v.Live = Repinned, pin
		}
		out[i] = v
	}
	return out
}
