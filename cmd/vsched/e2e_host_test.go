//go:build e2e

package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/utils/cpuset"
)

// The end-to-end tier drives the real daemon against a real libvirtd with
// real QEMU guests (scripts/host-up.sh, scripts/guest.sh) and judges it by
// an independent reading of the vCPU threads in /proc, never by vsched's own
// report. Every check polls with a settle time a noisy 2-core host needs and
// prints what it saw when it fails.

var (
	repoRoot  string
	vschedBin string
	// guestType is the libvirt domain type the guests run as: kvm or qemu
	// (TCG), from scripts/guest.sh virt-type; guestTypeWhy is its evidence.
	guestType, guestTypeWhy string
	// vschedHelp is `vsched --help`, to tell which contract flags the binary
	// under test has.
	vschedHelp string
)

// hasFlag reports whether the daemon under test has a command-line flag.
func hasFlag(flag string) bool {
	return strings.Contains(vschedHelp, flag+" ")
}

// needFlag fails the test, saying which feature is missing, when the daemon
// under test lacks a contract flag: a test of that feature cannot pass
// without it, and must not pass silently.
func needFlag(t *testing.T, flag, feature string) {
	t.Helper()
	if !hasFlag(flag) {
		t.Fatalf("vsched (%s) has no %s flag: %s is not in this build", vschedBin, flag, feature)
	}
}

func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "e2e: FAIL: the end-to-end tier needs root in CI")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "e2e: SKIP: the end-to-end tier needs root (it starts libvirtd and QEMU guests)")
		os.Exit(0)
	}
	if runtime.NumCPU() < 2 {
		fmt.Fprintln(os.Stderr, "e2e: FAIL: the end-to-end tier needs at least 2 CPUs (it balances guests over pCPUs 0 and 1)")
		os.Exit(1)
	}
	vschedBin = os.Getenv("VSCHED_BIN")
	if vschedBin == "" {
		vschedBin = filepath.Join(os.TempDir(), "vsched-e2e")
		b := exec.Command("go", "build", "-tags", "libvirt_dlopen", "-o", vschedBin, ".")
		b.Stdout, b.Stderr = os.Stdout, os.Stderr
		if err := b.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: FAIL: building vsched:", err)
			os.Exit(1)
		}
	}
	up := exec.Command(filepath.Join(repoRoot, "scripts", "host-up.sh"))
	up.Stderr = os.Stderr
	out, err := up.Output()
	_, _ = os.Stderr.Write(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: FAIL: the host could not be set up (scripts/host-up.sh):", err)
		os.Exit(1)
	}
	vt, err := exec.Command(filepath.Join(repoRoot, "scripts", "guest.sh"), "virt-type", "--why").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: FAIL: scripts/guest.sh virt-type:", err)
		os.Exit(1)
	}
	lines := strings.SplitN(strings.TrimSpace(string(vt)), "\n", 2)
	guestType = lines[0]
	if len(lines) == 2 {
		guestTypeWhy = lines[1]
	}
	fmt.Fprintf(os.Stderr, "e2e: guests run as domain type %q (%s)\n", guestType, guestTypeWhy)
	help, _ := exec.Command(vschedBin, "--help").CombinedOutput()
	vschedHelp = string(help)
	code := m.Run()
	_ = exec.Command(filepath.Join(repoRoot, "scripts", "guest.sh"), "destroy-all").Run()
	os.Exit(code)
}

