package cgroupstats

// Hooks for the external tests (package cgroupstats_test), which use
// cgroupstatstest and so cannot live inside the package.

// RaceEnabled reports whether the race detector is on.
const RaceEnabled = raceEnabled

// KeptDomains returns how many domain resolutions the Sampler holds.
func (s *Sampler) KeptDomains() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.domains)
}

// SchedstatFDs returns the kept-open schedstat descriptor of every vCPU.
func (s *Sampler) SchedstatFDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var fds []int
	for _, st := range s.domains {
		for _, v := range st.vcpus {
			if v.fds[fSchedstat] >= 0 {
				fds = append(fds, v.fds[fSchedstat])
			}
		}
	}
	return fds
}

// ProcStatFD returns the kept-open <proc>/stat descriptor.
func (s *Sampler) ProcStatFD() int { return s.procStatFD }

// SysAffinity reports whether the Sampler reads affinity by syscall.
func (s *Sampler) SysAffinity() bool { return s.sysAffinity }
