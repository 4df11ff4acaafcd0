//go:build e2e

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The soak (issue 13): vsched at --interval 20ms for minutes on real guests
// while guests are replaced every few seconds, a vCPU is hot-plugged into a
// domain whose online vCPU ids are 0 and 2, an unplug is requested (QEMU
// refuses it: a boot sector has no ACPI to eject a CPU with, so the call
// fails fast, and the vCPU stays), and libvirtd is killed and restarted. It fails when
// vsched dies, when a pin it set is lost (libvirt's word and the kernel's
// disagree, or a pinned vCPU comes loose), or when live heap, goroutines or
// descriptors grow past a bound after warm-up. `make soak` runs it; it is
// not part of `make e2e`.
//
// VSCHED_SOAK_DURATION (default 3m) and VSCHED_SOAK_WARMUP (default 30s)
// set the length; VSCHED_SOAK_MAX_OVERRUNS, when set, also fails the run on
// more "cycle overran" warnings than that.

// soakPoint is one reading of the daemon from outside.
type soakPoint struct {
	at                 time.Duration
	heapObjects        float64 // go_memstats_heap_objects (in a table row: the lowest of its readings)
	heapInuse          float64 // go_memstats_heap_inuse_bytes (likewise)
	goroutines         float64 // go_goroutines
	openFDs            float64 // process_open_fds
	procFDs            int     // entries in /proc/PID/fd
	rssKB              int     // VmRSS
	overrunsMetric     float64 // vsched_cycle_overruns_total
	overrunsLog, moves int     // "cycle overran" and "move vCPU" lines so far
	guests             int
	event              string
}

