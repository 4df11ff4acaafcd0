package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/pinning"
	"github.com/vsched/vsched/pinning/checkpoint"
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

// heldPinner is the test driver behind a libvirt call that overran its
// deadline and is still pending: until release is closed every call fails
// at once with ErrTimeout, as pinning's Conn refuses calls while one is
// outstanding (pinning/deadline_test.go holds the call itself). tried gets
// a token per refused listing.
type heldPinner struct {
	*pinning.Conn // its URI and Known name the checkpoint's connection, as in production
	release       chan struct{}
	tried         chan struct{}
	pinsOnly      bool // only pins are held (the listing answered before the call overran)
}

func (p *heldPinner) held() bool {
	select {
	case <-p.release:
		return false
	default:
		return true
	}
}

func (p *heldPinner) Domains() ([]pinning.Domain, error) {
	if p.held() && !p.pinsOnly {
		select {
		case p.tried <- struct{}{}:
		default:
		}
		return nil, fmt.Errorf("list domains: %w: an earlier call is still waiting for libvirt", pinning.ErrTimeout)
	}
	return p.Conn.Domains()
}

func (p *heldPinner) Apply(pins []pinning.Pin) []pinning.Result {
	if p.held() {
		if p.pinsOnly {
			select {
			case p.tried <- struct{}{}:
			default:
			}
		}
		return failAll(pins, pinning.ErrTimeout)
	}
	return p.Conn.Apply(pins)
}

// heldRestore pins two vCPUs as vsched would, records them, and returns the
// store and the test driver behind a held call.
func heldRestore(t *testing.T) (*checkpoint.Store, *pinning.Conn, *heldPinner, string) {
	t.Helper()
	conn := openHost(t)
	mustApply(t, conn, pin(uuid000, "guest-000", 0, 1), pin(uuid000, "guest-000", 1, 2))
	dir := t.TempDir()
	writeCheckpoint(t, dir, ckEntry(t, uuid000, "guest-000", 0, "0", "1"), ckEntry(t, uuid000, "guest-000", 1, "0", "2"))
	store, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store, conn, &heldPinner{Conn: conn, release: make(chan struct{}), tried: make(chan struct{}, 1)}, dir
}

func TestRestoreOnExit_CallPendingThenAnswers_WaitsAndRestores(t *testing.T) {
	store, conn, held, _ := heldRestore(t)
	go func() {
		<-held.tried // refused once at least while the call is pending
		<-held.tried
		close(held.release)
	}()
	var log bytes.Buffer
	err := restoreOnExit(store, held, newLogger("json", "debug", &log), testBound(t))
	if err != nil {
		t.Fatalf("restoreOnExit = %v, want nil once libvirt answers", err)
	}
	if diff := cmp.Diff(map[string]string{"guest-000/0": "0", "guest-000/1": "0"}, onlyDomain(pinsOf(t, conn), "guest-000")); diff != "" {
		t.Errorf("pins after restore mismatch (-want +got):\n%s", diff)
	}
	if got := store.Entries(); len(got) != 0 {
		t.Errorf("checkpoint after restore = %v, want empty", got)
	}
	if got := logEntries(t, &log, "pin restored"); len(got) != 2 {
		t.Errorf("\"pin restored\" entries %v, want two", got)
	}
}

func TestRestoreOnExit_CallNeverReturns_GivesUpAtDeadlineErrRuntimePinsKept(t *testing.T) {
	store, conn, held, _ := heldRestore(t)
	var log bytes.Buffer
	err := restoreOnExit(store, held, newLogger("json", "debug", &log), 3*restoreRetry)
	if !errors.Is(err, errRuntime) || !strings.Contains(err.Error(), "2 pins not restored") {
		t.Errorf("restoreOnExit on a libvirt that never answers = %v, want errRuntime naming 2 pins", err)
	}
	if got := len(held.tried); got == 0 {
		t.Error("restoreOnExit never tried the listing")
	}
	if got := store.Entries(); len(got) != 2 {
		t.Errorf("checkpoint after giving up = %v, want both entries kept", got)
	}
	if diff := cmp.Diff(map[string]string{"guest-000/0": "1", "guest-000/1": "2"}, onlyDomain(pinsOf(t, conn), "guest-000")); diff != "" {
		t.Errorf("pins after giving up mismatch (-want +got):\n%s", diff)
	}
	if got := logEntries(t, &log, "restore on exit incomplete"); len(got) != 1 || got[0]["left"] != 2.0 {
		t.Errorf("\"restore on exit incomplete\" entries %v, want one with left 2", got)
	}
}

func TestRestoreOnExit_PinRefused_NotRetriedErrRuntime(t *testing.T) {
	conn := openHost(t)
	mustApply(t, conn, pin(uuid002, "guest-002", 0, 1))
	dir := t.TempDir()
	writeCheckpoint(t, dir, ckEntry(t, uuid002, "guest-002", 0, "6", "1")) // CPU 6 is gone: libvirt refuses
	store, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var log bytes.Buffer
	err = restoreOnExit(store, conn, newLogger("json", "debug", &log), time.Hour) // must not wait for it
	if !errors.Is(err, errRuntime) {
		t.Errorf("restoreOnExit with a refused pin = %v, want errRuntime", err)
	}
	if got := logEntries(t, &log, "restore pin failed; kept in the checkpoint"); len(got) != 1 {
		t.Errorf("\"restore pin failed\" entries %v, want one", got)
	}
}

// onlyDomain keeps the "name/vcpu" keys of one domain.
func onlyDomain(pins map[string]string, name string) map[string]string {
	out := map[string]string{}
	for k, v := range pins {
		if strings.HasPrefix(k, name+"/") {
			out[k] = v
		}
	}
	return out
}

func TestRestoreOnExit_PinTimesOutThenAnswers_RetriedEachOutcomeLoggedOnce(t *testing.T) {
	store, conn, held, _ := heldRestore(t)
	if err := store.Record([]checkpoint.Entry{ckEntry(t, uuid000, "guest-000", 7, "0", "1")}); err != nil { // vCPU 7 is not online
		t.Fatal(err)
	}
	held.pinsOnly = true
	go func() {
		<-held.tried
		<-held.tried // two tries timed out
		close(held.release)
	}()
	var log bytes.Buffer
	if err := restoreOnExit(store, held, newLogger("json", "debug", &log), testBound(t)); err != nil {
		t.Fatalf("restoreOnExit = %v, want nil once the pins answer", err)
	}
	if diff := cmp.Diff(map[string]string{"guest-000/0": "0", "guest-000/1": "0"}, onlyDomain(pinsOf(t, conn), "guest-000")); diff != "" {
		t.Errorf("pins after restore mismatch (-want +got):\n%s", diff)
	}
	if got := logEntries(t, &log, "pin restored"); len(got) != 2 {
		t.Errorf("\"pin restored\" entries %v, want two", got)
	}
	if got := logEntries(t, &log, "pin left alone: vCPU not online; kept in the checkpoint"); len(got) != 1 {
		t.Errorf("offline entries %v, want one over every try", got)
	}
	if got := logEntries(t, &log, "restore pin failed; kept in the checkpoint"); len(got) != 0 {
		t.Errorf("failures logged for pins that were only waiting: %v", got)
	}
}
