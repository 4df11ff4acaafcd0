package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// FileName is the checkpoint's file name in the state directory.
const FileName = "state.json"

// Store is the checkpoint of one state directory, held in memory and
// written through to disk on every change. Its methods may be called from
// several goroutines.
type Store struct {
	mu      sync.Mutex
	dir     string
	path    string
	lock    *os.File // holds the flock on state.lock; nil once closed
	entries map[ID]Entry
	rename  func(oldpath, newpath string) error // os.Rename; tests inject a crash
}

// Open opens the checkpoint in dir, creating dir (mode 0755) if needed, and
// takes the directory's lock. It returns:
//   - the Store and nil when the file is valid or absent (an empty Store);
//   - an empty, usable Store and a *CorruptError (wrapping ErrCorrupt) when
//     the file was corrupt, truncated, of an unknown version or with a bad
//     checksum: the file is renamed to state.json.corrupt-<UTC time> first;
//   - nil and an error wrapping ErrLocked when another process holds the
//     lock, or ErrStateDir when dir cannot be created, read or written.
//
// Leftover temporary files of an interrupted write are removed. Close
// releases the lock.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: no path given", ErrStateDir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrStateDir, dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, path: filepath.Join(dir, FileName), lock: lock, entries: map[ID]Entry{}, rename: os.Rename}
	warn, err := s.load()
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	if warn != nil {
		return s, warn
	}
	return s, nil
}

// load removes leftover temporary files, checks that the directory takes a
// new file, and reads the checkpoint, setting a bad one aside.
func (s *Store) load() (*CorruptError, error) {
	left, _ := filepath.Glob(filepath.Join(s.dir, tmpPattern))
	for _, f := range left {
		_ = os.Remove(f) // a failure shows in the probe below
	}
	if err := probe(s.dir); err != nil {
		return nil, fmt.Errorf("%w %s: not writable: %w", ErrStateDir, s.dir, err)
	}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrStateDir, s.dir, err)
	}
	entries, bad := decode(data)
	if bad == nil {
		s.entries = entries
		return nil, nil
	}
	aside, err := setAside(s.path)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %s is unusable (%w) and could not be set aside: %w", ErrStateDir, s.dir, s.path, bad, err)
	}
	return &CorruptError{Path: s.path, SetAside: aside, Err: bad}, nil
}

// Path returns the checkpoint file's path.
func (s *Store) Path() string { return s.path }

// Entries returns a copy of the entries, sorted by domain name, UUID and
// vCPU.
func (s *Store) Entries() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.entries))
	slices.SortFunc(out, compareEntries)
	return out
}

// Record adds or updates entries and writes the checkpoint, before the
// caller changes those pins. An entry already recorded keeps its Original
// (the pin found before vsched's first change) and takes the new Set and
// Name. Nothing is written when nothing changes. On error nothing changes,
// in memory or on disk, and the caller should not make the pins: an invalid
// entry wraps ErrInvalidEntry, a failed write ErrStateDir.
func (s *Store) Record(entries []Entry) error {
	for _, e := range entries {
		if err := e.validate(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := maps.Clone(s.entries)
	for _, e := range entries {
		if old, ok := next[e.ID()]; ok {
			e.Original = old.Original
		}
		next[e.ID()] = e
	}
	return s.commit(next)
}

// Forget removes the entries with these ids (unknown ids are ignored) and
// writes the checkpoint if any was removed. On error nothing changes.
func (s *Store) Forget(ids ...ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := maps.Clone(s.entries)
	for _, id := range ids {
		delete(next, id)
	}
	return s.commit(next)
}

// commit writes next and makes it the store's content, unless it equals
// the current content.
func (s *Store) commit(next map[ID]Entry) error {
	if maps.EqualFunc(s.entries, next, sameEntry) {
		return nil
	}
	if s.lock == nil {
		return fmt.Errorf("%w %s: store closed", ErrStateDir, s.dir)
	}
	if err := s.writeFile(encode(next)); err != nil {
		return fmt.Errorf("%w %s: writing %s: %w", ErrStateDir, s.dir, FileName, err)
	}
	s.entries = next
	return nil
}

// Close releases the directory's lock. Later writes fail; Entries still
// answers.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close() // closing the last descriptor drops the flock
	s.lock = nil
	return err
}

func sameEntry(a, b Entry) bool {
	return a.Name == b.Name && a.Original.Equals(b.Original) && a.Set.Equals(b.Set)
}
