package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/pinning"
	"github.com/vsched/vsched/pinning/checkpoint"
)

// busyPerCPU counts, per pCPU, the vCPUs of pins that demand holds busy.
func busyPerCPU(pins map[string]string, demand map[string]float64) map[string]int {
	out := map[string]int{}
	for k, p := range pins {
		if demand[k] > 0 {
			out[p]++
		}
	}
	return out
}

func TestLoop_CrowdedPCPU0_SpreadsInOneCycleThenStaysStill(t *testing.T) {
	h := newSynthHost(t)
	l := h.newLoop(testOptions(), nil)
	load := busyOnCPU0()

	h.step(load)
	cycle(l) // first sample: nothing to compare with
	if n := len(loggedMoves(t, &h.log)); n != 0 {
		t.Fatalf("first cycle logged %d moves, want none before a second sample", n)
	}
	h.step(load)
	cycle(l)
	moves := loggedMoves(t, &h.log)
	if len(moves) == 0 {
		t.Fatal("four busy vCPUs on pCPU0: no move planned")
	}
	for _, m := range moves {
		if m.From != 0 || m.To == 0 {
			t.Errorf("move %+v: want a busy vCPU moved off pCPU0", m)
		}
	}
	got := h.pins()
	if diff := cmp.Diff(applied(initialPins(), moves), got); diff != "" {
		t.Errorf("live pins after the cycle are not the logged moves applied (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"0": 1, "1": 1, "2": 1, "3": 1}, busyPerCPU(got, load)); diff != "" {
		t.Errorf("busy vCPUs per pCPU after one planning cycle (-want +got):\n%s", diff)
	}
	if got, want := mustMetric(t, l.metrics, "vsched_moves_total"), float64(len(moves)); got != want {
		t.Errorf("vsched_moves_total = %v, want %v", got, want)
	}

	// Balanced now: the next cycles must leave every pin alone.
	for range 2 {
		h.step(load)
		cycle(l)
	}
	if n := len(loggedMoves(t, &h.log)); n != len(moves) {
		t.Errorf("balanced host: %d more moves logged, want none", n-len(moves))
	}
	if diff := cmp.Diff(got, h.pins()); diff != "" {
		t.Errorf("pins changed on a balanced host (-before +after):\n%s", diff)
	}
	if n := len(logEntries(t, &h.log, "rebalanced")); n != 1 {
		t.Errorf("%d \"rebalanced\" info lines, want exactly one (for the one cycle that moved)", n)
	}
}

// TestLoop_CPUsToBalanceGoOffline_NothingMovesOneWarning: with --cpus 1-2
// and both taken offline while vsched runs, it balances over no CPU: one
// warning, no pin, no crash; back online, it balances again.
func TestLoop_CPUsToBalanceGoOffline_NothingMovesOneWarning(t *testing.T) {
	h := newSynthHost(t)
	l := h.newLoop(testOptions(), nil)
	dir := sysRoot(t, 4)
	hv, err := newHostView(dir, cpuset.New(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hv.close)
	l.host = hv
	load := busyOnCPU0()
	online := func(list string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "devices/system/cpu/online"), []byte(list+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 { // plans over 1-2: the busy vCPUs pinned to 0 are not its to move
		h.step(load)
		cycle(l)
	}
	before := h.pins()
	online("0,3")
	for range 3 {
		h.step(load)
		cycle(l)
	}
	if warns := logEntries(t, &h.log, "CPUs changed: none to balance over is online; nothing moves until one is"); len(warns) != 1 {
		t.Errorf("%d warnings that no CPU to balance over is online, want 1", len(warns))
	}
	if diff := cmp.Diff(before, h.pins()); diff != "" {
		t.Errorf("pins changed with no CPU to balance over (-before +after):\n%s", diff)
	}
	online("0-3")
	h.step(load)
	cycle(l)
	if l.host.cpus.String() != "1-2" {
		t.Errorf("CPUs to balance over after 1-2 came back: %q, want 1-2", l.host.cpus)
	}
}

func TestLoop_SubSecondInterval_PlansOnlyOnceTheWindowIsFull(t *testing.T) {
	h := newSynthHost(t)
	h.dt = 250 * time.Millisecond
	o := testOptions()
	o.interval, o.window = 250*time.Millisecond, time.Second
	l := h.newLoop(o, nil)
	for i := 1; i <= 4; i++ {
		h.step(busyOnCPU0())
		cycle(l)
		if n := len(loggedMoves(t, &h.log)); n != 0 {
			t.Fatalf("cycle %d, %v into a 1s window: %d moves, want none yet", i, time.Duration(i-1)*o.interval, n)
		}
	}
	h.step(busyOnCPU0())
	cycle(l)
	if diff := cmp.Diff(map[string]int{"0": 1, "1": 1, "2": 1, "3": 1}, busyPerCPU(h.pins(), busyOnCPU0())); diff != "" {
		t.Errorf("busy vCPUs per pCPU once the window is full (-want +got):\n%s", diff)
	}
}

func TestLoop_RestoreFromCheckpoint_PutsOriginalPinsBack(t *testing.T) {
	h := newSynthHost(t)
	l := h.newLoop(testOptions(), nil)
	for range 2 {
		h.step(busyOnCPU0())
		cycle(l)
	}
	if diff := cmp.Diff(initialPins(), h.pins()); diff == "" {
		t.Fatal("setup: the loop moved nothing, so there is nothing to restore")
	}
	if n, moved := len(h.store.Entries()), len(loggedMoves(t, &h.log)); n != moved {
		t.Fatalf("checkpoint holds %d entries after %d moves, want one per moved vCPU", n, moved)
	}
	outcomes, err := restoreFromCheckpoint(h.store, h.conn)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(initialPins(), h.pins()); diff != "" {
		t.Errorf("pins after restore (-want +got):\n%s", diff)
	}
	for _, o := range outcomes {
		if !o.Restored {
			t.Errorf("outcome %s: want restored", o.line())
		}
	}
	if n := len(h.store.Entries()); n != 0 {
		t.Errorf("%d entries left in the checkpoint after a full restore, want 0", n)
	}
}

func TestLoop_DryRun_LogsMovesPinsNothing(t *testing.T) {
	h := newSynthHost(t)
	o := testOptions()
	o.dryRun = true
	l := h.newLoop(o, nil)
	for range 2 {
		h.step(busyOnCPU0())
		cycle(l)
	}
	if diff := cmp.Diff(initialPins(), h.pins()); diff != "" {
		t.Errorf("--dry-run changed pins (-want +got):\n%s", diff)
	}
	moves := loggedMoves(t, &h.log)
	if len(moves) != 3 {
		t.Fatalf("logged moves %+v, want 3 (one busy vCPU to each of pCPUs 1-3)", moves)
	}
	var to []int
	for _, m := range moves {
		if load := busyOnCPU0()[fmt.Sprintf("%s/%d", m.Domain, m.VCPU)]; load == 0 || m.From != 0 {
			t.Errorf("move %+v: want a busy vCPU of pCPU0", m)
		}
		to = append(to, m.To)
	}
	slices.Sort(to)
	if diff := cmp.Diff([]int{1, 2, 3}, to); diff != "" {
		t.Errorf("move targets (-want +got):\n%s", diff)
	}
	for _, e := range logEntries(t, &h.log, "move vCPU") {
		if e["dry_run"] != true || e["level"] != "info" {
			t.Errorf("move entry %v: want level info and dry_run true", e)
		}
	}
	if got := mustMetric(t, l.metrics, "vsched_moves_total"); got != 0 {
		t.Errorf("vsched_moves_total = %v under --dry-run, want 0", got)
	}
}

func TestLoop_ExcludedDomain_NeverPinned(t *testing.T) {
	h := newSynthHost(t)
	o := testOptions()
	o.exclude = []string{"guest-001"}
	l := h.newLoop(o, nil)
	for range 3 {
		h.step(busyOnCPU0())
		cycle(l)
	}
	got := h.pins()
	for _, k := range []string{"guest-001/0", "guest-001/1"} {
		if got[k] != "0" {
			t.Errorf("excluded %s pinned to %s, want it left on 0", k, got[k])
		}
	}
	for _, m := range loggedMoves(t, &h.log) {
		if m.Domain == "guest-001" {
			t.Errorf("move of an excluded domain: %+v", m)
		}
	}
	if got["guest-000/0"] == got["guest-000/1"] {
		t.Errorf("guest-000's busy vCPUs share pCPU %s, want them spread", got["guest-000/0"])
	}
}

// hidingPinner is the real connection with some domains left out of the
// listing, as libvirt lists them once they are destroyed (the test driver's
// state lives inside pinning.Conn, out of the test's reach).
type hidingPinner struct {
	*pinning.Conn
	hidden map[string]bool
}

func (p *hidingPinner) Domains() ([]pinning.Domain, error) {
	doms, err := p.Conn.Domains()
	return slices.DeleteFunc(doms, func(d pinning.Domain) bool { return p.hidden[d.Name] }), err
}

func TestLoop_DomainVanishesMidRun_SkippedOthersBalanced(t *testing.T) {
	h := newSynthHost(t)
	p := &hidingPinner{Conn: h.conn, hidden: map[string]bool{}}
	l := h.newLoop(testOptions(), p)
	load := busyOnCPU0()

	h.step(load)
	cycle(l)
	// guest-001 is destroyed between two cycles: its QEMU and cgroup go,
	// and libvirt stops listing it.
	h.vanish("guest-001")
	p.hidden["guest-001"] = true
	h.step(load)
	cycle(l)
	h.step(load)
	cycle(l)

	for _, m := range loggedMoves(t, &h.log) {
		if m.Domain == "guest-001" {
			t.Errorf("planned a move of the vanished domain: %+v", m)
		}
	}
	got := h.pins()
	if got["guest-000/0"] == got["guest-000/1"] {
		t.Errorf("guest-000's busy vCPUs still share pCPU %s, want them spread", got["guest-000/0"])
	}
	if n := mustMetric(t, l.metrics, "vsched_pin_errors_total"); n != 0 {
		t.Errorf("vsched_pin_errors_total = %v, want 0", n)
	}
}

// fakePinner is an in-memory libvirt: a fixed listing, an optional listing
// error and scripted Apply results.
type fakePinner struct {
	events  chan struct{}
	doms    []pinning.Domain
	listErr error
	applyFn func(pinning.Pin) pinning.Result
	applied [][]pinning.Pin
}

func (p *fakePinner) Domains() ([]pinning.Domain, error) {
	if p.listErr != nil {
		return nil, p.listErr
	}
	return p.doms, nil
}

func (p *fakePinner) Apply(pins []pinning.Pin) []pinning.Result {
	p.applied = append(p.applied, pins)
	out := make([]pinning.Result, len(pins))
	for i, pin := range pins {
		out[i] = pinning.Result{Pin: pin, Changed: true}
		if p.applyFn != nil {
			out[i] = p.applyFn(pin)
		}
	}
	return out
}

func (p *fakePinner) Events() <-chan struct{} { return p.events }

// fakeSampler replays a script of samples, one per call; a sample whose
// Time is zero is returned as the whole sample failing.
type fakeSampler struct {
	script []cgroupstats.Sample
	calls  int
	asked  [][]cgroupstats.Domain // the domains of each call
}

var errProcStat = errors.New("proc stat unreadable")

func (s *fakeSampler) Transient() int { return 0 }

func (s *fakeSampler) Sample(doms []cgroupstats.Domain, into *cgroupstats.Sample) error {
	cur := s.script[min(s.calls, len(s.script)-1)]
	s.calls++
	s.asked = append(s.asked, slices.Clone(doms))
	if cur.Time.IsZero() {
		return errProcStat
	}
	*into = cur
	into.Domains = nil
	for _, ds := range cur.Domains { // only the domains asked for, as the real sampler
		if slices.ContainsFunc(doms, func(d cgroupstats.Domain) bool { return d.UUID == ds.Domain.UUID }) {
			into.Domains = append(into.Domains, ds)
		}
	}
	return nil
}

// crowdedSample is reading n (n seconds in) of two domains: "a" whose two
// vCPUs each want a whole pCPU but share pCPU0, and "b" as given.
func crowdedSample(n int, b cgroupstats.DomainSample) cgroupstats.Sample {
	sec := uint64(1e9)
	u := uint64(n)
	return cgroupstats.Sample{
		Time: time.Unix(1_800_000_000+int64(n), 0),
		CPUs: []cgroupstats.CPUStat{{CPU: 0, BusyNs: u * sec, TotalNs: u * sec}, {CPU: 1, TotalNs: u * sec}},
		Domains: []cgroupstats.DomainSample{
			{Domain: cgroupstats.Domain{ID: 1, Name: "a", UUID: "uuid-a", VCPUs: []int{0, 1}}, VCPUs: []cgroupstats.VCPUStat{
				{VCPU: 0, TID: 11, RunNs: u * sec / 2, WaitNs: u * sec / 2, LastCPU: 0, Affinity: cpuset.New(0)},
				{VCPU: 1, TID: 12, RunNs: u * sec / 2, WaitNs: u * sec / 2, LastCPU: 0, Affinity: cpuset.New(0)},
			}},
			b,
		},
	}
}

func fakeDomains() []pinning.Domain {
	return []pinning.Domain{
		dom("uuid-a", "a", 1, cpuset.New(0), cpuset.New(0)),
		dom("uuid-b", "b", 2, cpuset.New(1)),
	}
}

func fakeLoop(t *testing.T, o *daemonOptions, s sampler, p pinner, log *bytes.Buffer) *loop {
	t.Helper()
	pol, _ := balancer.PolicyByName("adaptive")
	store, err := checkpoint.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	lg := newLogger("json", "debug", log)
	return newLoop(o, lg, s, newLibvirtSide(p, store, lg, time.Second), pol, fixedHost(2), newMetrics())
}

func TestLoop_VanishedDomainInSample_SkippedAtDebugOthersBalanced(t *testing.T) {
	vanished := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 2, Name: "b", UUID: "uuid-b", VCPUs: []int{0}},
		Err: fmt.Errorf("%w: /proc/42/task/43/schedstat: no such process", cgroupstats.ErrVanished)}
	s := &fakeSampler{script: []cgroupstats.Sample{crowdedSample(1, vanished), crowdedSample(2, vanished)}}
	p := &fakePinner{doms: fakeDomains()}
	var log bytes.Buffer
	l := fakeLoop(t, testOptions(), s, p, &log)
	cycle(l)
	cycle(l)

	if len(p.applied) != 1 {
		t.Fatalf("Apply called %d times, want once", len(p.applied))
	}
	for _, pin := range p.applied[0] {
		if pin.Name != "a" || !pin.CPUs.Equals(cpuset.New(1)) || pin.UUID != "uuid-a" {
			t.Errorf("pin %+v: want a vCPU of a moved to pCPU1, by UUID", pin)
		}
	}
	skipped := logEntries(t, &log, "domain vanished mid-sample")
	if len(skipped) != 2 || skipped[0]["level"] != "debug" || skipped[0]["domain"] != "b" {
		t.Errorf("\"domain vanished mid-sample\" entries %v, want two at debug for b", skipped)
	}
}

func TestLoop_PinFails_LoggedAndCountedNotMoved(t *testing.T) {
	idle := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 2, Name: "b", UUID: "uuid-b", VCPUs: []int{0}},
		VCPUs: []cgroupstats.VCPUStat{{VCPU: 0, TID: 21, LastCPU: 1, Affinity: cpuset.New(1)}}}
	s := &fakeSampler{script: []cgroupstats.Sample{crowdedSample(1, idle), crowdedSample(2, idle)}}
	p := &fakePinner{doms: fakeDomains(), applyFn: func(pin pinning.Pin) pinning.Result {
		return pinning.Result{Pin: pin, Err: fmt.Errorf("domain a: %w", pinning.ErrDomainGone)}
	}}
	var log bytes.Buffer
	l := fakeLoop(t, testOptions(), s, p, &log)
	cycle(l)
	cycle(l)

	failed := logEntries(t, &log, "pin failed")
	if len(failed) == 0 || failed[0]["domain"] != "a" || failed[0]["level"] != "warning" {
		t.Fatalf("\"pin failed\" entries %v, want a warning naming domain a", failed)
	}
	if got, want := mustMetric(t, l.metrics, "vsched_pin_errors_total"), float64(len(failed)); got != want {
		t.Errorf("vsched_pin_errors_total = %v, want %v", got, want)
	}
	if got := mustMetric(t, l.metrics, "vsched_moves_total"); got != 0 {
		t.Errorf("vsched_moves_total = %v, want 0 when every pin failed", got)
	}
}

