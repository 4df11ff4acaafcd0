package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/pinning"
)

// cpusetEqual lets cmp compare cpuset values, whose fields are unexported.
var cpusetEqual = cmp.Comparer(func(a, b cpuset.CPUSet) bool { return a.Equals(b) })

var t0 = time.Unix(1_800_000_000, 0)

// dom is a DomainSample of domain name/id whose vCPU n has thread 100*id+n,
// last ran on pCPU n, has affinity 0-3 and the given run and wait ns.
func dom(name string, id int, runWait ...uint64) cgroupstats.DomainSample {
	ds := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: id, Name: name, VCPUs: len(runWait) / 2}}
	for n := 0; 2*n+1 < len(runWait); n++ {
		ds.VCPUs = append(ds.VCPUs, cgroupstats.VCPUStat{VCPU: n, TID: 100*id + n,
			RunNs: runWait[2*n], WaitNs: runWait[2*n+1], LastCPU: n, Affinity: cpuset.New(0, 1, 2, 3)})
	}
	return ds
}

// vanished is a domain whose reading failed.
func vanished(name string, id int) cgroupstats.DomainSample {
	return cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: id, Name: name},
		Err: fmt.Errorf("%w: /proc/1/task/2/schedstat", cgroupstats.ErrVanished)}
}

func sample(at time.Duration, doms ...cgroupstats.DomainSample) *cgroupstats.Sample {
	return &cgroupstats.Sample{Time: t0.Add(at), Domains: doms}
}

