package main

import (
	"fmt"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cgroupstats"
)

// hostView is the host as the policy sees it: the topology read from sysfs
// and the pCPUs to balance over. A kept-open devices/system/cpu/online is
// compared every cycle (one pread), and the topology re-read when it
// changes, so CPU hotplug is noticed while vsched runs.
type hostView struct {
	sysRoot string
	want    cpuset.CPUSet // --cpus, or empty for every online non-isolated CPU
	topo    cgroupstats.Topology
	cpus    cpuset.CPUSet
	watch   *cgroupstats.OnlineWatch // nil: never re-read (tests)
}

// newHostView reads the topology; want is --cpus (empty for all), which
// must be online.
func newHostView(sysRoot string, want cpuset.CPUSet) (*hostView, error) {
	topo, err := cgroupstats.ReadTopology(sysRoot)
	if err != nil {
		return nil, err
	}
	if off := want.Difference(topo.Online); !off.IsEmpty() {
		return nil, fmt.Errorf("--cpus %s: CPUs %s are not online (online: %s)", want, off, topo.Online)
	}
	h := &hostView{sysRoot: sysRoot, want: want}
	h.set(topo)
	if h.cpus.IsEmpty() {
		return nil, fmt.Errorf("no online, non-isolated CPUs to balance over (online %s, isolated %s)", topo.Online, topo.Isolated)
	}
	if h.watch, err = cgroupstats.NewOnlineWatch(sysRoot); err != nil {
		return nil, err
	}
	return h, nil
}

// close releases the kept-open file.
func (h *hostView) close() {
	if h.watch != nil {
		_ = h.watch.Close()
	}
}

// set adopts a topology: the CPUs to balance over are --cpus, or every
// online CPU the kernel did not isolate, and always online ones only.
func (h *hostView) set(topo cgroupstats.Topology) {
	h.topo = topo
	if h.want.IsEmpty() {
		h.cpus = topo.Online.Difference(topo.Isolated)
	} else {
		h.cpus = h.want.Intersection(topo.Online)
	}
}

// refresh re-reads the topology when the online CPUs changed and reports
// whether the CPUs to balance over changed.
func (h *hostView) refresh() (bool, error) {
	if h.watch == nil {
		return false, nil
	}
	changed, err := h.watch.Changed()
	if err != nil || !changed {
		return false, err
	}
	topo, err := cgroupstats.ReadTopology(h.sysRoot)
	if err != nil {
		return false, err
	}
	before := h.topo
	h.set(topo)
	return !before.Equal(topo), nil
}