func TestLoop_LibvirtDown_LogsOnceThenRecovers(t *testing.T) {
	idle := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 2, Name: "b", UUID: "uuid-b", VCPUs: []int{0}},
		VCPUs: []cgroupstats.VCPUStat{{VCPU: 0, TID: 21, LastCPU: 1, Affinity: cpuset.New(1)}}}
	var script []cgroupstats.Sample
	for n := 1; n <= 4; n++ {
		script = append(script, crowdedSample(n, idle))
	}
	s := &fakeSampler{script: script}
	p := &fakePinner{doms: fakeDomains()}
	var log bytes.Buffer
	l := fakeLoop(t, testOptions(), s, p, &log)

	p.listErr = fmt.Errorf("list domains: %w", pinning.ErrConnect)
	cycle(l)
	cycle(l)
	if n := len(logEntries(t, &log, "libvirt unreachable, will reconnect")); n != 1 {
		t.Errorf("%d \"libvirt unreachable\" lines over two failed cycles, want 1", n)
	}
	p.listErr = nil
	cycle(l)
	if n := len(logEntries(t, &log, "libvirt connection restored")); n != 1 {
		t.Errorf("%d \"connection restored\" lines, want 1", n)
	}
	if len(p.applied) != 0 {
		t.Fatalf("planned on the first sample after reconnecting: %v", p.applied)
	}
	cycle(l)
	if len(p.applied) != 1 {
		t.Errorf("Apply called %d times after two good samples, want once", len(p.applied))
	}
}

