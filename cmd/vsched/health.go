package main

import "time"

// domainHealth backs off, per domain (by UUID), from domains the sampler
// cannot read for a reason other than having stopped: no cgroup found,
// permission denied. Without it one bad domain would cost a warning and a
// /proc rescan every cycle.
type domainHealth map[string]*backoff

// backoff is one failing domain's state.
type backoff struct {
	delay time.Duration
	until time.Time
}

const (
	firstBackoff = time.Second
	maxBackoff   = time.Minute
)

// skip reports whether the domain is waiting out its backoff at now.
func (h domainHealth) skip(uuid string, now time.Time) bool {
	b, ok := h[uuid]
	return ok && now.Before(b.until)
}

// any reports whether some domain is failing.
func (h domainHealth) any() bool { return len(h) > 0 }

// fail records a failed sample of the domain and returns the delay before
// the next try; first is true when the domain was healthy until now.
func (h domainHealth) fail(uuid string, now time.Time) (delay time.Duration, first bool) {
	b, ok := h[uuid]
	if !ok {
		b = &backoff{delay: firstBackoff}
		h[uuid] = b
	} else {
		b.delay = min(2*b.delay, maxBackoff)
	}
	b.until = now.Add(b.delay)
	return b.delay, !ok
}

// ok records a good sample; it reports whether the domain was failing.
func (h domainHealth) ok(uuid string) bool {
	_, was := h[uuid]
	delete(h, uuid)
	return was
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
