package cgroupstats

import "bytes"

// userHZ is the unit of the CPU lines of /proc/stat: USER_HZ ticks, which
// the kernel fixes at 100 per second for user space on every architecture
// Linux supports here (procfs assumes the same). One tick is 10 ms, so
// CPUStat has a 10 ms resolution: fine for host-wide busy time over a
// second, too coarse to balance single vCPUs on (use schedstat for those).
const (
	userHZ     = 100
	nsPerTick  = 1_000_000_000 / userHZ
	cpuColumns = 8 // user nice system idle iowait irq softirq steal
)

// parseProcStat appends one CPUStat per "cpuN" line of /proc/stat to into
// and returns it. Only online CPUs have a line. Busy time is user + nice +
// system + irq + softirq + steal; total adds idle and iowait. guest and
// guest_nice are already part of user and nice and are not added again.
// complete is false when b ends inside the CPU lines (the caller's buffer
// was too small).
func parseProcStat(b []byte, into []CPUStat) (out []CPUStat, complete bool, err error) {
	out = into
	for i := 0; i < len(b); {
		if len(b)-i < 4 || b[i] != 'c' || b[i+1] != 'p' || b[i+2] != 'u' {
			return out, true, nil
		}
		lineEnd := bytes.IndexByte(b[i:], '\n')
		if lineEnd < 0 {
			return out, false, nil
		}
		lineEnd += i
		line := b[i:lineEnd]
		i = lineEnd + 1
		if len(line) < 4 {
			return out, true, errShort
		}
		if line[3] == ' ' {
			continue // the "cpu" total line
		}
		cs, err := parseCPULine(line)
		if err != nil {
			return out, true, err
		}
		out = append(out, cs)
	}
	return out, false, nil
}

// parseCPULine parses one "cpuN user nice system idle iowait irq softirq
// steal ..." line. Kernels before 2.6.11 had fewer columns; missing ones
// count as zero.
func parseCPULine(line []byte) (CPUStat, error) {
	cpu, i, err := parseUint(line, 3)
	if err != nil || cpu >= maxCPU {
		return CPUStat{}, errNumber
	}
	var col [cpuColumns]uint64
	for c := 0; c < cpuColumns; c++ {
		if i >= len(line) {
			if c < 4 {
				return CPUStat{}, errShort
			}
			break
		}
		if line[i] != ' ' {
			return CPUStat{}, errNumber
		}
		if col[c], i, err = parseUint(line, skipSpaces(line, i)); err != nil {
			return CPUStat{}, err
		}
	}
	busy := col[0] + col[1] + col[2] + col[5] + col[6] + col[7]
	total := busy + col[3] + col[4]
	return CPUStat{CPU: int(cpu), BusyNs: busy * nsPerTick, TotalNs: total * nsPerTick}, nil
}
