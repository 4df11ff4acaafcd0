//go:build testhost

package testhost

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/cpuset"
)

// Settle times for 8 vCPUs of a VM on 2 host cores, inner guests emulated
// twice under TCG: generous, since only placement and safety are judged.
const (
	settle = 180 * time.Second // a placement is reached within this long
	calm   = 15 * time.Second  // and then holds this long
	uri    = "qemu:///system"
	// stateFile is the checkpoint of the packaged unit (StateDirectory=vsched).
	stateFile = "/var/lib/vsched/state.json"
	prefix    = "vsched-t-"
)

var (
	// in is the directory the run's files are in (/srv/in): guest.sh,
	// lib.sh, the .deb files.
	in string
	// guestType is the libvirt domain type of the inner guests (kvm or qemu).
	guestType string
)

func TestMain(m *testing.M) {
	in = os.Getenv("VSCHED_TESTHOST_IN")
	if in == "" {
		in = "/srv/in"
	}
	if _, err := os.Stat("/srv/in/.testhost/vsched.deb"); err != nil || os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "testhost: FAIL: these tests run as root inside the test host only (scripts/testhost.sh run, make test-host)")
		os.Exit(1)
	}
	out, err := exec.Command(filepath.Join(in, "guest.sh"), "virt-type", "--why").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testhost: FAIL: guest.sh virt-type: %v\n%s", err, out)
		os.Exit(1)
	}
	lines := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)
	guestType = lines[0]
	fmt.Fprintf(os.Stderr, "testhost: inner guests run as domain type %q (%s)\n", guestType, lines[len(lines)-1])
	code := m.Run()
	_ = exec.Command(filepath.Join(in, "guest.sh"), "destroy-all").Run()
	os.Exit(code)
}

// sh runs a command and returns its combined output; the test fails with
// that output when it fails.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// quiet runs a command for its output alone, errors folded into the text.
func quiet(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s(%s %s: %v)", out, name, strings.Join(args, " "), err)
	}
	return string(out)
}

// guest is one running boot-sector guest.
type guest struct {
	name string
	pid  int
	tids []int // by vCPU id
}

// startGuest starts a guest with scripts/guest.sh (label gets the prefix)
// and destroys it when the test ends.
func startGuest(t *testing.T, label, mode string, opts ...string) *guest {
	t.Helper()
	name := prefix + label
	t.Cleanup(func() { _ = exec.Command(filepath.Join(in, "guest.sh"), "destroy", name).Run() })
	sh(t, filepath.Join(in, "guest.sh"), append([]string{"start", name, "--mode", mode}, opts...)...)
	return lookup(t, name)
}

// lookup reads a running guest's QEMU pid and vCPU threads.
func lookup(t *testing.T, name string) *guest {
	t.Helper()
	b, err := os.ReadFile("/run/libvirt/qemu/" + name + ".pid")
	if err != nil {
		t.Fatalf("guest %s: %v", name, err)
	}
	g := &guest{name: name}
	g.pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("guest %s: pid file %q: %v", name, b, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(sh(t, filepath.Join(in, "guest.sh"), "tids", name)), "\n") {
		var v, tid int
		if _, err := fmt.Sscan(line, &v, &tid); err != nil || v != len(g.tids) {
			t.Fatalf("guest %s: bad tids line %q", name, line)
		}
		g.tids = append(g.tids, tid)
	}
	if len(g.tids) == 0 {
		t.Fatalf("guest %s: no vCPU threads", name)
	}
	return g
}

// affinity is the CPUs a thread may run on, from /proc (Cpus_allowed_list).
func affinity(tid int) (cpuset.CPUSet, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return cpuset.New(), err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return cpuset.Parse(strings.TrimSpace(v))
		}
	}
	return cpuset.New(), fmt.Errorf("/proc/%d/status: no Cpus_allowed_list", tid)
}

// pins reads every vCPU's affinity of the guests: "name/vcpu" -> CPUs.
func pins(t *testing.T, guests ...*guest) map[string]cpuset.CPUSet {
	t.Helper()
	m := map[string]cpuset.CPUSet{}
	for _, g := range guests {
		for v, tid := range g.tids {
			a, err := affinity(tid)
			if err != nil {
				t.Fatalf("guest %s vCPU %d: %v", g.name, v, err)
			}
			m[fmt.Sprintf("%s/%d", g.name, v)] = a
		}
	}
	return m
}

func show(m map[string]cpuset.CPUSet) string {
	var b strings.Builder
	for k, v := range m {
		fmt.Fprintf(&b, "%s=%s ", k, v)
	}
	return b.String()
}

// sysList reads a CPU list file under /sys/devices/system.
func sysList(t *testing.T, path string) cpuset.CPUSet {
	t.Helper()
	b, err := os.ReadFile("/sys/devices/system/" + path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cpuset.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("/sys/devices/system/%s: %v", path, err)
	}
	return s
}

