package pinning

import (
	"cmp"
	"fmt"
	"slices"

	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

// Domain is a running libvirt domain as Domains found it.
type Domain struct {
	// ID is libvirt's domain ID, new at every start.
	ID int
	// Name is the domain's name.
	Name string
	// UUID is the domain's UUID in its string form; it survives restarts.
	UUID string
	// VCPUs is the number of vCPUs the domain runs with.
	VCPUs int
	// Pins holds each vCPU's live pin: the pCPUs it may run on, indexed by
	// vCPU number. An unpinned vCPU shows every host CPU.
	Pins []cpuset.CPUSet
}

// Domains lists the running (active) domains, sorted by name, with their
// live vCPU pins.
// A domain that stops while it is being listed is left out. The pins
// remembered for Restore are forgotten for domains that no longer run, since
// their live pins went with them.
func (c *Conn) Domains() ([]Domain, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Domain
	err := c.do(func(lc *libvirt.Connect) error {
		var err error
		out, err = c.listDomains(lc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	slices.SortFunc(out, func(a, b Domain) int { return cmp.Compare(a.Name, b.Name) })
	running := make(map[string]bool, len(out))
	for _, d := range out {
		running[d.UUID] = true
	}
	for k := range c.orig {
		if !running[k.uuid] {
			delete(c.orig, k)
		}
	}
	return out, nil
}

// listDomains lists the active domains on lc, freeing every libvirt object.
func (c *Conn) listDomains(lc *libvirt.Connect) ([]Domain, error) {
	doms, err := lc.ListAllDomains(libvirt.CONNECT_LIST_DOMAINS_ACTIVE)
	if err != nil {
		return nil, err
	}
	defer freeAll(doms)
	out := make([]Domain, 0, len(doms))
	for i := range doms {
		d, err := c.describe(&doms[i])
		if err == nil {
			out = append(out, d)
			continue
		}
		if c.lost(err) {
			return nil, err
		}
		if gone(&doms[i], err) {
			continue
		}
		return nil, fmt.Errorf("read domain %s: %w", d.Name, clean(err))
	}
	return out, nil
}

// describe reads one domain's identity and live pins. The returned Domain
// carries the name even on error, for the message.
func (c *Conn) describe(dom *libvirt.Domain) (Domain, error) {
	var d Domain
	var err error
	if d.Name, err = dom.GetName(); err != nil {
		return d, err
	}
	if d.UUID, err = dom.GetUUIDString(); err != nil {
		return d, err
	}
	id, err := dom.GetID()
	if err != nil {
		return d, err
	}
	d.ID = int(id)
	maps, err := dom.GetVcpuPinInfo(libvirt.DOMAIN_AFFECT_LIVE)
	if err != nil {
		return d, err
	}
	d.VCPUs = len(maps)
	d.Pins = make([]cpuset.CPUSet, len(maps))
	for v, m := range maps {
		d.Pins[v] = fromCPUMap(m)
	}
	return d, nil
}

// gone reports whether err, from a call on dom, means that dom no longer
// exists or no longer runs.
func gone(dom *libvirt.Domain, err error) bool {
	if lvCode(err) == libvirt.ERR_NO_DOMAIN {
		return true
	}
	active, aerr := dom.IsActive()
	if aerr != nil {
		return lvCode(aerr) == libvirt.ERR_NO_DOMAIN
	}
	return !active
}

// freeAll frees the libvirt domain objects in doms.
func freeAll(doms []libvirt.Domain) {
	for i := range doms {
		_ = doms[i].Free()
	}
}
