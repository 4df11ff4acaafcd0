package checkpoint

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStore_RecordThenReopen_SameEntries(t *testing.T) {
	s := openStore(t, t.TempDir())
	want := slices.SortedFunc(maps.Values(sample(t)), compareEntries)
	if err := s.Record(want); err != nil {
		t.Fatalf("Record: %v", err)
	}
	if diff := cmp.Diff(want, s.Entries(), cpusetEqual); diff != "" {
		t.Errorf("Entries after Record mismatch (-want +got):\n%s", diff)
	}
	s = reopen(t, s)
	if diff := cmp.Diff(want, s.Entries(), cpusetEqual); diff != "" {
		t.Errorf("Entries after reopen mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{FileName, lockName}, dirNames(t, s.dir)); diff != "" {
		t.Errorf("state dir holds other files (-want +got):\n%s", diff)
	}
}

func TestStore_Open_MissingNestedDir_CreatedEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "lib", "vsched")
	s := openStore(t, dir)
	if got := s.Entries(); len(got) != 0 {
		t.Errorf("Entries() = %v, want none", got)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open wrote %s before any Record (stat: %v)", s.Path(), err)
	}
}

func TestStore_Record_KeepsFirstOriginalAcrossCallsAndReopen(t *testing.T) {
	s := openStore(t, t.TempDir())
	steps := []struct {
		rec     Entry
		want    Entry
		reopen  bool
		comment string
	}{
		{entry(t, uuidA, "vm1", 0, "0-3", "1"), entry(t, uuidA, "vm1", 0, "0-3", "1"), false, "first record"},
		{entry(t, uuidA, "vm1", 0, "1", "2"), withPrevious(t, entry(t, uuidA, "vm1", 0, "0-3", "2"), "1"), false, "second move: found vsched's own pin, kept as previous"},
		{entry(t, uuidA, "vm1-renamed", 0, "2", "3"), withPrevious(t, entry(t, uuidA, "vm1-renamed", 0, "0-3", "3"), "2"), true, "after a restart, renamed"},
		{entry(t, uuidA, "vm1-renamed", 0, "3", "3"), withPrevious(t, entry(t, uuidA, "vm1-renamed", 0, "0-3", "3"), "2"), false, "the same pin again: nothing new may be live"},
		{entry(t, uuidA, "vm1-renamed", 0, "3", "0-3"), withPrevious(t, entry(t, uuidA, "vm1-renamed", 0, "0-3", "0-3"), "3"), true, "moved back to the original"},
		{entry(t, uuidA, "vm1-renamed", 0, "0-3", "1"), entry(t, uuidA, "vm1-renamed", 0, "0-3", "1"), false, "moved from the original: no previous of vsched's"},
	}
	for _, st := range steps {
		if st.reopen {
			s = reopen(t, s)
		}
		if err := s.Record([]Entry{st.rec}); err != nil {
			t.Fatalf("%s: Record: %v", st.comment, err)
		}
		if diff := cmp.Diff([]Entry{st.want}, s.Entries(), cpusetEqual); diff != "" {
			t.Errorf("%s: Entries mismatch (-want +got):\n%s", st.comment, diff)
		}
	}
	s = reopen(t, s)
	if diff := cmp.Diff([]Entry{steps[len(steps)-1].want}, s.Entries(), cpusetEqual); diff != "" {
		t.Errorf("after the last reopen: Entries mismatch (-want +got):\n%s", diff)
	}
}

func TestStore_Forget_RemovesOnlyThoseIDs(t *testing.T) {
	s := openStore(t, t.TempDir())
	all := sample(t)
	if err := s.Record(slices.Collect(maps.Values(all))); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(ID{uuidA, 1}, ID{uuidB, 3}, ID{"no-such-uuid", 0}); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	want := []Entry{all[ID{uuidA, 0}]}
	if diff := cmp.Diff(want, s.Entries(), cpusetEqual); diff != "" {
		t.Errorf("Entries after Forget mismatch (-want +got):\n%s", diff)
	}
	s = reopen(t, s)
	if diff := cmp.Diff(want, s.Entries(), cpusetEqual); diff != "" {
		t.Errorf("Entries after reopen mismatch (-want +got):\n%s", diff)
	}
	if err := s.Forget(ID{uuidA, 0}); err != nil {
		t.Fatal(err)
	}
	if got := reopen(t, s).Entries(); len(got) != 0 {
		t.Errorf("Entries after forgetting all and reopening = %v, want none", got)
	}
}

