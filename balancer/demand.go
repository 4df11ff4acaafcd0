package balancer

// Demand that survives contention. A vCPU's run plus run-queue wait is
// what it asked for over the window, but only while it is not starved: a
// spin-waiting guest that cannot run keeps its vCPU runnable, so under
// contention it reads about 100% whatever it needs. So the policy
// remembers each vCPU's demand from the last window in which it ran
// uncontended (wait under waitNoise) and, while it is starved, counts
//
//	max(usage, min(calm, usage + wait))
//
// its remembered demand, but never less than what it did get (a vCPU that
// runs more than it used to wants more) nor more than run plus wait (the
// upper bound). A vCPU never seen uncontended counts run plus wait.

// waitNoise is the run-queue wait, in units, under which a vCPU counts as
// uncontended: its run plus wait is then its demand.
const waitNoise = 5 * unitsPerPercent

// demand returns v's demand estimate and, when v ran uncontended, the
// figure to remember (ok false otherwise).
func demand(v *VCPU, calm int64, known bool) (est, remember int64, ok bool) {
	usage, wait := units(v.Usage), units(v.Wait)
	raw := min(usage+wait, fullCPU)
	if wait < waitNoise {
		return raw, raw, true
	}
	if !known {
		return raw, 0, false
	}
	return max(usage, min(calm, raw)), 0, false
}

// Background load is measured as what it ran (busy time minus vCPU run
// time); its wait is not seen. On a contended pCPU (a vCPU there waits,
// and the pCPU ran full) where the background got as much as the busiest
// vCPU, it was capped at the fair share like them, so what it ran is not
// what it wants: it counts as starved, and the policy counts its demand
// when it last ran uncontended, or failing that the whole pCPU (the upper
// bound, as run plus wait is for a vCPU). A host process burning a pCPU
// then keeps its pCPU to itself instead of looking half free.

// backgroundDemand returns the background estimate of CPU cpu given what
// it ran, the most any vCPU there ran, and whether the pCPU was contended;
// it updates the remembered figure.
func (p *Adaptive) backgroundDemand(cpu int, got, maxUsage int64, contended bool) int64 {
	for cpu >= len(p.bgCalm) {
		p.bgCalm = append(p.bgCalm, -1)
	}
	if !contended || got+waitNoise < maxUsage || got == 0 {
		p.bgCalm[cpu] = got
		return got
	}
	if calm := p.bgCalm[cpu]; calm >= 0 {
		return max(got, calm)
	}
	return fullCPU
}
