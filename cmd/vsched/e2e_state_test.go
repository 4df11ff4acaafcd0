//go:build e2e

package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/cpuset"
)

// Issue 12 in the real tier: the checkpoint in --state-dir, `vsched
// restore`, the operator's re-pins and the metadata opt-out. Every check
// reads the pins with virsh and /proc (pinOf), never with vsched's word.

// movedOne starts the daemon on two burners pinned to pCPU0 and waits until
// it has moved one of them to pCPU1; it returns the daemon, the moved guest
// and the other one.
func movedOne(t *testing.T, prefix string, args ...string) (p *vschedProc, moved, stayed *guest) {
	t.Helper()
	gs := []*guest{startGuest(t, prefix+"0", "burn", "0"), startGuest(t, prefix+"1", "burn", "0")}
	p = startVsched(t, daemonArgs(args...)...)
	waitFor(t, settle, "vsched moved one burner", pinsEqual(t, gs, map[int]int{0: 1, 1: 1}))
	if pinOf(t, gs[0], 0).Equals(cpuset.New(1)) {
		return p, gs[0], gs[1]
	}
	return p, gs[1], gs[0]
}

// restoreRun runs `vsched restore` and returns its stdout, stderr and exit
// status.
func restoreRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(vschedBin, append([]string{"restore"}, args...)...)
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("vsched restore: %v", err)
	}
	return so.String(), se.String(), code
}

func needRestore(t *testing.T) {
	t.Helper()
	needFlag(t, "--state-dir", "the checkpoint of issue 12")
	if out, err := exec.Command(vschedBin, "restore", "--help").CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "--state-dir") {
		t.Fatalf("vsched has no `restore` subcommand with --state-dir (issue 12 not in this build): %v\n%s", err, out)
	}
}

// domUUID is libvirt's UUID of a guest.
func domUUID(t *testing.T, g *guest) string {
	t.Helper()
	return strings.TrimSpace(virsh(t, "domuuid", g.name))
}

// SIGKILL (an OOM kill, a crash) after a move, then `vsched restore`: the
// pin vsched found comes back, reported in one line for the vCPU; a second
// restore has nothing left to do.
func TestE2E_SIGKILLThenRestore_PutsOriginalBack(t *testing.T) {
	needRestore(t)
	dir := t.TempDir()
	p, moved, stayed := movedOne(t, "k", "--state-dir", dir)
	p.kill(t)
	if got := pinOf(t, moved, 0); !got.Equals(cpuset.New(1)) {
		t.Fatalf("after SIGKILL %s is pinned to %s, want still 1 (nothing runs to change it)", moved.name, got)
	}
	out, errOut, code := restoreRun(t, "--state-dir", dir)
	t.Logf("vsched restore: exit %d\nstdout:\n%sstderr:\n%s", code, out, errOut)
	if code != 0 {
		t.Fatalf("vsched restore exit status %d, want 0", code)
	}
	uuid := domUUID(t, moved)
	var about []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, moved.name) || strings.Contains(line, uuid) {
			about = append(about, line)
		}
	}
	if len(about) != 1 {
		t.Errorf("want exactly one line about %s (%s) vcpu 0, got %d:\n%s", moved.name, uuid, len(about), out)
	}
	for _, g := range []*guest{moved, stayed} {
		if got := pinOf(t, g, 0); !got.Equals(cpuset.New(0)) {
			t.Errorf("after vsched restore %s vcpu0 is pinned to %s, want its original 0", g.name, got)
		}
	}
	out, errOut, code = restoreRun(t, "--state-dir", dir)
	if code != 0 {
		t.Errorf("a second vsched restore: exit %d, want 0 (restored entries leave the checkpoint)\n%s%s", code, out, errOut)
	}
	for _, g := range []*guest{moved, stayed} {
		if got := pinOf(t, g, 0); !got.Equals(cpuset.New(0)) {
			t.Errorf("after a second restore %s vcpu0 is pinned to %s, want 0", g.name, got)
		}
	}
}

// SIGKILL, a restart with --restore-on-exit, SIGTERM: the originals are the
// pins from before the first run, not what the restarted daemon found.
func TestE2E_SIGKILLRestartThenSIGTERM_RestoresFirstOriginals(t *testing.T) {
	needRestore(t)
	dir := t.TempDir()
	p, moved, stayed := movedOne(t, "kr", "--state-dir", dir)
	p.kill(t)
	p2 := startVsched(t, daemonArgs("--state-dir", dir, "--restore-on-exit")...)
	time.Sleep(3 * time.Second) // a few cycles with a full window
	p2.alive(t)
	if err := p2.stop(t, 5*time.Second); err != nil {
		t.Fatalf("restarted vsched exit after SIGTERM: %v\n%s", err, p2.log())
	}
	for _, g := range []*guest{moved, stayed} {
		if got := pinOf(t, g, 0); !got.Equals(cpuset.New(0)) {
			t.Errorf("after restart and SIGTERM with --restore-on-exit %s vcpu0 is pinned to %s, want 0 (the pin before the first run)\nlog of the restarted daemon:\n%s",
				g.name, got, p2.log())
		}
	}
}

