package pinning

import (
	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

// readHost reads the host's CPUs and picks the pin flags.
//
// cpumaps are sized from virNodeGetCPUMap, which counts every CPU the host
// has, online or not; virNodeGetInfo's nodes × sockets × cores × threads
// may count fewer when CPUs are offline. libvirt's test driver answers
// virNodeGetCPUMap with a fixed 8-CPU map (0, 2 and 4 online) whatever the
// host XML says, so there alone the node info's count is used, all online.
//
// The test driver also accepts no flags in virDomainPinVcpuFlags and pins
// only running domains, so there DOMAIN_AFFECT_CURRENT means exactly
// DOMAIN_AFFECT_LIVE.
func (c *Conn) readHost(lc *libvirt.Connect) error {
	typ, err := lc.GetType()
	if err != nil {
		return err
	}
	if typ == "TEST" {
		ni, err := lc.GetNodeInfo()
		if err != nil {
			return err
		}
		n := int(ni.GetMaxCPUs())
		c.host = hostCPUs{n: n, online: span(n)}
		c.pinFlags = libvirt.DOMAIN_AFFECT_CURRENT
		return nil
	}
	m, _, err := lc.GetCPUMap(0)
	if err != nil {
		return err
	}
	online := make([]int, 0, len(m))
	for cpu, on := range m {
		if on {
			online = append(online, cpu)
		}
	}
	c.host = hostCPUs{n: len(m), online: cpuset.New(online...)}
	c.pinFlags = libvirt.DOMAIN_AFFECT_LIVE
	return nil
}

// span returns the set 0..n-1.
func span(n int) cpuset.CPUSet {
	cpus := make([]int, n)
	for i := range cpus {
		cpus[i] = i
	}
	return cpuset.New(cpus...)
}
