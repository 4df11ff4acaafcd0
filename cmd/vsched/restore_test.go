package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/pinning"
	"github.com/vsched/vsched/pinning/checkpoint"
)

// The UUIDs of testdata/host.xml's domains, and one no domain has.
const (
	uuid000  = "00000001-5a1e-4c0d-9e8f-000000000001"
	uuid001  = "00000002-5a1e-4c0d-9e8f-000000000002"
	uuid002  = "00000003-5a1e-4c0d-9e8f-000000000003"
	uuidGone = "00000009-5a1e-4c0d-9e8f-000000000009"
)

// ckEntry builds a checkpoint entry from CPU lists.
func ckEntry(t *testing.T, uuid, name string, vcpu int, original, set string) checkpoint.Entry {
	t.Helper()
	o, err := cpuset.Parse(original)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cpuset.Parse(set)
	if err != nil {
		t.Fatal(err)
	}
	return checkpoint.Entry{UUID: uuid, Name: name, VCPU: vcpu, Original: o, Set: s}
}

// testConn is the checkpoint's name of the connection to
// testdata/host.xml, from this host.
func testConn(t *testing.T) checkpoint.Connection {
	t.Helper()
	host, _ := os.Hostname()
	return checkpoint.Connection{URI: hostURI(t), Host: host}
}

// goneFor returns e as the checkpoint holds it once its domain has been
// unknown to libvirt for d.
func goneFor(e checkpoint.Entry, d time.Duration) checkpoint.Entry {
	e.GoneSince = time.Now().Add(-d)
	return e
}

// writeCheckpoint records entries in a checkpoint in dir and closes it. An
// entry that names no connection is given the one to testdata/host.xml.
func writeCheckpoint(t *testing.T, dir string, entries ...checkpoint.Entry) {
	t.Helper()
	s, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatalf("checkpoint.Open: %v", err)
	}
	defer s.Close()
	entries = slices.Clone(entries)
	for i := range entries {
		if entries[i].Conn.IsZero() {
			entries[i].Conn = testConn(t)
		}
	}
	if err := s.Put(entries); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

// checkpointIDs opens the checkpoint in dir and lists its entries as
// "name/vcpu".
func checkpointIDs(t *testing.T, dir string) []string {
	t.Helper()
	s, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatalf("checkpoint.Open: %v", err)
	}
	defer s.Close()
	var out []string
	for _, e := range s.Entries() {
		out = append(out, e.Label())
	}
	return out
}

// pinsOf reads the live pins through p, keyed "domain/vcpu".
func pinsOf(t *testing.T, p restorePinner) map[string]string {
	t.Helper()
	doms, err := p.Domains()
	if err != nil {
		t.Fatalf("Domains: %v", err)
	}
	out := map[string]string{}
	for _, d := range doms {
		for _, v := range d.VCPUs {
			out[fmt.Sprintf("%s/%d", d.Name, v.ID)] = v.Pin.String()
		}
	}
	return out
}

// mustApply pins through p and fails the test unless every pin changed.
func mustApply(t *testing.T, p restorePinner, pins ...pinning.Pin) {
	t.Helper()
	for _, r := range p.Apply(pins) {
		if r.Err != nil || !r.Changed {
			t.Fatalf("setting up %s/%d -> %s: changed %v, %v", r.Pin.Name, r.Pin.VCPU, r.Pin.CPUs, r.Changed, r.Err)
		}
	}
}

func pin(uuid, name string, vcpu int, cpus ...int) pinning.Pin {
	return pinning.Pin{UUID: uuid, Name: name, VCPU: vcpu, CPUs: cpuset.New(cpus...)}
}

