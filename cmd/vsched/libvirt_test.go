package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vsched/vsched/pinning"
	"github.com/vsched/vsched/pinning/checkpoint"
)

// The tests here stop the apply path as a crash would, then restart as
// vsched does after one: the store is closed (the kernel drops the flock of
// a dead process), a new Store opens the directory, and a new libvirt side
// with new ownership lists the same test-driver connection (its state lives
// as long as the connection: the guests "survive" the crash). Then they
// restore through restoreFromCheckpoint, the code `vsched restore` runs.

// crashed is the panic a fault point raises: the process "dies" there.
type crashed struct{ at string }

// crashAt returns a fault hook that dies the first time point is passed.
func crashAt(point faultPoint) func(faultPoint) {
	return func(p faultPoint) {
		if p == point {
			panic(crashed{string(p)})
		}
	}
}

// crashingPinner makes the first n pins of a plan through the real
// connection, then dies before Apply returns: the pins are made, their
// results never committed.
type crashingPinner struct {
	*pinning.Conn
	n int
}

func (c crashingPinner) Apply(pins []pinning.Pin) []pinning.Result {
	c.Conn.Apply(pins[:min(c.n, len(pins))])
	panic(crashed{fmt.Sprintf("after %d of %d pins", c.n, len(pins))})
}

// daemonSide is one life of the daemon's libvirt side on a state directory.
type daemonSide struct {
	*libvirtSide
	store *checkpoint.Store
	log   *bytes.Buffer
}

// start opens dir as a (re)starting daemon does and makes its first
// listing through p.
func start(t *testing.T, dir string, p pinner) *daemonSide {
	t.Helper()
	store, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatalf("checkpoint.Open at start: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var log bytes.Buffer
	d := &daemonSide{libvirtSide: newLibvirtSide(p, store, newLogger("json", "debug", &log), time.Hour), store: store, log: &log}
	d.list()
	return d
}

// move plans pins from the side's current listing and applies them,
// reporting whether the side died on the way.
func (d *daemonSide) move(t *testing.T, pins ...pinning.Pin) (res []pinning.Result, died bool) {
	t.Helper()
	from := d.current()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(crashed); !ok {
				panic(r)
			}
			died = true
		}
	}()
	return d.apply(handover{pins: pins, from: from}), false
}

// mustMove moves and fails the test unless every pin was made.
func (d *daemonSide) mustMove(t *testing.T, pins ...pinning.Pin) {
	t.Helper()
	res, died := d.move(t, pins...)
	if died {
		t.Fatal("setup move died")
	}
	for _, r := range res {
		if r.Err != nil || !r.Changed {
			t.Fatalf("setup move %s/%d -> %s: changed %v, %v", r.Pin.Name, r.Pin.VCPU, r.Pin.CPUs, r.Changed, r.Err)
		}
	}
}

// kill ends this life: the lock goes with the process.
func (d *daemonSide) kill(t *testing.T) {
	t.Helper()
	if err := d.store.Close(); err != nil {
		t.Fatal(err)
	}
}

// entryOf returns the checkpoint entry of name/vcpu, if any.
func (d *daemonSide) entryOf(name string, vcpu int) (checkpoint.Entry, bool) {
	for _, e := range d.store.Entries() {
		if e.Name == name && e.VCPU == vcpu {
			return e, true
		}
	}
	return checkpoint.Entry{}, false
}

// restoreAll restores from dir through p, as `vsched restore` does, and
// returns the lines it would print.
func restoreAll(t *testing.T, dir string, p restorePinner) []string {
	t.Helper()
	store, err := checkpoint.Open(dir, checkpoint.KeepBadFile())
	if err != nil {
		t.Fatalf("checkpoint.Open for restore: %v", err)
	}
	defer store.Close()
	outs, err := restoreFromCheckpoint(store, p)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	return lines(outs)
}

const operatorLine = "vCPU re-pinned by someone else: it is the operator's now, never moved or restored by vsched"

