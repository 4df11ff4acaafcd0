package balancer

import "slices"

// Ties between vCPUs go to the first by (domain, index). Comparing the
// strings in the search's inner loops is slow, so newHost gives each vCPU
// an integer key that orders the same way: its domain's rank among the
// host's domains, then its index.

// less orders vCPUs by (domain, index): the package's stable tie-break.
func (h *host) less(v, w *hv) bool {
	if h.keyed {
		return v.key < w.key
	}
	x, y := &h.src[v.src], &h.src[w.src]
	if x.Domain != y.Domain {
		return x.Domain < y.Domain
	}
	return x.Index < y.Index
}

// keyer numbers domains in the order first seen while newHost reads the
// snapshot; rank then turns the numbers into keys.
type keyer struct {
	// tab is a small direct-mapped cache in front of ids: a snapshot has
	// few domains, or has each one's vCPUs together.
	tab [256]struct {
		name string
		id   int32 // plus one; 0: empty
	}
	ids   map[string]int32
	names []string
	last  []int // per domain number: the last index seen
	bad   bool  // an index does not fit a key
	mixed bool  // some domain's indices do not ascend in snapshot order
}

// key returns x's provisional key (its domain's number, then its index).
func (k *keyer) key(x *VCPU) int64 {
	if x.Index < 0 || x.Index > 1<<31-1 {
		k.bad = true
		return 0
	}
	d := x.Domain
	slot := &k.tab[0]
	if n := len(d); n > 0 {
		slot = &k.tab[(n*31+int(d[0])*7+int(d[n-1]))&255]
	}
	if slot.id == 0 || slot.name != d {
		id, ok := k.ids[d]
		if !ok {
			if k.ids == nil {
				k.ids = make(map[string]int32)
			}
			id = int32(len(k.names))
			k.ids[d] = id
			k.names = append(k.names, d)
			k.last = append(k.last, -1)
		}
		slot.name, slot.id = d, id+1
	}
	id := slot.id - 1
	if x.Index <= k.last[id] {
		k.mixed = true
	}
	k.last[id] = x.Index
	return int64(id)<<32 | int64(x.Index)
}

// rank rewrites h.vcpus' provisional keys with their domains' ranks by
// name and sets h.keyed, unless an index did not fit, and h.domains and
// h.grouped.
func (k *keyer) rank(h *host) {
	if k.bad {
		return
	}
	byName := make([]int32, len(k.names))
	for i := range byName {
		byName[i] = int32(i)
	}
	slices.SortFunc(byName, func(a, b int32) int {
		if k.names[a] < k.names[b] {
			return -1
		}
		return 1 // names are distinct
	})
	rank := make([]int64, len(k.names))
	for r, id := range byName {
		rank[id] = int64(r)
	}
	for i := range h.vcpus {
		x := &h.vcpus[i].key
		*x = rank[*x>>32]<<32 | *x&(1<<32-1)
	}
	h.keyed, h.domains, h.grouped = true, len(k.names), !k.mixed
}
