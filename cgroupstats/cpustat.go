package cgroupstats

import "bytes"

var usageUsecKey = []byte("usage_usec ")

// usageKind says which per-vCPU cgroup file holds the vCPU's CPU time.
type usageKind uint8

const (
	usageNone    usageKind = iota // no per-vCPU accounting cgroup
	usageV2                       // cgroup v2 cpu.stat, usage_usec
	usageCpuacct                  // cgroup v1 cpuacct.usage, ns
)

// file returns the name of the usage file of a vcpuN cgroup directory.
func (k usageKind) file() string {
	switch k {
	case usageV2:
		return "cpu.stat"
	case usageCpuacct:
		return "cpuacct.usage"
	}
	return ""
}

// threadsFile returns the file listing a cgroup's threads: cgroup.threads
// on v2, tasks on v1.
func (k usageKind) threadsFile() string {
	if k == usageV2 {
		return "cgroup.threads"
	}
	return "tasks"
}

// parseUsage parses a usage file of the given kind and returns
// nanoseconds.
func parseUsage(k usageKind, b []byte) (uint64, error) {
	if k == usageV2 {
		return parseCgroupCPUStat(b)
	}
	return parseCpuacctUsage(b)
}

// parseCgroupCPUStat returns usage_usec from a cgroup v2 cpu.stat,
// converted from microseconds to nanoseconds (the resolution stays 1 us).
func parseCgroupCPUStat(b []byte) (uint64, error) {
	i := 0
	if !bytes.HasPrefix(b, usageUsecKey) {
		j := bytes.Index(b, []byte("\nusage_usec "))
		if j < 0 {
			return 0, errMissing
		}
		i = j + 1
	}
	v, j, err := parseUint(b, i+len(usageUsecKey))
	if err != nil {
		return 0, err
	}
	if !endOfField(b, j) {
		return 0, errNumber
	}
	if v > (1<<64-1)/1000 {
		return 0, errOverflow
	}
	return v * 1000, nil
}

// parseCpuacctUsage parses a cgroup v1 cpuacct.usage: one number, already
// in nanoseconds.
func parseCpuacctUsage(b []byte) (uint64, error) {
	v, j, err := parseUint(b, skipSpaces(b, 0))
	if err != nil {
		return 0, err
	}
	if j < len(b) && b[j] != '\n' {
		return 0, errNumber
	}
	return v, nil
}
