// Package cpulist parses CPU lists as libvirt writes them, which is the
// kernel's syntax ("0-3,8") plus "^N" to take N out, into CPU sets: the
// one parser for what vsched reads from libvirt's domain XML, from its
// checkpoint file and from the operator's --cpus. (cgroupstats reads the
// kernel's own files with a parser of its own that does not allocate.)
package cpulist

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/utils/cpuset"
)

// Max is the highest CPU number a list may name: Linux is built for at
// most 8,192 CPUs (NR_CPUS), numbered from 0. Without a bound a list such
// as "0-999999999" would build a set of a billion CPUs. NUMA node numbers
// (at most 1,024) are within it too.
const Max = 8191

// Parse parses a CPU (or NUMA node) list: "0-3,8,^2" is CPUs 0, 1, 3 and
// 8; "^N" takes N (or a range) out of the set the other items make,
// wherever it stands. Spaces around items are allowed, as are the
// newlines the kernel's files end with; an empty list is the empty set.
// Numbers above Max are refused before any range is expanded.
func Parse(s string) (cpuset.CPUSet, error) {
	if strings.TrimSpace(s) == "" {
		return cpuset.New(), nil
	}
	type span struct {
		lo, hi int
		out    bool
	}
	var spans []span
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		rest, out := strings.CutPrefix(item, "^")
		lo, hi, isRange := strings.Cut(rest, "-")
		a, err := number(lo)
		if err != nil {
			return cpuset.New(), fmt.Errorf("CPU list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = number(hi); err != nil {
				return cpuset.New(), fmt.Errorf("CPU list %q: %w", s, err)
			}
			if b < a {
				return cpuset.New(), fmt.Errorf("CPU list %q: range %d-%d runs backwards", s, a, b)
			}
		}
		spans = append(spans, span{a, b, out})
	}
	var in, out []int
	for _, sp := range spans {
		for cpu := sp.lo; cpu <= sp.hi; cpu++ {
			if sp.out {
				out = append(out, cpu)
			} else {
				in = append(in, cpu)
			}
		}
	}
	return cpuset.New(in...).Difference(cpuset.New(out...)), nil
}

// number parses a CPU number in 0..Max, spaces around it allowed.
func number(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		if s = strings.TrimSpace(s); s == "" {
			return 0, fmt.Errorf("missing CPU number")
		}
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	if n < 0 || n > Max {
		return 0, fmt.Errorf("CPU %d out of range 0-%d", n, Max)
	}
	return n, nil
}
