package cgroupstats

import "golang.org/x/sys/unix"

// RaiseFileLimit lifts the soft limit on open files to the hard limit, and
// the hard limit to want when the process may (root). The sampler keeps
// three or four files open per vCPU: 10,000 vCPUs need about 40,000.
// It returns the soft limit in force afterwards.
func RaiseFileLimit(want uint64) uint64 {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Max < want {
		up := unix.Rlimit{Cur: want, Max: want}
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &up) == nil {
			return want
		}
	}
	lim.Cur = lim.Max
	_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
	_ = unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
	return lim.Cur
}