// script runs one of the project's scripts and fails the test with its
// output when it fails.
func script(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot, "scripts", name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// guest is one running test guest and its vCPU threads.
type guest struct {
	name  string
	mode  string
	ids   []int // online vCPU ids, as libvirt reports them
	tids  []int // the thread of each, parallel to ids
	label string
}

// guestOpts are scripts/guest.sh start's options beyond the mode.
type guestOpts struct {
	pin    string // <vcpupin> of every vCPU (an initial pin vsched may change)
	cpuset string // <vcpu cpuset>: the operator's range
	vcpus  int    // vCPUs defined (default 1)
	online string // vCPU ids online at start (default all)
}

// startGuest starts a boot-sector guest (mode burn, idle or duty:B:S) with
// every vCPU pinned to cpus and destroys it when the test ends.
func startGuest(t *testing.T, name, mode, cpus string) *guest {
	t.Helper()
	return startGuestOpts(t, name, mode, guestOpts{pin: cpus})
}

// startGuestOpts starts a guest with the given options and destroys it when
// the test ends.
func startGuestOpts(t *testing.T, name, mode string, o guestOpts) *guest {
	t.Helper()
	label := name
	name = "vsched-t-" + name
	args := []string{"start", name, "--mode", mode}
	if o.pin != "" {
		args = append(args, "--pin", o.pin)
	}
	if o.cpuset != "" {
		args = append(args, "--cpuset", o.cpuset)
	}
	if o.vcpus > 0 {
		args = append(args, "--vcpus", strconv.Itoa(o.vcpus))
	}
	if o.online != "" {
		args = append(args, "--online", o.online)
	}

	script(t, "guest.sh", args...)
	t.Cleanup(func() { _ = exec.Command(filepath.Join(repoRoot, "scripts", "guest.sh"), "destroy", name).Run() })
	g := &guest{name: name, mode: mode, label: label}
	if err := g.refresh(); err != nil {
		t.Fatalf("guest %s: %v", name, err)
	}
	return g
}

// refresh re-reads the guest's online vCPUs and their threads (after a
// hot-plug).
func (g *guest) refresh() error {
	ids, tids, err := vcpuThreads(g.name)
	if err != nil {
		return err
	}
	g.ids, g.tids = ids, tids
	return nil
}

// vcpuThreads reads the online vCPU ids and their thread ids from libvirt's
// status file /run/libvirt/qemu/NAME.xml, independently of vsched.
func vcpuThreads(name string) (ids, tids []int, err error) {
	b, err := os.ReadFile(filepath.Join("/run/libvirt/qemu", name+".xml"))
	if err != nil {
		return nil, nil, err
	}
	var st struct {
		VCPUs []struct {
			ID  int `xml:"id,attr"`
			PID int `xml:"pid,attr"`
		} `xml:"vcpus>vcpu"`
	}
	if err := xml.Unmarshal(b, &st); err != nil {
		return nil, nil, err
	}
	for _, v := range st.VCPUs {
		if v.PID > 0 {
			ids = append(ids, v.ID)
			tids = append(tids, v.PID)
		}
	}
	if len(tids) == 0 {
		return nil, nil, fmt.Errorf("no <vcpu pid=...> in /run/libvirt/qemu/%s.xml", name)
	}
	return ids, tids, nil
}

// virshPins reads every vCPU's pin as libvirt reports it (`virsh vcpupin
// DOM`), by vCPU id.
func virshPins(name string) (map[int]cpuset.CPUSet, error) {
	out, err := exec.Command("virsh", "-q", "-c", "qemu:///system", "vcpupin", name).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("virsh vcpupin %s: %w: %s", name, err, out)
	}
	pins := map[int]cpuset.CPUSet{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		id, err1 := strconv.Atoi(f[0])
		set, err2 := cpuset.Parse(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("virsh vcpupin %s: cannot read line %q", name, line)
		}
		pins[id] = set
	}
	return pins, nil
}