// An operator's `virsh vcpupin` to a pin vsched never sets (a range) while
// vsched runs: never undone while it runs, nor by --restore-on-exit.
func TestE2E_OperatorRangePin_NeverUndoneNorRestored(t *testing.T) {
	p, moved, stayed := movedOne(t, "o", "--restore-on-exit")
	virsh(t, "vcpupin", moved.name, "0", "0-1")
	tr := startTrace(t, moved, stayed)
	time.Sleep(8 * time.Second)
	p.alive(t)
	tr.halt()
	if ch := tr.pinChanges(0); len(changesOf(ch, moved)) > 0 {
		t.Fatalf("the operator's pin 0-1 on %s was changed: %s\n%s", moved.name, strings.Join(ch, "; "), tr.table(time.Second))
	}
	if err := p.stop(t, 5*time.Second); err != nil {
		t.Fatalf("vsched exit after SIGTERM: %v", err)
	}
	if got := pinOf(t, moved, 0); !got.Equals(cpuset.New(0, 1)) {
		t.Fatalf("after SIGTERM with --restore-on-exit the operator's pin on %s became %s, want 0-1 left alone\nvsched log:\n%s", moved.name, got, p.log())
	}
	if got := pinOf(t, stayed, 0); !got.Equals(cpuset.New(0)) {
		t.Errorf("after SIGTERM with --restore-on-exit %s is pinned to %s, want its original 0", stayed.name, got)
	}
}

// The operator pins a vCPU vsched moved back onto the crowded pCPU, beside a
// burner vsched may not move (--exclude): the only way to balance again
// would be to undo the operator's pin. It stays, well past any cooldown.
func TestE2E_OperatorPinsBackOntoCrowdedPCPU_KeptForGood(t *testing.T) {
	moved := startGuest(t, "oc0", "burn", "0")
	fixed := startGuest(t, "oc1", "burn", "0")
	p := startVsched(t, daemonArgs("--restore-on-exit", "--exclude", fixed.name)...)
	waitFor(t, settle, "vsched moved the burner it may move", func() (bool, string) {
		a, _ := affinity(moved.tids[0])
		return a.Equals(cpuset.New(1)), fmt.Sprintf("%s on %s", moved.name, a)
	})
	virsh(t, "vcpupin", moved.name, "0", "0")
	tr := startTrace(t, moved, fixed)
	time.Sleep(15 * time.Second)
	p.alive(t)
	tr.halt()
	if ch := tr.pinChanges(0); len(ch) > 0 {
		t.Fatalf("the operator's pin 0 on %s (or the excluded %s) was changed: %s\n%s", moved.name, fixed.name, strings.Join(ch, "; "), tr.table(time.Second))
	}
	if err := p.stop(t, 5*time.Second); err != nil {
		t.Fatalf("vsched exit after SIGTERM: %v", err)
	}
	for _, g := range []*guest{moved, fixed} {
		if got := pinOf(t, g, 0); !got.Equals(cpuset.New(0)) {
			t.Errorf("after SIGTERM with --restore-on-exit %s is pinned to %s, want 0", g.name, got)
		}
	}
}

// changesOf keeps the pin changes of one guest.
func changesOf(changes []string, g *guest) []string {
	var out []string
	for _, c := range changes {
		if strings.HasPrefix(c, g.label+"/") {
			out = append(out, c)
		}
	}
	return out
}

// A domain marked <vsched manage="no"/> in libvirt metadata is never pinned:
// a marked burner stays on the crowded pCPU0 (the unmarked one moves), and a
// marked unpinned guest stays unpinned.
func TestE2E_MetadataManageNo_NeverPinned(t *testing.T) {
	const uri = "https://vsched.dev/xmlns/domain/1.0"
	marked := startGuest(t, "mn0", "burn", "0")
	floating := startGuest(t, "mn1", "idle", "0-1")
	free := startGuest(t, "mf0", "burn", "0")
	for _, g := range []*guest{marked, floating} {
		virsh(t, "metadata", g.name, uri, "--key", "vsched", "--set", `<vsched manage="no"/>`, "--live")
		if got := virsh(t, "metadata", g.name, uri); !strings.Contains(got, `manage="no"`) {
			t.Fatalf("virsh metadata %s reads back %q, want manage=\"no\"", g.name, got)
		}
	}
	tr := startTrace(t, marked, floating, free)
	p := startVsched(t, daemonArgs()...)
	waitFor(t, settle, "the unmarked burner moved to pCPU1", func() (bool, string) {
		a, _ := affinity(free.tids[0])
		m, _ := affinity(marked.tids[0])
		return a.Equals(cpuset.New(1)), fmt.Sprintf("%s on %s, %s (manage=no) on %s", free.name, a, marked.name, m)
	})
	time.Sleep(calm)
	p.alive(t)
	tr.halt()
	ch := tr.pinChanges(0)
	if bad := append(changesOf(ch, marked), changesOf(ch, floating)...); len(bad) > 0 {
		t.Fatalf("a domain marked manage=\"no\" was pinned: %s\n%s", strings.Join(bad, "; "), tr.table(time.Second))
	}
	if got := pinOf(t, marked, 0); !got.Equals(cpuset.New(0)) {
		t.Errorf("%s (manage=no) is pinned to %s, want 0 as it started", marked.name, got)
	}
	if got := pinOf(t, floating, 0); !got.Equals(cpuset.New(0, 1)) {
		t.Errorf("%s (manage=no) is pinned to %s, want 0-1 as it started", floating.name, got)
	}
}
