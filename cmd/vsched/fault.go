package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// faultEnv names the environment variable that makes the daemon kill
// itself with SIGKILL at a point of the apply path, for the end-to-end
// tests of a crash: "after-record:2" dies the second time the checkpoint
// has been written and no pin made yet. Unset in production.
const faultEnv = "VSCHED_TEST_FAULT"

// faultFromEnv returns the fault hook faultEnv asks for, or nil.
func faultFromEnv() func(faultPoint) {
	spec, ok := os.LookupEnv(faultEnv)
	if !ok || spec == "" {
		return nil
	}
	point, nth, _ := strings.Cut(spec, ":")
	n, err := strconv.Atoi(nth)
	if err != nil || n < 1 {
		n = 1
	}
	seen := 0
	return func(p faultPoint) {
		if string(p) != point {
			return
		}
		if seen++; seen == n {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}