func TestStore_NothingChanges_NoWrite(t *testing.T) {
	s := openStore(t, t.TempDir())
	e := entry(t, uuidA, "vm1", 0, "0-3", "1")
	if err := s.Record([]Entry{e}); err != nil {
		t.Fatal(err)
	}
	writes := 0
	s.rename = func(o, n string) error { writes++; return os.Rename(o, n) }
	if err := s.Record([]Entry{entry(t, uuidA, "vm1", 0, "1", "1")}); err != nil { // found in place: a no-op
		t.Fatal(err)
	}
	if err := s.Forget(ID{uuidB, 0}); err != nil {
		t.Fatal(err)
	}
	if writes != 0 {
		t.Errorf("Record of the same pin and Forget of an unknown id wrote the file %d times, want 0", writes)
	}
}

func TestStore_Record_InvalidEntry_ErrInvalidEntryNothingRecorded(t *testing.T) {
	ok := entry(t, uuidA, "vm1", 0, "0", "1")
	tests := []struct {
		name string
		e    Entry
	}{
		{"NoUUID", entry(t, "", "vm1", 0, "0", "1")},
		{"NegativeVCPU", entry(t, uuidA, "vm1", -1, "0", "1")},
		{"EmptyOriginal", entry(t, uuidA, "vm1", 1, "", "1")},
		{"EmptySet", entry(t, uuidA, "vm1", 1, "0", "")},
		{"CPUAboveLinuxLimit", entry(t, uuidA, "vm1", 1, "0", "8192")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			if err := s.Record([]Entry{ok, tt.e}); !errors.Is(err, ErrInvalidEntry) {
				t.Errorf("Record = %v, want ErrInvalidEntry", err)
			}
			if got := s.Entries(); len(got) != 0 {
				t.Errorf("Entries after a refused Record = %v, want none", got)
			}
		})
	}
}