func TestLoop_SampleFails_NoPlanUntilTwoGoodSamples(t *testing.T) {
	idle := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 2, Name: "b", UUID: "uuid-b", VCPUs: []int{0}},
		VCPUs: []cgroupstats.VCPUStat{{VCPU: 0, TID: 21, LastCPU: 1, Affinity: cpuset.New(1)}}}
	s := &fakeSampler{script: []cgroupstats.Sample{crowdedSample(1, idle), {}, crowdedSample(3, idle), crowdedSample(4, idle)}}
	p := &fakePinner{doms: fakeDomains()}
	var log bytes.Buffer
	l := fakeLoop(t, testOptions(), s, p, &log)
	cycle(l)
	cycle(l) // the sample fails
	cycle(l)
	if len(p.applied) != 0 {
		t.Fatalf("planned across a failed sample: %v", p.applied)
	}
	if failed := logEntries(t, &log, "sample failed"); len(failed) != 1 || failed[0]["level"] != "error" {
		t.Errorf("\"sample failed\" entries %v, want one at error", failed)
	}
	cycle(l)
	if len(p.applied) != 1 {
		t.Errorf("Apply called %d times after two good samples, want once", len(p.applied))
	}
}

func TestLoop_Confirm_ActsOnlyAfterNConsecutiveImbalancedCycles(t *testing.T) {
	h := newSynthHost(t)
	o := testOptions()
	o.confirm = 3
	l := h.newLoop(o, nil)
	h.step(busyOnCPU0())
	cycle(l) // first sample
	// One noisy cycle calls for moves, then a balanced-looking one resets
	// the streak: nothing may move.
	h.step(busyOnCPU0())
	cycle(l)
	h.step(idleLoad())
	cycle(l)
	if n := len(loggedMoves(t, &h.log)); n != 0 {
		t.Fatalf("an imbalance seen once, then gone: %d moves, want none", n)
	}
	for i := 1; i <= 2; i++ {
		h.step(busyOnCPU0())
		cycle(l)
		if n := len(loggedMoves(t, &h.log)); n != 0 {
			t.Fatalf("imbalance seen %d cycles of 3: %d moves, want none yet", i, n)
		}
	}
	h.step(busyOnCPU0())
	cycle(l)
	if diff := cmp.Diff(map[string]int{"0": 1, "1": 1, "2": 1, "3": 1}, busyPerCPU(h.pins(), busyOnCPU0())); diff != "" {
		t.Errorf("busy vCPUs per pCPU after the third imbalanced cycle (-want +got):\n%s", diff)
	}
}

