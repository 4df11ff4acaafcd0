package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/cgroupstats/cgroupstatstest"
	"github.com/vsched/vsched/pinning"
)

// refusedURI is a libvirt URI whose socket does not exist.
const refusedURI = "qemu+unix:///system?socket=/nonexistent/libvirt-sock"

// syntheticRoots writes a synthetic host tree and returns its roots.
func syntheticRoots(t *testing.T) (cgroupRoot, procRoot string) {
	t.Helper()
	_, cg, proc, err := cgroupstatstest.WriteSyntheticTree(t.TempDir(), cgroupstatstest.LayoutHybrid, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	return cg, proc
}

// runCmd runs the command line and returns the exit status, stdout and
// stderr.
func runCmd(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestRun_InvocationErrors_ExitTwoWithOneLine(t *testing.T) {
	cg, proc := syntheticRoots(t)
	missing := filepath.Join(t.TempDir(), "missing")
	// --once on the test driver: a check that regresses ends in a short run
	// (exit 0, caught below) instead of a daemon that never returns.
	sys := sysRoot(t, 4)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	roots := []string{"--cgroup-root", cg, "--proc-root", proc, "--sys-root", sys, "--state-dir", t.TempDir(), "--connect", hostURI(t), "--once"}
	withRoots := func(args ...string) []string { return append(append([]string{}, roots...), args...) }
	tests := []struct {
		name string
		args []string
		want string // the line must mention it
	}{
		{"UnknownFlag", []string{"--frobnicate"}, "--frobnicate"},
		{"PositionalArgument", []string{"extra"}, "extra"},
		{"MissingCgroupRoot", []string{"--cgroup-root", missing, "--proc-root", proc}, missing},
		{"MissingProcRoot", []string{"--cgroup-root", cg, "--proc-root", missing}, missing},
		{"ProcRootWithoutStat", []string{"--cgroup-root", cg, "--proc-root", cg}, cg},
		{"UnparsableInterval", withRoots("--interval", "soon"), "interval"},
		{"IntervalTooShort", withRoots("--interval", "1ms"), "--interval"},
		{"ZeroThreshold", withRoots("--threshold", "0"), "--threshold"},
		{"NaNThreshold", withRoots("--threshold", "NaN"), "--threshold"},
		{"UnparsableThreshold", withRoots("--threshold", "ten"), "threshold"},
		{"UnknownPolicy", withRoots("--policy", "fair"), "fair"},
		{"UnknownLogFormat", withRoots("--log-format", "yaml"), "--log-format"},
		{"UnknownLogLevel", withRoots("--log-level", "loud"), "--log-level"},
		{"BadCPUList", withRoots("--cpus", "3-1"), "--cpus"},
		{"CPUListOfExclusionsOnly", withRoots("--cpus", "^0-3"), `--cpus "^0-3" names no CPU`},
		{"CPUListOfSpacesAndCommas", withRoots("--cpus", " "), `--cpus " " names no CPU`},
		{"OfflineCPUs", withRoots("--cpus", "2-9"), "not online"},
		{"BadMetricsAddress", withRoots("--metrics-addr", "256.0.0.1:1"), "--metrics-addr"},
		{"RefusedConnection", withRoots("--connect", refusedURI), "/nonexistent/libvirt-sock"},
		{"MissingSysRoot", withRoots("--sys-root", missing), missing},
		{"SysRootWithoutTopology", withRoots("--sys-root", t.TempDir()), "--sys-root"},
		{"StateDirIsAFile", withRoots("--state-dir", file), file},
		{"OnceWithRestoreOnExit", withRoots("--restore-on-exit"), "--restore-on-exit"},
		{"WindowPastTenMinutes", withRoots("--window", "11m"), "--window"},
		{"WindowSamplesOverTheMemoryBudget", withRoots("--interval", "100ms", "--window", "10m"), "keeps 6002 samples; the history holds at most 1202"},
		{"SampleBadFormat", []string{"sample", "--format", "yaml"}, "--format"},
		{"SampleMissingRoot", []string{"sample", "--cgroup-root", missing}, missing},
		{"SampleUnknownFlag", []string{"sample", "--cpus", "1"}, "--cpus"},
		{"SimulateNoScenario", []string{"simulate"}, "--scenario"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(tc.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "vsched: ") {
				t.Errorf("stderr %q, want exactly one line starting \"vsched: \" (no log, no pin)", stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.want)
			}
			if strings.Contains(stderr, "usage: ") {
				t.Errorf("stderr %q keeps the errUsage marker", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

func TestRunDaemon_RefusedConnection_WrapsErrConnectAndUsage(t *testing.T) {
	cg, proc := syntheticRoots(t)
	o := defaultDaemonOptions()
	o.connect, o.cgroupRoot, o.procRoot, o.stateDir = refusedURI, cg, proc, t.TempDir()
	var log bytes.Buffer
	err := runDaemon(context.Background(), o, &log)
	if !errors.Is(err, pinning.ErrConnect) || !errors.Is(err, errUsage) || errors.Is(err, errRuntime) {
		t.Fatalf("runDaemon: %v, want an invocation error wrapping pinning.ErrConnect", err)
	}
	if log.Len() != 0 {
		t.Errorf("logged before failing: %q", log.String())
	}
}

func TestRunDaemon_BadCgroupRoot_WrapsErrRoot(t *testing.T) {
	_, proc := syntheticRoots(t)
	o := defaultDaemonOptions()
	o.cgroupRoot, o.procRoot, o.stateDir = t.TempDir(), proc, t.TempDir() // exists, but no cgroup file system
	err := runDaemon(context.Background(), o, io.Discard)
	if !errors.Is(err, cgroupstats.ErrRoot) || !errors.Is(err, errUsage) {
		t.Fatalf("runDaemon: %v, want an invocation error wrapping cgroupstats.ErrRoot", err)
	}
}

func TestRun_Help_ExitZeroUsageOnStdout(t *testing.T) {
	tests := []struct {
		args []string
		flag string // a flag the help must list
	}{
		{[]string{"--help"}, "--interval"},
		{[]string{"-h"}, "--interval"},
		{[]string{"sample", "--help"}, "--format"},
		{[]string{"simulate", "--help"}, "--scenario"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(tc.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr)
			}
			if !strings.Contains(stdout, "Usage:") || !strings.Contains(stdout, tc.flag) {
				t.Errorf("help lacks Usage: and %s:\n%s", tc.flag, stdout)
			}
		})
	}
	_, stdout, _ := runCmd("--help")
	for _, flag := range []string{"--connect", "--cgroup-root", "--proc-root", "--threshold", "--policy", "--cpus",
		"--exclude", "--dry-run", "--once", "--log-format", "--log-level", "--metrics-addr", "--restore-on-exit",
		"--sys-root", "--state-dir", "--version"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("--help lacks %s", flag)
		}
	}
}

func TestRun_OnceDryRunOnTestDriver_ExitZeroLogsAndPlot(t *testing.T) {
	usePlotTool(t)
	cg, proc := syntheticRoots(t)
	plot := filepath.Join(t.TempDir(), "run.svg")
	code, stdout, stderr := runCmd("--connect", hostURI(t), "--cgroup-root", cg, "--proc-root", proc,
		"--sys-root", sysRoot(t, 4), "--state-dir", t.TempDir(),
		"--interval", "10ms", "--once", "--dry-run", "--cpus", "0-3",
		"--log-format", "json", "--metrics-addr", "127.0.0.1:0", "--plot", plot)
	if code != 0 {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing (logs go to stderr)", stdout)
	}
	var log bytes.Buffer
	log.WriteString(stderr)
	started := logEntries(t, &log, "vsched started")
	if len(started) != 1 || started[0]["cpus"] != "0-3" || started[0]["policy"] != "adaptive" || started[0]["dry_run"] != true {
		t.Errorf("\"vsched started\" entries %v, want one with cpus 0-3, policy adaptive, dry_run", started)
	}
	if n := len(logEntries(t, &log, "vsched stopped")); n != 1 {
		t.Errorf("%d \"vsched stopped\" lines, want 1", n)
	}
	if n := len(loggedMoves(t, &log)); n != 0 {
		t.Errorf("%d moves on a host whose counters do not change, want 0", n)
	}
	if fi, err := os.Stat(plot); err != nil || fi.Size() == 0 {
		t.Errorf("--plot %s not written: %v", plot, err)
	}
}
