package cgroupstats

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// RaiseFileLimit lifts the soft limit on open files to the hard limit, and
// the hard limit to want when the process may (root). The sampler keeps one
// file open per vCPU (two for a vCPU not pinned to one CPU): 10,000 vCPUs
// need about 10,000 to 20,000. It returns the soft limit in force
// afterwards.
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

// fdHeadroom is how many descriptors below RLIMIT_NOFILE the sampler stops
// keeping files open: room for the rest of the process (libvirt's socket,
// the metrics listener, logs) and for the open-read-close fallback itself.
const fdHeadroom = 64

// fdBudget counts the descriptors kept open by every Sampler of the
// process (the limit is per process) and refuses more once the open-file
// limit minus fdHeadroom is reached; the vCPUs past it are read with open,
// read and close. EMFILE on an open is handled the same way, for
// descriptors the budget does not see.
type fdBudget struct {
	kept, max atomic.Int64
}

// keptFDs is the process-wide budget.
var keptFDs fdBudget

// refresh re-reads the soft limit (the caller may have raised it since).
func (b *fdBudget) refresh() {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	b.max.Store(int64(min(lim.Cur, 1<<40)) - fdHeadroom)
}

// take reserves one descriptor, or reports that none is left.
func (b *fdBudget) take() bool {
	if b.kept.Add(1) > b.max.Load() {
		b.kept.Add(-1)
		return false
	}
	return true
}

// give returns one descriptor.
func (b *fdBudget) give() { b.kept.Add(-1) }
