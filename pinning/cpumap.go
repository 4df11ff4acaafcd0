package pinning

import (
	"fmt"

	"k8s.io/utils/cpuset"
)

// toCPUMap turns set into libvirt's cpumap for a host with n CPUs: entry i
// is true when CPU i is in set. An empty set, or a CPU outside 0..n-1, is an
// error wrapping ErrPin: libvirt's test driver accepts both, and a real host
// would reject them only after a round trip.
func toCPUMap(set cpuset.CPUSet, n int) ([]bool, error) {
	if set.IsEmpty() {
		return nil, fmt.Errorf("%w: empty CPU set", ErrPin)
	}
	m := make([]bool, n)
	for _, cpu := range set.UnsortedList() {
		if cpu < 0 || cpu >= n {
			return nil, fmt.Errorf("%w: CPU %d is not on this host (CPUs 0-%d)", ErrPin, cpu, n-1)
		}
		m[cpu] = true
	}
	return m, nil
}

// fromCPUMap turns libvirt's cpumap into a CPU set.
func fromCPUMap(m []bool) cpuset.CPUSet {
	cpus := make([]int, 0, len(m))
	for i, on := range m {
		if on {
			cpus = append(cpus, i)
		}
	}
	return cpuset.New(cpus...)
}
