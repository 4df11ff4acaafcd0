//go:build e2e

package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

// hugeMetadata gives the guest live metadata of almost 4 MiB, libvirt's
// limit for one string in an RPC message: the request passes, but the
// domain's XML (the metadata plus the rest) no longer fits one reply.
func hugeMetadata(t *testing.T, g *guest) {
	t.Helper()
	lc, err := libvirt.NewConnect("qemu:///system")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = lc.Close() }()
	dom, err := lc.LookupDomainByName(g.name)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dom.Free() }()
	const limit = 4 << 20
	blob := "<blob>" + strings.Repeat("x", limit-1024) + "</blob>"
	if err := dom.SetMetadata(libvirt.DOMAIN_METADATA_ELEMENT, blob, "big", "https://example.org/big", libvirt.DOMAIN_AFFECT_LIVE); err != nil {
		t.Fatalf("setting %d bytes of metadata on %s: %v", len(blob), g.name, err)
	}
	if _, err := dom.GetXMLDesc(0); err == nil {
		t.Fatalf("%s's XML still reads with %d bytes of metadata: the fault is not reproduced", g.name, len(blob))
	} else {
		t.Logf("%s's XML: %v", g.name, err)
	}
}

// A guest whose XML libvirt cannot give (4 MB of metadata: "Unable to
// encode message payload") does not stop the others: its load counts, it is
// never pinned, and it is warned of once however many listings there are.
func TestE2E_DomainXMLTooLarge_OthersBalancedItNeverPinned(t *testing.T) {
	big := startGuest(t, "xl0", "burn", "0")
	free := startGuest(t, "xl1", "burn", "0")
	hugeMetadata(t, big)
	tr := startTrace(t, big, free)
	p := startVsched(t, daemonArgs()...)
	// Two burners share pCPU0; only the readable one may move.
	waitFor(t, settle, "the readable burner moved to pCPU1", func() (bool, string) {
		a, _ := affinity(free.tids[0])
		b, _ := affinity(big.tids[0])
		return a.Equals(cpuset.New(1)), fmt.Sprintf("%s on %s, %s (XML unreadable) on %s", free.name, a, big.name, b)
	})
	time.Sleep(3 * eventlessPoll) // several listings
	p.alive(t)
	tr.halt()
	if bad := changesOf(tr.pinChanges(0), big); len(bad) > 0 {
		t.Fatalf("the guest whose XML is unreadable was pinned: %s\n%s", strings.Join(bad, "; "), tr.table(time.Second))
	}
	if got := pinOf(t, big, 0); !got.Equals(cpuset.New(0)) {
		t.Errorf("%s (XML unreadable) is pinned to %s, want 0 as it started", big.name, got)
	}
	if n := strings.Count(p.log(), `"msg":"domain XML unreadable: its load counts, its vCPUs are not pinned until it reads again"`); n != 1 {
		t.Errorf("%d \"domain XML unreadable\" warnings over %s of listings, want 1", n, 3*eventlessPoll)
	}
	if strings.Contains(p.log(), `"msg":"libvirt unreachable, will reconnect"`) {
		t.Errorf("one domain's unreadable XML was taken for libvirt lost")
	}
}

// --once with SIGINT at any point exits instead of waiting for a plan's
// results that never come.
func TestE2E_OnceSIGINT_ExitsAtAnyPoint(t *testing.T) {
	startGuest(t, "o0", "burn", "0")
	startGuest(t, "o1", "burn", "0")
	for _, after := range []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 400 * time.Millisecond, 600 * time.Millisecond} {
		p := startVsched(t, daemonArgs("--once", "--dry-run")...)
		time.Sleep(after)
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-p.done:
			p.done <- err
			if err != nil {
				t.Errorf("--once, SIGINT after %s: exit %v, want 0\n%s", after, err, p.log())
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("--once, SIGINT after %s: still running 15s later (hung)\n%s", after, p.log())
		}
	}
}

// libvirtdPID reads libvirtd's PID file.
func libvirtdPID(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/run/libvirtd.pid")
	if err != nil {
		t.Fatalf("libvirtd PID file: %v", err)
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil {
		t.Fatalf("libvirtd PID file %q: %v", b, err)
	}
	return pid
}

// --restore-on-exit while libvirtd does not answer (stopped with SIGSTOP
// for longer than a libvirt call's deadline, so a call is pending at
// SIGTERM): vsched waits for it, restores, and exits 0 once it answers.
func TestE2E_RestoreOnExit_LibvirtdStalled_WaitsThenRestores(t *testing.T) {
	gs := []*guest{startGuest(t, "st0", "burn", "0"), startGuest(t, "st1", "burn", "0")}
	p := startVsched(t, daemonArgs("--restore-on-exit")...)
	waitFor(t, settle, "vsched moved one burner", pinsEqual(t, gs, map[int]int{0: 1, 1: 1}))
	pid := libvirtdPID(t)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	cont := func() { _ = syscall.Kill(pid, syscall.SIGCONT) }
	t.Cleanup(cont)
	time.Sleep(7 * time.Second) // a listing is now past its 5 s deadline, still pending
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(3 * time.Second) // vsched waits meanwhile
	cont()
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("vsched exit after SIGTERM with a stalled libvirtd = %v, want 0 once it answered\n%s", err, p.log())
		}
	case <-time.After(stopDeadline + 10*time.Second):
		t.Fatalf("vsched did not stop within %s of SIGTERM\n%s", stopDeadline+10*time.Second, p.log())
	}
	t.Logf("stopped %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	if seen, count := placement(t, gs); count[0] != 2 {
		t.Fatalf("after SIGTERM with --restore-on-exit want both vCPUs back on pCPU0, saw %s\n%s", seen, p.log())
	}
}
