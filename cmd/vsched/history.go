package main

import (
	"time"
	"unsafe"

	"github.com/vsched/vsched/cgroupstats"
)

// history keeps the samples of the planning window, oldest first, and
// recycles their buffers so a steady-state cycle allocates no sample.
//
// The policy plans on (base, newest) where base is the newest sample at
// least one window old: CPU time averaged over the window rather than over
// one interval, so a duty-cycling guest or a noisy neighbour does not look
// like an imbalance at sub-second intervals. After pins change, restart
// drops the older samples, so the next plan judges the new placement on a
// full window of its own and a move is never undone on stale numbers.
//
// Its memory is bounded by historyBudget: the flags fix how many samples a
// window takes (keep, at most maxHistorySamples, checked at start), the
// host how large each one is. When keep samples of the host's size do not
// fit (vCPUs were added), fit caps the count and the window is thinned:
// of the samples between the oldest and the newest, the one whose
// neighbours are closest goes, so those kept stay evenly spread and the
// base stays about a window old (within two of its spacings).
type history struct {
	window time.Duration
	keep   int // samples a window takes at the flags' interval
	limit  int // samples that fit the budget at the host's size; keep when unknown
	s      []*cgroupstats.Sample
	free   []*cgroupstats.Sample
}

// historyBudget bounds the memory the window's samples hold: a quarter of
// the MemoryMax=256M of scripts/package/vsched.service.in, leaving room for
// the Go runtime's garbage-collection headroom, libvirt and the sampler.
const historyBudget = 64 << 20

// maxHistorySamples bounds the samples one window takes at start: 10
// minutes at 500 ms. That many samples of about 600 vCPUs (4 to a domain,
// 56 bytes each) fit the budget; a larger host is thinned (fit): 1,000
// vCPUs keep about 740.
const maxHistorySamples = 1202

// minHistorySamples is the fewest samples a thinned window keeps: base, one
// between, newest.
const minHistorySamples = 3

func newHistory(window, interval time.Duration) history {
	keep := historySamples(window, interval)
	return history{window: window, keep: keep, limit: keep}
}

// historySamples is how many samples a window of window takes at interval:
// one per interval over the window, the base, and one of jitter.
func historySamples(window, interval time.Duration) int {
	if interval <= 0 {
		return 2
	}
	return int((window+interval-1)/interval) + 2
}

// sampleBytes is the memory one sample buffer holds: its slices'
// capacities, which the sampler reuses and only grows. The domain names,
// UUIDs and vCPU id lists are the listing's, shared by every sample; each
// vCPU's affinity is the sampler's, shared until it changes.
func sampleBytes(s *cgroupstats.Sample) int {
	n := int(unsafe.Sizeof(*s)) + cap(s.CPUs)*int(unsafe.Sizeof(cgroupstats.CPUStat{})) +
		cap(s.Domains)*int(unsafe.Sizeof(cgroupstats.DomainSample{}))
	all := s.Domains[:cap(s.Domains)] // entries past len keep their vCPUs' buffers too
	for i := range all {
		n += cap(all[i].VCPUs) * int(unsafe.Sizeof(cgroupstats.VCPUStat{}))
	}
	return n
}

// bytes is the memory the history's sample buffers hold, kept and free.
func (h *history) bytes() int {
	n := 0
	for _, s := range h.s {
		n += sampleBytes(s)
	}
	for _, s := range h.free {
		n += sampleBytes(s)
	}
	return n
}

// fit sizes the history for samples like s (the newest): as many as the
// window takes, or as many as fit historyBudget, whichever is fewer (at
// least minHistorySamples). It reports whether the window is thinned.
func (h *history) fit(s *cgroupstats.Sample) bool {
	per := max(sampleBytes(s), 1)
	h.limit = max(min(h.keep, historyBudget/per), minHistorySamples)
	for len(h.s) > h.limit {
		h.drop(h.victim())
	}
	if over := len(h.s) + len(h.free) - h.limit; over > 0 {
		clear(h.free[len(h.free)-over:])
		h.free = h.free[:len(h.free)-over]
	}
	return h.limit < h.keep
}

// next returns a buffer for the next sample and appends it as the newest.
func (h *history) next() *cgroupstats.Sample {
	h.prune()
	if len(h.s) >= h.limit {
		h.drop(h.victim())
	}
	var buf *cgroupstats.Sample
	if len(h.free) > 0 {
		buf, h.free = h.free[len(h.free)-1], h.free[:len(h.free)-1]
	} else {
		buf = &cgroupstats.Sample{}
	}
	h.s = append(h.s, buf)
	return buf
}

// prune drops the samples older than the base: no window needs them.
func (h *history) prune() {
	if b := h.baseIndex(); b > 0 {
		h.free = append(h.free, h.s[:b]...)
		n := copy(h.s, h.s[b:])
		clear(h.s[n:])
		h.s = h.s[:n]
	}
}

// victim is the index of the sample to drop for room: the oldest while the
// window holds all it takes, else (thinned) the sample between the oldest
// and the newest whose neighbours are closest in time.
func (h *history) victim() int {
	if len(h.s) < minHistorySamples || h.limit >= h.keep {
		return 0
	}
	best, gap := 1, time.Duration(-1)
	for i := 1; i < len(h.s)-1; i++ {
		if g := h.s[i+1].Time.Sub(h.s[i-1].Time); gap < 0 || g < gap {
			best, gap = i, g
		}
	}
	return best
}

// drop removes sample i, keeping its buffer for reuse.
func (h *history) drop(i int) {
	h.free = append(h.free, h.s[i])
	copy(h.s[i:], h.s[i+1:])
	h.s[len(h.s)-1] = nil
	h.s = h.s[:len(h.s)-1]
}

// base returns the newest sample taken at least one window before the
// newest one, or nil while the window is not yet full.
func (h *history) base() *cgroupstats.Sample {
	if i := h.baseIndex(); i >= 0 {
		return h.s[i]
	}
	return nil
}

// baseIndex is base's index in h.s, or -1.
func (h *history) baseIndex() int {
	if len(h.s) < 2 {
		return -1
	}
	now := h.s[len(h.s)-1].Time
	for i := len(h.s) - 2; i >= 0; i-- {
		// Allow a tenth of a window of scheduling jitter.
		if now.Sub(h.s[i].Time) >= h.window-h.window/10 {
			return i
		}
	}
	return -1
}

// restart keeps only the newest sample as the start of a new window.
func (h *history) restart() {
	if len(h.s) < 2 {
		return
	}
	h.free = append(h.free, h.s[:len(h.s)-1]...)
	h.s[0] = h.s[len(h.s)-1]
	clear(h.s[1:])
	h.s = h.s[:1]
}

// reset drops every sample: the next window starts from scratch.
func (h *history) reset() {
	h.free = append(h.free, h.s...)
	clear(h.s)
	h.s = h.s[:0]
}
