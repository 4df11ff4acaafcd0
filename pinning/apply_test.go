package pinning

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

// outcome is what a test expects of one Result.
type outcome struct {
	Changed bool
	Err     error // a sentinel, matched with errors.Is
}

func TestApply(t *testing.T) {
	const nosuchUUID = "99999999-9999-4999-8999-999999999999"
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
				{UUID: duoUUID, Name: "duo", VCPU: 0, CPUs: cpuset.New(5)},
				{UUID: quadUUID, VCPU: 1, CPUs: cpuset.New(1, 2)},
				{UUID: soloUUID, Name: "solo", VCPU: 0, CPUs: cpuset.New(7)},
			},
			want:     []outcome{{Changed: true}, {Changed: true}, {Changed: true}},
			wantPins: with(initialPins(), "duo/0", "5", "quad/1", "1-2", "solo/0", "7"),
		},
		{
			name: "PinsAlreadyInPlace_UnchangedNoError",
			pins: []Pin{
				{UUID: duoUUID, VCPU: 0, CPUs: cpuset.New(0)},
				{UUID: duoUUID, VCPU: 1, CPUs: cpuset.New(2, 3)},
				{UUID: soloUUID, VCPU: 0, CPUs: cpuset.New(0, 1, 2, 3, 4, 5, 6, 7)},
				{UUID: gappyUUID, VCPU: 3, CPUs: cpuset.New(4, 5, 6, 7)}, // past GetVcpuPinInfo's maps
			},
			want:     []outcome{{}, {}, {}, {}},
			wantPins: initialPins(),
		},
		{
			name: "FailedPins_ReportedOthersStillApplied",
			pins: []Pin{
				{UUID: duoUUID, VCPU: 0, CPUs: cpuset.New(4)},
				{UUID: nosuchUUID, Name: "nosuch", VCPU: 0, CPUs: cpuset.New(1)},
				{UUID: quadUUID, VCPU: 0, CPUs: cpuset.New(8)}, // the host has CPUs 0-7
				{UUID: quadUUID, VCPU: 4, CPUs: cpuset.New(1)}, // quad has vCPUs 0-3
				{UUID: quadUUID, VCPU: 1, CPUs: cpuset.New(2)},
				{UUID: soloUUID, VCPU: 0, CPUs: cpuset.New()},
				{Name: "duo", VCPU: 1, CPUs: cpuset.New(1)}, // no UUID
			},
			want: []outcome{
				{Changed: true}, {Err: ErrDomainGone}, {Err: ErrPin},
				{Err: ErrPin}, {Changed: true}, {Err: ErrPin}, {Err: ErrPin},
			},
			wantPins: with(initialPins(), "duo/0", "4", "quad/1", "2"),
		},
		{
			name: "DisabledVCPU_OnlyThatPinFails",
			pins: []Pin{
				{UUID: gappyUUID, Name: "gappy", VCPU: 2, CPUs: cpuset.New(6)}, // disabled
				{UUID: gappyUUID, Name: "gappy", VCPU: 3, CPUs: cpuset.New(6)},
				{UUID: gappyUUID, Name: "gappy", VCPU: 0, CPUs: cpuset.New(7)},
			},
			want:     []outcome{{Err: ErrPin}, {Changed: true}, {Changed: true}},
			wantPins: with(initialPins(), "gappy/3", "6", "gappy/0", "7"),
		},
		{
			name:   "DomainDestroyedSinceListing_ErrDomainGoneForItsPinsOnly",
			before: func(t *testing.T, c *Conn) { destroy(t, c, "duo") },
			pins: []Pin{
				{UUID: duoUUID, Name: "duo", VCPU: 0, CPUs: cpuset.New(1)},
				{UUID: quadUUID, Name: "quad", VCPU: 3, CPUs: cpuset.New(3)},
				{UUID: duoUUID, Name: "duo", VCPU: 1, CPUs: cpuset.New(1)},
			},
			want:     []outcome{{Err: ErrDomainGone}, {Changed: true}, {Err: ErrDomainGone}},
			wantPins: with(initialPins(), "quad/3", "3", "duo/0", "", "duo/1", ""),
		},
		{
			name: "FromNoLongerLive_ErrPinChangedLeftAlone",
			pins: []Pin{
				{UUID: duoUUID, Name: "duo", VCPU: 0, CPUs: cpuset.New(5), From: cpuset.New(1)}, // live is 0
				{UUID: duoUUID, Name: "duo", VCPU: 1, CPUs: cpuset.New(6), From: cpuset.New(2, 3)},
			},
			want:     []outcome{{Err: ErrPinChanged}, {Changed: true}},
			wantPins: with(initialPins(), "duo/1", "6"),
		},
		{
			name: "AnotherInstanceOfTheDomain_ErrDomainGone",
			pins: []Pin{
				{UUID: duoUUID, Name: "duo", VCPU: 0, CPUs: cpuset.New(5), DomainID: 999},
				{UUID: soloUUID, Name: "solo", VCPU: 0, CPUs: cpuset.New(6), DomainID: 1},
			},
			want:     []outcome{{Err: ErrDomainGone}, {Changed: true}},
			wantPins: with(initialPins(), "solo/0", "6"),
		},
		{
			name:     "ShutOffDomain_ErrDomainGone",
			pins:     []Pin{{UUID: offUUID, Name: "off", VCPU: 0, CPUs: cpuset.New(1)}},
			want:     []outcome{{Err: ErrDomainGone}},
			wantPins: initialPins(),
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
						i, r.Pin.Name, r.Pin.VCPU, r.Pin.CPUs, r.Changed, r.Err, w.Changed, w.Err)
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
	pins := []Pin{{UUID: quadUUID, VCPU: 2, CPUs: cpuset.New(6)}, {UUID: gappyUUID, VCPU: 3, CPUs: cpuset.New(4)}}
	for i, r := range c.Apply(pins) {
		if r.Err != nil || !r.Changed {
			t.Fatalf("first Apply, pin %d = %+v, want Changed and no error", i, r)
		}
	}
	for i, r := range c.Apply(pins) {
		if r.Err != nil || r.Changed {
			t.Errorf("second Apply, pin %d = %+v, want unchanged and no error", i, r)
		}
	}
}

func TestApply_Empty_NoResults(t *testing.T) {
	c := openTest(t)
	if got := c.Apply(nil); len(got) != 0 {
		t.Errorf("Apply(nil) = %+v, want no results", got)
	}
}

func TestConn_ConcurrentCalls_Serialized(t *testing.T) {
	c := openTest(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			if r := c.Apply([]Pin{{UUID: quadUUID, VCPU: 3, CPUs: cpuset.New(i % 8)}}); r[0].Err != nil {
				t.Errorf("Apply: %v", r[0].Err)
			}
		}
	}()
	for range 50 {
		if _, err := c.Domains(); err != nil {
			t.Errorf("Domains: %v", err)
		}
	}
	wg.Wait()
	if diff := cmp.Diff(with(initialPins(), "quad/3", "1"), livePins(t, c)); diff != "" {
		t.Errorf("live pins mismatch (-want +got):\n%s", diff)
	}
}
