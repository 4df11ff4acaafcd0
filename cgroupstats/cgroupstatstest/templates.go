package cgroupstatstest

// Real-format file contents for synthetic trees, captured on a Debian 12
// host (kernel 6.x, hybrid cgroups) and parameterised. The vCPU thread's
// files follow a real thread's: exit_signal -1 (field 38) as for every
// non-leader thread, processor in field 39.

// statTemplate: tid, comm, ppid, pgrp, session, utime, stime, threads,
// processor.
const statTemplate = "%d (%s) S %d %d %d 0 -1 4194368 133 0 0 0 %d %d 0 0 20 0 %d 0 28304 " +
	"2990080 443 18446744073709551615 93852942516224 93852942534153 140727412304544 0 0 0 0 " +
	"6 0 1 0 0 -1 %d 0 0 0 0 0 93852942548240 93852942549504 93854012104704 140727412312746 " +
	"140727412312755 140727412312755 140727412314089 0\n"

// statusTemplate: name, tgid, pid, ppid, threads, cpus_allowed (hex),
// cpus_allowed_list.
const statusTemplate = `Name:	%s
Umask:	0022
State:	S (sleeping)
Tgid:	%d
Ngid:	0
Pid:	%d
PPid:	%d
TracerPid:	0
Uid:	64055	64055	64055	64055
Gid:	64055	64055	64055	64055
FDSize:	256
Groups:	 
NStgid:	%[2]d
NSpid:	%[3]d
NSpgid:	%[2]d
NSsid:	%[2]d
Kthread:	0
VmPeak:	 1167388 kB
VmSize:	 1102876 kB
VmLck:	       0 kB
VmPin:	       0 kB
VmHWM:	   36996 kB
VmRSS:	   36996 kB
RssAnon:	   13348 kB
RssFile:	   23648 kB
RssShmem:	       0 kB
VmData:	  141248 kB
VmStk:	     132 kB
VmExe:	    7060 kB
VmLib:	   31772 kB
VmPTE:	     280 kB
VmSwap:	       0 kB
HugetlbPages:	       0 kB
CoreDumping:	0
THP_enabled:	1
untag_mask:	0xffffffffffffffff
Threads:	%[5]d
SigQ:	0/96365
SigPnd:	0000000000000000
ShdPnd:	0000000000000000
SigBlk:	0000000010002240
SigIgn:	0000000000001000
SigCgt:	0000000100004243
CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	000001ffffffffff
CapAmb:	0000000000000000
NoNewPrivs:	0
Seccomp:	0
Seccomp_filters:	0
Speculation_Store_Bypass:	vulnerable
SpeculationIndirectBranch:	always enabled
Cpus_allowed:	%[6]s
Cpus_allowed_list:	%[7]s
Mems_allowed:	00000000,00000001
Mems_allowed_list:	0
voluntary_ctxt_switches:	2135
nonvoluntary_ctxt_switches:	48
`

// kthreadStatus is KVM's NX huge page recovery kernel thread, which sits
// in the last vCPU's cgroup: tgid, pid.
const kthreadStatus = `Name:	kvm-nx-lpage-re
Umask:	0000
State:	S (sleeping)
Tgid:	%d
Ngid:	0
Pid:	%[1]d
PPid:	2
TracerPid:	0
Uid:	0	0	0	0
Gid:	0	0	0	0
FDSize:	64
Groups:	 
Kthread:	1
Threads:	1
Cpus_allowed:	%[2]s
Cpus_allowed_list:	%[3]s
Mems_allowed:	00000000,00000001
Mems_allowed_list:	0
voluntary_ctxt_switches:	3
nonvoluntary_ctxt_switches:	0
`

// cpuStatV2 is a cgroup v2 cpu.stat with the cpu controller enabled (v2
// hosts): usage, user, system in microseconds.
const cpuStatV2 = "usage_usec %d\nuser_usec %d\nsystem_usec %d\nnice_usec 0\n" +
	"core_sched.force_idle_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n" +
	"nr_bursts 0\nburst_usec 0\n"

// cpuStatHybrid is the unified tree's cpu.stat on a hybrid host, where no
// controller is enabled in cgroup2 and only the core fields exist.
const cpuStatHybrid = "usage_usec %d\nuser_usec %d\nsystem_usec %d\nnice_usec 0\n"

// cpuStatV1Throttle is the v1 cpu controller's cpu.stat: throttling only.
const cpuStatV1Throttle = "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n"

// cpuacctStat is a v1 cpuacct.stat, in USER_HZ ticks.
const cpuacctStat = "user %d\nsystem %d\n"
