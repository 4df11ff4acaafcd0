package pinning

import (
	"fmt"

	"libvirt.org/go/libvirt"
)

// Known returns the UUIDs of every domain libvirt knows: running, and
// defined but inactive (shut off, or managed-saved as libvirt-guests does at
// host shutdown). A domain missing from it was undefined, or was transient
// and stopped (destroyed, or saved to a file with virsh save).
func (c *Conn) Known() (map[string]bool, error) {
	out := map[string]bool{}
	err := c.call("list defined domains", func(lc *libvirt.Connect) error {
		doms, err := lc.ListAllDomains(0)
		if err != nil {
			return err
		}
		defer freeAll(doms)
		clear(out) // a retry after a reconnect starts again
		for i := range doms {
			uuid, err := doms[i].GetUUIDString()
			if err != nil {
				if c.lost(err) {
					return err
				}
				continue // undefined while listed
			}
			out[uuid] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list defined domains: %w", err)
	}
	return out, nil
}
