package pinning

import (
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/pinning/cpulist"
)

// MetadataNS is the namespace URI of vsched's element in a domain's
// <metadata>; MetadataKey is the prefix virsh's --key gives it. A domain
// marked <vsched manage="no"/> there is sampled but never pinned:
//
//	virsh metadata DOM https://vsched.dev/xmlns/domain/1.0 --key vsched --set '<vsched manage="no"/>' --live
const (
	MetadataNS  = "https://vsched.dev/xmlns/domain/1.0"
	MetadataKey = "vsched"
)

// maxVCPUs keeps a hostile or corrupt description from allocating without
// bound: libvirt allows at most 16384 vCPUs (QEMU fewer). CPU lists are
// bounded by cpulist.Max.
const maxVCPUs = 16384

// domainXML is the part of a domain's live XML (virDomainGetXMLDesc) that
// vsched reads.
type domainXML struct {
	XMLName xml.Name `xml:"domain"`
	ID      string   `xml:"id,attr"`
	Name    string   `xml:"name"`
	UUID    string   `xml:"uuid"`
	VCPU    struct {
		Placement string `xml:"placement,attr"`
		CPUSet    string `xml:"cpuset,attr"`
		Current   string `xml:"current,attr"`
		Max       string `xml:",chardata"`
	} `xml:"vcpu"`
	VCPUs *struct {
		VCPU []struct {
			ID      string `xml:"id,attr"`
			Enabled string `xml:"enabled,attr"`
		} `xml:"vcpu"`
	} `xml:"vcpus"`
	CPUTune struct {
		VCPUPin []struct {
			VCPU   string `xml:"vcpu,attr"`
			CPUSet string `xml:"cpuset,attr"`
		} `xml:"vcpupin"`
	} `xml:"cputune"`
	NUMATune struct {
		Memory *struct {
			Mode    string `xml:"mode,attr"`
			NodeSet string `xml:"nodeset,attr"`
		} `xml:"memory"`
	} `xml:"numatune"`
	Metadata struct {
		VSched *struct {
			Manage string `xml:"manage,attr"`
		} `xml:"https://vsched.dev/xmlns/domain/1.0 vsched"`
	} `xml:"metadata"`
}

// domainInfo is what parseDomainXML makes of a domain's live XML.
type domainInfo struct {
	ID        int
	Name      string
	UUID      string
	VCPUs     []int                 // online vCPU ids, ascending
	Pins      map[int]cpuset.CPUSet // <cputune><vcpupin>: explicit pins by vCPU id
	CPUSet    cpuset.CPUSet         // <vcpu cpuset>
	NodeSet   cpuset.CPUSet         // strict <numatune><memory nodeset>
	Unmanaged bool                  // <vsched manage="no"/>
	// AutoPlacement is <vcpu placement='auto'>: libvirt pins the vCPUs
	// without a <vcpupin> where numad advises, which the XML does not say.
	AutoPlacement bool
}

// parseDomainXML parses a domain's live XML. Errors wrap ErrDomainXML.
//
// The online vCPU ids are the <vcpus><vcpu id='N'> not marked
// enabled='no'; without <vcpus>, they are 0..current-1 (current from
// <vcpu current='N'>, else <vcpu>'s count). The NUMA node set counts only
// when its mode is strict (libvirt's default when no mode is given).
func parseDomainXML(s string) (domainInfo, error) {
	var x domainXML
	if err := xml.Unmarshal([]byte(s), &x); err != nil {
		return domainInfo{}, fmt.Errorf("%w: %w", ErrDomainXML, err)
	}
	d := domainInfo{ID: -1, Name: x.Name, UUID: strings.TrimSpace(x.UUID), CPUSet: cpuset.New(), NodeSet: cpuset.New()}
	fail := func(what string, err error) (domainInfo, error) {
		return domainInfo{}, fmt.Errorf("%w: domain %q: %s: %w", ErrDomainXML, d.Name, what, err)
	}
	var err error
	if x.ID != "" {
		if d.ID, err = parseInt(x.ID, 1<<31-1); err != nil {
			return fail("id", err)
		}
	}
	if d.VCPUs, err = onlineVCPUs(&x); err != nil {
		return fail("vcpus", err)
	}
	if d.CPUSet, err = cpulist.Parse(x.VCPU.CPUSet); err != nil {
		return fail("vcpu cpuset", err)
	}
	d.AutoPlacement = strings.TrimSpace(x.VCPU.Placement) == "auto"
	for _, p := range x.CPUTune.VCPUPin {
		v, err := parseInt(p.VCPU, maxVCPUs-1)
		if err != nil {
			return fail("vcpupin vcpu", err)
		}
		set, err := cpulist.Parse(p.CPUSet)
		if err != nil {
			return fail("vcpupin cpuset", err)
		}
		if d.Pins == nil {
			d.Pins = make(map[int]cpuset.CPUSet)
		}
		d.Pins[v] = set
	}
	if m := x.NUMATune.Memory; m != nil && (m.Mode == "" || m.Mode == "strict") {
		if d.NodeSet, err = cpulist.Parse(m.NodeSet); err != nil {
			return fail("numatune nodeset", err)
		}
	}
	if v := x.Metadata.VSched; v != nil {
		d.Unmanaged = strings.EqualFold(strings.TrimSpace(v.Manage), "no")
	}
	return d, nil
}

// onlineVCPUs returns the online vCPU ids described by x, ascending.
func onlineVCPUs(x *domainXML) ([]int, error) {
	if x.VCPUs != nil && len(x.VCPUs.VCPU) > 0 {
		ids := make([]int, 0, len(x.VCPUs.VCPU))
		for _, v := range x.VCPUs.VCPU {
			id, err := parseInt(v.ID, maxVCPUs-1)
			if err != nil {
				return nil, err
			}
			if v.Enabled != "no" {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return slices.Compact(ids), nil
	}
	count := x.VCPU.Current
	if count == "" {
		count = x.VCPU.Max
	}
	n, err := parseInt(count, maxVCPUs)
	if err != nil {
		return nil, err
	}
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	return ids, nil
}

// parseInt parses a decimal in 0..limit, spaces around it allowed.
func parseInt(s string, limit int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	if n < 0 || n > limit {
		return 0, fmt.Errorf("%d out of range 0-%d", n, limit)
	}
	return n, nil
}