func TestSoak_ChurnHotplugLibvirtdRestart_Bounded(t *testing.T) {
	duration := envDuration(t, "VSCHED_SOAK_DURATION", 3*time.Minute)
	warmup := envDuration(t, "VSCHED_SOAK_WARMUP", 30*time.Second)
	if warmup >= duration/2 {
		t.Fatalf("VSCHED_SOAK_WARMUP %s must be under half of VSCHED_SOAK_DURATION %s", warmup, duration)
	}
	addr := freeAddr(t)

	// Guests that live through the whole soak: their pins are watched.
	stable := []*guest{
		startGuest(t, "soak-s0", "burn", "0"),
		startGuest(t, "soak-s1", "duty:1:1", "0"),
		// vCPU ids 0 and 2 online, 1 plugged in later: ids are not 0..n-1.
		startGuestOpts(t, "soak-hp", "burn", guestOpts{pin: "0", vcpus: 3, online: "0,2"}),
	}
	hp := stable[2]
	p := startVsched(t, daemonArgs("--interval", "20ms", "--metrics-addr", addr, "--log-level", "info")...)
	start := time.Now()
	pid := p.cmd.Process.Pid

	w := newPinWatch()
	var points, raw []soakPoint
	var churn []*guest
	churnN, event := 0, "start"
	modes := []string{"burn", "duty:1:1", "idle"}
	plugAt, unplugAt, restartAt := duration/4, 3*duration/4, duration/2
	plugged, unplugTried, restarted := false, false, false
	nextChurn, nextPoint := start.Add(4*time.Second), start
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n%s\nvsched log (last 40 lines):\n%s", append(args, soakTable(points), tail(p.log(), 40))...)
	}

	for time.Since(start) < duration {
		select {
		case err := <-p.done:
			p.done <- err
			fail("vsched died after %s: %v", time.Since(start).Round(time.Second), err)
		default:
		}
		el := time.Since(start)
		switch {
		case !plugged && el >= plugAt:
			plugged = true
			virsh(t, "setvcpu", hp.name, "1", "--enable", "--live")
			if err := hp.refresh(); err != nil {
				fail("after hot-plug: %v", err)
			}
			event += fmt.Sprintf(" plug %s/1 (ids now %v)", hp.label, hp.ids)
		case !unplugTried && el >= unplugAt:
			unplugTried = true
			t0 := time.Now()
			out, err := exec.Command("virsh", "-c", "qemu:///system", "setvcpu", hp.name, "1", "--disable", "--live").CombinedOutput()
			_ = hp.refresh()
			event += fmt.Sprintf(" unplug %s/1: %s after %s (ids now %v)", hp.label,
				strings.TrimSpace(firstLine(string(out), err)), time.Since(t0).Round(100*time.Millisecond), hp.ids)
		case !restarted && el >= restartAt:
			restarted = true
			t0 := time.Now()
			restartLibvirtd(t)
			event += fmt.Sprintf(" libvirtd restarted in %s", time.Since(t0).Round(100*time.Millisecond))
		case time.Now().After(nextChurn):
			if len(churn) >= 2 {
				script(t, "guest.sh", "destroy", churn[0].name)
				churn = churn[1:]
			}
			churnN++
			g := startGuest(t, fmt.Sprintf("soak-c%d", churnN), modes[churnN%len(modes)], strconv.Itoa(churnN%2))
			churn = append(churn, g)
			event += " replace"
			nextChurn = time.Now().Add(4 * time.Second)
		}
		if lost := w.check(t, stable); lost != "" {
			fail("a pin vsched set was lost: %s", lost)
		}
		if time.Now().After(nextPoint) {
			pt, err := readSoakPoint(addr, pid, p.log())
			if err != nil {
				fail("reading vsched at %s: %v", el.Round(time.Second), err)
			}
			pt.at, pt.guests = el, len(stable)+len(churn)
			raw = append(raw, pt)
			if len(raw) >= 5 {
				// One row per 5 readings; the heap is judged on its
				// floor (the reading after a GC), not on garbage.
				row := raw[len(raw)-1]
				row.heapObjects = floor(raw, func(p soakPoint) float64 { return p.heapObjects })
				row.heapInuse = floor(raw, func(p soakPoint) float64 { return p.heapInuse })
				row.event = strings.TrimSpace(event)
				points = append(points, row)
				raw, event = raw[:0], ""
			}
			nextPoint = nextPoint.Add(time.Second)
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.alive(t)
	table := soakTable(points)
	t.Logf("guest type %s; soak of %s at --interval 20ms:\n%s", guestType, duration, table)
	t.Logf("pins vsched set on the stable guests: %d changes seen; hot-plug, unplug and libvirtd: see the events column", w.changes)
	t.Logf("moves logged per domain: %s", movesByDomain(p.log()))

	// Growth after warm-up: the median of the first readings after it
	// against the median of the last three.
	var after []soakPoint
	for _, pt := range points {
		if pt.at >= warmup {
			after = append(after, pt)
		}
	}
	if len(after) < 6 {
		t.Fatalf("only %d readings after warm-up: soak too short", len(after))
	}
	first, last := after[:3], after[len(after)-3:]
	type bound struct {
		what       string
		get        func(soakPoint) float64
		factor, by float64
	}
	for _, b := range []bound{
		{"live heap objects (go_memstats_heap_objects)", func(p soakPoint) float64 { return p.heapObjects }, 1.5, 5000},
		{"heap in use (go_memstats_heap_inuse_bytes)", func(p soakPoint) float64 { return p.heapInuse }, 1.5, 4 << 20},
		{"goroutines (go_goroutines)", func(p soakPoint) float64 { return p.goroutines }, 1, 10},
		{"open descriptors (/proc/PID/fd)", func(p soakPoint) float64 { return float64(p.procFDs) }, 1, 16},
	} {
		base, now := median(first, b.get), median(last, b.get)
		if limit := base*b.factor + b.by; now > limit {
			t.Errorf("%s grew from %.0f after warm-up to %.0f at the end, over the bound %.0f (x%.1f + %.0f)", b.what, base, now, limit, b.factor, b.by)
		}
	}
	end := points[len(points)-1]
	t.Logf("cycle overran warnings: %d in the log, vsched_cycle_overruns_total %.0f, over %s at 20ms", end.overrunsLog, end.overrunsMetric, duration)
	if s := os.Getenv("VSCHED_SOAK_MAX_OVERRUNS"); s != "" {
		if limit, err := strconv.Atoi(s); err != nil {
			t.Errorf("VSCHED_SOAK_MAX_OVERRUNS=%q: %v", s, err)
		} else if end.overrunsLog > limit {
			t.Errorf("%d cycle overran warnings, more than VSCHED_SOAK_MAX_OVERRUNS=%d", end.overrunsLog, limit)
		}
	}
	if t.Failed() {
		t.Logf("vsched log (last 40 lines):\n%s", tail(p.log(), 40))
	}
	if f := os.Getenv("VSCHED_SOAK_LOG"); f != "" { // the whole log, for a closer look
		if err := os.WriteFile(f, []byte(p.log()), 0o644); err != nil {
			t.Errorf("VSCHED_SOAK_LOG: %v", err)
		}
	}
}

// pinWatch follows the stable guests' vCPUs: once a vCPU is pinned to one
// pCPU (as the guests start, or as vsched sets it) it must stay pinned to one
// pCPU, and libvirt's word must match the kernel's.
type pinWatch struct {
	single  map[string]bool
	last    map[string]string
	changes int
	lastVir time.Time
}

func newPinWatch() *pinWatch {
	return &pinWatch{single: map[string]bool{}, last: map[string]string{}}
}

func (w *pinWatch) check(t *testing.T, guests []*guest) string {
	t.Helper()
	withVirsh := time.Since(w.lastVir) > 2*time.Second
	if withVirsh {
		w.lastVir = time.Now()
	}
	for _, g := range guests {
		var vp map[int]string
		if withVirsh {
			pins, err := virshPins(g.name)
			if err != nil {
				// libvirtd may be restarting: the next check will see.
				withVirsh = false
			} else {
				vp = map[int]string{}
				for id, s := range pins {
					vp[id] = s.String()
				}
			}
		}
		for i, tid := range g.tids {
			key := fmt.Sprintf("%s/%d", g.label, g.ids[i])
			a, err := affinity(tid)
			if err != nil {
				return fmt.Sprintf("%s tid %d: %v", key, tid, err)
			}
			if prev, ok := w.last[key]; ok && prev != a.String() {
				w.changes++
			}
			w.last[key] = a.String()
			if a.Size() == 1 {
				w.single[key] = true
			} else if w.single[key] {
				return fmt.Sprintf("%s was pinned to one pCPU, now its thread may run on %s", key, a)
			}
			if vp != nil && vp[g.ids[i]] != a.String() {
				// Give libvirt a moment: a pin in flight shows in the
				// kernel first.
				time.Sleep(500 * time.Millisecond)
				b, _ := affinity(tid)
				pins, err := virshPins(g.name)
				if err == nil && !pins[g.ids[i]].Equals(b) {
					return fmt.Sprintf("%s: virsh vcpupin says %s, the kernel says %s", key, pins[g.ids[i]], b)
				}
			}
		}
	}
	return ""
}

// restartLibvirtd stops libvirtd by its PID file and starts it again with
// host-up.sh; guests keep running.
func restartLibvirtd(t *testing.T) {
	t.Helper()
	pid, err := os.ReadFile("/run/libvirtd.pid")
	if err != nil {
		t.Fatalf("libvirtd PID file: %v", err)
	}
	if out, err := exec.Command("kill", strings.TrimSpace(string(pid))).CombinedOutput(); err != nil {
		t.Fatalf("killing libvirtd: %v %s", err, out)
	}
	time.Sleep(2 * time.Second)
	script(t, "host-up.sh")
}

func readSoakPoint(addr string, pid int, log string) (soakPoint, error) {
	var pt soakPoint
	m, err := scrape(addr)
	if err != nil {
		return pt, err
	}
	pt.heapObjects, pt.heapInuse = m["go_memstats_heap_objects"], m["go_memstats_heap_inuse_bytes"]
	pt.goroutines, pt.openFDs = m["go_goroutines"], m["process_open_fds"]
	pt.overrunsMetric = m["vsched_cycle_overruns_total"]
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return pt, err
	}
	pt.procFDs = len(fds)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return pt, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			pt.rssKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	pt.overrunsLog = strings.Count(log, "cycle overran")
	pt.moves = strings.Count(log, "move vCPU")
	return pt, nil
}