func TestApplyPath_FaultMatrix_OriginalNeverLost(t *testing.T) {
	first := []pinning.Pin{pin(uuid000, "guest-000", 0, 1)}
	second := []pinning.Pin{pin(uuid000, "guest-000", 0, 2)}
	both := []pinning.Pin{pin(uuid000, "guest-000", 0, 1), pin(uuid000, "guest-000", 1, 2)}
	tests := []struct {
		name    string
		before  [][]pinning.Pin // moves that completed
		last    []pinning.Pin   // the move the crash stops
		fault   faultPoint      // "" with pinsMade: crashingPinner
		made    int             // with crashingPinner: pins made before the crash
		live    map[string]string
		entries map[string]string // after the restarted daemon's first listing: name/vcpu -> "original set previous"
	}{
		{"FirstMove_BeforeRecord", nil, first, faultBeforeRecord, 0,
			map[string]string{"guest-000/0": "0"}, map[string]string{}},
		{"FirstMove_AfterRecordBeforePin", nil, first, faultAfterRecord, 0,
			map[string]string{"guest-000/0": "0"}, map[string]string{}}, // back on its original: forgotten
		{"FirstMove_PinMadeApplyNotReturned", nil, first, "", 1,
			map[string]string{"guest-000/0": "1"}, map[string]string{"guest-000/0": "0 1 "}},
		{"FirstMove_AfterPinBeforeCommit", nil, first, faultAfterPin, 0,
			map[string]string{"guest-000/0": "1"}, map[string]string{"guest-000/0": "0 1 "}},
		{"SecondMove_BeforeRecord", [][]pinning.Pin{first}, second, faultBeforeRecord, 0,
			map[string]string{"guest-000/0": "1"}, map[string]string{"guest-000/0": "0 1 "}},
		{"SecondMove_AfterRecordBeforePin", [][]pinning.Pin{first}, second, faultAfterRecord, 0,
			map[string]string{"guest-000/0": "1"}, map[string]string{"guest-000/0": "0 2 1"}},
		{"SecondMove_PinMadeApplyNotReturned", [][]pinning.Pin{first}, second, "", 1,
			map[string]string{"guest-000/0": "2"}, map[string]string{"guest-000/0": "0 2 1"}},
		{"SecondMove_AfterPinBeforeCommit", [][]pinning.Pin{first}, second, faultAfterPin, 0,
			map[string]string{"guest-000/0": "2"}, map[string]string{"guest-000/0": "0 2 1"}},
		{"TwoPinPlan_FirstPinOnly", nil, both, "", 1,
			map[string]string{"guest-000/0": "1", "guest-000/1": "0"}, map[string]string{"guest-000/0": "0 1 "}},
		{"SecondMove_NoCrash", [][]pinning.Pin{first}, second, "none", 0,
			map[string]string{"guest-000/0": "2"}, map[string]string{"guest-000/0": "0 2 1"}},
	}
	for _, tt := range tests {
		for _, after := range []string{"Restore", "RestartedDaemonMovesThenRestore"} {
			t.Run(tt.name+"/"+after, func(t *testing.T) {
				conn := openHost(t)
				dir := t.TempDir()
				var p pinner = conn
				if tt.fault == "" {
					p = crashingPinner{conn, tt.made}
				}
				d := start(t, dir, conn)
				for _, mv := range tt.before {
					d.mustMove(t, mv...)
				}
				d.p = p
				d.fault = crashAt(tt.fault)
				if _, died := d.move(t, tt.last...); died != (tt.fault != "none") {
					t.Fatalf("died %v at %q", died, tt.fault)
				}
				d.kill(t)
				live := pinsOf(t, conn)
				for k, want := range tt.live {
					if live[k] != want {
						t.Errorf("after the crash %s is on %s, want %s", k, live[k], want)
					}
				}
				d = start(t, dir, conn)
				got := map[string]string{}
				for _, e := range d.store.Entries() {
					got[e.Label()] = fmt.Sprintf("%s %s %s", e.Original, e.Set, e.Previous)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.entries) {
					t.Errorf("checkpoint after the restart = %v, want %v", got, tt.entries)
				}
				if strings.Contains(d.log.String(), operatorLine) {
					t.Errorf("the restarted daemon took a pin of its own for the operator's:\n%s", d.log.String())
				}
				if after == "RestartedDaemonMovesThenRestore" {
					d.mustMove(t, pin(uuid000, "guest-000", 0, 3))
					if e, ok := d.entryOf("guest-000", 0); !ok || e.Original.String() != "0" {
						t.Errorf("after the restarted daemon's move the entry is %+v (found %v), want original 0", e, ok)
					}
				}
				d.kill(t)
				out := restoreAll(t, dir, conn)
				for _, l := range out {
					if strings.Contains(l, "re-pinned by someone else") || strings.HasPrefix(l, "failed") {
						t.Errorf("restore: %s", l)
					}
				}
				live = pinsOf(t, conn)
				for _, k := range []string{"guest-000/0", "guest-000/1"} {
					if live[k] != initialPins()[k] {
						t.Errorf("after restore %s is on %s, want its original %s (restore said %q)", k, live[k], initialPins()[k], out)
					}
				}
				if ids := checkpointIDs(t, dir); len(ids) != 0 {
					t.Errorf("checkpoint after restore holds %v, want nothing", ids)
				}
			})
		}
	}
}

