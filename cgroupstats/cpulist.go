package cgroupstats

import (
	"bytes"

	"k8s.io/utils/cpuset"
)

// maxCPU bounds CPU numbers (they are below it) so that a malformed file
// cannot make a parser allocate a huge bitmask: Linux is built for at most
// 8,192 CPUs (NR_CPUS), the bound pinning/cpulist keeps for libvirt's and
// the operator's lists too.
const maxCPU = 8192

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
		for c := lo; c <= hi; c++ {
			mask[c/64] |= 1 << (c % 64)
		}
		i = j
	}
	return mask, nil
}

// maskCPUs returns the CPUs set in mask, in ascending order.
func maskCPUs(mask []uint64) []int {
	var cpus []int
	for w, bits := range mask {
		for bit := 0; bit < 64; bit++ {
			if bits&(1<<bit) != 0 {
				cpus = append(cpus, w*64+bit)
			}
		}
	}
	return cpus
}

// sameMask reports whether two masks hold the same CPUs (trailing zero
// words do not count).
func sameMask(a, b []uint64) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	for i := range a {
		var w uint64
		if i < len(b) {
			w = b[i]
		}
		if a[i] != w {
			return false
		}
	}
	return true
}

// parseCPUSet parses a kernel CPU list (sysfs cpulist files, "0-3,8\n")
// into a CPU set. An empty list is the empty set.
func parseCPUSet(b []byte) (cpuset.CPUSet, error) {
	mask, err := parseCPUList(b, nil)
	if err != nil {
		return cpuset.New(), err
	}
	return cpuset.New(maskCPUs(mask)...), nil
}
