package main

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/pinning"
)

func TestHistory_BaseIsNewestSampleAWindowOld_RestartStartsAFreshWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	h := newHistory(time.Second, 250*time.Millisecond)
	add := func(at time.Duration) {
		h.next().Time = t0.Add(at)
	}
	add(0)
	if h.base() != nil || len(h.s) != 1 {
		t.Fatalf("one sample: want no base and one sample, have %d", len(h.s))
	}
	for _, at := range []time.Duration{250, 500, 750} {
		add(at * time.Millisecond)
		if b := h.base(); b != nil {
			t.Fatalf("at %dms: base %v before the window is full", at, b.Time.Sub(t0))
		}
	}
	add(1000 * time.Millisecond)
	if b := h.base(); b == nil || !b.Time.Equal(t0) {
		t.Fatalf("at 1000ms: want the sample at 0 as base, got %v", b)
	}
	add(1250 * time.Millisecond)
	if b := h.base(); b == nil || b.Time.Sub(t0) != 250*time.Millisecond {
		t.Fatalf("at 1250ms: want the sample at 250ms as base (sliding), got %v", b)
	}
	if p := h.s[len(h.s)-2]; p.Time.Sub(t0) != time.Second {
		t.Fatalf("sample before the newest: want the one at 1000ms, got %v", p.Time.Sub(t0))
	}
	if len(h.s) > h.keep {
		t.Fatalf("history keeps %d samples, more than %d", len(h.s), h.keep)
	}

	h.restart()
	if len(h.s) != 1 || h.base() != nil {
		t.Fatalf("after restart: want only the newest sample and no base, have %d", len(h.s))
	}
	add(2000 * time.Millisecond)
	if b := h.base(); b != nil {
		t.Fatalf("750ms after a restart: base %v, want none yet", b.Time.Sub(t0))
	}
	add(2250 * time.Millisecond)
	if b := h.base(); b == nil || b.Time.Sub(t0) != 1250*time.Millisecond {
		t.Fatalf("a full window after the restart: want the restart sample as base, got %v", b)
	}

	h.reset()
	if len(h.s) != 0 || h.base() != nil {
		t.Fatal("after reset: want no samples")
	}
	// Buffers are recycled, not reallocated.
	free := len(h.free)
	h.next()
	if len(h.free) != free-1 {
		t.Fatalf("next after reset did not reuse a free buffer (%d free before, %d after)", free, len(h.free))
	}
}

// fillSample writes a reading of domains×vcpus vCPUs at, reusing the
// buffer's slices as the sampler does.
func fillSample(s *cgroupstats.Sample, at time.Time, domains, vcpus int) {
	s.Time = at
	s.CPUs = s.CPUs[:0]
	for c := range 64 {
		s.CPUs = append(s.CPUs, cgroupstats.CPUStat{CPU: c})
	}
	s.Domains = slices.Grow(s.Domains[:0], domains)[:domains]
	for d := range s.Domains {
		ds := &s.Domains[d]
		ds.VCPUs = ds.VCPUs[:0]
		for v := range vcpus {
			ds.VCPUs = append(ds.VCPUs, cgroupstats.VCPUStat{VCPU: v, TID: 1000*d + v})
		}
	}
}