func TestLoop_UnreadableDomain_BacksOffWarnedOnceOthersBalanced(t *testing.T) {
	broken := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 2, Name: "b", UUID: "uuid-b", VCPUs: []int{0}},
		Err: fmt.Errorf("%w: machine/qemu-2-b.libvirt-qemu", cgroupstats.ErrNoCgroup)}
	var script []cgroupstats.Sample
	for n := 1; n <= 6; n++ {
		script = append(script, crowdedSample(n, broken))
	}
	s := &fakeSampler{script: script}
	p := &fakePinner{doms: fakeDomains()}
	var log bytes.Buffer
	l := fakeLoop(t, testOptions(), s, p, &log)
	for i := range 6 { // 0, 3, ..., 15 s: past the 10 s a starting guest gets
		cycleAt(l, t0.Add(time.Duration(i)*3*time.Second))
	}
	warned := logEntries(t, &log, "domain not sampled for a while; backing off")
	if len(warned) != 1 || warned[0]["domain"] != "b" || warned[0]["level"] != "warning" {
		t.Errorf("backoff warnings %v, want one for b", warned)
	}
	// Failures at 0, 3, 6 and 12 s back off 1, 2, 4 and 8 s: b is left out
	// of the samples at 9 and 15 s.
	var askedB []int
	for i, doms := range s.asked {
		for _, d := range doms {
			if d.Name == "b" {
				askedB = append(askedB, i+1)
			}
		}
	}
	if diff := cmp.Diff([]int{1, 2, 3, 5}, askedB); diff != "" {
		t.Errorf("samples that asked for b (-want +got):\n%s", diff)
	}
	if len(p.applied) == 0 {
		t.Error("a's crowded vCPUs were not balanced beside the broken domain")
	}
}

