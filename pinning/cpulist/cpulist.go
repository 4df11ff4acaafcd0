// Package cpulist parses CPU lists as libvirt writes them, which is the
// kernel's syntax ("0-3,8") plus "^N" to take N out, into CPU sets: the
// one parser for what vsched reads from libvirt's domain XML, from its
// checkpoint file and from the operator's --cpus. (cgroupstats reads the
// kernel's own files with a parser of its own that does not allocate.)
package cpulist

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cpumask"
)

// Max is the highest CPU (or NUMA node) number a list may name: the one
// bound, cpumask.Max (8191; Linux is built for at most 8,192 CPUs).
const Max = cpumask.Max

// Parse parses a CPU (or NUMA node) list: "0-3,8,^2" is CPUs 0, 1, 3 and
// 8; "^N" takes N (or a range) out of the set the other items make,
// wherever it stands (libvirt applies it in order, and to single CPUs
// only; libvirt itself never writes one). Spaces around items are
// allowed, as are the newlines the kernel's files end with; an empty list
// is the empty set. Numbers above Max are refused, and the list is read
// into a fixed bitmap: no list, however long, takes more memory.
func Parse(s string) (cpuset.CPUSet, error) {
	if strings.TrimSpace(s) == "" {
		return cpuset.New(), nil
	}
	var in, out bitmap
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		rest, exclude := strings.CutPrefix(item, "^")
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
		if exclude {
			out.set(a, b)
		} else {
			in.set(a, b)
		}
	}
	for w := range in {
		in[w] &^= out[w]
	}
	return cpuset.New(cpumask.CPUs(in[:])...), nil
}

// bitmap holds CPUs 0..Max.
type bitmap [(Max + 64) / 64]uint64

// set sets CPUs lo..hi.
func (m *bitmap) set(lo, hi int) { cpumask.SetRange(m[:], lo, hi) }

// number parses a CPU number in 0..Max, spaces around it allowed.
func number(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("missing CPU number")
	}
	n, err := strconv.Atoi(s)
	switch {
	case errors.Is(err, strconv.ErrRange) || err == nil && n > Max:
		return 0, fmt.Errorf("CPU %s out of range 0-%d", s, Max)
	case err != nil || n < 0:
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	return n, nil
}