func TestHistory_HostGrowsPastTheBudget_ThinnedWithinItBaseAboutAWindowOld(t *testing.T) {
	const interval, window = 500 * time.Millisecond, 10 * time.Minute // the longest window the flags take
	h := newHistory(window, interval)
	if h.keep != maxHistorySamples {
		t.Fatalf("window takes %d samples, want %d (the start check's bound)", h.keep, maxHistorySamples)
	}
	t0 := time.Unix(1_800_000_000, 0)
	step := func(i, domains, vcpus int) bool {
		fillSample(h.next(), t0.Add(time.Duration(i)*interval), domains, vcpus)
		return h.fit(h.s[len(h.s)-1])
	}
	// 100 vCPUs: the whole window fits.
	for i := range 2 * maxHistorySamples {
		if step(i, 25, 4) {
			t.Fatalf("sample %d: thinned at 100 vCPUs (%d bytes per sample)", i, sampleBytes(h.s[len(h.s)-1]))
		}
	}
	if len(h.s) > h.keep || h.bytes() > historyBudget {
		t.Fatalf("100 vCPUs: %d samples, %d bytes; want at most %d and %d", len(h.s), h.bytes(), h.keep, historyBudget)
	}
	// The host grows to 1,000 vCPUs: thinned, and never over the budget,
	// counting every buffer the history holds (kept and free).
	thinned := false
	for i := 2 * maxHistorySamples; i < 4*maxHistorySamples; i++ {
		thinned = step(i, 250, 4) || thinned
		if i%16 != 0 && i > 2*maxHistorySamples+16 { // counting costs; every sample while it grows, then every 16th
			continue
		}
		if got := h.bytes(); got > historyBudget {
			t.Fatalf("sample %d at 1,000 vCPUs: history holds %d bytes (%d samples, %d free), over the budget of %d",
				i, got, len(h.s), len(h.free), historyBudget)
		}
	}
	if !thinned || h.limit >= h.keep {
		t.Fatalf("1,000 vCPUs: limit %d of %d samples, thinned %v; want thinned", h.limit, h.keep, thinned)
	}
	b := h.base()
	if b == nil {
		t.Fatal("thinned window has no base")
	}
	age := h.s[len(h.s)-1].Time.Sub(b.Time)
	if spacing := window / time.Duration(h.limit-2); age < window-window/10 || age > window+2*spacing {
		t.Errorf("base is %v old, want about the window (%v, within 2 x %v)", age, window, spacing)
	}
	t.Logf("1,000 vCPUs: %d of %d samples, %d bytes (budget %d), base %v old", len(h.s), h.keep, h.bytes(), historyBudget, age)
}

func TestHistory_6002SamplesOf1000VCPUs_WouldNotFitTheBudget(t *testing.T) {
	// The measure behind the start check: a sample of 1,000 vCPUs (250
	// domains of 4) times the samples of --interval 100ms --window 10m.
	var s cgroupstats.Sample
	fillSample(&s, time.Unix(0, 0), 250, 4)
	n := historySamples(10*time.Minute, 100*time.Millisecond)
	if got := n * sampleBytes(&s); n != 6002 || got <= historyBudget {
		t.Errorf("%d samples x %d bytes = %d bytes; want 6002 samples over the %d budget", n, sampleBytes(&s), got, historyBudget)
	}
}

func TestLoop_HostOutgrowsTheHistoryBudget_WarnedOnceThenBack(t *testing.T) {
	big := func(n, vcpus int) cgroupstats.Sample {
		s := cgroupstats.Sample{Time: time.Unix(1_800_000_000+int64(n), 0), CPUs: []cgroupstats.CPUStat{{CPU: 0}, {CPU: 1}}}
		d := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 1, Name: "big", UUID: "uuid-big"}}
		for v := range vcpus {
			d.VCPUs = append(d.VCPUs, cgroupstats.VCPUStat{VCPU: v, TID: 100 + v, Affinity: cpuset.New(0)})
		}
		s.Domains = []cgroupstats.DomainSample{d}
		return s
	}
	pins := make([]cpuset.CPUSet, 2000)
	for i := range pins {
		pins[i] = cpuset.New(0)
	}
	p := &fakePinner{doms: []pinning.Domain{dom("uuid-big", "big", 1, pins...)}}
	s := &fakeSampler{script: []cgroupstats.Sample{big(1, 2000), big(2, 2000), big(3, 2000), big(4, 10), big(5, 10)}}
	o := testOptions()
	o.interval, o.window = 500*time.Millisecond, 10*time.Minute
	var log bytes.Buffer
	l := fakeLoop(t, o, s, p, &log)
	for range 5 {
		cycle(l)
	}
	warned := logEntries(t, &log, "window's samples do not fit the history's memory budget: keeping fewer, evenly spread")
	if len(warned) != 1 || warned[0]["vcpus"] != 2000.0 || warned[0]["window_samples"] != float64(maxHistorySamples) {
		t.Errorf("budget warnings %v, want one at 2,000 vCPUs", warned)
	}
	if back := logEntries(t, &log, "window's samples fit the history's memory budget again"); len(back) != 1 {
		t.Errorf("budget recoveries %v, want one once the host shrank", back)
	}
}