func TestLoop_VanishedDomain_AsksTheLibvirtSideForAListing(t *testing.T) {
	vanished := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 2, Name: "b", UUID: "uuid-b", VCPUs: []int{0}},
		Err: fmt.Errorf("%w: /proc/42/task/43/schedstat", cgroupstats.ErrVanished)}
	s := &fakeSampler{script: []cgroupstats.Sample{crowdedSample(1, vanished)}}
	var log bytes.Buffer
	l := fakeLoop(t, testOptions(), s, &fakePinner{doms: fakeDomains()}, &log)
	cycle(l)
	select {
	case <-l.lv.relist:
	default:
		t.Fatal("a vanished domain did not ask for a new listing")
	}
}

func TestLoop_VCPUIDsWithGaps_SampledByID(t *testing.T) {
	d := dom("uuid-g", "gappy", 1, cpuset.New(0), cpuset.New(1), cpuset.New(0))
	d.VCPUs[2].ID = 3 // vCPU 2 disabled
	s := &fakeSampler{script: []cgroupstats.Sample{crowdedSample(1, cgroupstats.DomainSample{})}}
	var log bytes.Buffer
	l := fakeLoop(t, testOptions(), s, &fakePinner{doms: []pinning.Domain{d}}, &log)
	cycle(l)
	if len(s.asked) != 1 || len(s.asked[0]) != 1 {
		t.Fatalf("sampler asked for %v, want the one domain", s.asked)
	}
	if diff := cmp.Diff([]int{0, 1, 3}, s.asked[0][0].VCPUs); diff != "" {
		t.Errorf("vCPU ids asked for (-want +got):\n%s", diff)
	}
}

