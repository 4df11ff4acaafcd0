// Package cgroupstats samples the CPU time of every vCPU thread of every
// running libvirt/QEMU domain straight from the kernel: the domain's cgroup
// under an injected cgroup root (cgroup v2, v1 and hybrid v1 + unified/,
// with and without systemd, libvirt before and after 7.1) and
// /proc/<pid>/task/<tid> under an injected proc root.
//
// Per vCPU it reports the thread id, run and run-queue wait time in ns
// (schedstat), the vcpuN cgroup's usage in ns (cpu.stat usage_usec or
// cpuacct.usage), the CPU the thread last ran on (stat field 39) and its
// affinity (status Cpus_allowed_list); per pCPU, busy and total time from
// /proc/stat, whose USER_HZ ticks give it a 10 ms resolution.
//
// The slow path runs once per domain (cached by ID and name) and again only
// when one of its files vanishes: it finds the domain's cgroup (MachineName
// and ScopeName give libvirt's names; a scan by domain ID covers other
// naming rules), each vCPU's thread from its vcpuN cgroup (skipping KVM's
// kvm-nx-lpage-re kernel thread) or, without one, from QEMU's thread names
// "CPU N/KVM" and "CPU N/TCG", and checks each thread once through
// prometheus/procfs. The hot path keeps the files open (three or four
// descriptors per vCPU) and re-reads them with pread at offset 0 through
// small pure parsers, so a steady-state sample allocates nothing. A thread,
// cgroup or domain that vanishes mid-sample is reported as ErrVanished for
// that domain only; the rest of the sample is still returned.
//
// WriteSyntheticTree builds real-format trees for every Layout, for tests
// and benchmarks outside the package.
//
// This package must not import libvirt, logrus, or the balancer: it reads
// files and returns values. Only cmd/ logs.
package cgroupstats