// repinFirst is a pinner on which the operator re-pins a vCPU after the
// libvirt side's fresh listing, just before vsched's pin: the narrowest
// apply window.
type repinFirst struct {
	*pinning.Conn
	op   pinning.Pin
	hook func()
}

func (r repinFirst) Apply(pins []pinning.Pin) []pinning.Result {
	if r.hook != nil {
		r.hook()
	} else {
		r.Conn.Apply([]pinning.Pin{r.op})
	}
	return r.Conn.Apply(pins)
}

func TestApplyWindow_OperatorRepins_LeftAloneNotCheckpointed(t *testing.T) {
	for _, where := range []string{"BetweenPlanAndApply", "AfterTheFreshListing"} {
		t.Run(where, func(t *testing.T) {
			conn := openHost(t)
			dir := t.TempDir()
			d := start(t, dir, conn)
			op := pin(uuid000, "guest-000", 0, 3)
			from := d.current()
			if where == "BetweenPlanAndApply" {
				mustApply(t, conn, op)
			} else {
				d.p = repinFirst{Conn: conn, op: op}
			}
			res := d.apply(handover{pins: []pinning.Pin{pin(uuid000, "guest-000", 0, 1)}, from: from})
			if len(res) != 1 || !errors.Is(res[0].Err, errOperatorsPin) {
				t.Fatalf("results %+v, want the pin left to the operator", res)
			}
			if got := pinsOf(t, conn)["guest-000/0"]; got != "3" {
				t.Errorf("guest-000/0 on %s, want the operator's 3", got)
			}
			if e, ok := d.entryOf("guest-000", 0); ok {
				t.Errorf("checkpoint holds %+v for the operator's vCPU", e)
			}
			d.list()
			if !d.own.isOperator(vcpuID(uuid000, 0)) {
				t.Error("the next listing does not take the vCPU for the operator's")
			}
		})
	}
}

// TestApplyWindow_DomainChanges uses test:///default, whose state every
// connection in the process shares, to change the domain behind the
// libvirt side's back with a second connection.
func TestApplyWindow_DomainChanges_PinLeftAlone(t *testing.T) {
	tests := []struct {
		name   string
		change func(td *testDefault, t *testing.T)
		inside bool // after the fresh listing, just before the pin
		want   error
		live   string
	}{
		{"ManageNoBetweenPlanAndApply", (*testDefault).optOut, false, errUnmanaged, "0-15"},
		{"RestartBetweenPlanAndApply", (*testDefault).restart, false, errRestarted, "0-15"},
		{"RestartAfterTheFreshListing", (*testDefault).restart, true, pinning.ErrDomainGone, "0-15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := openTestDefault(t)
			dir := t.TempDir()
			d := start(t, dir, td.conn)
			from := d.current()
			if tt.inside {
				d.p = repinFirst{Conn: td.conn, hook: func() { tt.change(td, t) }}
			} else {
				tt.change(td, t)
			}
			res := d.apply(handover{pins: []pinning.Pin{pin(td.uuid, "test", 0, 3)}, from: from})
			if len(res) != 1 || !errors.Is(res[0].Err, tt.want) {
				t.Fatalf("results %+v, want %v", res, tt.want)
			}
			if got := pinsOf(t, td.conn)["test/0"]; got != tt.live {
				t.Errorf("test/0 on %s, want %s", got, tt.live)
			}
			if e, ok := d.entryOf("test", 0); ok {
				t.Errorf("checkpoint holds %+v for a pin never made", e)
			}
		})
	}
}

