package pinning

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

// Pin asks for one vCPU to be pinned to a set of host CPUs.
type Pin struct {
	// Domain is the domain's name; it is used to find the domain when UUID
	// is empty.
	Domain string
	// UUID is the domain's UUID; when set, it finds the domain.
	UUID string
	// VCPU is the vCPU number, from 0.
	VCPU int
	// CPUs is the set of host CPUs the vCPU may run on.
	CPUs cpuset.CPUSet
}

// Result is the outcome of one Pin.
type Result struct {
	// Pin is the pin asked for.
	Pin Pin
	// Changed is true when the vCPU was re-pinned, false when it already had
	// this pin or the pin failed.
	Changed bool
	// Err is nil on success; otherwise it wraps ErrDomainGone, ErrPin or
	// ErrConnect.
	Err error
}

// vcpuKey names one vCPU of one domain across restarts of libvirtd.
type vcpuKey struct {
	uuid string
	vcpu int
}

// origPin is a vCPU's pin as found before vsched first changed it.
type origPin struct {
	name string
	cpus cpuset.CPUSet
}

// Apply pins vCPUs live, reading each domain's live pins first and skipping
// the pins already in place (Changed false). A failure is reported in that
// pin's Result and the others still apply. Before a vCPU's pin first
// changes, its pin as found is remembered for Restore. Results are in the
// order of pins.
func (c *Conn) Apply(pins []Pin) []Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.apply(pins, true)
}

// Restore puts back every vCPU pin that Apply changed, as it was before the
// first change, and forgets it. Domains that no longer run are skipped and
// forgotten. Results are sorted by domain name and vCPU.
func (c *Conn) Restore() []Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	pins := make([]Pin, 0, len(c.orig))
	for k, o := range c.orig {
		pins = append(pins, Pin{Domain: o.name, UUID: k.uuid, VCPU: k.vcpu, CPUs: o.cpus})
	}
	slices.SortFunc(pins, func(a, b Pin) int {
		return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.UUID, b.UUID), cmp.Compare(a.VCPU, b.VCPU))
	})
	out := make([]Result, 0, len(pins))
	for _, r := range c.apply(pins, false) {
		if r.Err == nil || errors.Is(r.Err, ErrDomainGone) {
			delete(c.orig, vcpuKey{r.Pin.UUID, r.Pin.VCPU})
		}
		if !errors.Is(r.Err, ErrDomainGone) {
			out = append(out, r)
		}
	}
	return out
}

// apply applies pins domain by domain, remembering original pins if asked.
func (c *Conn) apply(pins []Pin, remember bool) []Result {
	res := make([]Result, len(pins))
	var order []string
	byDom := make(map[string][]int)
	for i, p := range pins {
		res[i].Pin = p
		k := cmp.Or(p.UUID, "name:"+p.Domain)
		if _, ok := byDom[k]; !ok {
			order = append(order, k)
		}
		byDom[k] = append(byDom[k], i)
	}
	for _, k := range order {
		idx := byDom[k]
		err := c.do(func(lc *libvirt.Connect) error { return c.pinDomain(lc, res, idx, remember) })
		if err == nil {
			continue
		}
		for _, i := range idx {
			if res[i].Err == nil && !res[i].Changed {
				res[i].Err = fmt.Errorf("%s: %w", label(pins[i]), err)
			}
		}
	}
	return res
}
