//go:build e2e

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/cpuset"
)

// A trace is the tier's own record of what happened to the guests' vCPUs:
// every 250ms, each vCPU thread's affinity (/proc/<tid>/status), cumulative
// run and run-queue wait time (schedstat) and migrations (se.nr_migrations
// in /proc/<tid>/sched). Failures print it, so a red run shows what it saw.

const traceStep = 250 * time.Millisecond

// vcpuRef names one vCPU of a guest.
type vcpuRef struct {
	g *guest
	i int // index into g.ids and g.tids
}

func (r vcpuRef) String() string { return fmt.Sprintf("%s/%d", r.g.label, r.g.ids[r.i]) }

// vcpuReading is one vCPU thread's state at one instant.
type vcpuReading struct {
	pin       cpuset.CPUSet
	run, wait uint64 // ns
	migr      uint64
	err       error
}

// tframe is every traced vCPU at one instant.
type tframe struct {
	at time.Duration // since the trace started
	r  []vcpuReading
}

type tracer struct {
	start  time.Time
	refs   []vcpuRef
	mu     sync.Mutex
	frames []tframe
	stop   chan struct{}
	done   chan struct{}
}

// startTrace records the vCPUs of guests every 250ms until the test ends
// (or stop is called). Time zero is now.
func startTrace(t *testing.T, guests ...*guest) *tracer {
	t.Helper()
	tr := &tracer{start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	for _, g := range guests {
		for i := range g.tids {
			tr.refs = append(tr.refs, vcpuRef{g, i})
		}
	}
	tr.sample()
	go func() {
		defer close(tr.done)
		tick := time.NewTicker(traceStep)
		defer tick.Stop()
		for {
			select {
			case <-tr.stop:
				return
			case <-tick.C:
				tr.sample()
			}
		}
	}()
	t.Cleanup(tr.halt)
	return tr
}

// halt stops sampling; frames taken so far stay.
func (tr *tracer) halt() {
	select {
	case <-tr.stop:
	default:
		close(tr.stop)
	}
	<-tr.done
}

func (tr *tracer) sample() {
	f := tframe{at: time.Since(tr.start), r: make([]vcpuReading, len(tr.refs))}
	for k, ref := range tr.refs {
		tid := ref.g.tids[ref.i]
		var rd vcpuReading
		rd.pin, rd.err = affinity(tid)
		if rd.err == nil {
			rd.run, rd.wait, rd.err = schedstat(tid)
		}
		if rd.err == nil {
			rd.migr, rd.err = readMigrations(tid)
		}
		f.r[k] = rd
	}
	tr.mu.Lock()
	tr.frames = append(tr.frames, f)
	tr.mu.Unlock()
}

// snapshot returns the frames so far.
func (tr *tracer) snapshot() []tframe {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]tframe(nil), tr.frames...)
}

// index returns the position of a guest's vCPU in the frames.
func (tr *tracer) index(g *guest, i int) int {
	for k, r := range tr.refs {
		if r.g == g && r.i == i {
			return k
		}
	}
	panic("vCPU not traced: " + g.name)
}

// table prints the trace: per tframe and vCPU its pin, and its run and wait
// over the step before, in percent of one pCPU; then migrations since the
// start. Frames are merged to every `every` to keep it readable.
func (tr *tracer) table(every time.Duration) string {
	fs := tr.snapshot()
	var sb strings.Builder
	fmt.Fprintf(&sb, "%7s", "t")
	for _, r := range tr.refs {
		fmt.Fprintf(&sb, " | %-20s", r.String()+" pin run/wait")
	}
	sb.WriteString(" | migrations since start\n")
	if len(fs) == 0 {
		return sb.String()
	}
	prev := fs[0]
	for _, f := range fs[1:] {
		if f.at-prev.at < every-traceStep/2 && f.at != fs[len(fs)-1].at {
			continue
		}
		dt := float64((f.at - prev.at).Nanoseconds()) / 100
		fmt.Fprintf(&sb, "%6.2fs", f.at.Seconds())
		var migr []string
		for k := range tr.refs {
			a, b := prev.r[k], f.r[k]
			if b.err != nil {
				fmt.Fprintf(&sb, " | %-20s", "gone")
				migr = append(migr, "-")
				continue
			}
			fmt.Fprintf(&sb, " | %-5s %4.0f/%4.0f%%     ", b.pin, float64(b.run-a.run)/dt, float64(b.wait-a.wait)/dt)
			migr = append(migr, strconv.FormatUint(b.migr-fs[0].r[k].migr, 10))
		}
		fmt.Fprintf(&sb, " | %s\n", strings.Join(migr, " "))
		prev = f
	}
	return sb.String()
}

// pinChanges lists every change of any traced vCPU's pin after `after`.
func (tr *tracer) pinChanges(after time.Duration) []string {
	fs := tr.snapshot()
	var out []string
	for j := 1; j < len(fs); j++ {
		if fs[j].at <= after {
			continue
		}
		for k, ref := range tr.refs {
			a, b := fs[j-1].r[k], fs[j].r[k]
			if a.err == nil && b.err == nil && !a.pin.Equals(b.pin) {
				out = append(out, fmt.Sprintf("%s %s->%s at %.2fs", ref, a.pin, b.pin, fs[j].at.Seconds()))
			}
		}
	}
	return out
}

// firstFrom returns the time of the first tframe from which cond holds in
// every later tframe, or -1.
func (tr *tracer) firstFrom(cond func(f tframe) bool) time.Duration {
	fs := tr.snapshot()
	at := time.Duration(-1)
	for _, f := range fs {
		switch {
		case !cond(f):
			at = -1
		case at < 0:
			at = f.at
		}
	}
	return at
}

// delivered returns a vCPU's run and wait between two trace times (the
// frames nearest them), in percent of one pCPU.
func (tr *tracer) delivered(g *guest, i int, from, to time.Duration) (run, wait float64) {
	fs := tr.snapshot()
	k := tr.index(g, i)
	a, b := nearestFrame(fs, from), nearestFrame(fs, to)
	if a == nil || b == nil || b.at <= a.at || a.r[k].err != nil || b.r[k].err != nil {
		return -1, -1
	}
	dt := float64((b.at - a.at).Nanoseconds()) / 100
	return float64(b.r[k].run-a.r[k].run) / dt, float64(b.r[k].wait-a.r[k].wait) / dt
}

func nearestFrame(fs []tframe, at time.Duration) *tframe {
	var best *tframe
	for i := range fs {
		if best == nil || absDur(fs[i].at-at) < absDur(best.at-at) {
			best = &fs[i]
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// readMigrations reads a thread's se.nr_migrations from /proc/<tid>/sched.
func readMigrations(tid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/sched", tid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "se.nr_migrations" {
			return strconv.ParseUint(f[2], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/sched: no se.nr_migrations", tid)
}
