package main

import (
	"time"

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
type history struct {
	window time.Duration
	keep   int
	s      []*cgroupstats.Sample
	free   []*cgroupstats.Sample
}

func newHistory(window, interval time.Duration) history {
	keep := 2
	if interval > 0 {
		keep = int((window+interval-1)/interval) + 2
	}
	return history{window: window, keep: keep}
}

// next returns a buffer for the next sample and appends it as the newest.
func (h *history) next() *cgroupstats.Sample {
	var buf *cgroupstats.Sample
	switch {
	case len(h.free) > 0:
		buf, h.free = h.free[len(h.free)-1], h.free[:len(h.free)-1]
	case len(h.s) >= h.keep:
		buf = h.s[0]
		copy(h.s, h.s[1:])
		h.s = h.s[:len(h.s)-1]
	default:
		buf = &cgroupstats.Sample{}
	}
	h.s = append(h.s, buf)
	return buf
}

// base returns the newest sample taken at least one window before the
// newest one, or nil while the window is not yet full.
func (h *history) base() *cgroupstats.Sample {
	if len(h.s) < 2 {
		return nil
	}
	now := h.s[len(h.s)-1].Time
	for i := len(h.s) - 2; i >= 0; i-- {
		// Allow a tenth of a window of scheduling jitter.
		if now.Sub(h.s[i].Time) >= h.window-h.window/10 {
			return h.s[i]
		}
	}
	return nil
}

// restart keeps only the newest sample as the start of a new window.
func (h *history) restart() {
	if len(h.s) < 2 {
		return
	}
	h.free = append(h.free, h.s[:len(h.s)-1]...)
	h.s[0] = h.s[len(h.s)-1]
	h.s = h.s[:1]
}

// reset drops every sample: the next window starts from scratch.
func (h *history) reset() {
	h.free = append(h.free, h.s...)
	h.s = h.s[:0]
}
