//go:build testhost

package testhost

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// initial is what each vCPU of the stacked burners was pinned to before
// vsched: "name/0" -> the CPU, as the checkpoint writes a pin.
func initial(t *testing.T, g []*guest) map[string]string {
	a, b := siblings(t)
	return map[string]string{g[0].name + "/0": fmt.Sprint(a), g[1].name + "/0": fmt.Sprint(b)}
}

// checkpointed waits until the checkpoint holds the want originals for
// every vCPU vsched moved (at least one) and none that differs.
func checkpointed(t *testing.T, want map[string]string) {
	t.Helper()
	waitFor(t, 30*time.Second, "the originals in the checkpoint", func() (bool, string) {
		if _, err := os.Stat(stateFile); err != nil {
			return false, err.Error()
		}
		got := originals(t)
		n := 0
		for k, w := range want {
			if o, ok := got[k]; ok {
				if o != w {
					t.Fatalf("checkpoint: %s original %q, want %q (all: %v)", k, o, w, got)
				}
				n++
			}
		}
		return n > 0, fmt.Sprint(got)
	})
}

// backTo waits until every vCPU is pinned exactly as want says.
func backTo(t *testing.T, what string, want map[string]string, g []*guest) {
	t.Helper()
	waitFor(t, 60*time.Second, what, pinnedAs(t, want, g))
}

// pinnedAs is true when every vCPU is pinned exactly as want says.
func pinnedAs(t *testing.T, want map[string]string, g []*guest) func() (bool, string) {
	return func() (bool, string) {
		m := pins(t, g...)
		for k, w := range want {
			if m[k].String() != w {
				return false, show(m)
			}
		}
		return true, show(m)
	}
}

// TestHost_Restart_Rebalances: systemctl restart vsched puts the pins back
// as it stops (--restore-on-exit, the shipped flags) and the new process
// splits the burners again, recording the same originals.
func TestHost_Restart_Rebalances(t *testing.T) {
	seen(t)
	pid := active(t)
	g := stacked(t, "rs")
	checkpointed(t, initial(t, g))
	sh(t, "systemctl", "restart", "vsched.service")
	if p := active(t); p == pid {
		t.Fatalf("vsched.service kept pid %d across a restart", p)
	}
	waitFor(t, settle, "the burners split again after the restart", splitCores(t, g...))
	checkpointed(t, initial(t, g))
}

// TestHost_Kill_SystemdRestartsItOriginalsKept: SIGKILL leaves vsched's
// pins in place; systemd starts it again (Restart=on-failure); the
// checkpoint still holds the originals, and a stop puts them back.
func TestHost_Kill_SystemdRestartsItOriginalsKept(t *testing.T) {
	seen(t)
	pid := active(t)
	g := stacked(t, "kill")
	want := initial(t, g)
	checkpointed(t, want)
	before := originals(t)
	sh(t, "systemctl", "kill", "-s", "KILL", "vsched.service")
	waitFor(t, 60*time.Second, "systemd to start vsched again", func() (bool, string) {
		p := mainPID(t)
		return p != 0 && p != pid, fmt.Sprintf("pid %d, %s", p, quiet("systemctl", "is-active", "vsched"))
	})
	active(t)
	after := originals(t)
	for k, o := range before {
		if after[k] != o {
			t.Errorf("checkpoint after the restart: %s original %q, was %q before the kill", k, after[k], o)
		}
	}
	holdsFor(t, calm, "the split after the restart", splitCores(t, g...))
	sh(t, "systemctl", "stop", "vsched.service")
	backTo(t, "the original pins back after a stop", want, g)
	sh(t, "systemctl", "start", "vsched.service")
	active(t)
}

// TestHost_LibvirtdRestart_CarriesOn: after systemctl restart libvirtd the
// same vsched process still balances (guests started after it).
func TestHost_LibvirtdRestart_CarriesOn(t *testing.T) {
	seen(t)
	pid := active(t)
	sh(t, "systemctl", "restart", "libvirtd.service")
	waitFor(t, 60*time.Second, "libvirtd to answer again", func() (bool, string) {
		out := quiet("virsh", "-c", uri, "version")
		return !strings.Contains(out, "error"), out
	})
	g := stacked(t, "lv")
	holdsFor(t, calm, "the split", splitCores(t, g...))
	if p := mainPID(t); p != pid {
		t.Errorf("vsched's pid went from %d to %d across the libvirtd restart (%s restarts)", pid, p,
			strings.TrimSpace(quiet("systemctl", "show", "-p", "NRestarts", "--value", "vsched")))
	}
}

// TestHost_Remove_PutsEveryPinBack: apt-get remove vsched stops the
// service (prerm) and every original pin comes back (--restore-on-exit).
func TestHost_Remove_PutsEveryPinBack(t *testing.T) {
	seen(t)
	active(t)
	g := stacked(t, "rm")
	want := initial(t, g)
	checkpointed(t, want)
	sh(t, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "remove", "-y", "vsched")
	backTo(t, "every original pin back after apt-get remove", want, g)
	if s := strings.TrimSpace(quiet("dpkg-query", "-W", "-f", "${Status}", "vsched")); !strings.HasPrefix(s, "deinstall") {
		t.Errorf("dpkg says vsched is %q after apt-get remove", s)
	}
	holdsFor(t, calm, "the originals", pinnedAs(t, want, g))
}

// TestHost_Upgrade_CheckpointKept: the previous release installed and
// running balances two burners on one pCPU; dpkg -i of this package
// restarts it on the new binary with the originals still in the
// checkpoint, and a stop puts them back.
func TestHost_Upgrade_CheckpointKept(t *testing.T) {
	seen(t)
	prev := filepath.Join(in, "vsched-prev.deb")
	if _, err := os.Stat(prev); err != nil {
		t.Fatalf("the previous package: %v (make test-host builds it)", err)
	}
	sh(t, "env", "DEBIAN_FRONTEND=noninteractive", "dpkg", "-i", "--force-confold", prev)
	sh(t, "systemctl", "enable", "--now", "vsched.service")
	old := strings.TrimSpace(sh(t, "/usr/sbin/vsched", "--version"))
	pid := active(t)
	g := []*guest{
		startGuest(t, "up-a", "burn", "--pin", "0"),
		startGuest(t, "up-b", "burn", "--pin", "0"),
	}
	want := map[string]string{g[0].name + "/0": "0", g[1].name + "/0": "0"}
	waitFor(t, settle, "the burners off the shared pCPU", func() (bool, string) {
		m := pins(t, g...)
		one, ok := onePinEach(m)
		return ok && one[g[0].name+"/0"] != one[g[1].name+"/0"], show(m)
	})
	checkpointed(t, want)
	sh(t, "env", "DEBIAN_FRONTEND=noninteractive", "dpkg", "-i", "--force-confold", filepath.Join(in, ".testhost", "vsched.deb"))
	now := strings.TrimSpace(sh(t, "/usr/sbin/vsched", "--version"))
	if now == old {
		t.Fatalf("vsched --version is %q before and after the upgrade", now)
	}
	if p := active(t); p == pid {
		t.Errorf("vsched.service still runs pid %d, the previous binary, after the upgrade", p)
	}
	t.Logf("upgraded %s -> %s", old, now)
	checkpointed(t, want)
	sh(t, "systemctl", "stop", "vsched.service")
	backTo(t, "the original pins back after the upgraded vsched stops", want, g)
	sh(t, "systemctl", "start", "vsched.service")
}
