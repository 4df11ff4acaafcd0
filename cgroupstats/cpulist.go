package cgroupstats

import (
	"bytes"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cpumask"
)

// maxCPU bounds CPU numbers (they are below it) so that a malformed file
// cannot make a parser allocate a huge bitmask: cpumask.Max, the bound
// pinning/cpulist keeps for libvirt's and the operator's lists too.
const maxCPU = cpumask.Max + 1

// parseCPUList parses a kernel CPU list such as "0-3,8,10-11" into the
// bitmask mask (cleared first, grown as needed). An empty list is an empty
// mask.
func parseCPUList(b []byte, mask []uint64) ([]uint64, error) {
	clear(mask)
	b = bytes.TrimRight(b, " \t\n")
	for i := 0; i < len(b); {
		lo, j, err := parseUint(b, i)
		if err != nil {
			return mask, errCPUList
		}
		hi := lo
		if j < len(b) && b[j] == '-' {
			if hi, j, err = parseUint(b, j+1); err != nil {
				return mask, errCPUList
			}
		}
		if hi < lo || hi >= maxCPU {
			return mask, errCPUList
		}
		if j < len(b) && b[j] != ',' {
			return mask, errCPUList
		}
		if j < len(b) {
			j++
			if j == len(b) {
				return mask, errCPUList
			}
		}
		for need := int(hi/64) + 1; len(mask) < need; {
			mask = append(mask, 0)
		}
		cpumask.SetRange(mask, int(lo), int(hi))
		i = j
	}
	return mask, nil
}

// parseCPUSet parses a kernel CPU list (sysfs cpulist files, "0-3,8\n")
// into a CPU set. An empty list is the empty set.
func parseCPUSet(b []byte) (cpuset.CPUSet, error) {
	mask, err := parseCPUList(b, nil)
	if err != nil {
		return cpuset.New(), err
	}
	return cpuset.New(cpumask.CPUs(mask)...), nil
}
