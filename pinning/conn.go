package pinning

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

// Conn is a libvirt connection that reconnects by itself and never blocks
// its caller for longer than its deadline. Its methods may be called from
// several goroutines; they are serialized.
//
// When libvirtd restarts or the connection drops, the next call notices it
// (a connection error code, or IsAlive false), reconnects at once and
// retries. If libvirt is still unreachable the call returns an error
// wrapping ErrConnect without waiting; later calls try again no sooner than
// a backoff of 100 ms doubling up to 5 s, so a caller polling every cycle
// never blocks on a dead daemon. Reconnects counts the reconnections.
//
// Every operation runs in a goroutine of its own and is waited for at most
// the deadline (WithTimeout). One that overruns is left to finish in the
// background and the caller gets ErrTimeout; until it finishes, new calls
// fail at once with ErrTimeout, so at most one libvirt call is ever
// outstanding. libvirt's keepalive closes a connection to a libvirtd that
// stopped answering, which ends such a call.
type Conn struct {
	uri    string
	opts   options
	events chan struct{} // a token when domains may have changed; nil without events
	closed atomic.Bool
	nrecon atomic.Int64

	mu      sync.Mutex    // serializes calls
	pending chan struct{} // closed when the call that overran its deadline returns; nil when none

	// Owned by the goroutine running the current call (see call).
	dial     func(uri string) (*libvirt.Connect, error)
	now      func() time.Time
	lc       *libvirt.Connect // nil while disconnected
	host     hostCPUs
	pinFlags libvirt.DomainModificationImpact // DOMAIN_AFFECT_LIVE except on the test driver
	cbIDs    []int                            // event callbacks registered on lc
	backoff  time.Duration
	retryAt  time.Time
}

// hostCPUs is what a connection knows of the host's CPUs.
type hostCPUs struct {
	n      int           // the length of every cpumap: CPUs 0..n-1, online or not
	online cpuset.CPUSet // where an unpinned vCPU may run
}

// Open connects to libvirt at uri (for example qemu:///system, or
// test:///abs/path/host.xml for libvirt's in-process test driver). It
// registers libvirt's default event loop first (once per process). A
// failure wraps ErrConnect (or ErrTimeout) and names uri on one line.
func Open(uri string, opts ...Option) (*Conn, error) {
	c := &Conn{uri: uri, opts: defaultOptions(), dial: libvirt.NewConnect, now: time.Now}
	for _, o := range opts {
		o(&c.opts)
	}
	// The event loop is needed for keepalive too, so it starts even
	// WithoutEvents.
	if startEventLoop() == nil && !c.opts.noEvents {
		c.events = make(chan struct{}, 1)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.bounded("open "+uri, c.connect)
	if err != nil {
		if !errors.Is(err, ErrConnect) {
			err = fmt.Errorf("%w: %w", ErrConnect, err)
		}
		c.closed.Store(true)
		if c.pending != nil { // the dial may still succeed: close what it opens
			go func(p chan struct{}) { <-p; _ = c.drop() }(c.pending)
		}
		return nil, err
	}
	if len(c.cbIDs) == 0 {
		c.events = nil // the driver has no events: the caller polls
	}
	return c, nil
}

// Close closes the connection; later calls return an error wrapping
// ErrConnect. Close waits for libvirt at most the deadline: if a call is
// still outstanding, the connection is closed in the background once it
// returns. Close does not touch any pin.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Swap(true) {
		return nil
	}
	if c.pending != nil {
		go func(p chan struct{}) { <-p; _ = c.drop() }(c.pending)
		return nil
	}
	return c.bounded("close "+c.uri, c.drop)
}

// URI returns the libvirt URI the connection was opened with.
func (c *Conn) URI() string { return c.uri }

// Reconnects returns how many times the connection was re-established after
// it dropped. The caller can log once each time the count goes up.
func (c *Conn) Reconnects() int { return int(c.nrecon.Load()) }

// HostCPUs returns the number of host CPUs libvirt's cpumaps cover (online
// or not, from virNodeGetCPUMap); the CPUs of a Pin must be below it.
func (c *Conn) HostCPUs() (int, error) {
	var n int
	err := c.call("read host CPUs", func(lc *libvirt.Connect) error {
		if err := c.readHost(lc); err != nil {
			return err
		}
		n = c.host.n
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read host CPUs: %w", err)
	}
	return n, nil
}
