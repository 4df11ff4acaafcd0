package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/cgroupstats/cgroupstatstest"
	"github.com/vsched/vsched/pinning"
	"github.com/vsched/vsched/pinning/checkpoint"
)

// hostURI is the test-driver URI of testdata/host.xml: 4 pCPUs and running
// domains guest-000 (ID 1), guest-001 (ID 2) and guest-002 (ID 3) of 2 vCPUs
// each, as cgroupstatstest.WriteSyntheticTree(dir, layout, 3, 2) builds them.
func hostURI(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "host.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return "test://" + p
}

// initialPins are testdata/host.xml's live pins, keyed "domain/vcpu".
func initialPins() map[string]string {
	return map[string]string{
		"guest-000/0": "0", "guest-000/1": "0",
		"guest-001/0": "0", "guest-001/1": "0",
		"guest-002/0": "2", "guest-002/1": "3",
	}
}

// busyOnCPU0 is the crowded load: the four vCPUs pinned to pCPU0 each want a
// whole pCPU, guest-002 idles.
// idleLoad is every vCPU idle: nothing to balance.
func idleLoad() map[string]float64 { return map[string]float64{} }

func busyOnCPU0() map[string]float64 {
	return map[string]float64{"guest-000/0": 100, "guest-000/1": 100, "guest-001/0": 100, "guest-001/1": 100}
}

// synthHost is a fake host the loop runs on with its real parts: libvirt's
// test driver for listing and pinning, and a cgroupstats.Sampler on a
// synthetic cgroup and proc tree whose schedstat, stat and /proc/stat files
// the test rewrites between cycles to emulate load.
type synthHost struct {
	t                    *testing.T
	cgroupRoot, procRoot string
	conn                 *pinning.Conn
	smp                  *cgroupstats.Sampler
	doms                 []cgroupstats.Domain
	dirs                 map[string][]string // domain -> its proc and cgroup dirs
	gone                 map[string]bool     // domains vanish removed
	task                 map[string]string   // "dom/vcpu" -> <proc>/<pid>/task/<tid>
	run, wait            map[string]uint64   // "dom/vcpu" -> cumulative ns
	busy, total          []uint64            // per pCPU, USER_HZ ticks
	dt                   time.Duration       // what one step emulates
	log                  bytes.Buffer
	store                *checkpoint.Store // the loop's checkpoint
}

// newSynthHost builds the tree (hybrid layout) and opens both real parts,
// and writes a first state of the kernel files with nothing running.
func newSynthHost(t *testing.T) *synthHost {
	t.Helper()
	dir := t.TempDir()
	doms, cg, proc, err := cgroupstatstest.WriteSyntheticTree(dir, cgroupstatstest.LayoutHybrid, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	h := &synthHost{t: t, cgroupRoot: cg, procRoot: proc, doms: doms,
		dirs: map[string][]string{}, gone: map[string]bool{}, task: map[string]string{},
		run: map[string]uint64{}, wait: map[string]uint64{},
		busy: make([]uint64, 4), total: make([]uint64, 4), dt: time.Second}
	// One throwaway reading finds each vCPU's thread and its counters.
	probe, err := cgroupstats.New(cg, proc)
	if err != nil {
		t.Fatal(err)
	}
	var s cgroupstats.Sample
	err = probe.Sample(doms, &s)
	_ = probe.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range s.Domains {
		if ds.Err != nil {
			t.Fatalf("synthetic domain %s: %v", ds.Domain.Name, ds.Err)
		}
		name := ds.Domain.Name
		h.dirs[name] = []string{filepath.Join(proc, strconv.Itoa(ds.PID)), ds.Cgroup}
		for _, v := range ds.VCPUs {
			k := fmt.Sprintf("%s/%d", name, v.VCPU)
			h.task[k] = filepath.Join(proc, strconv.Itoa(ds.PID), "task", strconv.Itoa(v.TID))
			h.run[k], h.wait[k] = v.RunNs, v.WaitNs
		}
	}
	for c := range h.busy {
		h.busy[c], h.total[c] = 1000, 10000
	}
	if h.conn, err = pinning.Open(hostURI(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.conn.Close() })
	if h.smp, err = cgroupstats.New(cg, proc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.smp.Close() })
	h.step(nil)
	return h
}

