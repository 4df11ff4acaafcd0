package cgroupstats

import "bytes"

// statProcessorField is the 1-based field of /proc/<pid>/task/<tid>/stat
// that holds the CPU the task last ran on ("processor", proc(5)).
const statProcessorField = 39

// parseTaskStat returns the CPU the task last ran on from
// /proc/<pid>/task/<tid>/stat. The command name (field 2) is in
// parentheses and may itself hold spaces and ')', so counting starts after
// the last ')': the next field is field 3. The utime/stime fields of this
// file are clock ticks (10 ms) and are deliberately not used.
func parseTaskStat(b []byte) (lastCPU int, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errMissing
	}
	i++
	for field := 3; ; field++ {
		if i >= len(b) || b[i] != ' ' {
			return 0, errShort
		}
		i++
		if field == statProcessorField {
			break
		}
		for i < len(b) && b[i] != ' ' && b[i] != '\n' {
			i++
		}
	}
	v, j, err := parseUint(b, i)
	if err != nil {
		return 0, err
	}
	if !endOfField(b, j) || v > 1<<20 {
		return 0, errNumber
	}
	return int(v), nil
}
