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

// dsample is a DomainSample of domain uuid/name/id whose vCPU n has thread
// 100*id+n, last ran on pCPU n, has affinity 0-3 and the given cumulative
// run and wait ns.
func dsample(uuid, name string, id int, runWait ...uint64) cgroupstats.DomainSample {
	ds := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: id, Name: name, UUID: uuid}}
	for n := 0; 2*n+1 < len(runWait); n++ {
		ds.Domain.VCPUs = append(ds.Domain.VCPUs, n)
		ds.VCPUs = append(ds.VCPUs, cgroupstats.VCPUStat{VCPU: n, TID: 100*id + n,
			RunNs: runWait[2*n], WaitNs: runWait[2*n+1], LastCPU: n, Affinity: cpuset.New(0, 1, 2, 3)})
	}
	return ds
}

// cpuTicks is /proc/stat of 4 pCPUs with the given busy ns each, at time at.
func sampleAt(at time.Duration, busy []uint64, doms ...cgroupstats.DomainSample) *cgroupstats.Sample {
	s := &cgroupstats.Sample{Time: t0.Add(at), Domains: doms}
	for c, b := range busy {
		s.CPUs = append(s.CPUs, cgroupstats.CPUStat{CPU: c, BusyNs: b, TotalNs: uint64(at.Nanoseconds()) + 1e12})
	}
	return s
}

// listed indexes doms as a listing with no operator pins.
func listed(doms ...pinning.Domain) *listing {
	return newListing(doms, func(balancer.VCPUID) bool { return false })
}

func inputs(ls *listing) snapshotInputs {
	return snapshotInputs{listing: ls, cpus: cpuset.New(0, 1, 2, 3), excluded: func(n string) bool { return n == "excluded" }, started: t0}
}

const sec = uint64(time.Second)

func TestBuildWindow_RatesPinsAndPCPU(t *testing.T) {
	base := sampleAt(0, []uint64{0, 0, 0, 0}, dsample("ua", "a", 1, 0, 0, 0, 0))
	cur := sampleAt(time.Second, []uint64{sec, sec / 2, 0, 0}, dsample("ua", "a", 1, sec/2, sec/2, sec/4, 0))
	ls := listed(dom("ua", "a", 1, cpuset.New(0), cpuset.New(0, 1, 2, 3)))
	w := buildWindow(base, cur, inputs(ls))
	want := []balancer.VCPU{
		{ID: balancer.VCPUID{Domain: "ua", VCPU: 0}, Name: "a/0", PCPU: 0, Pin: cpuset.New(0), Allowed: cpuset.New(0, 1, 2, 3), Usage: 50, Wait: 50},
		{ID: balancer.VCPUID{Domain: "ua", VCPU: 1}, Name: "a/1", PCPU: 1, Pin: cpuset.New(0, 1, 2, 3), Allowed: cpuset.New(0, 1, 2, 3), Usage: 25},
	}
	if diff := cmp.Diff(want, w.snap.VCPUs, cpusetEqual); diff != "" {
		t.Errorf("vCPUs (-want +got):\n%s", diff)
	}
	if w.snap.At != time.Second || w.snap.Window != time.Second {
		t.Errorf("At %s Window %s, want 1s and 1s", w.snap.At, w.snap.Window)
	}
	// pCPU0 was busy 100%: 50 of it is a/0, the rest background. pCPU1 was
	// busy 50%: 25 of it is a/1.
	wantBG := map[int]float64{0: 50, 1: 25, 2: 0, 3: 0}
	if diff := cmp.Diff(wantBG, w.snap.Background); diff != "" {
		t.Errorf("background (-want +got):\n%s", diff)
	}
	if w.pcpu[0].Demand != 150 || w.pcpu[1].Demand != 50 {
		t.Errorf("demand pCPU0 %v pCPU1 %v, want 150 (run+wait 100, background 50) and 50", w.pcpu[0].Demand, w.pcpu[1].Demand)
	}
}

func TestBuildWindow_NewLifeOrNewThread_LeftOut(t *testing.T) {
	base := sampleAt(0, nil, dsample("ua", "a", 1, 0, 0), dsample("ub", "b", 2, 0, 0))
	restarted := dsample("ua", "a", 7, sec/2, 0) // same UUID, new domain ID
	replaced := dsample("ub", "b", 2, sec/2, 0)
	replaced.VCPUs[0].TID = 999
	cur := sampleAt(time.Second, nil, restarted, replaced)
	w := buildWindow(base, cur, inputs(listed()))
	if len(w.snap.VCPUs) != 0 {
		t.Fatalf("vCPUs %+v: want none (a restarted, b's thread replaced)", w.snap.VCPUs)
	}
}

func TestBuildWindow_FailedDomainLeftOut_ItsLoadIsBackground(t *testing.T) {
	gone := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 2, Name: "b", UUID: "ub"},
		Err: fmt.Errorf("%w: /proc/1/task/2/schedstat", cgroupstats.ErrVanished)}
	base := sampleAt(0, []uint64{0, 0, 0, 0}, dsample("ub", "b", 2, 0, 0))
	cur := sampleAt(time.Second, []uint64{0, sec, 0, 0}, gone)
	w := buildWindow(base, cur, inputs(listed()))
	if len(w.snap.VCPUs) != 0 || w.snap.Background[1] != 100 {
		t.Fatalf("vCPUs %d background %v: want none and pCPU1 100%% background", len(w.snap.VCPUs), w.snap.Background)
	}
}

func TestBuildWindow_AllowedAndFixed(t *testing.T) {
	c := cpuset.New
	withCPUSet := dom("u1", "ranged", 1, c(0))
	withCPUSet.CPUSet = c(1, 2, 7) // 7 is not balanced
	onNode1 := dom("u2", "numa", 2, c(0))
	onNode1.NodeSet = c(1)
	optedOut := dom("u3", "optout", 3, c(0))
	optedOut.Unmanaged = true
	nowhere := dom("u4", "nowhere", 4, c(0))
	nowhere.CPUSet = c(9)
	ls := listed(withCPUSet, onNode1, optedOut, nowhere, dom("u5", "excluded", 5, c(0)), dom("u6", "repinned", 6, c(0)))
	ls.operator[balancer.VCPUID{Domain: "u6", VCPU: 0}] = true
	var base, cur []cgroupstats.DomainSample
	for i, d := range ls.doms {
		base = append(base, dsample(d.UUID, d.Name, i+1, 0, 0))
		cur = append(cur, dsample(d.UUID, d.Name, i+1, sec/10, 0))
	}
	in := inputs(ls)
	in.nodes = []cpuset.CPUSet{c(0, 1), c(2, 3)}
	w := buildWindow(sampleAt(0, nil, base...), sampleAt(time.Second, nil, cur...), in)
	type row struct {
		Name    string
		Allowed string
		Fixed   bool
	}
	var got []row
	for _, v := range w.snap.VCPUs {
		got = append(got, row{v.Name, v.Allowed.String(), v.Fixed})
	}
	want := []row{
		{"ranged/0", "1-2", false},
		{"numa/0", "2-3", false},
		{"optout/0", "0-3", true},
		{"nowhere/0", "", true},
		{"excluded/0", "0-3", true},
		{"repinned/0", "0-3", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allowed and fixed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"ranged": "7", "nowhere": "9"}, offlineNames(w)); diff != "" {
		t.Errorf("cpusets naming unbalanced CPUs (-want +got):\n%s", diff)
	}
}

func offlineNames(w window) map[string]string {
	out := map[string]string{}
	for n, c := range w.offline {
		out[n] = c.String()
	}
	return out
}
