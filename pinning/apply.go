package pinning

import (
	"errors"
	"fmt"

	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

// Pin asks for one vCPU to be pinned to a set of host CPUs.
type Pin struct {
	// UUID is the domain's UUID: it finds the domain.
	UUID string
	// Name is the domain's name, for messages only.
	Name string
	// VCPU is the vCPU's id, as in Domain.VCPUs.
	VCPU int
	// CPUs is the set of host CPUs the vCPU may run on.
	CPUs cpuset.CPUSet
	// From, when not empty, is the pin the caller planned from: the pin is
	// made only if the vCPU's live pin, read just before, is still From
	// (otherwise someone else re-pinned it: ErrPinChanged).
	From cpuset.CPUSet
	// DomainID, when not zero, is the libvirt domain ID the caller listed:
	// the pin is made only in that running instance of the domain (after a
	// restart the ID is new: ErrDomainGone).
	DomainID int
}

// Result is the outcome of one Pin.
type Result struct {
	// Pin is the pin asked for.
	Pin Pin
	// Changed is true when the vCPU was re-pinned, false when it already had
	// this pin or the pin failed.
	Changed bool
	// Err is nil on success; otherwise it wraps ErrDomainGone, ErrPin,
	// ErrConnect or ErrTimeout. After ErrTimeout the pin may still have
	// been made: libvirt's answer never came.
	Err error
}

// Apply pins vCPUs live, domain by domain. For each domain it reads the
// live XML and pins first and skips the pins already in place (Changed
// false). A failure is reported in that pin's Result and the others still
// apply: a vCPU that is not online, or a CPU the host does not have, fails
// that pin alone; a domain that is gone, or a timeout, fails that domain's
// pins. Results are in the order of pins.
func (c *Conn) Apply(pins []Pin) []Result {
	res := make([]Result, len(pins))
	var order []string
	byDom := make(map[string][]int)
	for i, p := range pins {
		res[i].Pin = p
		if p.UUID == "" {
			res[i].Err = fmt.Errorf("%s: %w: no domain UUID", label(p), ErrPin)
			continue
		}
		if _, ok := byDom[p.UUID]; !ok {
			order = append(order, p.UUID)
		}
		byDom[p.UUID] = append(byDom[p.UUID], i)
	}
	for _, uuid := range order {
		idx := byDom[uuid]
		group := make([]Result, len(idx))
		for j, i := range idx {
			group[j].Pin = pins[i]
		}
		what := "pin " + label(pins[idx[0]])
		err := c.call(what, func(lc *libvirt.Connect) error { return c.pinDomain(lc, group) })
		if errors.Is(err, ErrTimeout) {
			// group may still be written by the call left running.
			for _, i := range idx {
				res[i].Err = fmt.Errorf("%s: %w", label(pins[i]), err)
			}
			continue
		}
		for j, i := range idx {
			res[i] = group[j]
			if err != nil && res[i].Err == nil && !res[i].Changed {
				res[i].Err = fmt.Errorf("%s: %w", label(pins[i]), err)
			}
		}
	}
	return res
}

// pinDomain applies the pins in res (all of one domain) on lc. Per-pin
// failures go into res; a failure that concerns the whole domain is
// returned, wrapping ErrDomainGone or ErrPin, except that a lost connection
// is returned as libvirt reported it so that do can reconnect and retry
// (Changed stays true for pins made before the loss).
func (c *Conn) pinDomain(lc *libvirt.Connect, res []Result) error {
	dom, err := lc.LookupDomainByUUIDString(res[0].Pin.UUID)
	if err != nil {
		switch {
		case c.lost(err):
			return err
		case lvCode(err) == libvirt.ERR_NO_DOMAIN:
			return fmt.Errorf("%w: %w", ErrDomainGone, clean(err))
		default:
			return fmt.Errorf("%w: %w", ErrPin, clean(err))
		}
	}
	defer func() { _ = dom.Free() }()
	d, err := c.describe(dom)
	if err != nil {
		return c.domainError(dom, err)
	}
	live := make(map[int]cpuset.CPUSet, len(d.VCPUs))
	for _, v := range d.VCPUs {
		live[v.ID] = v.Pin
	}
	for i := range res {
		p := res[i].Pin
		res[i].Err = nil
		if p.DomainID != 0 && p.DomainID != d.ID {
			res[i].Err = fmt.Errorf("%s: %w: restarted (domain ID %d, listed as %d)", label(p), ErrDomainGone, d.ID, p.DomainID)
			continue
		}
		cur, online := live[p.VCPU]
		if !online {
			res[i].Err = fmt.Errorf("%s: %w: no such vCPU online (online: %s)", label(p), ErrPin, onlineIDs(d.VCPUs))
			continue
		}
		want, err := toCPUMap(p.CPUs, c.host.n)
		if err != nil {
			res[i].Err = fmt.Errorf("%s: %w", label(p), err)
			continue
		}
		if cur.Equals(p.CPUs) {
			continue
		}
		if !p.From.IsEmpty() && !cur.Equals(p.From) {
			res[i].Err = fmt.Errorf("%s: %w: now %s, planned from %s", label(p), ErrPinChanged, cur, p.From)
			continue
		}
		if err := dom.PinVcpuFlags(uint(p.VCPU), want, c.pinFlags); err != nil {
			if c.lost(err) {
				return err
			}
			res[i].Err = fmt.Errorf("%s: %w", label(p), c.domainError(dom, err))
			continue
		}
		res[i].Changed = true
	}
	return nil
}

// domainError classifies err from a call on dom: a lost connection is
// returned as is, a domain that no longer runs wraps ErrDomainGone, anything
// else (a refused pin, live XML that does not parse) wraps ErrPin.
func (c *Conn) domainError(dom *libvirt.Domain, err error) error {
	switch {
	case c.lost(err):
		return err
	case gone(dom, err):
		return fmt.Errorf("%w: %w", ErrDomainGone, clean(err))
	default:
		return fmt.Errorf("%w: %w", ErrPin, clean(err))
	}
}

// onlineIDs lists the ids of vs as a CPU-list string ("0-1,3").
func onlineIDs(vs []VCPU) string {
	ids := make([]int, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	return cpuset.New(ids...).String()
}

// label names p's vCPU in error messages.
func label(p Pin) string {
	name := p.Name
	if name == "" {
		name = p.UUID
	}
	return fmt.Sprintf("domain %s vCPU %d", name, p.VCPU)
}
