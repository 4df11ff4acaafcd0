package cgroupstatstest

import (
	"fmt"
	"strings"
)

// ProcStat returns a /proc/stat in the kernel's format (show_stat in
// fs/proc/stat.c, Linux 6.x) for a host of cpus online CPUs and irqs
// interrupt lines, with plausible, distinct counters: the "cpu" total line,
// one "cpuN" line per CPU (ten columns), "intr" with the total and one
// count per interrupt, ctxt, btime, processes, procs_running,
// procs_blocked and "softirq" with its ten counters. A large host's file is
// dominated by the cpuN lines and the intr line.
func ProcStat(cpus, irqs int) string {
	var b strings.Builder
	type row [10]uint64
	var total row
	rows := make([]row, cpus)
	for c := range rows {
		base := uint64(1_000_000 + 7919*c)
		rows[c] = row{base, uint64(c % 7), base / 3, 4 * base, uint64(300 + c), 0, uint64(1000 + c), uint64(c % 5), 0, 0}
		for i := range total {
			total[i] += rows[c][i]
		}
	}
	line := func(name string, r row) {
		b.WriteString(name)
		for _, v := range r {
			fmt.Fprintf(&b, " %d", v)
		}
		b.WriteByte('\n')
	}
	line("cpu ", total)
	for c, r := range rows {
		line(fmt.Sprintf("cpu%d", c), r)
	}
	counts := make([]uint64, irqs)
	var sum uint64
	for i := range counts {
		if i%3 != 0 {
			counts[i] = uint64(i*104729) % 9_999_991
		}
		sum += counts[i]
	}
	fmt.Fprintf(&b, "intr %d", sum)
	for _, v := range counts {
		fmt.Fprintf(&b, " %d", v)
	}
	fmt.Fprintf(&b, "\nctxt %d\nbtime 1795633144\nprocesses %d\nprocs_running %d\nprocs_blocked 0\n",
		sum*7, 11568+cpus*40, 1+cpus/16)
	b.WriteString("softirq 163509 0 14856 5 14394 67630 0 907 21335 0 44382\n")
	return b.String()
}
