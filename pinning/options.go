package pinning

import "time"

// Defaults for the options.
const (
	// DefaultTimeout bounds each libvirt operation (one listing, the pins of
	// one domain, a reconnection).
	DefaultTimeout = 5 * time.Second
	// DefaultKeepAliveInterval and DefaultKeepAliveCount make libvirt close
	// a connection whose peer has not answered for about 20 s.
	DefaultKeepAliveInterval = 5 * time.Second
	DefaultKeepAliveCount    = 3
)

// Option configures a Conn in Open.
type Option func(*options)

// options holds what Open was asked for.
type options struct {
	timeout  time.Duration
	kaEvery  time.Duration
	kaCount  uint
	hook     func(op string) // runs first in every bounded call; tests use it to make libvirt "hang"
	noEvents bool
	deadline func(d time.Duration) (<-chan time.Time, func()) // a timer and its stop; tests replace it
}

func defaultOptions() options {
	return options{timeout: DefaultTimeout, kaEvery: DefaultKeepAliveInterval, kaCount: DefaultKeepAliveCount, deadline: realDeadline}
}

// realDeadline starts a timer of d and returns its channel and its stop.
func realDeadline(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// WithTimeout bounds every libvirt operation by d (DefaultTimeout when d is
// not positive). An operation that overruns returns an error wrapping
// ErrTimeout; the blocked C call finishes in its own goroutine, and until it
// has, every new call fails at once with ErrTimeout instead of queueing
// behind it.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithKeepAlive sets libvirt's keepalive on every connection: a probe every
// interval (rounded down to whole seconds, at least 1 s), and the connection
// is closed after count unanswered probes. A count of 0 disables keepalive.
// Drivers without keepalive (the in-process test driver) ignore it.
func WithKeepAlive(interval time.Duration, count uint) Option {
	return func(o *options) {
		o.kaEvery = max(interval, time.Second)
		o.kaCount = count
	}
}

// WithoutEvents opens the connection without registering for domain events;
// Events then returns nil and the caller polls.
func WithoutEvents() Option {
	return func(o *options) { o.noEvents = true }
}

// withHook runs hook(op) at the start of every bounded call, in the
// goroutine that makes the libvirt calls. Only tests use it: libvirt's test
// driver cannot be made to hang, a hook that blocks can.
func withHook(hook func(op string)) Option {
	return func(o *options) { o.hook = hook }
}

// withDeadline replaces the timer that bounds each call. Only tests use
// it, to make a call overrun (or not) without waiting.
func withDeadline(deadline func(d time.Duration) (<-chan time.Time, func())) Option {
	return func(o *options) { o.deadline = deadline }
}
