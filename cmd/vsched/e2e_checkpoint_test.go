//go:build e2e

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/pinning/checkpoint"
)

// Faults at exact points of the apply path, guests that are saved and
// restored, and a state directory other users reach, on real guests. The
// pins are read with virsh and /proc (pinOf), never taken from vsched.

// startVschedEnv is startVsched with extra environment variables.
func startVschedEnv(t *testing.T, env []string, args ...string) *vschedProc {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v) // inherited by the daemon; restored when the test ends
	}
	return startVsched(t, args...)
}

// startPersistent starts a persistent guest (virsh define + start), which
// `virsh save` leaves defined, and destroys and undefines it at the end.
func startPersistent(t *testing.T, name, mode, pin string) *guest {
	t.Helper()
	label := name
	name = "vsched-t-" + name
	script(t, "guest.sh", "start", name, "--mode", mode, "--pin", pin, "--persistent")
	t.Cleanup(func() { _ = exec.Command(filepath.Join(repoRoot, "scripts", "guest.sh"), "destroy", name).Run() })
	g := &guest{name: name, mode: mode, label: label}
	if err := g.refresh(); err != nil {
		t.Fatalf("guest %s: %v", name, err)
	}
	return g
}

// exited waits for the daemon to end by itself (the fault hook's SIGKILL).
func (p *vschedProc) exited(t *testing.T, within time.Duration, what string) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(within):
		t.Fatalf("vsched did not die %s within %s\n%s", what, within, p.log())
		return nil
	}
}

