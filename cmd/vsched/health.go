package main

import "time"

// domainHealth backs off, per domain (by UUID), from domains the sampler
// cannot read for a reason other than having stopped: no cgroup found,
// permission denied. Without it one bad domain would cost a warning and a
// /proc rescan every cycle.
type domainHealth map[string]*backoff

// backoff is one failing domain's state.
type backoff struct {
	delay  time.Duration
	until  time.Time
	since  time.Time // first failure
	warned bool      // the failure was logged as a warning
}

const (
	firstBackoff = time.Second
	maxBackoff   = time.Minute
	// warnAfter is how long a domain fails before it is worth a warning:
	// a guest that just started is listed before QEMU has made its vCPU
	// threads and cgroups.
	warnAfter = 10 * time.Second
)

// skip reports whether the domain is waiting out its backoff at now.
func (h domainHealth) skip(uuid string, now time.Time) bool {
	b, ok := h[uuid]
	return ok && now.Before(b.until)
}

// any reports whether some domain is failing.
func (h domainHealth) any() bool { return len(h) > 0 }

// fail records a failed sample of the domain and returns the delay before
// the next try; warn is true once, when the domain has failed for
// warnAfter.
func (h domainHealth) fail(uuid string, now time.Time) (delay time.Duration, warn bool) {
	b, ok := h[uuid]
	if !ok {
		b = &backoff{delay: firstBackoff, since: now}
		h[uuid] = b
	} else {
		b.delay = min(2*b.delay, maxBackoff)
	}
	b.until = now.Add(b.delay)
	if !b.warned && now.Sub(b.since) >= warnAfter {
		b.warned = true
		return b.delay, true
	}
	return b.delay, false
}

// ok records a good sample; it reports whether the domain's failure had
// been warned about.
func (h domainHealth) ok(uuid string) bool {
	b, was := h[uuid]
	delete(h, uuid)
	return was && b.warned
}

// prune forgets domains that are no longer listed: a domain that starts
// again starts healthy.
func (h domainHealth) prune(ls *listing) {
	for uuid := range h {
		if _, ok := ls.byUUID[uuid]; !ok {
			delete(h, uuid)
		}
	}
}