// core names the SMT core of a CPU by its thread siblings.
func core(t *testing.T, cpu int) string {
	t.Helper()
	return sysList(t, fmt.Sprintf("cpu/cpu%d/topology/thread_siblings_list", cpu)).String()
}

// onePinEach reports the single CPU each vCPU is pinned to, or false when
// one is not pinned to exactly one CPU.
func onePinEach(m map[string]cpuset.CPUSet) (map[string]int, bool) {
	one := map[string]int{}
	for k, v := range m {
		if v.Size() != 1 {
			return nil, false
		}
		one[k] = v.List()[0]
	}
	return one, true
}

// splitCores is true when every vCPU is pinned to one CPU and no two share
// an SMT core.
func splitCores(t *testing.T, guests ...*guest) func() (bool, string) {
	return func() (bool, string) {
		m := pins(t, guests...)
		one, ok := onePinEach(m)
		if !ok {
			return false, show(m)
		}
		seen := map[string]string{}
		for k, c := range one {
			if o, dup := seen[core(t, c)]; dup {
				return false, fmt.Sprintf("%s and %s on core %s: %s", o, k, core(t, c), show(m))
			}
			seen[core(t, c)] = k
		}
		return true, show(m)
	}
}

// waitFor polls cond every second until it holds, failing with what it
// saw last when d passes first.
func waitFor(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	start := time.Now()
	var seen string
	for {
		var ok bool
		if ok, seen = cond(); ok {
			t.Logf("%s after %.0f s: %s", what, time.Since(start).Seconds(), seen)
			return
		}
		if time.Since(start) > d {
			t.Fatalf("not %s within %s; last seen: %s", what, d, seen)
		}
		time.Sleep(time.Second)
	}
}

// holdsFor fails as soon as cond stops holding within d.
func holdsFor(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Second) {
		if ok, seen := cond(); !ok {
			t.Fatalf("%s stopped holding: %s", what, seen)
		}
	}
}

// mainPID is vsched.service's main process, 0 when it has none.
func mainPID(t *testing.T) int {
	t.Helper()
	v := strings.TrimSpace(sh(t, "systemctl", "show", "-p", "MainPID", "--value", "vsched.service"))
	n, _ := strconv.Atoi(v)
	return n
}

// active waits until vsched.service is active and has run a while
// (connected, sampling); returns its main pid.
func active(t *testing.T) int {
	t.Helper()
	waitFor(t, 60*time.Second, "vsched.service active", func() (bool, string) {
		s := strings.TrimSpace(quiet("systemctl", "is-active", "vsched.service"))
		return s == "active" && mainPID(t) != 0, s
	})
	pid := mainPID(t)
	time.Sleep(3 * time.Second)
	if p := mainPID(t); p != pid {
		t.Fatalf("vsched.service restarted (pid %d then %d): it is crash-looping", pid, p)
	}
	return pid
}

// entry is one vCPU of the checkpoint (pinning/checkpoint's file format).
type entry struct {
	UUID     string `json:"uuid"`
	VCPU     int    `json:"vcpu"`
	Name     string `json:"name"`
	Original string `json:"original"`
	Set      string `json:"set"`
}

// originals reads the checkpoint: "name/vcpu" -> the original pin.
func originals(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	var f struct {
		Entries []entry `json:"entries"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("checkpoint %s: %v\n%s", stateFile, err, b)
	}
	m := map[string]string{}
	for _, e := range f.Entries {
		m[fmt.Sprintf("%s/%d", e.Name, e.VCPU)] = e.Original
	}
	return m
}

// seen logs, when the test fails, what the host looked like: the journal of
// vsched and libvirtd, the pins libvirt reports, the topology, the checkpoint.
func seen(t *testing.T) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "--- journal (vsched, libvirtd)\n%s", quiet("journalctl", "--no-pager", "-o", "short-precise", "-n", "150", "-u", "vsched", "-u", "libvirtd"))
		for _, d := range strings.Fields(quiet("virsh", "-c", uri, "list", "--name")) {
			fmt.Fprintf(&b, "--- virsh vcpupin %s\n%s", d, quiet("virsh", "-c", uri, "vcpupin", d))
		}
		fmt.Fprintf(&b, "--- lscpu -e\n%s", quiet("lscpu", "-e"))
		fmt.Fprintf(&b, "--- numactl -H\n%s", quiet("numactl", "-H"))
		fmt.Fprintf(&b, "--- %s\n%s", stateFile, quiet("cat", stateFile))
		fmt.Fprintf(&b, "--- systemctl status vsched\n%s", quiet("systemctl", "status", "--no-pager", "vsched"))
		t.Log("\n" + b.String())
	})
}
