package pinning

import (
	"errors"
	"fmt"
	"time"

	"libvirt.org/go/libvirt"
)

// Bounds of the wait between reconnect attempts after the connection drops.
// The wait doubles after each failed attempt and resets after a success.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// connect dials c.uri, sets keepalive, reads what the connection needs from
// the host and registers for events.
func (c *Conn) connect() error {
	lc, err := c.dial(c.uri)
	if err == nil {
		if err = c.readHost(lc); err != nil {
			_, _ = lc.Close()
		}
	}
	if err != nil {
		return connectError(c.uri, err)
	}
	c.lc = lc
	if c.opts.kaCount > 0 {
		// libvirt then closes the connection to a libvirtd that stopped
		// answering, after interval × (count+1), which ends a call blocked
		// on it (measured: 6 s at 2 s × 2 on a SIGSTOPped libvirtd). A dial
		// to such a libvirtd still blocks until it answers: the call
		// deadline bounds the caller. Best effort: the test driver has no
		// keepalive (ERR_NO_SUPPORT), and it needs the event loop.
		_ = lc.SetKeepAlive(int(c.opts.kaEvery/time.Second), c.opts.kaCount)
	}
	if c.events != nil {
		c.register(lc)
	}
	return nil
}

// drop closes the libvirt connection, if any, and forgets it.
func (c *Conn) drop() error {
	if c.lc == nil {
		return nil
	}
	c.deregister(c.lc)
	_, err := c.lc.Close()
	c.lc = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", c.uri, clean(err))
	}
	return nil
}

// ensure makes sure c.lc is a live connection, reconnecting when the backoff
// allows it. After a reconnection it sends an event token: domains may have
// changed while the connection was down.
func (c *Conn) ensure() error {
	if c.closed.Load() {
		return fmt.Errorf("%w at %s: connection closed", ErrConnect, c.uri)
	}
	if c.lc != nil {
		if alive(c.lc) {
			return nil
		}
		_ = c.drop()
	}
	now := c.now()
	if now.Before(c.retryAt) {
		return fmt.Errorf("%w at %s: connection lost, next attempt in %v",
			ErrConnect, c.uri, c.retryAt.Sub(now).Round(time.Millisecond))
	}
	if err := c.connect(); err != nil {
		c.backoff = min(max(2*c.backoff, minBackoff), maxBackoff)
		c.retryAt = now.Add(c.backoff)
		return err
	}
	c.backoff, c.retryAt = 0, time.Time{}
	c.nrecon.Add(1)
	c.notify()
	return nil
}

// do runs op on a live connection. If op fails because the connection was
// lost, do reconnects (as ensure allows) and runs op once more.
func (c *Conn) do(op func(lc *libvirt.Connect) error) error {
	if err := c.ensure(); err != nil {
		return err
	}
	err := op(c.lc)
	if err == nil || !c.lost(err) {
		return err
	}
	_ = c.drop()
	if err := c.ensure(); err != nil {
		return err
	}
	if err = op(c.lc); err != nil && c.lost(err) {
		_ = c.drop()
		return connectError(c.uri, err)
	}
	return err
}

// lost reports whether err, returned by a libvirt call, means the
// connection is gone.
func (c *Conn) lost(err error) bool {
	var lv libvirt.Error
	if !errors.As(err, &lv) {
		return false
	}
	return connLostCode(lv.Code) || !alive(c.lc)
}

// alive reports whether lc is open and libvirt says it is alive.
func alive(lc *libvirt.Connect) bool {
	if lc == nil {
		return false
	}
	ok, err := lc.IsAlive()
	return err == nil && ok
}