// openHost opens testdata/host.xml on the test driver. Its state lives as
// long as this connection, so a test sets up, restores and checks on it.
func openHost(t *testing.T) *pinning.Conn {
	t.Helper()
	c, err := pinning.Open(hostURI(t))
	if err != nil {
		t.Fatalf("pinning.Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func lines(outs []restoreOutcome) []string {
	var l []string
	for _, o := range outs {
		l = append(l, o.line())
	}
	return l
}

func TestRestoreFromCheckpoint_TestDriver_OriginalsBackOthersLeftAlone(t *testing.T) {
	conn := openHost(t)
	// vsched's moves, as the daemon made them after recording them.
	mustApply(t, conn,
		pin(uuid000, "guest-000", 0, 1), pin(uuid000, "guest-000", 1, 2),
		pin(uuid001, "guest-001", 0, 3), pin(uuid002, "guest-002", 0, 1))
	dir := t.TempDir()
	writeCheckpoint(t, dir,
		ckEntry(t, uuid000, "guest-000", 0, "0", "1"),
		ckEntry(t, uuid000, "guest-000", 1, "0", "2"),
		ckEntry(t, uuid001, "guest-001", 0, "0", "3"),                                  // the operator re-pins it below
		ckEntry(t, uuid001, "guest-001", 1, "0", "3"),                                  // recorded, never pinned (killed in between)
		ckEntry(t, uuid002, "guest-002", 0, "6", "1"),                                  // its original CPU went away: the pin fails
		ckEntry(t, uuid002, "guest-002", 5, "0-1", "3"),                                // not online
		goneFor(ckEntry(t, uuidGone, "guest-009", 0, "0-3", "2"), goneGrace+time.Hour), // unknown to libvirt for a week
	)
	mustApply(t, conn, pin(uuid001, "guest-001", 0, 2)) // `virsh vcpupin guest-001 0 2`

	store, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	outs, err := restoreFromCheckpoint(store, conn)
	if err != nil {
		t.Fatalf("restoreFromCheckpoint: %v", err)
	}
	want := []string{
		"restored guest-000/0 (uuid " + uuid000 + "): 1 -> 0",
		"restored guest-000/1 (uuid " + uuid000 + "): 2 -> 0",
		"left guest-001/0 (uuid " + uuid001 + "): re-pinned by someone else (now 2, vsched set 3)",
		"left guest-001/1 (uuid " + uuid001 + "): already on its original pin 0",
		"FAILED",
		"left guest-002/5 (uuid " + uuid002 + "): vCPU not online; kept in the checkpoint",
		"left guest-009/0 (uuid " + uuidGone + "): domain gone",
	}
	got := lines(outs)
	if len(got) == len(want) && strings.HasPrefix(got[4], "failed guest-002/0 (uuid "+uuid002+"): 1 -> 6: ") &&
		strings.HasSuffix(got[4], "; kept in the checkpoint") && !strings.Contains(got[4], "\n") {
		want[4] = got[4]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("restore lines mismatch (-want +got):\n%s", diff)
	}
	if !errors.Is(outs[4].Err, pinning.ErrPin) {
		t.Errorf("guest-002/0's error = %v, want ErrPin", outs[4].Err)
	}
	wantPins := map[string]string{
		"guest-000/0": "0", "guest-000/1": "0", // restored
		"guest-001/0": "2", "guest-001/1": "0", // the operator's, and as found
		"guest-002/0": "1", "guest-002/1": "3", // failed: vsched's pin stays
	}
	if diff := cmp.Diff(wantPins, pinsOf(t, conn)); diff != "" {
		t.Errorf("live pins after restore mismatch (-want +got):\n%s", diff)
	}
	_ = store.Close()
	if diff := cmp.Diff([]string{"guest-002/0", "guest-002/5"}, checkpointIDs(t, dir)); diff != "" {
		t.Errorf("checkpoint after restore mismatch (-want +got):\n%s", diff)
	}
}

func TestRestoreFromCheckpoint_SecondRun_OnlyFailedLeftNothingMoved(t *testing.T) {
	conn := openHost(t)
	mustApply(t, conn, pin(uuid000, "guest-000", 0, 3))
	dir := t.TempDir()
	writeCheckpoint(t, dir, ckEntry(t, uuid000, "guest-000", 0, "0", "3"), ckEntry(t, uuid002, "guest-002", 1, "7", "3"))
	store, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	first, err := restoreFromCheckpoint(store, conn)
	if err != nil || len(first) != 2 || !first[0].Restored || !first[1].failed() {
		t.Fatalf("first restore = %v, %v; want guest-000/0 restored, guest-002/1 failed", lines(first), err)
	}
	second, err := restoreFromCheckpoint(store, conn)
	if err != nil || len(second) != 1 || second[0].Entry.Label() != "guest-002/1" || !second[0].failed() {
		t.Errorf("second restore = %v, %v; want only guest-002/1, failing again", lines(second), err)
	}
	if got := pinsOf(t, conn)["guest-000/0"]; got != "0" {
		t.Errorf("guest-000/0 after two restores = %s, want 0", got)
	}
}

// goneOnApply is a pinner whose domain uuid stops between the listing and
// the pin.
type goneOnApply struct {
	*pinning.Conn
	uuid string
}

func (g goneOnApply) Apply(pins []pinning.Pin) []pinning.Result {
	res := make([]pinning.Result, len(pins))
	for i, p := range pins {
		res[i] = pinning.Result{Pin: p, Err: fmt.Errorf("%s: %w", p.Name, pinning.ErrDomainGone)}
		if p.UUID != g.uuid {
			res[i] = g.Conn.Apply(pins[i : i+1])[0]
		}
	}
	return res
}

// A domain that stops between the listing and the pin, but that libvirt
// still defines (shut off, or saved), keeps its entry: it may come back on
// vsched's pin.
func TestRestoreFromCheckpoint_DomainStopsBeforePin_StillDefinedKept(t *testing.T) {
	conn := openHost(t)
	mustApply(t, conn, pin(uuid000, "guest-000", 0, 2), pin(uuid002, "guest-002", 0, 1))
	dir := t.TempDir()
	writeCheckpoint(t, dir, ckEntry(t, uuid000, "guest-000", 0, "0", "2"), ckEntry(t, uuid002, "guest-002", 0, "2", "1"))
	store, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	outs, err := restoreFromCheckpoint(store, goneOnApply{conn, uuid000})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"left guest-000/0 (uuid " + uuid000 + "): domain not running (shut off or saved); kept in the checkpoint",
		"restored guest-002/0 (uuid " + uuid002 + "): 1 -> 2",
	}
	if diff := cmp.Diff(want, lines(outs)); diff != "" {
		t.Errorf("restore lines mismatch (-want +got):\n%s", diff)
	}
	if got := store.Entries(); len(got) != 1 || got[0].UUID != uuid000 {
		t.Errorf("checkpoint after restore = %v, want guest-000/0 alone", got)
	}
}

// failingDomains is a pinner whose listing fails.
type failingDomains struct{ restorePinner }

func (failingDomains) Domains() ([]pinning.Domain, error) {
	return nil, fmt.Errorf("list domains: %w", pinning.ErrConnect)
}

func TestRestoreFromCheckpoint_ListingFails_ErrorNothingForgotten(t *testing.T) {
	conn := openHost(t)
	dir := t.TempDir()
	writeCheckpoint(t, dir, ckEntry(t, uuid000, "guest-000", 0, "1", "0"))
	store, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	outs, err := restoreFromCheckpoint(store, failingDomains{conn})
	if !errors.Is(err, pinning.ErrConnect) || len(outs) != 0 {
		t.Errorf("restoreFromCheckpoint = %v, %v; want no outcomes and ErrConnect", lines(outs), err)
	}
	if got := store.Entries(); len(got) != 1 {
		t.Errorf("checkpoint after a failed listing = %v, want the entry kept", got)
	}
}

func TestRestoreCommand_ExitStatusAndLines(t *testing.T) {
	// Each run opens its own test-driver connection, on host.xml as written:
	// guest-000's vCPUs live on pCPU 0, so a Set of 0 is vsched's pin in place.
	tests := []struct {
		name     string
		entries  []checkpoint.Entry
		connect  string
		wantCode int
		wantOut  []string // stdout lines; a trailing "*" matches a prefix
		wantLeft []string // checkpoint entries after the run
	}{
		{
			name:     "AllRestored_Exit0CheckpointEmptied",
			entries:  []checkpoint.Entry{ckEntry(t, uuid000, "guest-000", 0, "1-2", "0"), ckEntry(t, uuid002, "guest-002", 0, "0", "1")},
			wantOut:  []string{"restored guest-000/0 (uuid " + uuid000 + "): 0 -> 1-2", "left guest-002/0 (uuid " + uuid002 + "): re-pinned by someone else (now 2, vsched set 1)"},
			wantCode: 0,
		},
		{
			name:     "FailedPin_Exit1EntryKept",
			entries:  []checkpoint.Entry{ckEntry(t, uuid000, "guest-000", 0, "9", "0"), ckEntry(t, uuid000, "guest-000", 1, "3", "0")},
			wantOut:  []string{"failed guest-000/0 (uuid " + uuid000 + "): 0 -> 9: *", "restored guest-000/1 (uuid " + uuid000 + "): 0 -> 3"},
			wantCode: 1,
			wantLeft: []string{"guest-000/0"},
		},
		{
			name:     "EmptyCheckpoint_Exit0WithoutConnecting",
			connect:  refusedURI,
			wantOut:  []string{"nothing to restore: no pins recorded in *"},
			wantCode: 0,
		},
		{
			name:     "RefusedConnection_Exit2EntriesKept",
			entries:  []checkpoint.Entry{ckEntry(t, uuid000, "guest-000", 0, "1", "0")},
			connect:  refusedURI,
			wantCode: 2,
			wantLeft: []string{"guest-000/0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if len(tt.entries) > 0 {
				writeCheckpoint(t, dir, tt.entries...)
			}
			connect := tt.connect
			if connect == "" {
				connect = hostURI(t)
			}
			code, stdout, stderr := runCmd("restore", "--connect", connect, "--state-dir", dir)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if tt.wantCode != 0 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want one line", stderr)
			}
			got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if stdout == "" {
				got = nil
			}
			if len(got) == len(tt.wantOut) {
				for i, w := range tt.wantOut {
					if p, ok := strings.CutSuffix(w, "*"); ok && strings.HasPrefix(got[i], p) {
						tt.wantOut[i] = got[i]
					}
				}
			}
			if diff := cmp.Diff(tt.wantOut, got); diff != "" {
				t.Errorf("stdout mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLeft, checkpointIDs(t, dir)); diff != "" {
				t.Errorf("checkpoint after the run mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRestoreCommand_NoStateDir_Exit0NothingCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vsched")
	code, stdout, stderr := runCmd("restore", "--connect", refusedURI, "--state-dir", dir)
	if code != 0 || stdout != "nothing to restore: "+dir+" does not exist\n" || stderr != "" {
		t.Errorf("restore = %d, %q, %q; want 0 and one line saying nothing to restore", code, stdout, stderr)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("restore created %s (stat: %v)", dir, err)
	}
}

func TestRestoreCommand_BadInput_Exit2OneLine(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(root, "corrupt")
	if err := os.Mkdir(corrupt, 0o755); err != nil {
		t.Fatal(err)
	}
	writeCorrupt := func() {
		if err := os.WriteFile(filepath.Join(corrupt, checkpoint.FileName), []byte(`{"version": 1, "entr`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	newer := filepath.Join(root, "newer")
	if err := os.Mkdir(newer, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(newer, checkpoint.FileName), []byte(`{"version": 3, "entries": [], "checksum": 0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(root, "locked")
	held, err := checkpoint.Open(locked) // a running daemon
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := held.Record([]checkpoint.Entry{ckEntry(t, uuid000, "guest-000", 0, "1", "0")}); err != nil {
		t.Fatal(err)
	}
	uri := hostURI(t)
	tests := []struct {
		name string
		args []string
		want string // the line must mention it
		is   error
	}{
		{"UnknownFlag", []string{"--frobnicate"}, "--frobnicate", nil},
		{"PositionalArgument", []string{"--state-dir", root, "extra"}, "extra", nil},
		{"StateDirIsAFile", []string{"--connect", uri, "--state-dir", file}, file, checkpoint.ErrStateDir},
		{"CorruptCheckpoint_LeftInPlace", []string{"--connect", uri, "--state-dir", corrupt}, filepath.Join(corrupt, checkpoint.FileName) + ": unexpected end of JSON input; left in place", checkpoint.ErrCorrupt},
		{"NewerCheckpoint_LeftInPlace", []string{"--connect", uri, "--state-dir", newer}, "version 3", checkpoint.ErrNewerVersion},
		{"DaemonHoldsStateDir", []string{"--connect", uri, "--state-dir", locked}, locked, checkpoint.ErrLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeCorrupt()
			code, stdout, stderr := runCmd(append([]string{"restore"}, tt.args...)...)
			if code != 2 || stdout != "" {
				t.Errorf("restore %v = exit %d, stdout %q; want 2 and nothing on stdout", tt.args, code, stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q: want one line mentioning %q", stderr, tt.want)
			}
			if tt.is != nil {
				writeCorrupt()
				dir := tt.args[len(tt.args)-1]
				if err := runRestore(uri, dir, new(strings.Builder)); !errors.Is(err, tt.is) || !errors.Is(err, errUsage) {
					t.Errorf("runRestore(%s) = %v, want errUsage and %v", dir, err, tt.is)
				}
			}
		})
	}
	for _, dir := range []string{corrupt, newer} {
		if aside, _ := filepath.Glob(filepath.Join(dir, checkpoint.FileName+".corrupt-*")); len(aside) != 0 {
			t.Errorf("restore set the checkpoint aside: %v", aside)
		}
		if _, err := os.Stat(filepath.Join(dir, checkpoint.FileName)); err != nil {
			t.Errorf("the checkpoint is no longer in place: %v", err)
		}
	}
	if got := held.Entries(); len(got) != 1 {
		t.Errorf("the held checkpoint lost its entry: %v", got)
	}
}

func TestRestoreOutcome_LogTo_ConstantMessagesDataInFields(t *testing.T) {
	e := ckEntry(t, uuid001, "guest-001", 1, "0-1", "3")
	tests := []struct {
		name      string
		o         restoreOutcome
		wantLevel string
		wantMsg   string
	}{
		{"Restored_Info", restoreOutcome{Verdict: checkpoint.Verdict{Entry: e, Status: checkpoint.Restorable}, Restored: true}, "info", "pin restored"},
		{"Failed_Error", restoreOutcome{Verdict: checkpoint.Verdict{Entry: e, Status: checkpoint.Restorable}, Err: pinning.ErrPin}, "error", "restore pin failed; kept in the checkpoint"},
		{"Repinned_Info", restoreOutcome{Verdict: checkpoint.Verdict{Entry: e, Status: checkpoint.Repinned, Live: cpuset.New(2)}}, "info", "pin left alone: re-pinned by someone else"},
		{"Gone_Info", restoreOutcome{Verdict: checkpoint.Verdict{Entry: e, Status: checkpoint.DomainGone}}, "info", "pin left alone: domain gone"},
		{"Offline_Info", restoreOutcome{Verdict: checkpoint.Verdict{Entry: e, Status: checkpoint.VCPUOffline}}, "info", "pin left alone: vCPU not online; kept in the checkpoint"},
		{"Unchanged_Debug", restoreOutcome{Verdict: checkpoint.Verdict{Entry: e, Status: checkpoint.Unchanged}}, "debug", "pin already back to its original"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf strings.Builder
			tt.o.logTo(newLogger("json", "debug", &buf))
			var got map[string]any
			if err := json.Unmarshal([]byte(buf.String()), &got); err != nil {
				t.Fatalf("log line %q: %v", buf.String(), err)
			}
			want := map[string]any{"level": tt.wantLevel, "msg": tt.wantMsg, "domain": "guest-001", "uuid": uuid001, "vcpu": 1.0, "original": "0-1", "set": "3"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("field %s = %v, want %v (line %s)", k, got[k], v, buf.String())
				}
			}
		})
	}
}