func TestDomainLives_EntryKeptWhileDefinedDroppedWhenUndefined(t *testing.T) {
	tests := []struct {
		name     string
		stop     func(td *testDefault, t *testing.T) // the domain stops
		back     func(td *testDefault, t *testing.T) // and comes back, or not
		kept     bool                                // the entry survives the stop
		liveBack string                              // test/0 once back ("" when not)
		afterBck string                              // the entry once back: "kept" or "dropped"
	}{
		{"SaveRestore", (*testDefault).save, (*testDefault).restoreSaved, true, "3", "kept"},
		// The test driver starts a managed-saved domain on its defined
		// pins (QEMU keeps the live ones, as virsh save does): back on the
		// original, the entry goes.
		{"ManagedSaveStart", (*testDefault).managedSave, (*testDefault).create, true, "0-15", "dropped"},
		{"DestroyStart", (*testDefault).destroy, (*testDefault).create, true, "0-15", "dropped"},
		{"ShutOffRenamedStarted", (*testDefault).destroy, func(td *testDefault, t *testing.T) { td.rename(t, "renamed"); td.create(t) }, true, "0-15", "dropped"},
		// A transient domain saved to a file is unknown to libvirt until
		// restored: kept (a week), and still vsched's when it comes back.
		{"TransientSaveRestore", func(td *testDefault, t *testing.T) { td.undefine(t); td.save(t) }, (*testDefault).restoreSaved, true, "3", "kept"},
		// Undefined: unknown to libvirt, kept a week, then dropped.
		{"DestroyUndefine", func(td *testDefault, t *testing.T) { td.destroy(t); td.undefine(t) }, nil, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := openTestDefault(t)
			dir := t.TempDir()
			d := start(t, dir, td.conn)
			d.mustMove(t, pin(td.uuid, "test", 0, 3))
			tt.stop(td, t)
			d.list()
			_, ok := d.entryOf("test", 0)
			if ok != tt.kept {
				t.Fatalf("after the stop the entry is there: %v, want %v\n%s", ok, tt.kept, d.log.String())
			}
			d.list() // said once
			n := len(logEntries(t, d.log, "domain not running (shut off or saved): its checkpoint entry is kept until it runs again or is undefined")) +
				len(logEntries(t, d.log, "domain unknown to libvirt (undefined, or transient and destroyed or saved to a file): its checkpoint entry is kept a week in case it comes back"))
			if n != 1 {
				t.Errorf("%d lines say the entry is kept, want 1", n)
			}
			d.kill(t)
			out := restoreAll(t, dir, td.conn)
			if len(out) != 1 || !strings.Contains(out[0], "kept in the checkpoint") {
				t.Errorf("restore while stopped said %q, want the entry kept", out)
			}
			if tt.back == nil {
				// A week later.
				e, _ := d.entryOf("test", 0)
				if e.GoneSince.IsZero() {
					t.Fatalf("entry of a domain unknown to libvirt has no gone_since: %+v", e)
				}
				writeCheckpoint(t, dir, goneFor(e, goneGrace+time.Hour))
				start(t, dir, td.conn).kill(t) // its first listing drops it
				if ids := checkpointIDs(t, dir); len(ids) != 0 {
					t.Errorf("checkpoint of a domain unknown for a week holds %v", ids)
				}
				return
			}
			tt.back(td, t)
			d = start(t, dir, td.conn) // a restarted daemon
			live := ""
			for k, v := range pinsOf(t, td.conn) {
				if strings.HasSuffix(k, "/0") {
					live = v
				}
			}
			if live != tt.liveBack {
				t.Errorf("back, vCPU 0 on %s, want %s", live, tt.liveBack)
			}
			_, ok = d.entryOf("test", 0)
			if want := tt.afterBck == "kept"; ok != want {
				t.Errorf("back, entry there: %v, want %v", ok, want)
			}
			if strings.Contains(d.log.String(), operatorLine) {
				t.Errorf("vsched's pin taken for the operator's when the domain came back:\n%s", d.log.String())
			}
			d.kill(t)
			restoreAll(t, dir, td.conn)
			for k, v := range pinsOf(t, td.conn) {
				if v != "0-15" {
					t.Errorf("after restore %s on %s, want the original 0-15", k, v)
				}
			}
		})
	}
}

