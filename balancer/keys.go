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

// setKeys fills h.vcpus' keys and sets h.keyed, unless some index does not
// fit the key (then less compares the strings).
func (h *host) setKeys() {
	// Domains are looked up in a small direct-mapped table first (a
	// snapshot has few, or has each one's vCPUs together), then in a map.
	var tab [256]struct {
		name string
		id   int32 // plus one; 0: empty
	}
	var ids map[string]int32
	var names []string
	for i := range h.vcpus {
		x := &h.src[h.vcpus[i].src]
		if x.Index < 0 || x.Index > 1<<31-1 {
			return
		}
		d := x.Domain
		slot := &tab[0]
		if n := len(d); n > 0 {
			slot = &tab[(n*31+int(d[0])*7+int(d[n-1]))&255]
		}
		if slot.id == 0 || slot.name != d {
			id, ok := ids[d]
			if !ok {
				if ids == nil {
					ids = make(map[string]int32)
				}
				id = int32(len(names))
				ids[d] = id
				names = append(names, d)
			}
			slot.name, slot.id = d, id+1
		}
		h.vcpus[i].key = int64(slot.id-1)<<32 | int64(x.Index)
	}
	byName := make([]int32, len(names))
	for i := range byName {
		byName[i] = int32(i)
	}
	slices.SortFunc(byName, func(a, b int32) int {
		if names[a] < names[b] {
			return -1
		}
		return 1 // names are distinct
	})
	rank := make([]int64, len(names))
	for r, id := range byName {
		rank[id] = int64(r)
	}
	for i := range h.vcpus {
		k := &h.vcpus[i].key
		*k = rank[*k>>32]<<32 | *k&(1<<32-1)
	}
	h.keyed = true
}
