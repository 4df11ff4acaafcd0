package balancer

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPlanConcurrentSharesNothing plans different hosts from several
// goroutines at once (scratch memory comes from a shared pool) and checks
// every plan against the same plan made alone.
func TestPlanConcurrentSharesNothing(t *testing.T) {
	type job struct {
		prev, cur Snapshot
		cfg       Config
		want      Plan
	}
	r := rand.New(rand.NewPCG(5, 6))
	p := NewAdaptive()
	var jobs []job
	for _, size := range []struct{ n, m int }{{8, 3}, {300, 16}, {2000, 64}, {40, 4}} {
		prev, cur := diffTopology(r, size.n, size.m)
		cfg := Config{Threshold: DefaultThreshold, CPUs: cpusN(size.m)}
		jobs = append(jobs, job{prev, cur, cfg, p.Plan(prev, cur, testInterval, cfg)})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 12 {
				j := jobs[(g+i)%len(jobs)]
				if diff := cmp.Diff(j.want, p.Plan(j.prev, j.cur, testInterval, j.cfg)); diff != "" {
					errs <- diff
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for diff := range errs {
		t.Errorf("concurrent plan differs (-alone +concurrent):\n%s", diff)
	}
}
