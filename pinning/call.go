package pinning

import (
	"fmt"

	"libvirt.org/go/libvirt"
)

// call runs op on a live connection (reconnecting as do allows), bounded by
// the deadline. what names the operation in a timeout error.
func (c *Conn) call(what string, op func(lc *libvirt.Connect) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return fmt.Errorf("%w at %s: connection closed", ErrConnect, c.uri)
	}
	return c.bounded(what, func() error { return c.do(op) })
}

// bounded runs f in a goroutine and waits for it at most the deadline. The
// caller holds c.mu. While an earlier f that overran is still running,
// bounded fails at once: f's goroutine owns the connection's state until it
// returns, and libvirt calls must not pile up behind a stuck one.
func (c *Conn) bounded(what string, f func() error) error {
	if c.pending != nil {
		select {
		case <-c.pending:
			c.pending = nil
		default:
			return fmt.Errorf("%s: %w: an earlier call is still waiting for libvirt at %s", what, ErrTimeout, c.uri)
		}
	}
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		if c.opts.hook != nil {
			c.opts.hook(what)
		}
		err = f()
	}()
	expired, stop := c.opts.deadline(c.opts.timeout)
	defer stop()
	select {
	case <-done:
		return err
	case <-expired:
		c.pending = done
		return fmt.Errorf("%s: %w: no answer from %s within %v", what, ErrTimeout, c.uri, c.opts.timeout)
	}
}
