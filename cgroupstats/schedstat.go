package cgroupstats

// parseSchedstat parses /proc/<pid>/task/<tid>/schedstat, "run_ns wait_ns
// timeslices": the time the task spent on a CPU and waiting in a run queue,
// both in nanoseconds (the kernel's own unit, no conversion needed).
func parseSchedstat(b []byte) (runNs, waitNs uint64, err error) {
	i := skipSpaces(b, 0)
	runNs, i, err = parseUint(b, i)
	if err != nil {
		return 0, 0, err
	}
	if !endOfField(b, i) {
		return 0, 0, errNumber
	}
	waitNs, i, err = parseUint(b, skipSpaces(b, i))
	if err != nil {
		return 0, 0, err
	}
	if !endOfField(b, i) {
		return 0, 0, errNumber
	}
	return runNs, waitNs, nil
}
