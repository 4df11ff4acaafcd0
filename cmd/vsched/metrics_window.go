package main

// observeWindow exports one planning window: every balanced pCPU and every
// vCPU of the policy's snapshot, labelled with its domain's name from the
// listing (the UUID when the domain is not listed). The loop calls it once
// per cycle; see observe.
func (m *metrics) observeWindow(w window, ls *listing) {
	vcpus := make([]vcpuPoint, len(w.snap.VCPUs))
	for i, v := range w.snap.VCPUs {
		name := v.ID.Domain
		if ls != nil {
			if j, ok := ls.byUUID[v.ID.Domain]; ok {
				name = ls.doms[j].Name
			}
		}
		vcpus[i] = vcpuPoint{Domain: name, VCPU: v.ID.VCPU, Usage: v.Usage, Wait: v.Wait}
	}
	m.observe(w.pcpu, vcpus)
}
