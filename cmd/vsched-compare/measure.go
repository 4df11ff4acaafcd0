package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Measurement is one regime's readings, as written by measure.
type Measurement struct {
	Regime  string   `json:"regime"`
	Command []string `json:"command,omitempty"`
	Seconds float64  `json:"seconds"`
	Split   float64  `json:"split"`
	Guests  []string `json:"guests"`
	// Samples are cumulative since time 0, summed over each guest's vCPUs.
	Samples []Sample `json:"samples"`
	// CommandExit is the regime command's exit status ("" when none ran).
	CommandExit string `json:"command_exit,omitempty"`
}

// Sample is every guest at one instant.
type Sample struct {
	T      float64       `json:"t"` // seconds since time 0
	Guests []GuestSample `json:"guests"`
	// HostBusyNs is the busy time of all the host's CPUs since time 0
	// (/proc/stat user+nice+system+irq+softirq): with the guests' run time
	// it shows how much else ran on the host meanwhile.
	HostBusyNs uint64 `json:"host_busy_ns"`
}

// GuestSample is one guest's vCPU threads summed, since time 0.
type GuestSample struct {
	RunNs      uint64   `json:"run_ns"`
	WaitNs     uint64   `json:"wait_ns"`
	Migrations uint64   `json:"migrations"`
	Pins       []string `json:"pins"` // each vCPU thread's affinity
}

type thread struct{ guest, tid int }

func measureCmd(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	fs.SetOutput(stderr)
	regime := fs.String("regime", "", "regime name")
	out := fs.String("out", "", "JSON file to write")
	seconds := fs.Float64("seconds", 20, "how long to measure")
	split := fs.Float64("split", 5, "the second that splits the two windows")
	step := fs.Duration("step", 500*time.Millisecond, "time between readings")
	logFile := fs.String("log", "", "file for the command's output (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	rest := fs.Args()
	var guests, command []string
	for i, a := range rest {
		if a == "--" {
			command = rest[i+1:]
			break
		}
		guests = append(guests, a)
	}
	switch {
	case *regime == "" || *out == "":
		return fmt.Errorf("%w: --regime and --out are required", errUsage)
	case len(guests) == 0:
		return fmt.Errorf("%w: no guests named", errUsage)
	case *seconds <= 0 || *split <= 0 || *split >= *seconds || *step <= 0:
		return fmt.Errorf("%w: want 0 < --split < --seconds and --step > 0", errUsage)
	}
	var threads []thread
	for gi, g := range guests {
		tids, err := vcpuThreads(g)
		if err != nil {
			return err
		}
		for _, tid := range tids {
			threads = append(threads, thread{gi, tid})
		}
	}
	m := Measurement{Regime: *regime, Command: command, Seconds: *seconds, Split: *split, Guests: guests}
	base, err := readAll(threads, len(guests))
	if err != nil {
		return err
	}
	t0 := time.Now()
	var cmd *exec.Cmd
	done := make(chan error, 1)
	if len(command) > 0 {
		cmd = exec.Command(command[0], command[1:]...)
		w := io.Discard
		if *logFile != "" {
			f, err := os.Create(*logFile)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting the regime's command: %w", err)
		}
		go func() { done <- cmd.Wait() }()
	}
	m.Samples = append(m.Samples, since(base, base, 0))
	end := t0.Add(time.Duration(*seconds * float64(time.Second)))
	for next := t0.Add(*step); !next.After(end.Add(*step / 2)); next = next.Add(*step) {
		time.Sleep(time.Until(next))
		cur, err := readAll(threads, len(guests))
		if err != nil {
			return fmt.Errorf("at %.1fs: %w", time.Since(t0).Seconds(), err)
		}
		m.Samples = append(m.Samples, since(cur, base, time.Since(t0).Seconds()))
	}
	if cmd != nil {
		var werr error
		select {
		case werr = <-done:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case werr = <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				werr = fmt.Errorf("still running 10s after SIGTERM: killed (%w)", <-done)
			}
		}
		m.CommandExit = "0"
		if werr != nil {
			m.CommandExit = werr.Error()
		}
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(b, '\n'), 0o644)
}

// reading is the cumulative counters of every guest, summed over its vCPUs.
type reading struct {
	run, wait, migr []uint64
	pins            [][]string
	hostBusy        uint64
}

func readAll(threads []thread, n int) (reading, error) {
	r := reading{run: make([]uint64, n), wait: make([]uint64, n), migr: make([]uint64, n), pins: make([][]string, n)}
	var err error
	if r.hostBusy, err = hostBusy(); err != nil {
		return r, err
	}
	for _, th := range threads {
		run, wait, err := schedstat(th.tid)
		if err != nil {
			return r, err
		}
		migr, err := migrations(th.tid)
		if err != nil {
			return r, err
		}
		pin, err := affinity(th.tid)
		if err != nil {
			return r, err
		}
		r.run[th.guest] += run
		r.wait[th.guest] += wait
		r.migr[th.guest] += migr
		r.pins[th.guest] = append(r.pins[th.guest], pin)
	}
	return r, nil
}

func since(cur, base reading, t float64) Sample {
	s := Sample{T: t, HostBusyNs: cur.hostBusy - base.hostBusy}
	for g := range cur.run {
		s.Guests = append(s.Guests, GuestSample{
			RunNs: cur.run[g] - base.run[g], WaitNs: cur.wait[g] - base.wait[g],
			Migrations: cur.migr[g] - base.migr[g], Pins: cur.pins[g],
		})
	}
	return s
}

// vcpuThreads reads a running guest's vCPU thread ids from libvirt's status
// file.
func vcpuThreads(name string) ([]int, error) {
	path := filepath.Join("/run/libvirt/qemu", name+".xml")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("guest %s is not running: %w", name, err)
	}
	var st struct {
		VCPUs []struct {
			PID int `xml:"pid,attr"`
		} `xml:"vcpus>vcpu"`
	}
	if err := xml.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var tids []int
	for _, v := range st.VCPUs {
		if v.PID > 0 {
			tids = append(tids, v.PID)
		}
	}
	if len(tids) == 0 {
		return nil, fmt.Errorf("%s: no <vcpu pid=...>", path)
	}
	return tids, nil
}

var errFormat = errors.New("unexpected format")

func schedstat(tid int) (run, wait uint64, err error) {
	path := fmt.Sprintf("/proc/%d/schedstat", tid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("%w: %s: %q", errFormat, path, b)
	}
	if run, err = strconv.ParseUint(f[0], 10, 64); err == nil {
		wait, err = strconv.ParseUint(f[1], 10, 64)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %s: %w", errFormat, path, err)
	}
	return run, wait, nil
}

func migrations(tid int) (uint64, error) {
	path := fmt.Sprintf("/proc/%d/sched", tid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "se.nr_migrations" {
			return strconv.ParseUint(f[2], 10, 64)
		}
	}
	return 0, fmt.Errorf("%w: %s: no se.nr_migrations", errFormat, path)
}

func affinity(tid int) (string, error) {
	path := fmt.Sprintf("/proc/%d/status", tid)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%w: %s: no Cpus_allowed_list", errFormat, path)
}

// hostBusy reads the busy time of all CPUs from /proc/stat's "cpu" line, in
// ns (USER_HZ is 100 on Linux).
func hostBusy() (uint64, error) {
	const path = "/proc/stat"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("%w: %s: first line %q", errFormat, path, line)
	}
	var busy uint64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
		v, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %s: %w", errFormat, path, err)
		}
		busy += v
	}
	return busy * 1e7, nil
}
