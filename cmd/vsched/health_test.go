package main

import (
	"testing"
	"time"
)

func TestDomainHealth_BacksOffDoublingToAMinute_WarnsOnceAfterTenSeconds(t *testing.T) {
	h := domainHealth{}
	t0 := time.Unix(1000, 0)
	d, warn := h.fail("u1", t0)
	if d != time.Second || warn {
		t.Fatalf("first failure: delay %s warn %v, want 1s and no warning (a guest may be starting)", d, warn)
	}
	if !h.skip("u1", t0.Add(500*time.Millisecond)) || h.skip("u1", t0.Add(time.Second)) {
		t.Fatal("skip: want skipped within the delay and tried after it")
	}
	var delays []time.Duration
	warnings := 0
	for i := range 8 {
		d, warn = h.fail("u1", t0.Add(time.Duration(i)*5*time.Second))
		if warn {
			warnings++
		}
		delays = append(delays, d)
	}
	if warnings != 1 {
		t.Fatalf("%d warnings over 35 s of failures, want exactly one", warnings)
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