// blockingPinner is a libvirt whose Apply hangs until released, as a
// domain busy in a migration holds its job lock.
type blockingPinner struct {
	fakePinner
	entered, release chan struct{}
}

func (p *blockingPinner) Apply(pins []pinning.Pin) []pinning.Result {
	p.entered <- struct{}{}
	<-p.release
	return p.fakePinner.Apply(pins)
}

func TestLoop_LibvirtHangsInAPin_SamplingGoesOn(t *testing.T) {
	idle := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 2, Name: "b", UUID: "uuid-b", VCPUs: []int{0}},
		VCPUs: []cgroupstats.VCPUStat{{VCPU: 0, TID: 21, LastCPU: 1, Affinity: cpuset.New(1)}}}
	var script []cgroupstats.Sample
	for n := 1; n <= 8; n++ {
		script = append(script, crowdedSample(n, idle))
	}
	s := &fakeSampler{script: script}
	p := &blockingPinner{fakePinner: fakePinner{doms: fakeDomains()}, entered: make(chan struct{}), release: make(chan struct{})}
	var log bytes.Buffer
	l := fakeLoop(t, testOptions(), s, p, &log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.lv.run(ctx) }()
	defer func() { cancel(); <-done }()
	for l.lv.current() == nil { // the first listing
		runtime.Gosched()
	}
	l.cycle(time.Now())
	l.cycle(time.Now()) // plans and hands the plan over
	<-p.entered         // libvirt is now stuck in Apply
	for range 4 {
		l.cycle(time.Now()) // must not block
	}
	if s.calls != 6 || !l.inflight {
		t.Fatalf("%d samples, plan in flight %v: want 6 samples taken while the pin hangs", s.calls, l.inflight)
	}
	close(p.release)
	l.wait()
	if l.inflight || mustMetric(t, l.metrics, "vsched_moves_total") == 0 {
		t.Fatal("the plan's results were not collected once libvirt answered")
	}
}