// newLoop builds a loop over the host's real parts with the adaptive policy,
// a checkpoint in a temporary directory, a JSON debug log into h.log and a
// sampler clock that advances exactly one interval per sample. p is the
// libvirt side's pinner (h.conn when nil).
func (h *synthHost) newLoop(o *daemonOptions, p pinner) *loop {
	h.t.Helper()
	if p == nil {
		p = h.conn
	}
	pol, err := balancer.PolicyByName(o.policy)
	if err != nil {
		h.t.Fatal(err)
	}
	log := newLogger("json", "debug", &h.log)
	store, err := checkpoint.Open(h.t.TempDir())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = store.Close() })
	h.store = store
	smp := &steadyClock{s: h.smp, now: t0, step: o.interval}
	return newLoop(o, log, smp, newLibvirtSide(p, store, log, time.Second), pol, fixedHost(4), newMetrics())
}

// fixedHost is a flat host of n online pCPUs whose topology is never
// re-read.
func fixedHost(n int) *hostView {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	all := cpuset.New(ids...)
	return &hostView{topo: cgroupstats.Topology{Online: all, Isolated: cpuset.New(), Nodes: []cpuset.CPUSet{all}}, cpus: all}
}

// cycle runs one loop cycle as the daemon does, with the libvirt side run
// in step: a listing first (as an event or the poll would), then the cycle,
// then the plan it handed over, if any, applied and collected.
func cycle(l *loop) { cycleAt(l, time.Now()) }

// cycleAt is cycle at a given time of the loop's clock.
func cycleAt(l *loop, now time.Time) {
	l.lv.list()
	l.cycle(now)
	if l.inflight {
		l.lv.results <- l.lv.apply(<-l.lv.plans)
		l.collect()
	}
}

// steadyClock wraps the real sampler and stamps each sample exactly one
// interval after the previous one, so rates do not depend on how fast the
// test runs. The counters it reads are what the test wrote for one interval.
type steadyClock struct {
	s    sampler
	now  time.Time
	step time.Duration
}

func (c *steadyClock) Sample(doms []cgroupstats.Domain, into *cgroupstats.Sample) error {
	err := c.s.Sample(doms, into)
	c.now = c.now.Add(c.step)
	into.Time = c.now
	return err
}

func (c *steadyClock) Transient() int { return c.s.Transient() }

// pins reads every running domain's live pins back from libvirt, keyed
// "domain/vcpu".
func (h *synthHost) pins() map[string]string {
	h.t.Helper()
	doms, err := h.conn.Domains()
	if err != nil {
		h.t.Fatalf("Domains: %v", err)
	}
	out := map[string]string{}
	for _, d := range doms {
		for _, v := range d.VCPUs {
			out[fmt.Sprintf("%s/%d", d.Name, v.ID)] = v.Pin.String()
		}
	}
	return out
}

// step emulates h.dt of load on the current live pins and rewrites
// the kernel files: each pCPU is shared max-min fairly among the vCPUs
// pinned to it (as DESIGN.md's host model), a vCPU's run time is what it got
// and its wait what it wanted more; /proc/stat's busy ticks follow.
func (h *synthHost) step(demand map[string]float64) {
	h.t.Helper()
	pins := h.pins()
	on := map[int][]string{}
	for k := range h.task {
		p, ok := pins[k]
		if !ok || h.gone[strings.Split(k, "/")[0]] {
			continue
		}
		set, err := cpuset.Parse(p)
		if err != nil || set.IsEmpty() {
			h.t.Fatalf("pin of %s: %q", k, p)
		}
		c := set.List()[0]
		on[c] = append(on[c], k)
		h.setLastCPU(k, c)
	}
	nsPerPct := float64(h.dt.Nanoseconds()) / 100
	ticks := float64(h.dt / (10 * time.Millisecond))
	for c := range h.total {
		got := fairShare(on[c], demand)
		used := 0.0
		for _, k := range on[c] {
			used += got[k]
			h.run[k] += uint64(got[k] * nsPerPct)
			h.wait[k] += uint64((demand[k] - got[k]) * nsPerPct)
			h.write(filepath.Join(h.task[k], "schedstat"), fmt.Sprintf("%d %d 100\n", h.run[k], h.wait[k]))
		}
		h.busy[c] += uint64(used/100*ticks + 0.5)
		h.total[c] += uint64(ticks)
	}
	var b strings.Builder
	var busy, total uint64
	for c := range h.total {
		busy, total = busy+h.busy[c], total+h.total[c]
	}
	fmt.Fprintf(&b, "cpu  %d 0 0 %d 0 0 0 0 0 0\n", busy, total-busy)
	for c := range h.total {
		fmt.Fprintf(&b, "cpu%d %d 0 0 %d 0 0 0 0 0 0\n", c, h.busy[c], h.total[c]-h.busy[c])
	}
	b.WriteString("intr 0\nctxt 868808\nbtime 1795633144\nprocesses 11568\nprocs_running 1\nprocs_blocked 0\n")
	h.write(filepath.Join(h.procRoot, "stat"), b.String())
}

