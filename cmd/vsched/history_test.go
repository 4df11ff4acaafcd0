package main

import (
	"testing"
	"time"
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