func TestLibvirtSide_EventListsAtOnce(t *testing.T) {
	p := &countingPinner{fakePinner: fakePinner{doms: fakeDomains(), events: make(chan struct{}, 1)}, listed: make(chan struct{}, 8)}
	var log bytes.Buffer
	lv := newLibvirtSide(p, nil, newLogger("json", "debug", &log), time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); lv.run(ctx) }()
	<-p.listed // the listing at start
	p.events <- struct{}{}
	<-p.listed // the listing the event asked for; the poll is an hour away
	cancel()
	<-done
	if lv.current() == nil || len(lv.current().doms) != 2 {
		t.Fatalf("listing %+v, want the two domains", lv.current())
	}
}

// TestLibvirtSide_CheckpointNotWritten_OperatorsPinStillReported: when the
// checkpoint cannot be written no pin is attempted, and a planned pin of a
// vCPU the operator re-pinned is still reported as left to the operator.
func TestLibvirtSide_CheckpointNotWritten_OperatorsPinStillReported(t *testing.T) {
	p := &fakePinner{doms: fakeDomains()}
	var log bytes.Buffer
	lv := newLibvirtSide(p, failingStore{}, newLogger("json", "debug", &log), time.Hour)
	lv.own.operator[balancer.VCPUID{Domain: "uuid-a", VCPU: 1}] = true
	res := lv.apply(handover{pins: []pinning.Pin{
		{UUID: "uuid-a", Name: "a", VCPU: 0, CPUs: cpuset.New(1)},
		{UUID: "uuid-a", Name: "a", VCPU: 1, CPUs: cpuset.New(1)},
	}})
	if len(p.applied) != 0 {
		t.Errorf("pins attempted without a checkpoint: %v", p.applied)
	}
	if len(res) != 2 || !errors.Is(res[0].Err, errNotCheckpointed) || res[0].Pin.VCPU != 0 ||
		!errors.Is(res[1].Err, errOperatorsPin) || res[1].Pin.VCPU != 1 {
		t.Errorf("results %+v, want vCPU 0 not checkpointed and vCPU 1 left to the operator", res)
	}
}

