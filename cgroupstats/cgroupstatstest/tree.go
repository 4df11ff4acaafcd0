package cgroupstatstest

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/vsched/vsched/cgroupstats"
)

// usageKind says which per-vCPU accounting file a synthetic cgroup holds.
type usageKind uint8

const (
	usageNone    usageKind = iota // v1 cpu controller: throttling counters only
	usageV2                       // cgroup v2 cpu.stat
	usageCpuacct                  // cgroup v1 cpuacct.usage
)

// VCPUTID returns the thread id of vCPU n of the synthetic domain whose QEMU
// process is pid.
func VCPUTID(pid, n int) int { return pid + 3 + n }

func kthreadTID(d cgroupstats.Domain) int { return 4_000_000 + d.ID }

// cgroupDir is one of a synthetic domain's cgroup directories.
type cgroupDir struct {
	rel      string
	threaded bool // cgroup v2: cgroup.threads, else tasks
	usage    usageKind
}

func domainDirs(l Layout, d cgroupstats.Domain) []cgroupDir {
	nsd, scope := cgroupstats.MachineName(d.ID, d.Name)+".libvirt-qemu", cgroupstats.ScopeName(d.ID, d.Name)
	switch l {
	case LayoutHybrid:
		return []cgroupDir{{"unified/machine/" + nsd, true, usageV2}, {"cpu/machine/" + nsd, false, usageNone}}
	case LayoutV2Systemd:
		return []cgroupDir{{"machine.slice/" + scope + "/libvirt", true, usageV2}}
	case LayoutV2SystemdPre71:
		return []cgroupDir{{"machine.slice/" + scope, true, usageV2}}
	case LayoutV2:
		return []cgroupDir{{"machine/" + nsd, true, usageV2}}
	case LayoutV1Systemd:
		return []cgroupDir{{"cpu,cpuacct/machine.slice/" + scope + "/libvirt", false, usageCpuacct}}
	}
	return []cgroupDir{{"cpu/machine/" + nsd, false, usageNone}, {"cpuacct/machine/" + nsd, false, usageCpuacct}}
}

func (t *tree) cgroupRoot(l Layout) {
	const ctl = "cpuset cpu io memory hugetlb pids rdma misc\n"
	f := t.files
	switch l {
	case LayoutHybrid:
		f["cgroup/unified/cgroup.controllers"], f["cgroup/unified/cgroup.procs"] = "hugetlb\n", "1\n"
		f["cgroup/cpu/cgroup.procs"], f["cgroup/cpuset/cgroup.procs"] = "1\n", "1\n"
		f["cgroup/cpuacct/cgroup.procs"], f["cgroup/cpuacct/cpuacct.usage"] = "1\n", "33953911120\n"
	case LayoutV1Systemd:
		f["cgroup/cpu,cpuacct/cgroup.procs"], f["cgroup/cpu,cpuacct/cpuacct.usage"] = "1\n", "33953911120\n"
		t.links["cgroup/cpu"], t.links["cgroup/cpuacct"] = "cpu,cpuacct", "cpu,cpuacct"
	case LayoutV1:
		f["cgroup/cpu/cgroup.procs"], f["cgroup/cpuacct/cgroup.procs"] = "1\n", "1\n"
		f["cgroup/cpuacct/cpuacct.usage"] = "33953911120\n"
	default:
		f["cgroup/cgroup.controllers"], f["cgroup/cgroup.procs"] = ctl, "1\n"
		f["cgroup/cpu.stat"] = fmt.Sprintf(cpuStatV2, 32550062, 17020264, 15529797)
	}
}

func (t *tree) domainCgroup(l Layout, d cgroupstats.Domain, pid int) {
	for _, c := range domainDirs(l, d) {
		base := "cgroup/" + c.rel + "/"
		threads, procs := "tasks", ""
		if c.threaded {
			threads, procs = "cgroup.threads", fmt.Sprintf("%d\n", pid)
			t.files[base+"cgroup.type"] = "domain threaded\n"
		}
		t.files[base+"cgroup.procs"] = procs
		t.files[base+"emulator/cgroup.procs"] = fmt.Sprintf("%d\n", pid)
		t.files[base+"emulator/"+threads] = fmt.Sprintf("%d\n%d\n%d\n", pid, pid+1, pid+2)
		for i, n := range d.VCPUs {
			v := base + "vcpu" + strconv.Itoa(n) + "/"
			tid := VCPUTID(pid, n)
			list := fmt.Sprintf("%d\n", tid)
			if i == len(d.VCPUs)-1 {
				list += fmt.Sprintf("%d\n", kthreadTID(d))
			}
			t.files[v+threads] = list
			run := RunNs(tid)
			switch c.usage {
			case usageV2:
				t.files[v+"cpu.stat"] = fmt.Sprintf(cpuStatHybrid, run/1000, run/2000, run/2000)
				if l != LayoutHybrid {
					t.files[v+"cpu.stat"] = fmt.Sprintf(cpuStatV2, run/1000, run/2000, run/2000)
				}
			case usageCpuacct:
				t.files[v+"cpuacct.usage"] = fmt.Sprintf("%d\n", run)
				t.files[v+"cpuacct.stat"] = fmt.Sprintf(cpuacctStat, run/20_000_000, run/20_000_000)
			default:
				t.files[v+"cpu.stat"] = cpuStatV1Throttle
			}
		}
	}
}

