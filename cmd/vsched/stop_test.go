package main

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cgroupstats"
)

// testBound is how long a test waits for something that must not hang: the
// test deadline when there is one, else a minute. It bounds a broken test;
// it is no timing assertion.
func testBound(t *testing.T) time.Duration {
	if d, ok := t.Deadline(); ok {
		return time.Until(d) * 9 / 10
	}
	return time.Minute
}

func TestLoop_OnceSIGINTBeforeThePlanIsTaken_ReturnsNotHangs(t *testing.T) {
	idle := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 2, Name: "b", UUID: "uuid-b", VCPUs: []int{0}},
		VCPUs: []cgroupstats.VCPUStat{{VCPU: 0, TID: 21, LastCPU: 1, Affinity: cpuset.New(1)}}}
	s := &fakeSampler{script: []cgroupstats.Sample{crowdedSample(1, idle), crowdedSample(2, idle)}}
	p := &fakePinner{doms: fakeDomains()}
	var log bytes.Buffer
	o := testOptions()
	o.once = true
	l := fakeLoop(t, o, s, p, &log)
	// The libvirt side lists once, then SIGINT ends it before the plan.
	ctx, cancel := context.WithCancel(context.Background())
	lvDone := make(chan struct{})
	go func() { defer close(lvDone); l.lv.run(ctx) }()
	for l.lv.current() == nil {
		runtime.Gosched()
	}
	cancel()
	<-lvDone
	l.lvDone = lvDone

	returned := make(chan struct{})
	go func() {
		defer close(returned)
		l.run(context.Background()) // one cycle with --once: plans, hands over, waits
	}()
	select {
	case <-returned:
	case <-time.After(testBound(t)):
		t.Fatalf("--once loop still waiting for the libvirt side's results after it stopped (%d samples, plan in flight %v)", s.calls, l.inflight)
	}
	if len(p.applied) != 0 || l.inflight {
		t.Errorf("applied %v, in flight %v: want nothing applied and nothing left in flight", p.applied, l.inflight)
	}
	if got := logEntries(t, &log, "stopping: the plan in flight was not applied"); len(got) != 1 {
		t.Errorf("\"plan in flight was not applied\" entries %v, want one", got)
	}
}
