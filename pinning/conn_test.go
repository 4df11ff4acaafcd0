package pinning

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

func TestOpen_RefusedConnection_ErrConnectOneLineNamingURI(t *testing.T) {
	const uri = "qemu+unix:///system?socket=/nonexistent"
	c, err := Open(uri)
	if !errors.Is(err, ErrConnect) {
		t.Fatalf("Open(%q) = %v, %v; want an error wrapping ErrConnect", uri, c, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, uri) || strings.Contains(msg, "\n") || strings.Contains(msg, "virError(") {
		t.Errorf("Open(%q) error %q: want one clean line naming the URI", uri, msg)
	}
	var lv libvirt.Error
	if !errors.As(err, &lv) {
		t.Errorf("Open(%q) error %q does not carry the libvirt.Error", uri, msg)
	}
}

func TestConnLostCode(t *testing.T) {
	tests := []struct {
		code libvirt.ErrorNumber
		want bool
	}{
		{libvirt.ERR_NO_CONNECT, true},
		{libvirt.ERR_INVALID_CONN, true},
		{libvirt.ERR_RPC, true},
		{libvirt.ERR_SYSTEM_ERROR, false},   // also a failed sched_setaffinity: IsAlive decides
		{libvirt.ERR_INTERNAL_ERROR, false}, // likewise
		{libvirt.ERR_NO_DOMAIN, false},
		{libvirt.ERR_OPERATION_INVALID, false},
	}
	for _, tt := range tests {
		if got := connLostCode(tt.code); got != tt.want {
			t.Errorf("connLostCode(%d) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

// killConn closes c's libvirt connection underneath it, as if libvirtd
// went away.
func killConn(t *testing.T, c *Conn) {
	t.Helper()
	onConn(t, c, func(lc *libvirt.Connect) error {
		c.deregister(lc)
		n, err := lc.Close()
		if n != 0 || err != nil {
			t.Errorf("closing the libvirt connection = %d, %v; want 0 references left", n, err)
		}
		return nil
	})
}

func TestDomains_ConnectionClosedUnderneath_Reconnects(t *testing.T) {
	c := openTest(t)
	c.Apply([]Pin{{UUID: duoUUID, VCPU: 0, CPUs: cpuset.New(6)}})
	killConn(t, c)
	// A test:// host reconnects fresh, as the XML describes it.
	if diff := cmp.Diff(initialPins(), livePins(t, c)); diff != "" {
		t.Errorf("live pins after reconnect mismatch (-want +got):\n%s", diff)
	}
	if got := c.Reconnects(); got != 1 {
		t.Errorf("Reconnects() = %d, want 1", got)
	}
}

func TestDo_OpFailsWithLostConnection_ReconnectsAndRetriesOnce(t *testing.T) {
	c := openTest(t)
	calls := 0
	err := c.call("test", func(*libvirt.Connect) error {
		calls++
		if calls == 1 {
			return lvErr(libvirt.ERR_RPC, "connection closed")
		}
		return nil
	})
	if err != nil || calls != 2 || c.Reconnects() != 1 {
		t.Errorf("call = %v after %d calls, %d reconnects; want nil after 2 calls, 1 reconnect", err, calls, c.Reconnects())
	}
}

func TestDo_OpFailsForOtherReason_NoReconnect(t *testing.T) {
	c := openTest(t)
	calls := 0
	want := lvErr(libvirt.ERR_SYSTEM_ERROR, "cannot set CPU affinity")
	err := c.call("test", func(*libvirt.Connect) error { calls++; return want })
	if !errors.Is(err, libvirt.ERR_SYSTEM_ERROR) || calls != 1 || c.Reconnects() != 0 {
		t.Errorf("call = %v after %d calls, %d reconnects; want the error after 1 call, no reconnect", err, calls, c.Reconnects())
	}
}

func TestReconnect_WhileDown_ErrConnectWithBoundedBackoff(t *testing.T) {
	c := openTest(t)
	now := time.Unix(1000, 0)
	dials := 0
	down := true
	onConn(t, c, func(*libvirt.Connect) error { // the call's goroutine owns these
		c.now = func() time.Time { return now }
		c.dial = func(uri string) (*libvirt.Connect, error) {
			dials++
			if down {
				return nil, lvErr(libvirt.ERR_SYSTEM_ERROR, "Failed to connect socket")
			}
			return libvirt.NewConnect(uri)
		}
		return nil
	})
	killConn(t, c)

	var waits []time.Duration
	for range 9 {
		before := dials
		if _, err := c.Domains(); !errors.Is(err, ErrConnect) {
			t.Fatalf("Domains while down = %v, want ErrConnect", err)
		}
		if dials != before+1 {
			t.Fatalf("Domains while down dialed %d times, want 1", dials-before)
		}
		waits = append(waits, c.backoff)
		if _, err := c.Domains(); !errors.Is(err, ErrConnect) || dials != before+1 {
			t.Fatalf("Domains before the backoff ran out = %v after %d dials; want ErrConnect, no dial", err, dials-before)
		}
		now = now.Add(c.backoff)
	}
	ms := time.Millisecond
	wantWaits := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5000 * ms, 5000 * ms, 5000 * ms}
	if diff := cmp.Diff(wantWaits, waits); diff != "" {
		t.Errorf("backoff mismatch (-want +got):\n%s", diff)
	}
	for _, r := range c.Apply([]Pin{{UUID: duoUUID, VCPU: 0, CPUs: cpuset.New(1)}}) {
		if !errors.Is(r.Err, ErrConnect) {
			t.Errorf("Apply while down = %+v, want ErrConnect", r)
		}
	}

	down = false
	now = now.Add(maxBackoff)
	if _, err := c.Domains(); err != nil {
		t.Fatalf("Domains once libvirt is back = %v", err)
	}
	if c.Reconnects() != 1 || c.backoff != 0 {
		t.Errorf("after reconnecting: Reconnects() = %d, backoff %v; want 1, 0", c.Reconnects(), c.backoff)
	}
}

func TestClose_LaterCallsErrConnect(t *testing.T) {
	c := openTest(t)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if _, err := c.Domains(); !errors.Is(err, ErrConnect) {
		t.Errorf("Domains after Close = %v, want ErrConnect", err)
	}
	if _, err := c.HostCPUs(); !errors.Is(err, ErrConnect) {
		t.Errorf("HostCPUs after Close = %v, want ErrConnect", err)
	}
	if r := c.Apply([]Pin{{UUID: duoUUID, VCPU: 0, CPUs: cpuset.New(1)}}); !errors.Is(r[0].Err, ErrConnect) {
		t.Errorf("Apply after Close = %+v, want ErrConnect", r[0])
	}
}
