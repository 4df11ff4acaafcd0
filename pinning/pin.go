package pinning

import (
	"fmt"

	"libvirt.org/go/libvirt"
)

// pinDomain applies the pins res[idx] (all of one domain) on lc. Per-pin
// failures go into res; a failure that concerns the whole domain is
// returned, wrapping ErrDomainGone or ErrPin, except that a lost connection
// is returned as libvirt reported it so that do can reconnect and retry.
func (c *Conn) pinDomain(lc *libvirt.Connect, res []Result, idx []int, remember bool) error {
	dom, err := lookup(lc, res[idx[0]].Pin)
	if err != nil {
		if c.lost(err) {
			return err
		}
		if lvCode(err) == libvirt.ERR_NO_DOMAIN {
			return fmt.Errorf("%w: %w", ErrDomainGone, clean(err))
		}
		return fmt.Errorf("%w: %w", ErrPin, clean(err))
	}
	defer func() { _ = dom.Free() }()
	uuid, err := dom.GetUUIDString()
	if err != nil {
		return c.domainError(dom, err)
	}
	name, err := dom.GetName()
	if err != nil {
		return c.domainError(dom, err)
	}
	maps, err := dom.GetVcpuPinInfo(libvirt.DOMAIN_AFFECT_LIVE)
	if err != nil {
		return c.domainError(dom, err)
	}
	for _, i := range idx {
		p := res[i].Pin
		res[i].Err = nil
		if p.VCPU < 0 || p.VCPU >= len(maps) {
			res[i].Err = fmt.Errorf("%s: %w: the domain has %d vCPUs", label(p), ErrPin, len(maps))
			continue
		}
		want, err := toCPUMap(p.CPUs, c.ncpu)
		if err != nil {
			res[i].Err = fmt.Errorf("%s: %w", label(p), err)
			continue
		}
		cur := fromCPUMap(maps[p.VCPU])
		if cur.Equals(p.CPUs) {
			continue
		}
		if err := dom.PinVcpuFlags(uint(p.VCPU), want, c.pinFlags); err != nil {
			if c.lost(err) {
				return err
			}
			res[i].Err = fmt.Errorf("%s: %w", label(p), c.domainError(dom, err))
			continue
		}
		k := vcpuKey{uuid, p.VCPU}
		if _, ok := c.orig[k]; remember && !ok {
			c.orig[k] = origPin{name: name, cpus: cur}
		}
		res[i].Changed = true
	}
	return nil
}

// lookup finds p's domain by UUID, or by name when p has no UUID.
func lookup(lc *libvirt.Connect, p Pin) (*libvirt.Domain, error) {
	if p.UUID != "" {
		return lc.LookupDomainByUUIDString(p.UUID)
	}
	return lc.LookupDomainByName(p.Domain)
}

// domainError classifies err from a call on dom: a lost connection is
// returned as is, a domain that no longer runs wraps ErrDomainGone, anything
// else wraps ErrPin.
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

// label names p's vCPU in error messages.
func label(p Pin) string {
	name := p.Domain
	if name == "" {
		name = p.UUID
	}
	return fmt.Sprintf("domain %s vCPU %d", name, p.VCPU)
}
