package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/prometheus/procfs"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/pinning"
)

// isolatedCPUsFile lists the CPUs the kernel isolated (isolcpus=).
const isolatedCPUsFile = "/sys/devices/system/cpu/isolated"

// snapshot turns a sample into the balancer's input. doms is the libvirt
// listing the sample was taken of, in the same order; its live pins are the
// vCPUs' current pins. When match is given, domains whose ID differs from the
// same-named domain in match are left out: a restarted guest's counters
// start again and must not be diffed against its previous life.
func snapshot(s *cgroupstats.Sample, doms []pinning.Domain, match *cgroupstats.Sample) balancer.Snapshot {
	var ids map[string]int
	if match != nil {
		ids = make(map[string]int, len(match.Domains))
		for _, d := range match.Domains {
			ids[d.Domain.Name] = d.Domain.ID
		}
	}
	var snap balancer.Snapshot
	for i, ds := range s.Domains {
		if ds.Err != nil {
			continue
		}
		if id, ok := ids[ds.Domain.Name]; match != nil && (!ok || id != ds.Domain.ID) {
			continue
		}
		for _, v := range ds.VCPUs {
			pin := v.Affinity
			if i < len(doms) && doms[i].Name == ds.Domain.Name && v.VCPU < len(doms[i].Pins) && !doms[i].Pins[v.VCPU].IsEmpty() {
				pin = doms[i].Pins[v.VCPU]
			}
			snap.VCPUs = append(snap.VCPUs, balancer.VCPU{
				Domain: ds.Domain.Name, Index: v.VCPU, PCPU: v.LastCPU,
				RunNs: v.RunNs, WaitNs: v.WaitNs, Pin: pin,
			})
		}
	}
	return snap
}

type vcpuKey struct {
	domain string
	vcpu   int
}

// vcpuRate is one vCPU's usage and run-queue wait over an interval, in
// percent of one pCPU.
type vcpuRate struct {
	tid, pcpu   int
	usage, wait float64
}

// vcpuRates computes each vCPU's usage and wait between two samples of the
// same domains (same name and ID); vCPUs new in cur are left out.
func vcpuRates(prev, cur *cgroupstats.Sample) map[vcpuKey]vcpuRate {
	elapsed := float64(cur.Time.Sub(prev.Time).Nanoseconds())
	old := make(map[vcpuKey]cgroupstats.VCPUStat)
	oldID := make(map[string]int)
	for _, d := range prev.Domains {
		if d.Err != nil {
			continue
		}
		oldID[d.Domain.Name] = d.Domain.ID
		for _, v := range d.VCPUs {
			old[vcpuKey{d.Domain.Name, v.VCPU}] = v
		}
	}
	out := make(map[vcpuKey]vcpuRate)
	if elapsed <= 0 {
		return out
	}
	for _, d := range cur.Domains {
		if id, ok := oldID[d.Domain.Name]; d.Err != nil || !ok || id != d.Domain.ID {
			continue
		}
		for _, v := range d.VCPUs {
			p, ok := old[vcpuKey{d.Domain.Name, v.VCPU}]
			if !ok || p.TID != v.TID || v.RunNs < p.RunNs || v.WaitNs < p.WaitNs {
				continue
			}
			out[vcpuKey{d.Domain.Name, v.VCPU}] = vcpuRate{
				tid: v.TID, pcpu: v.LastCPU,
				usage: 100 * float64(v.RunNs-p.RunNs) / elapsed,
				wait:  100 * float64(v.WaitNs-p.WaitNs) / elapsed,
			}
		}
	}
	return out
}

// cpuUsage is one pCPU's busy share over an interval, in percent.
type cpuUsage struct {
	cpu   int
	usage float64
}

// pcpuUsage computes each online pCPU's busy percentage from the two
// samples' /proc/stat readings (clock-tick resolution: 10 ms).
func pcpuUsage(prev, cur *cgroupstats.Sample) []cpuUsage {
	old := make(map[int]cgroupstats.CPUStat, len(prev.CPUs))
	for _, c := range prev.CPUs {
		old[c.CPU] = c
	}
	out := make([]cpuUsage, 0, len(cur.CPUs))
	for _, c := range cur.CPUs {
		p, ok := old[c.CPU]
		if !ok || c.TotalNs <= p.TotalNs || c.BusyNs < p.BusyNs {
			continue
		}
		out = append(out, cpuUsage{c.CPU, 100 * float64(c.BusyNs-p.BusyNs) / float64(c.TotalNs-p.TotalNs)})
	}
	return out
}

func formatPCPU(u []cpuUsage) string {
	parts := make([]string, len(u))
	for i, c := range u {
		parts[i] = fmt.Sprintf("%d:%.0f%%", c.cpu, c.usage)
	}
	return strings.Join(parts, " ")
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// onlineCPUs lists the online CPUs from <procRoot>/stat.
func onlineCPUs(procRoot string) (cpuset.CPUSet, error) {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return cpuset.New(), err
	}
	st, err := fs.Stat()
	if err != nil {
		return cpuset.New(), fmt.Errorf("reading %s/stat: %w", procRoot, err)
	}
	ids := make([]int, 0, len(st.CPU))
	for id := range st.CPU {
		ids = append(ids, int(id))
	}
	return cpuset.New(ids...), nil
}
