package cgroupstats

import "bytes"

var cpusAllowedListKey = []byte("\nCpus_allowed_list:")

// parseStatusAffinity is the affinity source when the proc root is not this
// process's own procfs (a fixture tree), where sched_getaffinity cannot be
// asked. It finds "Cpus_allowed_list:" in
// /proc/<pid>/task/<tid>/status and parses its CPU list into mask, which it
// clears and grows as needed and returns. It allocates only when mask must
// grow.
func parseStatusAffinity(b []byte, mask []uint64) ([]uint64, error) {
	i := bytes.Index(b, cpusAllowedListKey)
	if i < 0 {
		return mask, errMissing
	}
	i = skipSpaces(b, i+len(cpusAllowedListKey))
	end := bytes.IndexByte(b[i:], '\n')
	if end < 0 {
		end = len(b) - i
	}
	return parseCPUList(b[i:i+end], mask)
}
