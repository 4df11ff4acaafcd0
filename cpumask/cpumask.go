// Package cpumask holds the one bound on CPU numbers and the bit-mask
// helpers every package that keeps CPUs in 64-bit words shares: the kernel
// readers (cgroupstats), the CPU-list parser (pinning/cpulist) and the
// policies (balancer). Bit c of a mask is word c/64, bit c%64.
//
// It is a leaf: it imports only the standard library's math/bits, so any
// package may use it without crossing the import boundaries of
// docs/DESIGN.md.
package cpumask

import "math/bits"

// Max is the highest CPU number vsched accepts anywhere: Linux is built for
// at most 8,192 CPUs (NR_CPUS), numbered from 0. Without a bound a list such
// as "0-999999999" would build a set of a billion CPUs. NUMA node numbers
// (at most 1,024) are within it too.
const Max = 8191

// Words returns how many 64-bit words hold CPUs 0..n-1.
func Words(n int) int { return (n + 63) / 64 }

// Set sets CPU c in m, which must hold it.
func Set(m []uint64, c int) { m[c>>6] |= 1 << (c & 63) }

// Has reports whether CPU c is set in m; CPUs beyond m are not.
func Has(m []uint64, c int) bool {
	w := c >> 6
	return c >= 0 && w < len(m) && m[w]&(1<<(c&63)) != 0
}

// SetRange sets CPUs lo..hi in m, a word at a time; m must hold hi.
func SetRange(m []uint64, lo, hi int) {
	for w := lo / 64; w <= hi/64; w++ {
		word := ^uint64(0)
		if w == lo/64 {
			word &= ^uint64(0) << (lo % 64)
		}
		if w == hi/64 {
			word &= ^uint64(0) >> (63 - hi%64)
		}
		m[w] |= word
	}
}

// CPUs returns the CPUs set in m, in ascending order (nil when none).
func CPUs(m []uint64) []int {
	var cpus []int
	for w, word := range m {
		for ; word != 0; word &= word - 1 {
			cpus = append(cpus, w*64+bits.TrailingZeros64(word))
		}
	}
	return cpus
}

// Single returns the one CPU set in m, or -1 when none or several are.
func Single(m []uint64) int {
	cpu := -1
	for w, word := range m {
		switch {
		case word == 0:
			continue
		case cpu >= 0 || word&(word-1) != 0:
			return -1
		}
		cpu = w*64 + bits.TrailingZeros64(word)
	}
	return cpu
}

// Equal reports whether a and b hold the same CPUs (trailing zero words do
// not count).
func Equal(a, b []uint64) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	for i, w := range a {
		var o uint64
		if i < len(b) {
			o = b[i]
		}
		if w != o {
			return false
		}
	}
	return true
}
