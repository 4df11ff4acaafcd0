package pinning

import (
	"cmp"
	"fmt"
	"slices"

	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

// VCPU is one online vCPU of a domain.
type VCPU struct {
	// ID is the vCPU's id as libvirt numbers it; ids of a domain need not
	// be contiguous (vCPU 2 disabled leaves 0, 1, 3).
	ID int
	// Pin is the vCPU's live affinity: the host CPUs it may run on. An
	// unpinned vCPU shows the domain's <vcpu cpuset>, or all online CPUs.
	Pin cpuset.CPUSet
}

// Domain is a running libvirt domain as Domains found it.
type Domain struct {
	// ID is libvirt's domain ID, new at every start.
	ID int
	// Name is the domain's name, for humans and logs.
	Name string
	// UUID is the domain's UUID in its string form: its identity, which
	// survives restarts.
	UUID string
	// VCPUs lists the online vCPUs by ascending id.
	VCPUs []VCPU
	// CPUSet is the operator's <vcpu cpuset='...'>; empty when none.
	CPUSet cpuset.CPUSet
	// NodeSet holds the NUMA node ids of a strict
	// <numatune><memory mode='strict' nodeset='...'>; empty when none.
	NodeSet cpuset.CPUSet
	// Unmanaged is true when the domain's metadata holds
	// <vsched manage="no"/> in the MetadataNS namespace, or when its XML
	// could not be read (Unread): vsched samples it but never pins it.
	Unmanaged bool
	// Unread, when not nil, is why the domain's live XML could not be read
	// or parsed (for example a guest whose metadata makes the XML too large
	// for libvirt's RPC: "Unable to encode message payload"). The operator's
	// settings (cpuset, numatune, metadata) are then unknown: CPUSet and
	// NodeSet are empty and Unmanaged is true. VCPUs and their pins come
	// from libvirt's vCPU info instead (virDomainGetVcpus), so the
	// domain's load is still sampled and the checkpoint still judged; when
	// that fails too, VCPUs is empty. Every listing tries the XML again.
	Unread error
}

// Domains lists the running (active) domains, sorted by name, from each
// one's live XML: one call per domain (two under numad placement, see
// describe). A domain that stops while it is being listed is left out.
func (c *Conn) Domains() ([]Domain, error) {
	var out []Domain
	err := c.call("list domains", func(lc *libvirt.Connect) error {
		var err error
		out, err = c.listDomains(lc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	slices.SortFunc(out, func(a, b Domain) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.UUID, b.UUID)) })
	return out, nil
}

// listDomains lists the active domains on lc, freeing every libvirt object.
// It re-reads the host's CPUs first: CPUs may have come or gone.
func (c *Conn) listDomains(lc *libvirt.Connect) ([]Domain, error) {
	if err := c.readHost(lc); err != nil {
		return nil, err
	}
	doms, err := lc.ListAllDomains(libvirt.CONNECT_LIST_DOMAINS_ACTIVE)
	if err != nil {
		return nil, err
	}
	defer freeAll(doms)
	out := make([]Domain, 0, len(doms))
	for i := range doms {
		d, err := c.describe(&doms[i])
		if err == nil {
			out = append(out, d)
			continue
		}
		if c.lost(err) {
			return nil, err
		}
		if gone(&doms[i], err) {
			continue
		}
		name, _ := doms[i].GetName()
		return nil, fmt.Errorf("read domain %s: %w", name, clean(err))
	}
	return out, nil
}

// readXML reads a domain's live XML. Tests replace it to make one domain's
// XML fail as a real libvirtd fails it, which the in-process test driver
// (no RPC, no message size limit) cannot.
var readXML = func(dom *libvirt.Domain) (string, error) { return dom.GetXMLDesc(0) }

// describeUnread describes a domain whose XML could not be read (cause):
// its identity, its online vCPU ids from libvirt's vCPU info
// (virDomainGetVcpus), and their pins from libvirt's pin info, which
// follows the same rule as the XML (virDomainDefGetVcpuPinInfoHelper), so
// that a vCPU nobody re-pinned keeps the pin the last readable listing saw
// and is not taken for the operator's. Where the pin info fails, the vCPU
// info's live affinity stands in. A vCPU whose id comes twice, whose pin
// is empty, or whose map does not cover every host CPU (the binding sizes
// maps from the node info, which may miss CPUs past an offline one, and
// asks for as many as there are online vCPUs, so with a gap the highest
// ids have none) is left out: a pin read wrong could pass for someone
// else's and lose the checkpoint's original, while a vCPU left out reads
// as offline and its entry is kept. An error means not even the domain's
// identity could be read.
func (c *Conn) describeUnread(dom *libvirt.Domain, cause error) (Domain, error) {
	name, err := dom.GetName()
	if err != nil {
		return Domain{}, err
	}
	uuid, err := dom.GetUUIDString()
	if err != nil {
		return Domain{}, err
	}
	id, err := dom.GetID()
	if err != nil {
		return Domain{}, err
	}
	d := Domain{ID: int(id), Name: name, UUID: uuid, CPUSet: cpuset.New(), NodeSet: cpuset.New(), Unmanaged: true,
		Unread: fmt.Errorf("domain %s: live XML: %w", name, cause)}
	infos, err := dom.GetVcpus()
	if err != nil {
		d.Unread = fmt.Errorf("%w; vCPU info: %w", d.Unread, clean(err))
		return d, nil
	}
	maps, err := dom.GetVcpuPinInfo(libvirt.DOMAIN_AFFECT_LIVE)
	for _, v := range infos {
		id := int(v.Number)
		m := v.CpuMap
		if err == nil {
			m = nil
			if id < len(maps) {
				m = maps[id]
			}
		}
		pin := fromCPUMap(m)
		if len(m) < c.host.n || pin.IsEmpty() || countID(infos, id) > 1 {
			continue
		}
		d.VCPUs = append(d.VCPUs, VCPU{ID: id, Pin: pin})
	}
	slices.SortFunc(d.VCPUs, func(a, b VCPU) int { return cmp.Compare(a.ID, b.ID) })
	return d, nil
}

// describe reads one domain from its live XML: one call. libvirt's pin
// info would take three more (the binding's GetVcpuPinInfo also asks for
// the node's and the domain's info), about three times the XML's cost on a
// real libvirtd, and says what the XML says, except under numad placement.
//
// When the XML cannot be read or parsed while the connection still
// answers, the fault is the domain's (an RPC error such as a reply too
// large to encode says nothing of the connection then): describe returns
// what describeUnread finds, so that one such domain neither stops a
// listing nor keeps its vCPUs' original pins from being put back.
func (c *Conn) describe(dom *libvirt.Domain) (Domain, error) {
	d, err := c.describeXML(dom)
	if err == nil || !alive(c.lc) || gone(dom, err) {
		return d, err
	}
	return c.describeUnread(dom, clean(err))
}

// describeXML is describe from the live XML.
func (c *Conn) describeXML(dom *libvirt.Domain) (Domain, error) {
	s, err := readXML(dom)
	if err != nil {
		return Domain{}, err
	}
	info, err := parseDomainXML(s)
	if err != nil {
		return Domain{}, err
	}
	var maps [][]bool
	if info.AutoPlacement {
		if maps, err = dom.GetVcpuPinInfo(libvirt.DOMAIN_AFFECT_LIVE); err != nil {
			return Domain{}, err
		}
	}
	return Domain{
		ID: info.ID, Name: info.Name, UUID: info.UUID,
		VCPUs:   vcpuPins(info, maps, c.host),
		CPUSet:  info.CPUSet,
		NodeSet: info.NodeSet,

		Unmanaged: info.Unmanaged,
	}, nil
}

// vcpuPins gives each online vCPU of info its live pin by libvirt's own
// rule (virDomainDefGetVcpuPinInfoHelper): its <vcpupin>, else the
// domain's <vcpu cpuset>, else every online host CPU. Under numad
// placement the rule's last step is numad's advice instead, which only
// libvirt's pin info tells: maps is that answer, indexed by vCPU id, and
// nil otherwise. The binding asks for as many maps as the domain has
// online vCPUs, so with a vCPU disabled the highest ids have none, and it
// sizes each map from the node info, which may miss CPUs past an offline
// one: where a map is missing or too short the rule stands.
func vcpuPins(info domainInfo, maps [][]bool, host hostCPUs) []VCPU {
	out := make([]VCPU, len(info.VCPUs))
	for i, id := range info.VCPUs {
		out[i].ID = id
		explicit, pinned := info.Pins[id]
		switch {
		case pinned:
			out[i].Pin = explicit
		case id < len(maps) && len(maps[id]) >= host.n:
			out[i].Pin = fromCPUMap(maps[id])
		case !info.CPUSet.IsEmpty():
			out[i].Pin = info.CPUSet
		default:
			out[i].Pin = host.online
		}
	}
	return out
}

// countID counts the entries of infos numbered id.
func countID(infos []libvirt.DomainVcpuInfo, id int) int {
	n := 0
	for _, v := range infos {
		if int(v.Number) == id {
			n++
		}
	}
	return n
}

// gone reports whether err, from a call on dom, means that dom no longer
// exists or no longer runs.
func gone(dom *libvirt.Domain, err error) bool {
	if lvCode(err) == libvirt.ERR_NO_DOMAIN {
		return true
	}
	active, aerr := dom.IsActive()
	if aerr != nil {
		return lvCode(aerr) == libvirt.ERR_NO_DOMAIN
	}
	return !active
}

// freeAll frees the libvirt domain objects in doms.
func freeAll(doms []libvirt.Domain) {
	for i := range doms {
		_ = doms[i].Free()
	}
}
