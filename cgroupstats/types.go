package cgroupstats

import (
	"time"

	"k8s.io/utils/cpuset"
)

// Domain identifies one running libvirt domain to sample; the caller fills
// it from libvirt.
type Domain struct {
	ID    int    // libvirt domain ID, new at every start
	Name  string // domain name
	UUID  string // domain UUID, used to find QEMU when no cgroup is found
	VCPUs []int  // ids of the online vCPUs, as libvirt reports them (may have gaps: 0,1,3)
}

// Sample is one reading of every pCPU and of every vCPU of the given
// domains. Sampler.Sample fills it in place and reuses its slices.
type Sample struct {
	Time    time.Time      // time.Now() at the reading, monotonic clock included
	CPUs    []CPUStat      // online pCPUs, from <proc>/stat
	Domains []DomainSample // in the order of the domains argument
}

// CPUStat is one pCPU's cumulative time from <proc>/stat. The kernel counts
// it in USER_HZ ticks, so both values step in 10 ms.
type CPUStat struct {
	CPU     int    // CPU number
	BusyNs  uint64 // user+nice+system+irq+softirq+steal, ns
	TotalNs uint64 // BusyNs plus idle and iowait, ns
}

// DomainSample is one domain's reading. When Err is non-nil, VCPUs is empty
// and the other fields hold what was known.
type DomainSample struct {
	Domain Domain     // the domain as passed in
	PID    int        // QEMU process id
	Cgroup string     // the domain's cgroup directory (for logs), or ""
	VCPUs  []VCPUStat // one per vCPU, in the order of Domain.VCPUs
	Err    error      // wraps ErrVanished, ErrNoCgroup or ErrParse, with the path
}

// VCPUStat is one vCPU thread's cumulative counters. A delta between two
// samples is only meaningful when both have the same TID and Start: a thread
// the sampler saw replaced is reported as ErrVanished once, never as a
// delta.
type VCPUStat struct {
	VCPU     int           // vCPU id
	TID      int           // thread id of the vCPU thread
	Start    uint64        // the thread's start time (stat field 22, clock ticks since boot): with TID, its identity
	RunNs    uint64        // time on a CPU, from schedstat, ns
	WaitNs   uint64        // time waiting in a run queue, from schedstat, ns
	LastCPU  int           // CPU the thread last ran on: its pin when pinned to one CPU, else stat field 39
	Affinity cpuset.CPUSet // CPUs the thread may run on (sched_getaffinity)
}
