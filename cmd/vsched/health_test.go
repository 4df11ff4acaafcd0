package main

import (
	"testing"
	"time"
)

func TestDomainHealth_BacksOffDoublingToAMinute_LogsStartAndEndOnce(t *testing.T) {
	h := domainHealth{}
	t0 := time.Unix(1000, 0)
	d, first := h.fail("u1", t0)
	if d != time.Second || !first {
		t.Fatalf("first failure: delay %s first %v, want 1s true", d, first)
	}
	if !h.skip("u1", t0.Add(500*time.Millisecond)) || h.skip("u1", t0.Add(time.Second)) {
		t.Fatal("skip: want skipped within the delay and tried after it")
	}
	var delays []time.Duration
	for range 8 {
		d, first = h.fail("u1", t0)
		if first {
			t.Fatal("a second failure reported as the first")
		}
		delays = append(delays, d)
	}
	if delays[0] != 2*time.Second || delays[len(delays)-1] != time.Minute {
		t.Fatalf("delays %v: want doubling from 2s, capped at 1m", delays)
	}
	if !h.ok("u1") || h.ok("u1") || h.any() {
		t.Fatal("ok: want the recovery reported once and nothing left")
	}
}

func TestDomainHealth_PruneForgetsDomainsNoLongerListed(t *testing.T) {
	h := domainHealth{}
	h.fail("gone", time.Unix(0, 0))
	h.fail("kept", time.Unix(0, 0))
	h.prune(&listing{byUUID: map[string]int{"kept": 0}})
	if _, ok := h["gone"]; ok || len(h) != 1 {
		t.Fatalf("after prune: %v, want only kept", h)
	}
}
