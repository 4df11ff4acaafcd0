// Package cgroupstats reads the kernel side of vsched: the CPU time of
// every vCPU thread of every running libvirt/QEMU domain, the busy time of
// every pCPU, and the host's CPU topology. It finds each domain's cgroup
// under an injected cgroup root (cgroup v2, v1 and hybrid v1 + unified/,
// with and without systemd, libvirt before and after 7.1) and reads
// /proc/<pid>/task/<tid> under an injected proc root and sysfs under an
// injected sys root.
//
// The slow path runs once per domain (cached by ID and name, and redone
// when its vCPU ids change or a thread vanishes): it finds the domain's
// cgroup (MachineName and ScopeName give libvirt's names; a scan by domain
// ID covers other naming rules), each vCPU's thread from its vcpuN cgroup
// (skipping KVM's kvm-nx-lpage-re kernel thread) or, without one, from
// QEMU's thread names "CPU N/KVM" and "CPU N/TCG", checks each thread once
// through prometheus/procfs, opens its schedstat and records its start
// time (stat field 22). The QEMU process comes from the domain's cgroup;
// where that names none, only from the pid file libvirt writes
// (WithQEMURunDir), checked against the process's "-uuid" and cgroup:
// any process can take a guest's argv, so command lines are never
// searched.
//
// The hot path reads per vCPU per cycle only what the policy needs: the
// affinity with sched_getaffinity(2) (no text; the CPU set is rebuilt only
// when the mask changed), run and wait ns from a pread of the kept-open
// schedstat, and the last CPU from stat only for a vCPU not pinned to
// exactly one CPU (one pinned to one CPU ran there). Per cycle it also
// preads <proc>/stat for per-pCPU busy time. A steady-state sample
// allocates nothing. Past the open-file limit a vCPU is read with open,
// read and close instead. A thread, cgroup or domain that vanishes, or a
// thread replaced under a kept TID (other start time, counters going
// backwards), is ErrVanished for that domain only, once; the rest of the
// sample is still returned, and no delta ever spans two threads.
//
// ReadTopology reads online CPUs, NUMA nodes, SMT siblings and isolated
// CPUs from sysfs (prometheus/procfs's sysfs package where it covers a
// file); OnlineWatch notices CPU hotplug with one pread per cycle.
//
// Test and benchmark generators live in cgroupstatstest. This package must
// not import libvirt, logrus, or the balancer: it reads files and returns
// values. Only cmd/ logs.
package cgroupstats