func TestRestore_OtherConnectionsEntries_Untouched(t *testing.T) {
	conn := openHost(t)
	mustApply(t, conn, pin(uuid000, "guest-000", 0, 1))
	dir := t.TempDir()
	host, _ := os.Hostname()
	system := checkpoint.Connection{URI: "qemu:///system", Host: host}
	otherHost := checkpoint.Connection{URI: hostURI(t), Host: "another-host"}
	foreign := ckEntry(t, uuid000, "guest-000", 0, "0", "1")
	foreign.Conn = system
	foreign2 := ckEntry(t, uuid002, "guest-002", 0, "2", "1")
	foreign2.Conn = otherHost
	writeCheckpoint(t, dir, foreign, foreign2)

	var out strings.Builder
	if err := runRestore("test:///default", dir, &out); err != nil {
		t.Fatalf("restore on another connection: %v", err)
	}
	if !strings.Contains(out.String(), "nothing to restore for test:///default") {
		t.Errorf("restore said %q, want nothing to restore for that connection", out.String())
	}
	if outs := restoreAll(t, dir, conn); len(outs) != 0 { // same URI, but neither entry's
		t.Errorf("restore through %s touched %q", hostURI(t), outs)
	}
	d := start(t, dir, conn) // a daemon on another connection lists and leaves them
	d.kill(t)
	if ids := checkpointIDs(t, dir); len(ids) != 2 {
		t.Errorf("checkpoint after restores and a daemon of other connections = %v, want both entries", ids)
	}
	if got := pinsOf(t, conn)["guest-000/0"]; got != "1" {
		t.Errorf("guest-000/0 on %s: restored through the wrong connection", got)
	}
}

func TestRestore_Version1Entries_ClaimedByTheConnectionThatKnowsThem(t *testing.T) {
	conn := openHost(t)
	mustApply(t, conn, pin(uuid000, "guest-000", 0, 1))
	dir := t.TempDir()
	// A version 1 file, as an older vsched wrote it: no connection.
	v1 := `{"version": 1, "entries": [
	  {"uuid": "` + uuid000 + `", "vcpu": 0, "name": "guest-000", "original": "0", "set": "1"},
	  {"uuid": "` + uuidGone + `", "vcpu": 0, "name": "elsewhere", "original": "0", "set": "1"}],
	  "checksum": CK}`
	writeV1(t, dir, v1)
	out := restoreAll(t, dir, conn)
	if len(out) != 1 || !strings.HasPrefix(out[0], "restored guest-000/0") {
		t.Errorf("restore said %q, want guest-000/0 restored alone", out)
	}
	if got := pinsOf(t, conn)["guest-000/0"]; got != "0" {
		t.Errorf("guest-000/0 on %s, want 0", got)
	}
	if ids := checkpointIDs(t, dir); len(ids) != 1 || ids[0] != "elsewhere/0" {
		t.Errorf("checkpoint = %v, want the entry no connection here knows, untouched", ids)
	}
}

func TestRestore_HostileStateDir_Exit2OneLineNothingFollowed(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "target")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "lockislink")
	if err := os.Mkdir(link, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(target, "x"), filepath.Join(link, "state.lock")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd("restore", "--connect", hostURI(t), "--state-dir", link)
	if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "symbolic link") {
		t.Errorf("restore on a linked lock = exit %d, stdout %q, stderr %q; want 2 and one line about the link", code, stdout, stderr)
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Errorf("the link was followed: %s holds %d files", target, len(ents))
	}
}

func TestDaemon_NewerCheckpoint_NoPinFileKept(t *testing.T) {
	cg, proc := syntheticRoots(t)
	dir := t.TempDir()
	newer := []byte(`{"version": 9, "entries": [], "checksum": 0}`)
	if err := os.WriteFile(filepath.Join(dir, checkpoint.FileName), newer, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd("--connect", hostURI(t), "--cgroup-root", cg, "--proc-root", proc,
		"--sys-root", sysRoot(t, 4), "--state-dir", dir, "--once", "--log-format", "json")
	if code != 0 {
		t.Errorf("daemon over a newer checkpoint = exit %d, want 0 (it runs without pinning)\n%s", code, stderr)
	}
	var refused, started int
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		switch {
		case strings.Contains(line, "checkpoint of a newer vsched") && strings.Contains(line, "version 9"):
			refused++
		case strings.Contains(line, `"msg":"vsched started"`) && strings.Contains(line, `"dry_run":true`):
			started++
		case strings.Contains(line, `"msg":"move vCPU"`) && !strings.Contains(line, `"dry_run":true`):
			t.Errorf("a move made over a newer checkpoint: %s", line)
		}
	}
	if refused != 1 || started != 1 {
		t.Errorf("%d lines refuse the newer checkpoint, %d say it started without pinning; want 1 and 1\n%s", refused, started, stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, checkpoint.FileName)); !bytes.Equal(got, newer) {
		t.Errorf("the newer checkpoint changed: %q", got)
	}
}

