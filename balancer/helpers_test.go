package balancer

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"k8s.io/utils/cpuset"
)

// tv is a vCPU in a literal test topology: where it runs, whether it is
// pinned there, and its usage and run-queue wait over the interval in
// percent of one pCPU.
type tv struct {
	dom         string
	idx, cpu    int
	pinned      bool
	usage, wait float64
}

const testInterval = time.Second

// samples builds prev (all counters zero) and cur (counters advanced by
// usage and wait over testInterval) for the topology.
func samples(all cpuset.CPUSet, vs []tv) (prev, cur Snapshot) {
	for _, v := range vs {
		pin := all
		if v.pinned {
			pin = cpuset.New(v.cpu)
		}
		x := VCPU{Domain: v.dom, Index: v.idx, PCPU: v.cpu, Pin: pin}
		prev.VCPUs = append(prev.VCPUs, x)
		x.RunNs = uint64(v.usage * float64(testInterval) / 100)
		x.WaitNs = uint64(v.wait * float64(testInterval) / 100)
		cur.VCPUs = append(cur.VCPUs, x)
	}
	return prev, cur
}

// applied returns the samples one interval after plan was applied, with
// every vCPU's run and wait advancing exactly as in the last interval.
func applied(prev, cur Snapshot, plan Plan) (Snapshot, Snapshot) {
	to := map[vkey]int{}
	for _, m := range plan.Moves {
		to[vkey{m.Domain, m.VCPU}] = m.To
	}
	next := Snapshot{VCPUs: make([]VCPU, len(cur.VCPUs))}
	for i, v := range cur.VCPUs {
		p := prev.VCPUs[i]
		v.RunNs += v.RunNs - p.RunNs
		v.WaitNs += v.WaitNs - p.WaitNs
		if c, ok := to[vkey{v.Domain, v.Index}]; ok {
			v.PCPU, v.Pin = c, cpuset.New(c)
		}
		next.VCPUs[i] = v
	}
	return cur, next
}

// demandSpread is the spread of per-pCPU demand (run plus wait) between
// the two samples, over cpus, in percentage points.
func demandSpread(prev, cur Snapshot, cpus cpuset.CPUSet) float64 {
	h := newHost(prev, cur, testInterval, Config{CPUs: cpus}, true)
	return percent(newState(h).spread())
}

// randomTopology places n one-vCPU-per-domain-or-more vCPUs with random
// demand on random pCPUs (some pinned, some not, some waiting).
func randomTopology(r *rand.Rand, n, m int) []tv {
	vs := make([]tv, n)
	for i := range vs {
		d := float64(r.IntN(101))
		if r.IntN(4) == 0 {
			d = float64(r.IntN(5)) * 25
		}
		wait := 0.0
		if r.IntN(2) == 0 {
			wait, d = d/2, d/2
		}
		vs[i] = tv{dom: string(rune('a' + r.IntN(8))), idx: i, cpu: r.IntN(m),
			pinned: r.IntN(3) > 0, usage: d, wait: wait}
	}
	return vs
}

func cpusN(m int) cpuset.CPUSet {
	ids := make([]int, m)
	for i := range ids {
		ids[i] = i
	}
	return cpuset.New(ids...)
}

func fmtF(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortStrings(s []string) { sort.Strings(s) }
