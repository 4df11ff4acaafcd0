package main

import (
	"time"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/pinning"
)

// list refreshes the libvirt listing when it is older than the relist
// period (measured on the samples' clock), or marked stale; it reports
// whether a listing is at hand. Listing costs a round trip to libvirtd per
// domain, so at sub-second intervals it is not done every cycle: domains
// that start are picked up within a relist period, and one that stops shows
// at once as a failed sample, which marks the listing stale.
func (l *loop) list() bool {
	if last := l.hist.newest(); !l.listedAt.IsZero() && last != nil && last.Time.Sub(l.listedAt) < l.relist {
		return true
	}
	doms, err := l.pinner.Domains()
	if err != nil {
		if !l.connDown {
			l.log.WithError(err).Warn("libvirt unreachable, will reconnect")
		}
		l.connDown = true
		l.listedAt = time.Time{}
		l.hist.reset()
		return false
	}
	if l.connDown {
		l.log.Info("libvirt connection restored")
		l.connDown = false
	}
	// Listing age is measured on the samples' clock only; before the first
	// sample the next cycle lists again.
	l.listedAt = time.Time{}
	if last := l.hist.newest(); last != nil {
		l.listedAt = last.Time
	}
	l.doms = doms
	l.cgDoms = l.cgDoms[:0]
	for _, d := range doms {
		l.cgDoms = append(l.cgDoms, cgroupstats.Domain{ID: d.ID, Name: d.Name, UUID: d.UUID, VCPUs: d.VCPUs})
	}
	return true
}

// setPin records a pin vsched made in the cached listing, so the next
// cycles see it before the listing is refreshed.
func (l *loop) setPin(p pinning.Pin) {
	for i := range l.doms {
		if d := &l.doms[i]; d.Name == p.Domain && p.VCPU < len(d.Pins) {
			d.Pins[p.VCPU] = p.CPUs
		}
	}
}

// fix marks the vCPUs the policy must leave where they are, while their
// load still counts: those of --exclude'd domains, and those vsched moved
// less than --cooldown ago. The cooldown is what keeps a noisy host calm:
// a vCPU's measured demand moves with its neighbours (a spin-waiting guest
// asks for more the more it is starved), so without it two near-equal
// placements can trade places on noise alone.
func (l *loop) fix(snap balancer.Snapshot, now time.Time) {
	for k, t := range l.moved {
		if now.Sub(t) >= l.opts.cooldown {
			delete(l.moved, k)
		}
	}
	for i := range snap.VCPUs {
		v := &snap.VCPUs[i]
		_, recent := l.moved[vcpuKey{v.Domain, v.Index}]
		v.Fixed = recent || l.opts.excluded(v.Domain)
	}
}
