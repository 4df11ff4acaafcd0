package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vsched/vsched/balancer"
)

func TestFix_ExcludedAndRecentlyMovedAreFixedUntilCooldownEnds(t *testing.T) {
	o := testOptions()
	o.exclude = []string{"db"}
	o.cooldown = 10 * time.Second
	l := newLoop(o, nil, nil, nil, balancer.NewAdaptive(), balancer.Config{}, newMetrics())
	t0 := time.Unix(1000, 0)
	l.moved[vcpuKey{"web", 1}] = t0

	fixedAt := func(now time.Time) map[string]bool {
		snap := balancer.Snapshot{VCPUs: []balancer.VCPU{
			{Domain: "db", Index: 0}, {Domain: "web", Index: 0}, {Domain: "web", Index: 1},
		}}
		l.fix(snap, now)
		got := map[string]bool{}
		for _, v := range snap.VCPUs {
			got[v.Domain+"/"+string(rune('0'+v.Index))] = v.Fixed
		}
		return got
	}
	if diff := cmp.Diff(map[string]bool{"db/0": true, "web/0": false, "web/1": true}, fixedAt(t0.Add(9*time.Second))); diff != "" {
		t.Errorf("within the cooldown (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{"db/0": true, "web/0": false, "web/1": false}, fixedAt(t0.Add(10*time.Second))); diff != "" {
		t.Errorf("after the cooldown (-want +got):\n%s", diff)
	}
	if len(l.moved) != 0 {
		t.Errorf("expired cooldowns are kept: %v", l.moved)
	}
}