// checkpointFile reads state.json's entries as the tools read them.
func checkpointFile(t *testing.T, dir string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, checkpoint.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Entries []map[string]any `json:"entries"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("state.json: %v\n%s", err, data)
	}
	return doc.Entries
}

const operatorLogLine = "vCPU re-pinned by someone else"

// A vCPU's second move dies between its checkpoint write and its pin
// (SIGKILL from the fault hook at the second "after-record"): the first
// move's pin stays live. The original, from before the first move, must
// come back, whether `vsched restore` runs next or a restarted daemon
// stops with --restore-on-exit; neither may take vsched's first pin for
// the operator's.
//
// Two burners on pCPU0: vsched moves one, X, to pCPU1 (the first move).
// The other is destroyed and a burner bound to pCPU1 by its <vcpu cpuset>
// joins X there: X is the only vCPU vsched may move, back to pCPU0 (its
// second move, which dies before its pin).
func TestE2E_CrashOnSecondMove_OriginalBack(t *testing.T) {
	needRestore(t)
	for _, after := range []string{"Restore", "RestartedDaemon"} {
		t.Run(after, func(t *testing.T) {
			pre := "c2" + strings.ToLower(after[:1])
			gs := []*guest{startGuest(t, pre+"0", "burn", "0"), startGuest(t, pre+"1", "burn", "0")}
			dir := t.TempDir()
			p := startVschedEnv(t, []string{faultEnv + "=after-record:2"}, daemonArgs("--state-dir", dir)...)
			waitFor(t, settle, "the first move of a burner, to pCPU1", pinsEqual(t, gs, map[int]int{0: 1, 1: 1}))
			x, other := gs[0], gs[1]
			if !pinOf(t, x, 0).Equals(cpuset.New(1)) {
				x, other = other, x
			}
			script(t, "guest.sh", "destroy", other.name)
			startGuestOpts(t, pre+"b", "burn", guestOpts{cpuset: "1"})
			err := p.exited(t, settle+bootSettle, "at the second move's checkpoint")
			if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("vsched ended with %v, want SIGKILL from the fault hook\n%s", err, p.log())
			}
			if got := pinOf(t, x, 0); !got.Equals(cpuset.New(1)) {
				t.Fatalf("after the crash %s is on %s, want 1 (the second pin never made)\n%s", x.name, got, p.log())
			}
			t.Logf("checkpoint after the crash: %v", checkpointFile(t, dir))
			switch after {
			case "Restore":
				out, errOut, code := restoreRun(t, "--state-dir", dir)
				t.Logf("vsched restore: exit %d\n%s%s", code, out, errOut)
				if code != 0 || strings.Contains(out, "re-pinned by someone else") || !strings.Contains(out, "restored "+x.name+"/0") {
					t.Errorf("vsched restore: exit %d, said %q; want exit 0 and %s/0 restored", code, out, x.name)
				}
			case "RestartedDaemon":
				p2 := startVsched(t, daemonArgs("--state-dir", dir, "--restore-on-exit")...)
				time.Sleep(3 * time.Second) // lists, and may make the second move again
				p2.alive(t)
				if strings.Contains(p2.log(), operatorLogLine) {
					t.Errorf("the restarted daemon took vsched's own pin for the operator's:\n%s", p2.log())
				}
				if err := p2.stop(t, 5*time.Second); err != nil {
					t.Fatalf("restarted vsched after SIGTERM: %v\n%s", err, p2.log())
				}
			}
			if got := pinOf(t, x, 0); !got.Equals(cpuset.New(0)) {
				t.Errorf("%s ends on %s, want its original pin 0\nlog:\n%s", x.name, got, p.log())
			}
		})
	}
}

// `virsh save` and `virsh restore` of a guest vsched moved, while vsched
// runs: the entry stays while the domain is saved (persistent: defined and
// inactive; transient: unknown to libvirt until restored), the guest comes
// back on vsched's pin, still vsched's, and `vsched restore` then puts the
// original back.
func TestE2E_VirshSaveRestore_OriginalKept(t *testing.T) {
	needRestore(t)
	for _, kind := range []string{"Persistent", "Transient"} {
		t.Run(kind, func(t *testing.T) {
			pre := "sv" + strings.ToLower(kind[:1])
			var gs []*guest
			for i := range 2 {
				if kind == "Persistent" {
					gs = append(gs, startPersistent(t, fmt.Sprintf("%s%d", pre, i), "burn", "0"))
				} else {
					gs = append(gs, startGuest(t, fmt.Sprintf("%s%d", pre, i), "burn", "0"))
				}
			}
			dir := t.TempDir()
			p := startVsched(t, daemonArgs("--state-dir", dir)...)
			waitFor(t, settle, "vsched moved one burner", pinsEqual(t, gs, map[int]int{0: 1, 1: 1}))
			moved, stayed := gs[0], gs[1]
			if !pinOf(t, moved, 0).Equals(cpuset.New(1)) {
				moved, stayed = stayed, moved
			}
			uuid := domUUID(t, moved)
			saved := filepath.Join(t.TempDir(), moved.name+".save")
			virsh(t, "save", moved.name, saved)
			// The save is a lifecycle event: the daemon lists at once. It
			// keeps the entry all the while.
			holdsFor(t, 3*time.Second, "the saved guest's entry kept", func() (bool, string) {
				entries := checkpointFile(t, dir)
				for _, e := range entries {
					if e["uuid"] == uuid {
						return true, ""
					}
				}
				return false, fmt.Sprintf("checkpoint %v holds no entry of %s (%s)\n%s", entries, moved.name, uuid, tail(p.log(), 5))
			})
			virsh(t, "restore", saved)
			if err := moved.refresh(); err != nil {
				t.Fatal(err)
			}
			if got := pinOf(t, moved, 0); !got.Equals(cpuset.New(1)) {
				t.Fatalf("%s restored on %s, want vsched's pin 1 (QEMU keeps the live pins)", moved.name, got)
			}
			time.Sleep(3 * time.Second) // listings after the restore
			p.alive(t)
			if strings.Contains(p.log(), operatorLogLine) {
				t.Errorf("vsched took its own pin of the restored guest for the operator's:\n%s", p.log())
			}
			if err := p.stop(t, 5*time.Second); err != nil {
				t.Fatalf("vsched after SIGTERM: %v", err)
			}
			out, errOut, code := restoreRun(t, "--state-dir", dir)
			t.Logf("vsched restore: exit %d\n%s%s", code, out, errOut)
			for _, g := range []*guest{moved, stayed} {
				if got := pinOf(t, g, 0); !got.Equals(cpuset.New(0)) {
					t.Errorf("after restore %s is on %s, want its original 0 (restore said %q)", g.name, got, out)
				}
			}
		})
	}
}

// nobodyFlockRun runs `flock -n PATH true` as the user nobody and returns
// its error (nil: nobody took the lock).
func nobodyFlockRun(path string) error {
	cmd := exec.Command("flock", "-n", path, "true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return cmd.Run()
}

// A state directory laid out as vsched used to (0755, lock 0644) lets any
// local user hold the lock's flock, and both the daemon and `vsched
// restore` then exit 2. The daemon makes it 0700 and the lock 0600: nobody
// can no longer open the lock, and vsched keeps working.
func TestE2E_NobodyCannotLockVschedOut(t *testing.T) {
	needRestore(t)
	root := t.TempDir()
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(root, "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "state.lock")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := nobodyFlockRun(lock); err != nil {
		t.Fatalf("setup: nobody could not take the old layout's lock (%v): the test proves nothing here", err)
	}
	gs := []*guest{startGuest(t, "nb0", "burn", "0"), startGuest(t, "nb1", "burn", "0")}
	p := startVsched(t, daemonArgs("--state-dir", dir)...)
	waitFor(t, settle, "vsched moved one burner", pinsEqual(t, gs, map[int]int{0: 1, 1: 1}))
	for path, want := range map[string]os.FileMode{dir: 0o700, lock: 0o600, filepath.Join(dir, checkpoint.FileName): 0o600} {
		if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %v", path, fi.Mode(), err, want)
		}
	}
	if err := p.stop(t, 5*time.Second); err != nil {
		t.Fatalf("vsched after SIGTERM: %v", err)
	}
	if err := nobodyFlockRun(lock); err == nil {
		t.Error("nobody took the lock once vsched stopped")
	}
	out, errOut, code := restoreRun(t, "--state-dir", dir)
	if code != 0 || !strings.Contains(out, "restored ") {
		t.Errorf("vsched restore: exit %d\n%s%s; want 0 and the moved burner restored", code, out, errOut)
	}
	for _, g := range gs {
		if got := pinOf(t, g, 0); !got.Equals(cpuset.New(0)) {
			t.Errorf("after restore %s is on %s, want 0", g.name, got)
		}
	}
}