// RunNs returns a synthetic thread's run time in its schedstat, distinct per
// thread; its wait time is WaitNs(tid).
func RunNs(tid int) uint64 { return 1_000_000_000 + uint64(tid)*1000 }

// WaitNs returns a synthetic thread's run-queue wait time in its schedstat.
func WaitNs(tid int) uint64 { return uint64(tid) * 10 }

// StartTime is every synthetic thread's start time (stat field 22).
const StartTime = 28304

// Pin returns the pCPU vCPU n of domain d is pinned to in a synthetic tree.
func Pin(d cgroupstats.Domain, n int) int { return (d.ID + n) % CPUs }

func (t *tree) qemu(d cgroupstats.Domain, pid int) {
	const all = "f"
	allList := "0-" + strconv.Itoa(CPUs-1)
	nthreads := len(d.VCPUs) + 3
	proc := "proc/" + strconv.Itoa(pid) + "/"
	t.files[proc+"cmdline"] = "/usr/bin/qemu-system-x86_64\x00-name\x00guest=" + d.Name +
		",debug-threads=on\x00-S\x00-uuid\x00" + d.UUID + "\x00-m\x0016\x00"
	names := map[int]string{pid: "qemu-system-x86", pid + 1: "call_rcu", pid + 2: "IO mon_iothread"}
	for _, n := range d.VCPUs {
		names[VCPUTID(pid, n)] = fmt.Sprintf("CPU %d/KVM", n)
	}
	for tid, name := range names {
		dir := proc + "task/" + strconv.Itoa(tid) + "/"
		mask, list, cpu := all, allList, 1
		var n int
		if _, err := fmt.Sscanf(name, "CPU %d/KVM", &n); err == nil && strings.HasPrefix(name, "CPU ") {
			cpu = Pin(d, n)
			mask, list = strconv.FormatInt(1<<cpu, 16), strconv.Itoa(cpu)
		}
		t.files[dir+"comm"] = name + "\n"
		t.files[dir+"stat"] = fmt.Sprintf(statTemplate, tid, name, 1, pid, pid, 12, 30, nthreads, cpu)
		t.files[dir+"status"] = fmt.Sprintf(statusTemplate, name, pid, tid, 1, nthreads, mask, list)
		t.files[dir+"schedstat"] = fmt.Sprintf("%d %d %d\n", RunNs(tid), WaitNs(tid), 100)
		if tid != pid {
			t.links["proc/"+strconv.Itoa(tid)] = path.Join(strconv.Itoa(pid), "task", strconv.Itoa(tid))
		}
	}
	for _, f := range []string{"comm", "stat", "status", "schedstat"} {
		t.files[proc+f] = t.files[proc+"task/"+strconv.Itoa(pid)+"/"+f]
	}
	k := "proc/" + strconv.Itoa(kthreadTID(d)) + "/"
	t.files[k+"comm"] = "kvm-nx-lpage-re\n"
	t.files[k+"status"] = fmt.Sprintf(kthreadStatus, kthreadTID(d), all, allList)
	t.files[k+"stat"] = fmt.Sprintf(statTemplate, kthreadTID(d), "kvm-nx-lpage-re", 2, 0, 0, 0, 0, 1, 0)
	t.files[k+"schedstat"] = "12345 678 9\n"
}

func (t *tree) procStat() {
	s := "cpu  15921 0 5690 34284 309 0 77 32 0 0\n"
	for c := range CPUs {
		s += fmt.Sprintf("cpu%d %d 0 %d %d %d 0 %d %d 0 0\n", c, 7737+c, 2704+c, 17655+c, 38, 12, 10)
	}
	s += "intr 491704 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 14 0 0 0 0 56 33 0 17 1 67630 0 7722\n" +
		"ctxt 868808\nbtime 1795633144\nprocesses 11568\nprocs_running 1\nprocs_blocked 0\n" +
		"softirq 163509 0 14856 5 14394 67630 0 907 21335 0 44382\n"
	t.files["proc/stat"] = s
}
