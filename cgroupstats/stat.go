package cgroupstats

import "bytes"

// Fields of /proc/<pid>/task/<tid>/stat (1-based, proc(5)).
const (
	statStartField     = 22 // starttime: clock ticks after boot
	statProcessorField = 39 // processor: the CPU the task last ran on
)

// parseTaskStat returns the thread's start time and the CPU it last ran on
// from /proc/<pid>/task/<tid>/stat. The command name (field 2) is in
// parentheses and may itself hold spaces and ')', so counting starts after
// the last ')': the next field is field 3. The utime/stime fields of this
// file are clock ticks (10 ms) and are deliberately not used.
func parseTaskStat(b []byte) (start uint64, lastCPU int, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errMissing
	}
	i++
	for field := 3; ; field++ {
		if i >= len(b) || b[i] != ' ' {
			return 0, 0, errShort
		}
		i++
		switch field {
		case statStartField:
			var j int
			if start, j, err = parseUint(b, i); err != nil {
				return 0, 0, err
			}
			if !endOfField(b, j) {
				return 0, 0, errNumber
			}
		case statProcessorField:
			v, j, err := parseUint(b, i)
			if err != nil {
				return 0, 0, err
			}
			if !endOfField(b, j) || v >= maxCPU {
				return 0, 0, errNumber
			}
			return start, int(v), nil
		}
		for i < len(b) && b[i] != ' ' && b[i] != '\n' {
			i++
		}
	}
}
