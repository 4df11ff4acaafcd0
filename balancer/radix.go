package balancer

import (
	"math/bits"
	"slices"
)

// radixBits is the width of one digit of lists' radix sort.
const radixBits = 11

// lists builds, in a state that never moved, the per-pCPU sorted lists of
// movable vCPUs, with room for count[c] in pCPU c's. A stable LSD radix
// sort on load, then a stable pass by pCPU, leaves each list sorted by load
// with ties in the order gather left them; unless that was key order, runs
// of equal loads are then sorted by key.
func (s *state) lists(room []int) {
	all := s.carve(room)
	n, maxLoad := 0, int64(0)
	var at []int // grouped: per domain rank, then its first place in xs
	if s.h.grouped {
		at = take(s.h.mem, intsOf, s.h.domains+1)
	}
	for i := range s.h.vcpus {
		if x := &s.h.vcpus[i]; x.mov {
			n++
			maxLoad = max(maxLoad, x.load)
			if at != nil {
				at[x.key>>32+1]++
			}
		}
	}
	// Start in the buffer that leaves the sorted items outside all.
	xs, tmp := take(s.h.mem, itemsOf, n), all[:n]
	if passes := (bits.Len64(uint64(maxLoad)) + radixBits - 1) / radixBits; passes%2 == 1 {
		xs, tmp = tmp, xs
	}
	s.gather(xs, at)
	var count [1 << radixBits]int
	for shift := 0; shift < bits.Len64(uint64(maxLoad)); shift += radixBits {
		clear(count[:])
		for _, x := range xs {
			count[x.load>>shift&(1<<radixBits-1)]++
		}
		at := 0
		for d, n := range count {
			count[d], at = at, at+n
		}
		for _, x := range xs {
			d := x.load >> shift & (1<<radixBits - 1)
			tmp[count[d]] = x
			count[d]++
		}
		xs, tmp = tmp, xs
	}
	end := take(s.h.mem, intsOf, len(room)) // per pCPU: its next slot in all
	for c := 1; c < len(room); c++ {
		end[c] = end[c-1] + room[c-1]
	}
	for _, x := range xs {
		c := s.h.vcpus[x.v].home
		all[end[c]] = x
		end[c]++
	}
	start := 0
	for c, l := range s.on {
		s.on[c] = l[:end[c]-start]
		start += room[c]
	}
	if s.h.grouped {
		return // gather put xs in key order, which the stable sorts kept
	}
	for _, l := range s.on {
		s.sortTies(l)
	}
}

// gather fills xs with the movable vCPUs' items: in key order when the
// host is grouped (a stable counting sort by domain rank), else in vCPU
// order. at holds, when grouped, the count of movable vCPUs per domain
// rank, shifted up one.
func (s *state) gather(xs []item, at []int) {
	if !s.h.grouped {
		xs = xs[:0]
		for i := range s.h.vcpus {
			if s.movable(int32(i)) {
				xs = append(xs, s.itemOf(int32(i)))
			}
		}
		return
	}
	for d := 1; d < len(at); d++ {
		at[d] += at[d-1]
	}
	for i := range s.h.vcpus {
		if s.movable(int32(i)) {
			d := s.h.vcpus[i].key >> 32
			xs[at[d]] = s.itemOf(int32(i))
			at[d]++
		}
	}
}

// sortTies sorts each run of equal loads in l by key.
func (s *state) sortTies(l []item) {
	for i := 0; i < len(l); {
		j := i + 1
		for j < len(l) && l[j].load == l[i].load {
			j++
		}
		if j-i > 12 {
			slices.SortFunc(l[i:j], s.icmp)
		}
		for k := i + 1; k < j && j-i <= 12; k++ { // short runs
			for m := k; m > i && s.iless(l[m], l[m-1]); m-- {
				l[m], l[m-1] = l[m-1], l[m]
			}
		}
		i = j
	}
}
