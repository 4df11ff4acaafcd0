package checkpoint

import (
	"cmp"
	"fmt"
	"time"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/pinning/cpulist"
)

// ID names one vCPU of one domain: the domain's UUID and the vCPU id libvirt
// reports. It survives domain restarts, renames and libvirtd restarts.
type ID struct {
	// UUID is the domain's UUID in its string form.
	UUID string
	// VCPU is the vCPU id.
	VCPU int
}

// String returns "UUID/VCPU".
func (id ID) String() string { return fmt.Sprintf("%s/%d", id.UUID, id.VCPU) }

// Connection names the libvirt connection an entry's domain was pinned
// through: its URI and the name of the host vsched ran on. Entries of one
// connection are never touched through another.
type Connection struct {
	// URI is the libvirt connection URI (qemu:///system).
	URI string
	// Host is the host name vsched ran on.
	Host string
}

// IsZero reports whether c names no connection: an entry written by a
// vsched that did not record one (file version 1).
func (c Connection) IsZero() bool { return c == Connection{} }

// String returns "URI on host".
func (c Connection) String() string { return fmt.Sprintf("%s on %s", c.URI, c.Host) }

// Entry is one vCPU vsched pinned.
type Entry struct {
	// UUID is the domain's UUID; with VCPU it keys the entry.
	UUID string
	// Name is the domain's name when recorded, for humans only.
	Name string
	// VCPU is the vCPU id.
	VCPU int
	// Original is the vCPU's pin before vsched first changed it.
	Original cpuset.CPUSet
	// Set is the pin vsched set last.
	Set cpuset.CPUSet
	// Previous is the pin vsched had set before Set, when there was one:
	// until Set is known to have taken (a crash between the checkpoint
	// write and the pin), the live pin may still be Previous, and it is
	// vsched's too. Empty when Set was vsched's first pin of the vCPU.
	Previous cpuset.CPUSet
	// Conn is the connection the domain was pinned through; zero for an
	// entry of a version 1 file.
	Conn Connection
	// GoneSince is when vsched first found the domain unknown to libvirt
	// (neither running nor defined: undefined, or transient and stopped,
	// which is also what a transient domain saved to a file looks like);
	// zero while libvirt knows it. The caller drops the entry once the
	// domain has been unknown for long enough.
	GoneSince time.Time
}

// Vscheds reports whether pin is one vsched may have left live: Set, or
// Previous.
func (e Entry) Vscheds(pin cpuset.CPUSet) bool {
	return equalSets(pin, e.Set) || (!e.Previous.IsEmpty() && equalSets(pin, e.Previous))
}

// ID returns the entry's key.
func (e Entry) ID() ID { return ID{UUID: e.UUID, VCPU: e.VCPU} }

// Label returns "name/vcpu" for humans, or "UUID/vcpu" without a name.
func (e Entry) Label() string { return fmt.Sprintf("%s/%d", cmp.Or(e.Name, e.UUID), e.VCPU) }

// validate checks what a usable entry needs: a UUID, a vCPU id, and two
// non-empty pins of CPUs a Linux host can have.
func (e Entry) validate() error {
	switch {
	case e.UUID == "":
		return fmt.Errorf("%w: no domain UUID", ErrInvalidEntry)
	case e.VCPU < 0:
		return fmt.Errorf("%w: %s: negative vCPU id", ErrInvalidEntry, e.ID())
	}
	for _, p := range []struct {
		what string
		set  cpuset.CPUSet
	}{{"original", e.Original}, {"set", e.Set}, {"previous", e.Previous}} {
		if p.set.IsEmpty() {
			if p.what == "previous" {
				continue // optional
			}
			return fmt.Errorf("%w: %s: empty %s pin", ErrInvalidEntry, e.ID(), p.what)
		}
		if l := p.set.List(); l[0] < 0 || l[len(l)-1] > cpulist.Max {
			return fmt.Errorf("%w: %s: %s pin %s outside CPUs 0-%d", ErrInvalidEntry, e.ID(), p.what, p.set, cpulist.Max)
		}
	}
	return nil
}

// compareEntries orders entries for humans: by name, then UUID, then vCPU.
func compareEntries(a, b Entry) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.UUID, b.UUID), cmp.Compare(a.VCPU, b.VCPU))
}