// failingStore is a checkpoint that cannot be written.
type failingStore struct{}

func (failingStore) Record([]checkpoint.Entry) error { return errors.New("disk full") }
func (failingStore) Entries() []checkpoint.Entry     { return nil }
func (failingStore) Forget(...checkpoint.ID) error   { return errors.New("disk full") }
func (failingStore) Claim(checkpoint.Connection, ...checkpoint.ID) error {
	return errors.New("disk full")
}
func (failingStore) Put([]checkpoint.Entry) error { return errors.New("disk full") }

// countingPinner signals each listing.
type countingPinner struct {
	fakePinner
	listed chan struct{}
}

func (p *countingPinner) Domains() ([]pinning.Domain, error) {
	p.listed <- struct{}{}
	return p.fakePinner.Domains()
}

func TestLoop_OperatorRepinsWhileRunning_NeverMovedNorRestored(t *testing.T) {
	h := newSynthHost(t)
	l := h.newLoop(testOptions(), nil)
	for range 2 {
		h.step(busyOnCPU0())
		cycle(l)
	}
	moves := loggedMoves(t, &h.log)
	if len(moves) == 0 {
		t.Fatal("setup: nothing moved")
	}
	// The operator pins a vCPU vsched moved, and one it never touched.
	moved := moves[0]
	uuid := map[string]string{}
	doms, _ := h.conn.Domains()
	for _, d := range doms {
		uuid[d.Name] = d.UUID
	}
	opPins := []pinning.Pin{
		{UUID: uuid[moved.Domain], Name: moved.Domain, VCPU: moved.VCPU, CPUs: cpuset.New(0)},
		{UUID: uuid["guest-002"], Name: "guest-002", VCPU: 0, CPUs: cpuset.New(0)},
	}
	for _, r := range h.conn.Apply(opPins) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	want := h.pins()
	for range 4 {
		h.step(busyOnCPU0())
		cycle(l)
	}
	got := h.pins()
	for _, k := range []string{fmt.Sprintf("%s/%d", moved.Domain, moved.VCPU), "guest-002/0"} {
		if got[k] != want[k] {
			t.Errorf("operator's pin of %s changed from %s to %s", k, want[k], got[k])
		}
	}
	if n := len(logEntries(t, &h.log, "vCPU re-pinned by someone else: it is the operator's now, never moved or restored by vsched")); n != 2 {
		t.Errorf("%d operator lines, want one per re-pinned vCPU (2)", n)
	}
	for _, e := range h.store.Entries() {
		if e.Name == moved.Domain && e.VCPU == moved.VCPU {
			t.Errorf("operator's vCPU still in the checkpoint: %+v", e)
		}
	}
	outcomes, err := restoreFromCheckpoint(h.store, h.conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes {
		if o.Entry.Name == moved.Domain && o.Entry.VCPU == moved.VCPU {
			t.Errorf("restore touched the operator's vCPU: %s", o.line())
		}
	}
	if got := h.pins()[fmt.Sprintf("%s/%d", moved.Domain, moved.VCPU)]; got != "0" {
		t.Errorf("operator's pin after restore: %s, want 0", got)
	}
}