func TestSnapshot(t *testing.T) {
	pinned := []pinning.Domain{{ID: 1, Name: "a", VCPUs: 2, Pins: []cpuset.CPUSet{cpuset.New(3), cpuset.New()}}}
	tests := []struct {
		name  string
		s     *cgroupstats.Sample
		doms  []pinning.Domain
		match *cgroupstats.Sample
		want  []balancer.VCPU
	}{
		{
			name: "LibvirtPins_PreferredOverAffinity_EmptyPinFallsBack",
			s:    sample(0, dom("a", 1, 10, 1, 20, 2)),
			doms: pinned,
			want: []balancer.VCPU{
				{Domain: "a", Index: 0, PCPU: 0, RunNs: 10, WaitNs: 1, Pin: cpuset.New(3)},
				{Domain: "a", Index: 1, PCPU: 1, RunNs: 20, WaitNs: 2, Pin: cpuset.New(0, 1, 2, 3)},
			},
		},
		{
			name: "NoListing_AffinityUsed",
			s:    sample(0, dom("a", 1, 10, 1)),
			want: []balancer.VCPU{{Domain: "a", Index: 0, PCPU: 0, RunNs: 10, WaitNs: 1, Pin: cpuset.New(0, 1, 2, 3)}},
		},
		{
			name: "ListingOfAnotherDomain_NotApplied",
			s:    sample(0, dom("b", 2, 10, 1)),
			doms: pinned,
			want: []balancer.VCPU{{Domain: "b", Index: 0, PCPU: 0, RunNs: 10, WaitNs: 1, Pin: cpuset.New(0, 1, 2, 3)}},
		},
		{
			name: "FailedDomain_Skipped",
			s:    sample(0, vanished("a", 1), dom("b", 2, 10, 1)),
			doms: []pinning.Domain{pinned[0], {ID: 2, Name: "b", VCPUs: 1, Pins: []cpuset.CPUSet{cpuset.New(2)}}},
			want: []balancer.VCPU{{Domain: "b", Index: 0, PCPU: 0, RunNs: 10, WaitNs: 1, Pin: cpuset.New(2)}},
		},
		{
			name:  "RestartedDomain_SameNameNewID_LeftOut",
			s:     sample(0, dom("a", 1, 10, 1), dom("b", 2, 10, 1)),
			match: sample(time.Second, dom("a", 7, 1, 0), dom("b", 2, 20, 1)),
			want:  []balancer.VCPU{{Domain: "b", Index: 0, PCPU: 0, RunNs: 10, WaitNs: 1, Pin: cpuset.New(0, 1, 2, 3)}},
		},
		{
			name:  "DomainGoneFromMatch_LeftOut",
			s:     sample(0, dom("a", 1, 10, 1), dom("b", 2, 10, 1)),
			match: sample(time.Second, dom("b", 2, 20, 1)),
			want:  []balancer.VCPU{{Domain: "b", Index: 0, PCPU: 0, RunNs: 10, WaitNs: 1, Pin: cpuset.New(0, 1, 2, 3)}},
		},
		{
			name: "Empty_NoVCPUs",
			s:    sample(0),
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := snapshot(tc.s, tc.doms, tc.match)
			if diff := cmp.Diff(tc.want, got.VCPUs, cpusetEqual); diff != "" {
				t.Errorf("snapshot VCPUs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVCPURates(t *testing.T) {
	sec := uint64(time.Second)
	tests := []struct {
		name      string
		prev, cur *cgroupstats.Sample
		want      map[vcpuKey]vcpuRate
	}{
		{
			name: "HalfRunQuarterWait_OverOneSecond",
			prev: sample(0, dom("a", 1, sec, sec)),
			cur:  sample(time.Second, dom("a", 1, sec+sec/2, sec+sec/4)),
			want: map[vcpuKey]vcpuRate{{"a", 0}: {tid: 100, pcpu: 0, usage: 50, wait: 25}},
		},
		{
			name: "HalfSecondInterval_ScalesUp",
			prev: sample(0, dom("a", 1, 0, 0)),
			cur:  sample(500*time.Millisecond, dom("a", 1, sec/4, 0)),
			want: map[vcpuKey]vcpuRate{{"a", 0}: {tid: 100, pcpu: 0, usage: 50}},
		},
		{
			name: "RestartedDomain_SameNameNewID_NotDiffed",
			prev: sample(0, dom("a", 1, 5*sec, 0)),
			cur:  sample(time.Second, dom("a", 2, sec/2, 0)),
			want: map[vcpuKey]vcpuRate{},
		},
		{
			name: "VanishedDomain_Skipped_OthersKept",
			prev: sample(0, dom("a", 1, 0, 0), dom("b", 2, 0, 0)),
			cur:  sample(time.Second, vanished("a", 1), dom("b", 2, sec, 0)),
			want: map[vcpuKey]vcpuRate{{"b", 0}: {tid: 200, pcpu: 0, usage: 100}},
		},
		{
			name: "FailedInPrev_Skipped",
			prev: sample(0, vanished("a", 1)),
			cur:  sample(time.Second, dom("a", 1, sec, 0)),
			want: map[vcpuKey]vcpuRate{},
		},
		{
			name: "NewDomain_Skipped",
			prev: sample(0),
			cur:  sample(time.Second, dom("a", 1, sec, 0)),
			want: map[vcpuKey]vcpuRate{},
		},
		{
			name: "RunGoesBackwards_Skipped",
			prev: sample(0, dom("a", 1, 2*sec, 0, 0, 0)),
			cur:  sample(time.Second, dom("a", 1, sec, 0, sec, 0)),
			want: map[vcpuKey]vcpuRate{{"a", 1}: {tid: 101, pcpu: 1, usage: 100}},
		},
		{
			name: "WaitGoesBackwards_Skipped",
			prev: sample(0, dom("a", 1, 0, sec)),
			cur:  sample(time.Second, dom("a", 1, sec, 0)),
			want: map[vcpuKey]vcpuRate{},
		},
		{
			name: "NewThread_Skipped",
			prev: sample(0, dom("a", 1, 0, 0)),
			cur: func() *cgroupstats.Sample {
				s := sample(time.Second, dom("a", 1, sec, 0))
				s.Domains[0].VCPUs[0].TID = 999
				return s
			}(),
			want: map[vcpuKey]vcpuRate{},
		},
		{
			name: "NoTimePassed_Empty",
			prev: sample(time.Second, dom("a", 1, 0, 0)),
			cur:  sample(time.Second, dom("a", 1, sec, 0)),
			want: map[vcpuKey]vcpuRate{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := vcpuRates(tc.prev, tc.cur)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(vcpuKey{}, vcpuRate{})); diff != "" {
				t.Errorf("vcpuRates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPCPUUsage(t *testing.T) {
	stat := func(cpuBusyTotal ...uint64) *cgroupstats.Sample {
		s := &cgroupstats.Sample{}
		for i := 0; i+2 < len(cpuBusyTotal); i += 3 {
			s.CPUs = append(s.CPUs, cgroupstats.CPUStat{CPU: int(cpuBusyTotal[i]), BusyNs: cpuBusyTotal[i+1], TotalNs: cpuBusyTotal[i+2]})
		}
		return s
	}
	tests := []struct {
		name      string
		prev, cur *cgroupstats.Sample
		want      []cpuUsage
	}{
		{"BusyShareOfTotal", stat(0, 100, 1000, 1, 0, 1000), stat(0, 600, 2000, 1, 250, 2000), []cpuUsage{{0, 50}, {1, 25}}},
		{"CPUComesOnline_Skipped", stat(0, 0, 1000), stat(0, 1000, 2000, 3, 10, 20), []cpuUsage{{0, 100}}},
		{"NoTicks_Skipped", stat(0, 100, 1000), stat(0, 100, 1000), []cpuUsage{}},
		{"BusyGoesBackwards_Skipped", stat(0, 500, 1000), stat(0, 400, 2000), []cpuUsage{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pcpuUsage(tc.prev, tc.cur)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(cpuUsage{})); diff != "" {
				t.Errorf("pcpuUsage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatPCPU(t *testing.T) {
	if got, want := formatPCPU([]cpuUsage{{0, 99.6}, {3, 0}}), "0:100% 3:0%"; got != want {
		t.Errorf("formatPCPU = %q, want %q", got, want)
	}
}