// scrape reads the unlabelled series of a Prometheus text endpoint.
func scrape(addr string) (map[string]float64, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET /metrics: %s: %s", resp.Status, b)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || strings.HasPrefix(f[0], "#") || strings.Contains(f[0], "{") {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			m[f[0]] = v
		}
	}
	return m, sc.Err()
}

func soakTable(points []soakPoint) string {
	var sb strings.Builder
	sb.WriteString("one row per 5 readings a second apart; heap figures are the lowest of the 5 (after a GC)\n")
	sb.WriteString("    t | heap objs | heap inuse MB | goroutines | fds (proc/metric) | RSS MB | overruns (log/metric) | moves | guests | events\n")
	for _, p := range points {
		fmt.Fprintf(&sb, "%4.0fs | %9.0f | %13.1f | %10.0f | %8d / %-6.0f | %6.1f | %10d / %-8.0f | %5d | %6d | %s\n",
			p.at.Seconds(), p.heapObjects, p.heapInuse/(1<<20), p.goroutines, p.procFDs, p.openFDs,
			float64(p.rssKB)/1024, p.overrunsLog, p.overrunsMetric, p.moves, p.guests, p.event)
	}
	return sb.String()
}

// floor is the lowest reading: live heap after a collection.
func floor(ps []soakPoint, get func(soakPoint) float64) float64 {
	v := get(ps[0])
	for _, p := range ps[1:] {
		v = min(v, get(p))
	}
	return v
}

func median(ps []soakPoint, get func(soakPoint) float64) float64 {
	v := make([]float64, len(ps))
	for i, p := range ps {
		v[i] = get(p)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration like 3m", name, s)
	}
	return d
}

// freeAddr picks a free loopback TCP address for --metrics-addr.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func firstLine(out string, err error) string {
	s := strings.SplitN(strings.TrimSpace(out), "\n", 2)[0]
	if err == nil {
		return "ok " + s
	}
	return s
}

// movesByDomain counts the "move vCPU" log lines per domain (JSON or text
// log format).
func movesByDomain(log string) string {
	re := regexp.MustCompile(`domain"?[=:]"?([A-Za-z0-9._-]+)`)
	n := map[string]int{}
	var names []string
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "move vCPU") {
			continue
		}
		if m := re.FindStringSubmatch(line); m != nil {
			if n[m[1]] == 0 {
				names = append(names, m[1])
			}
			n[m[1]]++
		}
	}
	var out []string
	for _, d := range names {
		out = append(out, fmt.Sprintf("%s %d", strings.TrimPrefix(d, "vsched-t-"), n[d]))
	}
	return strings.Join(out, ", ")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