func TestStore_CrashBetweenTempWriteAndRename_OldFileValidTempIgnored(t *testing.T) {
	s := openStore(t, t.TempDir())
	old := entry(t, uuidA, "vm1", 0, "0-3", "1")
	if err := s.Record([]Entry{old}); err != nil {
		t.Fatal(err)
	}
	// The process dies after the temporary file is written and synced: the
	// rename never happens and no cleanup runs.
	s.rename = func(string, string) error { panic("killed") }
	func() {
		defer func() { _ = recover() }()
		_ = s.Record([]Entry{entry(t, uuidA, "vm1", 0, "0-3", "2"), entry(t, uuidB, "vm2", 0, "4", "5")})
	}()
	if n := len(dirNames(t, s.dir)); n != 3 {
		t.Fatalf("state dir after the crash holds %v, want state.json, state.lock and a temporary file", dirNames(t, s.dir))
	}
	s = reopen(t, s)
	if diff := cmp.Diff([]Entry{old}, s.Entries(), cpusetEqual); diff != "" {
		t.Errorf("Entries after the crash mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{FileName, lockName}, dirNames(t, s.dir)); diff != "" {
		t.Errorf("leftover temporary file not removed (-want +got):\n%s", diff)
	}
}

func TestStore_LeftoverTempFiles_IgnoredAndRemoved(t *testing.T) {
	dir := t.TempDir()
	want := sample(t)
	writeFile(t, dir, FileName, encode(want))
	writeFile(t, dir, FileName+".tmp-123", []byte(`{"version": 1, "entr`))
	writeFile(t, dir, FileName+".tmp-456", encode(map[ID]Entry{}))
	s := openStore(t, dir)
	if diff := cmp.Diff(want, mapOf(s.Entries()), cpusetEqual); diff != "" {
		t.Errorf("Entries mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{FileName, lockName}, dirNames(t, dir)); diff != "" {
		t.Errorf("state dir after Open (-want +got):\n%s", diff)
	}
}

func TestStore_FailedWrite_ErrStateDirNothingChanged(t *testing.T) {
	s := openStore(t, t.TempDir())
	old := entry(t, uuidA, "vm1", 0, "0-3", "1")
	if err := s.Record([]Entry{old}); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("injected rename failure")
	s.rename = func(string, string) error { return failed }
	if err := s.Record([]Entry{entry(t, uuidA, "vm1", 0, "0-3", "2")}); !errors.Is(err, ErrStateDir) || !errors.Is(err, failed) {
		t.Errorf("Record with a failing rename = %v, want ErrStateDir wrapping the failure", err)
	}
	if err := s.Forget(old.ID()); !errors.Is(err, ErrStateDir) {
		t.Errorf("Forget with a failing rename = %v, want ErrStateDir", err)
	}
	if diff := cmp.Diff([]Entry{old}, s.Entries(), cpusetEqual); diff != "" {
		t.Errorf("Entries after failed writes mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{FileName, lockName}, dirNames(t, s.dir)); diff != "" {
		t.Errorf("temporary file left after a failed write (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Entry{old}, reopen(t, s).Entries(), cpusetEqual); diff != "" {
		t.Errorf("file after failed writes mismatch (-want +got):\n%s", diff)
	}
}

func TestStore_DirReplacedByFile_RecordErrStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := openStore(t, dir)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o644); err != nil { // fails even for root
		t.Fatal(err)
	}
	err := s.Record([]Entry{entry(t, uuidA, "vm1", 0, "0", "1")})
	if !errors.Is(err, ErrStateDir) {
		t.Errorf("Record = %v, want ErrStateDir", err)
	}
	if len(s.Entries()) != 0 {
		t.Errorf("Entries after a failed Record = %v, want none", s.Entries())
	}
}

func TestStore_Closed_RecordFails(t *testing.T) {
	s := openStore(t, t.TempDir())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Record([]Entry{entry(t, uuidA, "vm1", 0, "0", "1")}); !errors.Is(err, ErrStateDir) {
		t.Errorf("Record after Close = %v, want ErrStateDir", err)
	}
}

func TestOpen_SecondOpenWhileLocked_ErrLockedThenFreeAfterClose(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if s2, err := Open(dir); !errors.Is(err, ErrLocked) || s2 != nil {
		t.Fatalf("second Open = %v, %v; want nil, ErrLocked", s2, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openStore(t, dir)
}

func TestOpen_UnusableDir_ErrStateDirNamingPath(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	writeFile(t, root, "file", nil)
	stateIsDir := filepath.Join(root, "stateisdir")
	if err := os.MkdirAll(filepath.Join(stateIsDir, FileName), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir string
		asRoot    bool // the case fails for root too
		setup     func(t *testing.T, dir string)
	}{
		{name: "Empty", dir: "", asRoot: true},
		{name: "DirIsAFile", dir: file, asRoot: true},
		{name: "ParentIsAFile", dir: filepath.Join(file, "vsched"), asRoot: true},
		{name: "StateJSONIsADirectory", dir: stateIsDir, asRoot: true},
		{name: "ReadOnlyDir", dir: filepath.Join(root, "ro"), setup: func(t *testing.T, dir string) {
			if err := os.Mkdir(dir, 0o555); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "ReadOnlyParentMissingDir", dir: filepath.Join(root, "roparent", "vsched"), setup: func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Dir(dir), 0o555); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "UnreadableFile", dir: filepath.Join(root, "unreadable"), setup: func(t *testing.T, dir string) {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, FileName, encode(sample(t)))
			if err := os.Chmod(filepath.Join(dir, FileName), 0); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.asRoot && os.Geteuid() == 0 {
				t.Skip("permissions do not stop root")
			}
			if tt.setup != nil {
				tt.setup(t, tt.dir)
			}
			s, err := Open(tt.dir)
			if !errors.Is(err, ErrStateDir) || s != nil {
				t.Fatalf("Open(%q) = %v, %v; want nil, ErrStateDir", tt.dir, s, err)
			}
			var ce *CorruptError
			if errors.As(err, &ce) {
				t.Errorf("Open(%q) = %v: an unusable directory is not a corrupt file", tt.dir, err)
			}
			if tt.dir != "" && !strings.Contains(err.Error(), tt.dir) {
				t.Errorf("Open(%q) error %q does not name the directory", tt.dir, err)
			}
		})
	}
}

func TestOpen_NewerVersion_RefusedFileKept(t *testing.T) {
	dir := t.TempDir()
	newer := []byte(`{"version": 3, "entries": [{"uuid": "u", "vcpu": 0, "original": "0-1", "set": "1", "cores": "a"}], "checksum": 1}`)
	writeFile(t, dir, FileName, newer)
	for _, opts := range [][]Option{nil, {KeepBadFile()}} {
		s, err := Open(dir, opts...)
		if s != nil || !errors.Is(err, ErrNewerVersion) {
			t.Fatalf("Open(%d options) = %v, %v; want nil, ErrNewerVersion", len(opts), s, err)
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, filepath.Join(dir, FileName)) || !strings.Contains(msg, "version 3") {
			t.Errorf("error %q: want one line naming the file and its version", msg)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, FileName)); string(got) != string(newer) {
			t.Errorf("newer file changed: %q", got)
		}
		if diff := cmp.Diff([]string{FileName, lockName}, dirNames(t, dir)); diff != "" {
			t.Errorf("state dir after a refused Open (-want +got):\n%s", diff)
		}
	}
	openStore(t, t.TempDir()) // the lock was released: not needed here, but Open must not leak it
	if s, err := Open(dir); s != nil || !errors.Is(err, ErrNewerVersion) {
		t.Errorf("third Open = %v, %v; want the same refusal, not ErrLocked", s, err)
	}
}

func TestOpen_KeepBadFile_CorruptLeftInPlaceNoStore(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, FileName, []byte("garbage"))
	s, err := Open(dir, KeepBadFile())
	var ce *CorruptError
	if s != nil || !errors.As(err, &ce) || ce.SetAside != "" {
		t.Fatalf("Open(KeepBadFile) = %v, %v; want nil and a *CorruptError with nothing set aside", s, err)
	}
	if !strings.Contains(err.Error(), "left in place") {
		t.Errorf("error %q does not say the file was left in place", err)
	}
	if diff := cmp.Diff([]string{FileName, lockName}, dirNames(t, dir)); diff != "" {
		t.Errorf("state dir (-want +got):\n%s", diff)
	}
}

func TestStore_Claim_OnlyEntriesWithoutConnection(t *testing.T) {
	s := openStore(t, t.TempDir())
	mine := Connection{URI: "qemu:///system", Host: "kvm1"}
	other := Connection{URI: "test:///default", Host: "kvm1"}
	legacy := entry(t, uuidA, "vm1", 0, "0-1", "1")
	foreign := entry(t, uuidA, "vm1", 1, "0-1", "0")
	foreign.Conn = other
	if err := s.Record([]Entry{legacy, foreign}); err != nil {
		t.Fatal(err)
	}
	if err := s.Claim(mine, legacy.ID(), foreign.ID()); err != nil {
		t.Fatal(err)
	}
	got := map[ID]Connection{}
	for _, e := range reopen(t, s).Entries() {
		got[e.ID()] = e.Conn
	}
	if diff := cmp.Diff(map[ID]Connection{legacy.ID(): mine, foreign.ID(): other}, got); diff != "" {
		t.Errorf("connections after Claim (-want +got):\n%s", diff)
	}
}

func TestStore_Put_UndoesARecordExactly(t *testing.T) {
	s := openStore(t, t.TempDir())
	old := withPrevious(t, entry(t, uuidA, "vm1", 0, "0-3", "2"), "1")
	old.Conn = Connection{URI: "qemu:///system", Host: "kvm1"}
	if err := s.Put([]Entry{old}); err != nil {
		t.Fatal(err)
	}
	if err := s.Record([]Entry{entry(t, uuidA, "vm1", 0, "1", "3")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put([]Entry{old}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Entry{old}, reopen(t, s).Entries(), cpusetEqual); diff != "" {
		t.Errorf("after Put of the old entry (-want +got):\n%s", diff)
	}
}
