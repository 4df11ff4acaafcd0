package cgroupstats

import (
	"slices"
	"time"
)

// Sample reads every online pCPU and every vCPU of domains into into,
// reusing its slices; into.Domains has the order of domains. A domain seen
// for the first time (or whose ID, name or vCPU ids changed) is resolved on
// the slow path; afterwards each cycle costs per vCPU one sched_getaffinity
// and one pread of its kept-open schedstat (plus a pread of stat when it is
// not pinned to one CPU), and a steady-state Sample allocates nothing. A
// per-domain failure goes to that DomainSample's Err and the other domains
// are still read; a vanished or replaced thread or cgroup wraps ErrVanished
// for that sample, and the domain is resolved afresh on the next. Sample
// returns an error only when the whole sample failed: <proc>/stat could
// not be read. Domains no longer listed have their files closed.
func (s *Sampler) Sample(domains []Domain, into *Sample) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	into.Time = time.Now()
	cpus, err := s.readCPUs(into.CPUs[:0])
	into.CPUs = cpus
	if err != nil {
		return err
	}
	if cap(into.Domains) < len(domains) {
		grown := make([]DomainSample, len(domains))
		copy(grown, into.Domains[:cap(into.Domains)])
		into.Domains = grown
	}
	into.Domains = into.Domains[:len(domains)]
	for i := range domains {
		s.sampleDomain(domains[i], &into.Domains[i])
	}
	for k, st := range s.domains {
		if st.gen != s.gen {
			st.close()
			delete(s.domains, k)
		}
	}
	return nil
}

// readCPUs reads <proc>/stat into into.
func (s *Sampler) readCPUs(into []CPUStat) ([]CPUStat, error) {
	n, err := preadAll(s.procStatFD, &s.buf)
	if err != nil {
		return into, fileErr(s.procStatPath, err)
	}
	out, _, err := parseProcStat(s.buf[:n], into)
	if err == nil && len(out) == 0 {
		err = errMissing
	}
	if err != nil {
		return out, fileErr(s.procStatPath, err)
	}
	return out, nil
}

// sampleDomain fills ds for d, resolving d first when needed.
func (s *Sampler) sampleDomain(d Domain, ds *DomainSample) {
	ds.Domain, ds.PID, ds.Cgroup, ds.Err = d, 0, "", nil
	key := domainKey{d.ID, d.Name}
	st := s.domains[key]
	if st != nil && !slices.Equal(st.ids, d.VCPUs) {
		st.close()
		delete(s.domains, key)
		st = nil
	}
	if st == nil {
		var err error
		if st, err = s.resolve(d); err != nil {
			ds.VCPUs, ds.Err = ds.VCPUs[:0], err
			return
		}
		s.domains[key] = st
	}
	st.gen = s.gen
	if err := s.readDomain(st, ds); err != nil {
		// A thread or cgroup went away or was replaced (vCPU unplug and
		// replug, a restarted QEMU): report it once and resolve afresh
		// next time, so no delta ever spans two threads.
		st.close()
		delete(s.domains, key)
		ds.VCPUs, ds.Err = ds.VCPUs[:0], err
	}
}

// readDomain reads every vCPU of st into ds.VCPUs.
func (s *Sampler) readDomain(st *domainState, ds *DomainSample) error {
	ds.PID, ds.Cgroup = st.pid, st.cgroup
	if cap(ds.VCPUs) < len(st.vcpus) {
		ds.VCPUs = make([]VCPUStat, len(st.vcpus))
	}
	ds.VCPUs = ds.VCPUs[:len(st.vcpus)]
	for i := range st.vcpus {
		if err := st.vcpus[i].read(&s.buf, s.sysAffinity, &ds.VCPUs[i]); err != nil {
			return err
		}
	}
	return nil
}
