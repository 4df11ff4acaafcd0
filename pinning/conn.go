package pinning

import (
	"fmt"
	"sync"
	"time"

	"libvirt.org/go/libvirt"
)

// Conn is a libvirt connection that reconnects by itself. Its methods may be
// called from several goroutines; a mutex serializes them, so a slow libvirt
// call in one delays the others.
//
// When libvirtd restarts or the connection drops, the next call notices it
// (a connection error code, or IsAlive false), reconnects at once and retries.
// If libvirt is still unreachable the call returns an error wrapping
// ErrConnect without waiting; later calls try again no sooner than a backoff
// of 100 ms doubling up to 5 s, so a caller polling every cycle never blocks
// on a dead daemon. Reconnects counts the successful reconnections.
type Conn struct {
	mu         sync.Mutex
	uri        string
	dial       func(uri string) (*libvirt.Connect, error)
	now        func() time.Time
	lc         *libvirt.Connect // nil while disconnected
	closed     bool
	ncpu       int                              // host CPUs: the length of every cpumap
	pinFlags   libvirt.DomainModificationImpact // DOMAIN_AFFECT_LIVE except on the test driver
	backoff    time.Duration
	retryAt    time.Time
	reconnects int
	orig       map[vcpuKey]origPin // pins as found before vsched first changed them
}

// Open connects to libvirt at uri (for example qemu:///system, or
// test:///abs/path/host.xml for libvirt's in-process test driver). A failure
// wraps ErrConnect and names uri on one line.
func Open(uri string) (*Conn, error) {
	c := &Conn{uri: uri, dial: libvirt.NewConnect, now: time.Now, orig: make(map[vcpuKey]origPin)}
	if err := c.connect(); err != nil {
		return nil, err
	}
	return c, nil
}

// Close closes the connection. Later calls return an error wrapping
// ErrConnect. Close does not restore pins; call Restore first for that.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return c.drop()
}

// URI returns the libvirt URI the connection was opened with.
func (c *Conn) URI() string { return c.uri }

// Reconnects returns how many times the connection was re-established after
// it dropped. The caller can log once each time the count goes up.
func (c *Conn) Reconnects() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reconnects
}

// HostCPUs returns the number of host CPUs libvirt knows (nodes × sockets ×
// cores × threads from virNodeGetInfo), which is the length of every
// libvirt cpumap; CPUs in a Pin must be below it.
func (c *Conn) HostCPUs() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.do(func(lc *libvirt.Connect) error { return c.readHost(lc) })
	if err != nil {
		return 0, fmt.Errorf("read host CPUs: %w", err)
	}
	return c.ncpu, nil
}

// connect dials c.uri and reads what the connection needs from the host.
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
	return nil
}

// readHost reads the host's CPU count and picks the pin flags. libvirt's test
// driver accepts no flags in virDomainPinVcpuFlags and pins only running
// domains, so there DOMAIN_AFFECT_CURRENT means exactly DOMAIN_AFFECT_LIVE.
func (c *Conn) readHost(lc *libvirt.Connect) error {
	ni, err := lc.GetNodeInfo()
	if err != nil {
		return err
	}
	typ, err := lc.GetType()
	if err != nil {
		return err
	}
	c.ncpu = int(ni.GetMaxCPUs())
	c.pinFlags = libvirt.DOMAIN_AFFECT_LIVE
	if typ == "TEST" {
		c.pinFlags = libvirt.DOMAIN_AFFECT_CURRENT
	}
	return nil
}
