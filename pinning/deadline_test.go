package pinning

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/utils/cpuset"
)

// stuckLibvirt stands in for a libvirt call that does not return: libvirt's
// test driver answers in-process and cannot be made to hang. While stuck,
// each bounded call blocks in the hook until release, and its deadline has
// already passed; otherwise the deadline never passes.
type stuckLibvirt struct {
	stuck   atomic.Bool
	entered chan string // the bounded calls that reached libvirt
	release chan struct{}
	once    sync.Once
}

func newStuckLibvirt() *stuckLibvirt {
	return &stuckLibvirt{entered: make(chan string, 100), release: make(chan struct{})}
}

func (s *stuckLibvirt) options() []Option {
	return []Option{
		withHook(func(op string) {
			s.entered <- op
			if s.stuck.Load() {
				<-s.release
			}
		}),
		withDeadline(func(time.Duration) (<-chan time.Time, func()) {
			if !s.stuck.Load() {
				return nil, func() {}
			}
			ch := make(chan time.Time, 1)
			ch <- time.Time{}
			return ch, func() {}
		}),
	}
}

// unstick lets the blocked call return; later calls run normally.
func (s *stuckLibvirt) unstick() {
	s.stuck.Store(false)
	s.once.Do(func() { close(s.release) })
}

// pendingCall returns the call that overran and is still running, if any.
func pendingCall(c *Conn) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending
}

// waitPending waits until the call that overran has returned.
func waitPending(c *Conn) {
	if p := pendingCall(c); p != nil {
		<-p
	}
}

func TestDeadline_StuckCall_ErrTimeoutThenFailFastThenRecovers(t *testing.T) {
	s := newStuckLibvirt()
	c := openTest(t, s.options()...)
	t.Cleanup(s.unstick)
	s.stuck.Store(true)
	for len(s.entered) > 0 { // Open's
		<-s.entered
	}

	if _, err := c.Domains(); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Domains on a stuck libvirt = %v, want ErrTimeout", err)
	}
	stuck := pendingCall(c)
	<-s.entered // the stuck call is in libvirt now
	// While that call is outstanding nothing else reaches libvirt.
	if _, err := c.Domains(); !errors.Is(err, ErrTimeout) {
		t.Errorf("second Domains while the first is stuck = %v, want ErrTimeout", err)
	}
	pins := []Pin{{UUID: duoUUID, VCPU: 0, CPUs: cpuset.New(5)}, {UUID: quadUUID, VCPU: 0, CPUs: cpuset.New(5)}}
	for i, r := range c.Apply(pins) {
		if !errors.Is(r.Err, ErrTimeout) || r.Changed {
			t.Errorf("Apply while stuck, pin %d = %+v, want ErrTimeout", i, r)
		}
	}
	if _, err := c.HostCPUs(); !errors.Is(err, ErrTimeout) {
		t.Errorf("HostCPUs while stuck = %v, want ErrTimeout", err)
	}
	// No call started behind the stuck one (no pile-up).
	if p := pendingCall(c); p != stuck || len(s.entered) != 0 {
		t.Errorf("calls started while one was stuck: pending replaced %v, %d more reached libvirt; want none",
			p != stuck, len(s.entered))
	}

	s.unstick()
	waitPending(c)
	if _, err := c.Domains(); err != nil {
		t.Errorf("Domains once libvirt answers again = %v", err)
	}
	for i, r := range c.Apply(pins) {
		if r.Err != nil || !r.Changed {
			t.Errorf("Apply once libvirt answers again, pin %d = %+v, want Changed", i, r)
		}
	}
}

func TestDeadline_RealTimer_StuckCallReturnsErrTimeout(t *testing.T) {
	release := make(chan struct{})
	var stuck atomic.Bool
	c := openTest(t, withHook(func(string) {
		if stuck.Load() {
			<-release
		}
	}))
	WithTimeout(20 * time.Millisecond)(&c.opts) // after Open, which must not time out on a loaded machine
	stuck.Store(true)
	defer close(release)
	_, err := c.Domains()
	if !errors.Is(err, ErrTimeout) || errors.Is(err, ErrConnect) {
		t.Errorf("Domains on a stuck libvirt = %v, want ErrTimeout", err)
	}
}

func TestClose_WhileCallStuck_ReturnsAndClosesLater(t *testing.T) {
	s := newStuckLibvirt()
	c := openTest(t, s.options()...)
	t.Cleanup(s.unstick)
	s.stuck.Store(true)
	if _, err := c.Domains(); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Domains on a stuck libvirt = %v, want ErrTimeout", err)
	}
	if err := c.Close(); err != nil { // must not wait for the stuck call
		t.Errorf("Close while a call is stuck = %v, want nil", err)
	}
	if _, err := c.Domains(); !errors.Is(err, ErrConnect) {
		t.Errorf("Domains after Close = %v, want ErrConnect", err)
	}
	s.unstick()
	waitPending(c)
}

func TestOpen_StuckDial_ErrConnectAndErrTimeout(t *testing.T) {
	s := newStuckLibvirt()
	s.stuck.Store(true)
	t.Cleanup(s.unstick)
	c, err := Open(testURI(t), s.options()...)
	if !errors.Is(err, ErrConnect) || !errors.Is(err, ErrTimeout) || c != nil {
		t.Errorf("Open on a stuck libvirt = %v, %v; want nil, ErrConnect and ErrTimeout", c, err)
	}
}