// restore's own window: the operator re-pins between restore's listing and
// its pin. The operator's pin stays, and the entry goes as re-pinned.
func TestRestore_OperatorRepinsInItsWindow_LeftAlone(t *testing.T) {
	conn := openHost(t)
	mustApply(t, conn, pin(uuid000, "guest-000", 0, 1))
	dir := t.TempDir()
	writeCheckpoint(t, dir, ckEntry(t, uuid000, "guest-000", 0, "0", "1"))
	out := restoreAll(t, dir, repinFirst{Conn: conn, op: pin(uuid000, "guest-000", 0, 3)})
	if len(out) != 1 || !strings.Contains(out[0], "re-pinned by someone else") {
		t.Errorf("restore said %q, want the vCPU left as re-pinned", out)
	}
	if got := pinsOf(t, conn)["guest-000/0"]; got != "3" {
		t.Errorf("guest-000/0 on %s, want the operator's 3", got)
	}
	if ids := checkpointIDs(t, dir); len(ids) != 0 {
		t.Errorf("checkpoint = %v, want the operator's vCPU forgotten", ids)
	}
}

// A pin that fails after a restart from a crash between a write and its pin
// puts the entry back as it was, previous pin included: restore still finds
// vsched's live pin its own.
func TestApplyPath_FailedPinAfterCrash_EntryBackWithPrevious(t *testing.T) {
	conn := openHost(t)
	dir := t.TempDir()
	d := start(t, dir, conn)
	d.mustMove(t, pin(uuid000, "guest-000", 0, 1))
	d.fault = crashAt(faultAfterRecord)
	if _, died := d.move(t, pin(uuid000, "guest-000", 0, 2)); !died {
		t.Fatal("setup: the second move did not die")
	}
	d.kill(t)
	d = start(t, dir, conn)
	res, _ := d.move(t, pin(uuid000, "guest-000", 0, 7)) // the host has CPUs 0-3
	if len(res) != 1 || !errors.Is(res[0].Err, pinning.ErrPin) {
		t.Fatalf("results %+v, want the pin refused", res)
	}
	e, ok := d.entryOf("guest-000", 0)
	if got := fmt.Sprintf("%s %s %s", e.Original, e.Set, e.Previous); !ok || got != "0 2 1" {
		t.Errorf("entry after the failed pin = %q (found %v), want \"0 2 1\"", got, ok)
	}
	d.kill(t)
	out := restoreAll(t, dir, conn)
	if got := pinsOf(t, conn)["guest-000/0"]; got != "0" {
		t.Errorf("after restore guest-000/0 on %s, want 0 (restore said %q)", got, out)
	}
}

// timeoutPinner answers every pin with ErrTimeout, as with a stopped
// libvirtd (SIGSTOP); land says whether the pin is made anyway (libvirtd
// resumed after the deadline) or never.
type timeoutPinner struct {
	*pinning.Conn
	land bool
}

func (p timeoutPinner) Apply(pins []pinning.Pin) []pinning.Result {
	if p.land {
		p.Conn.Apply(pins)
	}
	res := make([]pinning.Result, len(pins))
	for i, pn := range pins {
		res[i] = pinning.Result{Pin: pn, Err: fmt.Errorf("%s: %w", pn.Name, pinning.ErrTimeout)}
	}
	return res
}

// A second move whose pin times out keeps its entry (unknown outcome): the
// pin vsched had set before, or the new one, whichever is live, is
// vsched's, for a restarted daemon and for restore alike.
func TestApplyPath_SecondMoveTimesOut_OriginalBack(t *testing.T) {
	for _, land := range []bool{false, true} {
		t.Run(fmt.Sprintf("PinLands=%v", land), func(t *testing.T) {
			conn := openHost(t)
			dir := t.TempDir()
			d := start(t, dir, conn)
			d.mustMove(t, pin(uuid000, "guest-000", 0, 1))
			d.p = timeoutPinner{conn, land}
			d.move(t, pin(uuid000, "guest-000", 0, 2))
			d.kill(t)
			d = start(t, dir, conn)
			if strings.Contains(d.log.String(), operatorLine) {
				t.Errorf("after the timeout vsched's pin was taken for the operator's:\n%s", d.log.String())
			}
			d.kill(t)
			out := restoreAll(t, dir, conn)
			if got := pinsOf(t, conn)["guest-000/0"]; got != "0" {
				t.Errorf("after restore guest-000/0 on %s, want 0 (restore said %q)", got, out)
			}
		})
	}
}
