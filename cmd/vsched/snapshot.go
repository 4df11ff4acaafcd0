package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/cgroupstats"
)

// vcpuName is a vCPU's name for humans: "domain/vcpu".
func vcpuName(domain string, vcpu int) string { return fmt.Sprintf("%s/%d", domain, vcpu) }

// window is what one planning window measured, computed once per cycle and
// shared by the policy, the metrics and the plot.
type window struct {
	snap balancer.Snapshot
	tids map[balancer.VCPUID]int // thread ids, for the logs
	pcpu []pcpuPoint             // every balanced pCPU, by CPU number
	// offline names domains whose <vcpu cpuset> names CPUs that are not
	// balanced (offline or outside --cpus): logged once each.
	offline map[string]cpuset.CPUSet
}

// snapshotInputs is what buildWindow needs besides the two samples.
type snapshotInputs struct {
	listing  *listing
	cpus     cpuset.CPUSet // pCPUs to balance over
	nodes    []cpuset.CPUSet
	excluded func(name string) bool
	started  time.Time // the daemon's start, for Snapshot.At
}

// buildWindow turns the window's first and last samples into the policy's
// input. A vCPU counts only when both samples read the same thread of the
// same domain life (a restarted guest or a replaced thread starts its
// counters again); a domain that failed to sample is left out, its load
// showing as background through /proc/stat.
func buildWindow(base, cur *cgroupstats.Sample, in snapshotInputs) window {
	elapsed := cur.Time.Sub(base.Time)
	w := window{
		snap: balancer.Snapshot{At: cur.Time.Sub(in.started), Window: elapsed, Background: map[int]float64{}},
		tids: map[balancer.VCPUID]int{},
	}
	if elapsed <= 0 {
		return w
	}
	ns := float64(elapsed.Nanoseconds())
	type old struct {
		tid       int
		start     uint64
		run, wait uint64
	}
	before := map[balancer.VCPUID]old{}
	life := map[string]int{}
	for _, d := range base.Domains {
		if d.Err != nil {
			continue
		}
		life[d.Domain.UUID] = d.Domain.ID
		for _, v := range d.VCPUs {
			before[balancer.VCPUID{Domain: d.Domain.UUID, VCPU: v.VCPU}] = old{v.TID, v.Start, v.RunNs, v.WaitNs}
		}
	}
	for _, d := range cur.Domains {
		if id, ok := life[d.Domain.UUID]; d.Err != nil || !ok || id != d.Domain.ID {
			continue
		}
		allowed, outside := allowedCPUs(in, d.Domain.UUID)
		if !outside.IsEmpty() {
			if w.offline == nil {
				w.offline = map[string]cpuset.CPUSet{}
			}
			w.offline[d.Domain.Name] = outside
		}
		unmanaged := in.excluded(d.Domain.Name) || in.listing.unmanaged(d.Domain.UUID)
		for _, v := range d.VCPUs {
			id := balancer.VCPUID{Domain: d.Domain.UUID, VCPU: v.VCPU}
			p, ok := before[id]
			if !ok || p.tid != v.TID || p.start != v.Start || v.RunNs < p.run || v.WaitNs < p.wait {
				continue
			}
			pin, listed := in.listing.pinOf(id)
			if !listed || pin.IsEmpty() {
				pin = v.Affinity
			}
			pcpu := v.LastCPU
			if pin.Size() == 1 {
				pcpu = pin.List()[0]
			}
			vc := balancer.VCPU{
				ID: id, Name: vcpuName(d.Domain.Name, v.VCPU), PCPU: pcpu, Pin: pin, Allowed: allowed,
				Usage: 100 * float64(v.RunNs-p.run) / ns, Wait: 100 * float64(v.WaitNs-p.wait) / ns,
				Fixed: unmanaged || in.listing.operator[id] || allowed.IsEmpty(),
			}
			w.snap.VCPUs = append(w.snap.VCPUs, vc)
			w.tids[id] = v.TID
		}
	}
	w.pcpu = pcpuRates(base, cur, in.cpus, w.snap.VCPUs)
	for _, c := range w.pcpu {
		w.snap.Background[c.CPU] = c.Background
	}
	return w
}

// allowedCPUs returns where a domain's vCPUs may be pinned: its
// <vcpu cpuset>, within its strict <numatune> nodes, within the balanced
// CPUs. outside lists the cpuset's CPUs that are not balanced (offline, or
// outside --cpus), for a log line.
func allowedCPUs(in snapshotInputs, uuid string) (allowed, outside cpuset.CPUSet) {
	allowed = in.cpus
	i, ok := in.listing.byUUID[uuid]
	if !ok {
		return allowed, cpuset.New()
	}
	d := in.listing.doms[i]
	outside = cpuset.New()
	if !d.CPUSet.IsEmpty() {
		allowed = allowed.Intersection(d.CPUSet)
		outside = d.CPUSet.Difference(in.cpus)
	}
	if !d.NodeSet.IsEmpty() {
		onNodes := cpuset.New()
		for _, n := range d.NodeSet.List() {
			if n < len(in.nodes) {
				onNodes = onNodes.Union(in.nodes[n])
			}
		}
		allowed = allowed.Intersection(onNodes)
	}
	return allowed, outside
}

// unmanaged reports whether the domain opted out in its metadata.
func (ls *listing) unmanaged(uuid string) bool {
	i, ok := ls.byUUID[uuid]
	return ok && ls.doms[i].Unmanaged
}

// pcpuRates computes each balanced pCPU's busy share from /proc/stat, its
// vCPUs' demand (run plus wait, each capped at one pCPU) and the background:
// busy time that no sampled vCPU ran there (emulator and I/O threads, vhost,
// host processes, guests not sampled). /proc/stat counts in 10 ms ticks, so
// background is accurate to about 1% over a one-second window.
func pcpuRates(base, cur *cgroupstats.Sample, cpus cpuset.CPUSet, vcpus []balancer.VCPU) []pcpuPoint {
	old := make(map[int]cgroupstats.CPUStat, len(base.CPUs))
	for _, c := range base.CPUs {
		old[c.CPU] = c
	}
	onCPU, demand := map[int]float64{}, map[int]float64{} // vCPU run time and demand per pCPU
	for _, v := range vcpus {
		onCPU[v.PCPU] += v.Usage
		demand[v.PCPU] += min(100, v.Usage+v.Wait)
	}
	out := make([]pcpuPoint, 0, cpus.Size())
	for _, c := range cur.CPUs {
		p, ok := old[c.CPU]
		if !ok || !cpus.Contains(c.CPU) || c.TotalNs <= p.TotalNs || c.BusyNs < p.BusyNs {
			continue
		}
		usage := 100 * float64(c.BusyNs-p.BusyNs) / float64(c.TotalNs-p.TotalNs)
		bg := math.Max(0, math.Min(100, usage-onCPU[c.CPU]))
		out = append(out, pcpuPoint{CPU: c.CPU, Usage: usage, Demand: demand[c.CPU] + bg, Background: bg})
	}
	return out
}

func formatPCPU(u []pcpuPoint) string {
	parts := make([]string, len(u))
	for i, c := range u {
		parts[i] = fmt.Sprintf("%d:%.0f%%", c.CPU, c.Usage)
	}
	return strings.Join(parts, " ")
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
