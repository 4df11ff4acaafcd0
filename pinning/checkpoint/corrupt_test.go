package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withChecksum returns a file whose checksum matches the given body.
func withChecksum(t *testing.T, b body) []byte {
	t.Helper()
	sum := checksum(b)
	data, err := json.Marshal(document{Version: b.Version, Entries: b.Entries, Checksum: &sum})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestOpen_BadFile_SetAsideCorruptErrorEmptyUsableStore(t *testing.T) {
	good := encode(sample(t))
	var syntax *json.SyntaxError
	isSyntax := func(err error) bool { return errors.As(err, &syntax) }
	is := func(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }
	fe := fileEntry{UUID: uuidA, VCPU: 0, Name: "vm1", Original: "0", Set: "1"}
	tests := []struct {
		name   string
		data   []byte
		reason func(error) bool
	}{
		{"Empty", nil, isSyntax},
		{"TruncatedHalfway", good[:len(good)/2], isSyntax},
		{"TruncatedBeforeLastBrace", bytes.TrimSpace(good)[:len(bytes.TrimSpace(good))-1], isSyntax},
		{"Garbage", []byte("\x00\x17not json at all\xff"), isSyntax},
		{"TrailingText", append(append([]byte{}, good...), []byte("{}")...), isSyntax},
		{"BadChecksum", bytes.Replace(good, []byte(`"set": "5"`), []byte(`"set": "6"`), 1), is(ErrChecksum)},
		{"NoChecksum", bytes.Replace(good, []byte(`"checksum"`), []byte(`"sum"`), 1), is(ErrChecksum)},
		{"VersionZero", withChecksum(t, body{Version: 0, Entries: []fileEntry{fe}}), is(ErrVersion)},
		{"NegativeVersion", withChecksum(t, body{Version: -1, Entries: []fileEntry{fe}}), is(ErrVersion)},
		{"NoVersion", []byte(`{"entries": []}`), is(ErrVersion)},
		{"JSONNull", []byte(`null`), is(ErrVersion)},
		{"VersionIsAString", []byte(`{"version": "1"}`), isSyntaxOrType},
		{"EmptyOriginalChecksummed", withChecksum(t, body{Version: 1, Entries: []fileEntry{{UUID: uuidA, Original: "", Set: "1"}}}), is(ErrInvalidEntry)},
		{"HugeRangeChecksummed", withChecksum(t, body{Version: 1, Entries: []fileEntry{{UUID: uuidA, Original: "0-999999999", Set: "1"}}}), is(ErrInvalidEntry)},
		{"BadGoneSinceChecksummed", withChecksum(t, body{Version: 2, Entries: []fileEntry{{UUID: uuidA, Original: "0", Set: "1", Gone: "yesterday"}}}), is(ErrInvalidEntry)},
		{"DuplicateEntryChecksummed", withChecksum(t, body{Version: 1, Entries: []fileEntry{fe, fe}}), is(ErrInvalidEntry)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, FileName, tt.data)
			s, err := Open(dir)
			if s == nil {
				t.Fatalf("Open = nil, %v; want a usable store with the warning", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %v, want a *CorruptError wrapping ErrCorrupt", err)
			}
			if !tt.reason(ce.Err) {
				t.Errorf("CorruptError.Err = %v (%T), not the expected reason", ce.Err, ce.Err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, ce.Path) || !strings.Contains(msg, ce.SetAside) {
				t.Errorf("warning %q: want one line naming %s and %s", msg, ce.Path, ce.SetAside)
			}
			if ce.Path != s.Path() || !strings.HasPrefix(filepath.Base(ce.SetAside), FileName+".corrupt-") {
				t.Errorf("CorruptError paths = %s -> %s", ce.Path, ce.SetAside)
			}
			if kept, err := os.ReadFile(ce.SetAside); err != nil || !bytes.Equal(kept, tt.data) {
				t.Errorf("set-aside file = %q, %v; want the bad file's bytes", kept, err)
			}
			if got := s.Entries(); len(got) != 0 {
				t.Errorf("Entries = %v, want none", got)
			}
			if err := s.Record([]Entry{entry(t, uuidA, "vm1", 0, "0", "1")}); err != nil {
				t.Fatalf("Record after setting aside: %v", err)
			}
			if got := reopen(t, s).Entries(); len(got) != 1 {
				t.Errorf("after Record and reopen: Entries = %v, want the one recorded", got)
			}
		})
	}
}

func isSyntaxOrType(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syntax) || errors.As(err, &typ)
}

func TestOpen_CorruptTwiceSameSecond_BothKept(t *testing.T) {
	dir := t.TempDir()
	var asides []string
	for i := range 3 {
		writeFile(t, dir, FileName, []byte(fmt.Sprintf("garbage %d", i)))
		s, err := Open(dir)
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("Open #%d = %v, want a *CorruptError", i, err)
		}
		_ = s.Close()
		asides = append(asides, ce.SetAside)
	}
	for i, a := range asides {
		if got, err := os.ReadFile(a); err != nil || string(got) != fmt.Sprintf("garbage %d", i) {
			t.Errorf("set-aside file %s = %q, %v; want garbage %d", a, got, err, i)
		}
	}
}
