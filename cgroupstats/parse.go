package cgroupstats

// Small allocation-free helpers shared by the hot-path parsers. Each parser
// of a kernel file lives in the file named after it (schedstat.go, stat.go,
// status.go, procstat.go; cpulist.go for sysfs CPU lists, threads.go for a
// thread's comm).

const (
	errShort    = parseReason("file too short")
	errNumber   = parseReason("not a number")
	errOverflow = parseReason("number overflows uint64")
	errMissing  = parseReason("field missing")
	errCPUList  = parseReason("bad CPU list")
)

// skipSpaces returns the index of the first byte at or after i that is not
// a space or a tab.
func skipSpaces(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// parseUint parses the decimal digits starting at b[i] and returns the
// value and the index after the last digit. At least one digit is needed.
// Only a 20th digit can overflow, so only then is the bound checked.
func parseUint(b []byte, i int) (uint64, int, error) {
	start := i
	var v uint64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		if i-start >= 19 && v > (1<<64-1-uint64(d))/10 {
			return 0, i, errOverflow
		}
		v = v*10 + uint64(d)
	}
	if i == start {
		return 0, i, errNumber
	}
	return v, i, nil
}

// endOfField reports whether b[i] ends a number: end of data, space, tab
// or newline.
func endOfField(b []byte, i int) bool {
	return i >= len(b) || b[i] == ' ' || b[i] == '\t' || b[i] == '\n'
}

// parseIntList parses a newline-separated list of non-negative integers,
// as in cgroup.procs, cgroup.threads and tasks. It is used on the slow path.
func parseIntList(b []byte) ([]int, error) {
	var out []int
	for i := 0; i < len(b); {
		if b[i] == '\n' {
			i++
			continue
		}
		v, j, err := parseUint(b, i)
		if err != nil {
			return nil, err
		}
		if v > 1<<31 || !endOfField(b, j) {
			return nil, errNumber
		}
		out = append(out, int(v))
		i = j
	}
	return out, nil
}
