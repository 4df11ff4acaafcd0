package pinning

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

const (
	duoUUID  = "22222222-2222-4222-8222-222222222222"
	quadUUID = "44444444-4444-4444-8444-444444444444"
)

// outcome is what a test expects of one Result.
type outcome struct {
	Changed bool
	Err     error // a sentinel, matched with errors.Is
}

func TestApply(t *testing.T) {
	tests := []struct {
		name     string
		before   func(t *testing.T, c *Conn)
		pins     []Pin
		want     []outcome
		wantPins map[string]string
	}{
		{
			name: "NewPins_ChangedAndReadBack",
			pins: []Pin{
				{Domain: "duo", UUID: duoUUID, VCPU: 0, CPUs: cpuset.New(5)},
				{Domain: "quad", VCPU: 1, CPUs: cpuset.New(1, 2)},
				{Domain: "solo", VCPU: 0, CPUs: cpuset.New(7)},
			},
			want:     []outcome{{Changed: true}, {Changed: true}, {Changed: true}},
			wantPins: with(initialPins(), "duo/0", "5", "quad/1", "1-2", "solo/0", "7"),
		},
		{
			name: "PinsAlreadyInPlace_UnchangedNoError",
			pins: []Pin{
				{Domain: "duo", VCPU: 0, CPUs: cpuset.New(0)},
				{Domain: "duo", VCPU: 1, CPUs: cpuset.New(2, 3)},
				{Domain: "solo", VCPU: 0, CPUs: cpuset.New(0, 1, 2, 3, 4, 5, 6, 7)},
			},
			want:     []outcome{{}, {}, {}},
			wantPins: initialPins(),
		},
		{
			name: "FailedPins_ReportedOthersStillApplied",
			pins: []Pin{
				{Domain: "duo", VCPU: 0, CPUs: cpuset.New(4)},
				{Domain: "nosuch", VCPU: 0, CPUs: cpuset.New(1)},
				{Domain: "quad", VCPU: 0, CPUs: cpuset.New(8)},
				{Domain: "quad", VCPU: 4, CPUs: cpuset.New(1)},
				{Domain: "quad", VCPU: 1, CPUs: cpuset.New(2)},
				{Domain: "solo", VCPU: 0, CPUs: cpuset.New()},
			},
			want: []outcome{
				{Changed: true}, {Err: ErrDomainGone}, {Err: ErrPin},
				{Err: ErrPin}, {Changed: true}, {Err: ErrPin},
			},
			wantPins: with(initialPins(), "duo/0", "4", "quad/1", "2"),
		},
		{
			name:   "DomainDestroyedSinceListing_ErrDomainGoneForItsPinsOnly",
			before: func(t *testing.T, c *Conn) { destroy(t, c, "duo") },
			pins: []Pin{
				{Domain: "duo", UUID: duoUUID, VCPU: 0, CPUs: cpuset.New(1)},
				{Domain: "quad", UUID: quadUUID, VCPU: 3, CPUs: cpuset.New(3)},
				{Domain: "duo", UUID: duoUUID, VCPU: 1, CPUs: cpuset.New(1)},
			},
			want: []outcome{{Err: ErrDomainGone}, {Changed: true}, {Err: ErrDomainGone}},
			wantPins: func() map[string]string {
				m := with(initialPins(), "quad/3", "3")
				delete(m, "duo/0")
				delete(m, "duo/1")
				return m
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			if tt.before != nil {
				tt.before(t, c)
			}
			got := c.Apply(tt.pins)
			if len(got) != len(tt.pins) {
				t.Fatalf("Apply returned %d results for %d pins", len(got), len(tt.pins))
			}
			for i, r := range got {
				if diff := cmp.Diff(tt.pins[i], r.Pin, cpusetEqual); diff != "" {
					t.Errorf("result %d is for another pin (-want +got):\n%s", i, diff)
				}
				w := tt.want[i]
				if r.Changed != w.Changed || !errors.Is(r.Err, w.Err) || (w.Err == nil) != (r.Err == nil) {
					t.Errorf("result %d (%s vCPU %d -> %s) = Changed %v, Err %v; want Changed %v, Err %v",
						i, r.Pin.Domain, r.Pin.VCPU, r.Pin.CPUs, r.Changed, r.Err, w.Changed, w.Err)
				}
			}
			if diff := cmp.Diff(tt.wantPins, livePins(t, c)); diff != "" {
				t.Errorf("live pins after Apply mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApply_SecondApplyOfSamePlan_NothingChanged(t *testing.T) {
	c := openTest(t)
	pins := []Pin{{Domain: "quad", VCPU: 2, CPUs: cpuset.New(6)}}
	if r := c.Apply(pins); r[0].Err != nil || !r[0].Changed {
		t.Fatalf("first Apply = %+v, want Changed and no error", r[0])
	}
	if r := c.Apply(pins); r[0].Err != nil || r[0].Changed {
		t.Errorf("second Apply = %+v, want unchanged and no error", r[0])
	}
}

func TestRestore_PutsBackPinsAsFoundBeforeFirstChange(t *testing.T) {
	c := openTest(t)
	c.Apply([]Pin{{Domain: "duo", VCPU: 0, CPUs: cpuset.New(4)}, {Domain: "quad", VCPU: 2, CPUs: cpuset.New(3)}})
	c.Apply([]Pin{{Domain: "duo", VCPU: 0, CPUs: cpuset.New(5)}, {Domain: "solo", VCPU: 0, CPUs: cpuset.New(1)}})
	c.Apply([]Pin{{Domain: "quad", VCPU: 2, CPUs: cpuset.New(0)}}) // back by itself
	destroy(t, c, "solo")

	got := c.Restore()
	want := []Result{
		{Pin: Pin{Domain: "duo", UUID: duoUUID, VCPU: 0, CPUs: cpuset.New(0)}, Changed: true},
		{Pin: Pin{Domain: "quad", UUID: quadUUID, VCPU: 2, CPUs: cpuset.New(0)}},
	}
	if diff := cmp.Diff(want, got, cpusetEqual); diff != "" {
		t.Errorf("Restore() mismatch (-want +got):\n%s", diff)
	}
	wantPins := initialPins()
	delete(wantPins, "solo/0")
	if diff := cmp.Diff(wantPins, livePins(t, c)); diff != "" {
		t.Errorf("live pins after Restore mismatch (-want +got):\n%s", diff)
	}
	if again := c.Restore(); len(again) != 0 {
		t.Errorf("second Restore() = %+v, want nothing left to restore", again)
	}
}

func TestRestore_NothingApplied_Empty(t *testing.T) {
	c := openTest(t)
	c.Apply([]Pin{{Domain: "duo", VCPU: 0, CPUs: cpuset.New(0)}}) // no-op
	if got := c.Restore(); len(got) != 0 {
		t.Errorf("Restore() = %+v, want empty", got)
	}
}

func TestDomainError_RefusedPin_ErrPinWhileRunningErrDomainGoneOnceStopped(t *testing.T) {
	c := openTest(t)
	dom, err := c.lc.LookupDomainByName("duo")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dom.Free() }()
	refused := lvErr(libvirt.ERR_SYSTEM_ERROR, "cannot set CPU affinity on process 42: Invalid argument")
	if err := c.domainError(dom, refused); !errors.Is(err, ErrPin) || !errors.Is(err, libvirt.ERR_SYSTEM_ERROR) {
		t.Errorf("domainError on a running domain = %v, want ErrPin wrapping the libvirt error", err)
	}
	destroy(t, c, "duo")
	if err := c.domainError(dom, refused); !errors.Is(err, ErrDomainGone) {
		t.Errorf("domainError on a stopped domain = %v, want ErrDomainGone", err)
	}
}

func TestConn_ConcurrentCalls_Serialized(t *testing.T) {
	c := openTest(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			c.Apply([]Pin{{Domain: "quad", VCPU: 3, CPUs: cpuset.New(i % 8)}})
		}
	}()
	for range 50 {
		if _, err := c.Domains(); err != nil {
			t.Errorf("Domains: %v", err)
		}
	}
	<-done
	if got := c.Restore(); len(got) != 1 || got[0].Err != nil || !got[0].Pin.CPUs.Equals(cpuset.New(0)) {
		t.Errorf("Restore() = %+v, want quad vCPU 3 back on CPU 0", got)
	}
}
