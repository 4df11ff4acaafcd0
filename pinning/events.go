package pinning

import "libvirt.org/go/libvirt"

// Events returns a channel that receives a token whenever the running
// domains or their settings may have changed: a domain started, stopped,
// was defined or undefined (lifecycle), its metadata changed (the vsched
// opt-out), a device was added or removed, the connection closed, or it
// was re-established. A re-pin by someone else and a vCPU hot-plug send
// nothing (see register): list again now and then to notice them.
// Tokens coalesce (the channel holds at most one): on a token, call
// Domains. The channel is the same for the life of the Conn, across
// reconnections, and is never closed.
//
// Events returns nil when events are unavailable (libvirt's event loop
// could not be registered, the driver has none, or WithoutEvents); a nil
// channel never receives, and the caller polls Domains instead.
func (c *Conn) Events() <-chan struct{} {
	if c.events == nil {
		return nil
	}
	return c.events
}

// notify sends a token on the events channel without blocking.
func (c *Conn) notify() {
	if c.events == nil {
		return
	}
	select {
	case c.events <- struct{}{}:
	default:
	}
}

// register registers c's event callbacks on lc for every domain, keeping
// the ids of those that took. Lifecycle events are required; the others
// (newer libvirt, or drivers without them) are best effort.
//
// Tunable events (a vcpupin) are deliberately not registered: the binding
// (libvirt.org/go/libvirt v1.11010.0) panics on every one, on the event
// loop's goroutine, in domainEventTunableGetPin (it indexes a nil
// VcpuPin slice), which would take the whole daemon down at the first
// `virsh vcpupin`. QEMU sends no event for a vCPU hot-plugged with
// `virsh setvcpu --enable` either (seen on libvirt 9.0). The caller finds
// both by listing again from time to time.
func (c *Conn) register(lc *libvirt.Connect) {
	c.cbIDs = c.cbIDs[:0]
	life := func(*libvirt.Connect, *libvirt.Domain, *libvirt.DomainEventLifecycle) { c.notify() }
	id, err := lc.DomainEventLifecycleRegister(nil, life)
	if err != nil {
		return
	}
	c.cbIDs = append(c.cbIDs, id)
	more := []func() (int, error){
		func() (int, error) {
			return lc.DomainEventMetadataChangeRegister(nil, func(*libvirt.Connect, *libvirt.Domain, *libvirt.DomainEventMetadataChange) { c.notify() })
		},
		func() (int, error) {
			return lc.DomainEventDeviceAddedRegister(nil, func(*libvirt.Connect, *libvirt.Domain, *libvirt.DomainEventDeviceAdded) { c.notify() })
		},
		func() (int, error) {
			return lc.DomainEventDeviceRemovedRegister(nil, func(*libvirt.Connect, *libvirt.Domain, *libvirt.DomainEventDeviceRemoved) { c.notify() })
		},
	}
	for _, reg := range more {
		if id, err := reg(); err == nil {
			c.cbIDs = append(c.cbIDs, id)
		}
	}
	// A connection closed by libvirt (keepalive, libvirtd gone) asks the
	// caller to list again, which reconnects.
	_ = lc.RegisterCloseCallback(func(*libvirt.Connect, libvirt.ConnectCloseReason) { c.notify() })
}

// deregister undoes register on lc, ignoring errors: on a lost connection
// libvirt frees the callbacks when it closes.
func (c *Conn) deregister(lc *libvirt.Connect) {
	_ = lc.UnregisterCloseCallback()
	for _, id := range c.cbIDs {
		_ = lc.DomainEventDeregister(id)
	}
	c.cbIDs = c.cbIDs[:0]
}