// virsh runs virsh on qemu:///system and fails the test with its output
// when it fails.
func virsh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("virsh", append([]string{"-c", "qemu:///system"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("virsh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// pinOf is one vCPU's pin read two ways: the kernel's affinity of its thread
// and libvirt's `virsh vcpupin`. It fails the test when they disagree.
func pinOf(t *testing.T, g *guest, i int) cpuset.CPUSet {
	t.Helper()
	a, err := affinity(g.tids[i])
	if err != nil {
		t.Fatalf("%s vcpu%d tid %d: %v", g.name, g.ids[i], g.tids[i], err)
	}
	v, err := virshPins(g.name)
	if err != nil {
		t.Fatal(err)
	}
	if !v[g.ids[i]].Equals(a) {
		t.Fatalf("%s vcpu%d: the kernel says affinity %s, virsh vcpupin says %s", g.name, g.ids[i], a, v[g.ids[i]])
	}
	return a
}

// affinity reads a thread's allowed CPUs from /proc/<tid>/status.
func affinity(tid int) (cpuset.CPUSet, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return cpuset.New(), err
	}
	m := regexp.MustCompile(`(?m)^Cpus_allowed_list:\s*(\S+)`).FindSubmatch(b)
	if m == nil {
		return cpuset.New(), fmt.Errorf("no Cpus_allowed_list in /proc/%d/status", tid)
	}
	return cpuset.Parse(string(m[1]))
}

// schedstat reads a thread's cumulative run and wait time in ns.
func schedstat(tid int) (run, wait uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", tid))
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("/proc/%d/schedstat: %q", tid, b)
	}
	run, _ = strconv.ParseUint(f[0], 10, 64)
	wait, _ = strconv.ParseUint(f[1], 10, 64)
	return run, wait, nil
}

// placement maps every guest vCPU thread to its allowed CPUs, as text for
// failure messages and as per-CPU counts of single-CPU pins.
func placement(t *testing.T, guests []*guest) (string, map[int]int) {
	t.Helper()
	var sb strings.Builder
	count := map[int]int{}
	for _, g := range guests {
		for i, tid := range g.tids {
			a, err := affinity(tid)
			if err != nil {
				t.Fatalf("%s vcpu%d tid %d: %v", g.name, i, tid, err)
			}
			fmt.Fprintf(&sb, "%s/%d(tid %d)=%s ", g.name, i, tid, a)
			if a.Size() == 1 {
				count[a.List()[0]]++
			}
		}
	}
	return sb.String(), count
}

// vschedProc is one running daemon whose stderr is kept for the failure
// message.
type vschedProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
	done chan error
}

func (p *vschedProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

func (p *vschedProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// startVsched starts the daemon with args and stops it (SIGTERM) when the
// test ends, if it still runs.
//
// Each run gets its own --state-dir (a temporary directory) unless args name
// one, when the binary has the flag: the checkpoint of one test must not
// leak into the next.
func startVsched(t *testing.T, args ...string) *vschedProc {
	t.Helper()
	if hasFlag("--state-dir") && !slices.Contains(args, "--state-dir") {
		args = append(args, "--state-dir", t.TempDir())
	}
	p := &vschedProc{done: make(chan error, 1)}
	p.cmd = exec.Command(vschedBin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting vsched: %v", err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-p.done:
				if err != nil {
					t.Errorf("vsched exit after SIGTERM at the end of the test: %v", err)
				}
			case <-time.After(5 * time.Second):
				_ = p.cmd.Process.Kill()
			}
		}
		if t.Failed() {
			t.Logf("vsched log:\n%s", p.log())
		}
	})
	return p
}

// stop sends SIGTERM and waits for the exit status.
func (p *vschedProc) stop(t *testing.T, within time.Duration) error {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(within):
		t.Fatalf("vsched did not stop within %s of SIGTERM", within)
		return nil
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *vschedProc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Kill()
	select {
	case err := <-p.done:
		t.Logf("vsched after SIGKILL: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatalf("vsched still running 5s after SIGKILL")
	}
}

// alive fails the test when the daemon has exited.
func (p *vschedProc) alive(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		t.Fatalf("vsched exited early: %v", err)
	default:
	}
}

// waitFor polls cond every 250ms until it holds or the settle time passes;
// on timeout it fails with what it last saw.
func waitFor(t *testing.T, settle time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	var seen string
	for {
		var ok bool
		ok, seen = cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not reached within %s; last seen: %s", what, settle, seen)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// holdsFor checks cond every 250ms for the whole duration and fails at the
// first time it does not hold.
func holdsFor(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if ok, seen := cond(); !ok {
			t.Fatalf("%s: broke after settling; seen: %s", what, seen)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