// fairShare water-fills one pCPU (100%) among vCPUs with the given demands.
func fairShare(vcpus []string, demand map[string]float64) map[string]float64 {
	byDemand := slices.Clone(vcpus)
	slices.SortFunc(byDemand, func(a, b string) int {
		switch {
		case demand[a] < demand[b]:
			return -1
		case demand[a] > demand[b]:
			return 1
		}
		return strings.Compare(a, b)
	})
	got := map[string]float64{}
	left := 100.0
	for i, k := range byDemand {
		got[k] = min(demand[k], left/float64(len(byDemand)-i))
		left -= got[k]
	}
	return got
}

// setLastCPU rewrites the thread's stat file with processor (field 39) c.
func (h *synthHost) setLastCPU(k string, c int) {
	h.t.Helper()
	p := filepath.Join(h.task[k], "stat")
	b, err := os.ReadFile(p)
	if err != nil {
		h.t.Fatal(err)
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[end+1:]) // f[0] is field 3
	f[39-3] = strconv.Itoa(c)
	h.write(p, s[:end+1]+" "+strings.Join(f, " ")+"\n")
}

// write rewrites a file in place (same inode), as the kernel's files change
// under the sampler's kept-open descriptors.
func (h *synthHost) write(path, content string) {
	h.t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// vanish removes a domain's QEMU process and cgroup from the tree, as when
// the guest is destroyed.
func (h *synthHost) vanish(name string) {
	h.t.Helper()
	h.gone[name] = true
	for _, d := range h.dirs[name] {
		if err := os.RemoveAll(d); err != nil {
			h.t.Fatal(err)
		}
	}
}

// logEntry is one line of the JSON log.
type logEntry map[string]any

// logEntries returns the JSON log lines whose msg is msg.
func logEntries(t *testing.T, buf *bytes.Buffer, msg string) []logEntry {
	t.Helper()
	var out []logEntry
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var e logEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		if e["msg"] == msg {
			out = append(out, e)
		}
	}
	return out
}

// loggedMove is a "move vCPU" log entry's identifying fields.
type loggedMove struct {
	Domain         string
	VCPU, From, To int
}

// loggedMoves returns the "move vCPU" entries of the JSON log.
func loggedMoves(t *testing.T, buf *bytes.Buffer) []loggedMove {
	t.Helper()
	var out []loggedMove
	for _, e := range logEntries(t, buf, "move vCPU") {
		d, ok1 := e["domain"].(string)
		v, ok2 := e["vcpu"].(float64)
		f, ok3 := e["from"].(float64)
		to, ok4 := e["to"].(float64)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			t.Fatalf("move entry lacks domain/vcpu/from/to: %v", e)
		}
		out = append(out, loggedMove{d, int(v), int(f), int(to)})
	}
	return out
}

// applied returns pins with each move's vCPU pinned to its target.
func applied(pins map[string]string, moves []loggedMove) map[string]string {
	out := map[string]string{}
	for k, v := range pins {
		out[k] = v
	}
	for _, m := range moves {
		out[fmt.Sprintf("%s/%d", m.Domain, m.VCPU)] = strconv.Itoa(m.To)
	}
	return out
}

// sysRoot writes a sysfs tree of n online CPUs, one NUMA node, no SMT,
// and returns its root.
func sysRoot(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"devices/system/cpu/online":         fmt.Sprintf("0-%d\n", n-1),
		"devices/system/cpu/isolated":       "\n",
		"devices/system/node/node0/cpulist": fmt.Sprintf("0-%d\n", n-1),
	}
	for c := range n {
		dir := fmt.Sprintf("devices/system/cpu/cpu%d/topology/", c)
		files[dir+"thread_siblings_list"] = fmt.Sprintf("%d\n", c)
		files[dir+"thread_siblings"] = fmt.Sprintf("%x\n", 1<<c)
		files[dir+"core_siblings_list"] = fmt.Sprintf("0-%d\n", n-1)
		files[dir+"core_siblings"] = fmt.Sprintf("%x\n", 1<<n-1)
		files[dir+"core_id"] = fmt.Sprintf("%d\n", c)
		files[dir+"physical_package_id"] = "0\n"
	}
	if err := cgroupstatstest.WriteFiles(dir, files, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testOptions are the daemon's defaults with a 1 s interval and window.
func testOptions() *daemonOptions {
	o := defaultDaemonOptions()
	o.interval, o.window, o.confirm = time.Second, time.Second, 1
	return o
}
