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

	"k8s.io/utils/cpuset"
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
	keepBad bool                                // KeepBadFile
}

// Option changes how Open treats the state directory.
type Option func(*options)

type options struct {
	keepBad bool
}

// KeepBadFile makes Open leave a corrupt file where it is and fail with the
// *CorruptError instead of setting the file aside: for `vsched restore`,
// which must not move away the only copy of the originals.
func KeepBadFile() Option { return func(o *options) { o.keepBad = true } }

// Open opens the checkpoint in dir, creating dir (mode 0700, its missing
// parents 0755) if needed, and takes the directory's lock. The directory
// must be a real directory (not a symbolic link) owned by the effective
// user; one open to others is made 0700, and the lock and checkpoint files
// 0600, so no other local user can read the pins or take the lock. It
// returns:
//   - the Store and nil when the file is valid or absent (an empty Store);
//   - an empty, usable Store and a *CorruptError (wrapping ErrCorrupt) when
//     the file was corrupt, truncated, of an unknown version or with a bad
//     checksum: the file is renamed to state.json.corrupt-<UTC time> first
//     (with KeepBadFile: nil and the *CorruptError, the file left alone);
//   - nil and an error wrapping ErrNewerVersion when a newer vsched wrote
//     the file: it is left in place, and no pin may change over it;
//   - nil and an error wrapping ErrLocked when another process holds the
//     lock, or ErrStateDir when dir cannot be created, read or written, is
//     a symbolic link or someone else's, or its lock or checkpoint file is
//     a symbolic link or not a regular file.
//
// Leftover temporary files of an interrupted write are removed. Close
// releases the lock.
func Open(dir string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if dir == "" {
		return nil, fmt.Errorf("%w: no path given", ErrStateDir)
	}
	if err := makeDir(dir); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, path: filepath.Join(dir, FileName), lock: lock, entries: map[ID]Entry{}, rename: os.Rename, keepBad: o.keepBad}
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
	data, err := readFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrStateDir, s.dir, err)
	}
	entries, bad := decode(data)
	switch {
	case bad == nil:
		s.entries = entries
		return nil, nil
	case errors.Is(bad, ErrNewerVersion):
		return nil, fmt.Errorf("%s: %w; left in place, and no pin is changed over it (run the newer vsched, or move the file away to start afresh)", s.path, bad)
	case s.keepBad:
		return nil, &CorruptError{Path: s.path, Err: bad}
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
// caller changes those pins. Each entry's Original is the pin the caller
// found live. An entry already recorded keeps its Original (the pin found
// before vsched's first change), takes the new Set, Name and Conn, and
// keeps the pin found as Previous when it was neither the Original nor the
// new Set: until the new pin is known to have taken, that pin of vsched's
// may still be live.
// Nothing is written when nothing changes. On error nothing changes, in
// memory or on disk, and the caller should not make the pins: an invalid
// entry wraps ErrInvalidEntry, a failed write ErrStateDir.
func (s *Store) Record(entries []Entry) error {
	return s.write(entries, func(e Entry, old Entry, had bool) Entry {
		found := e.Original
		e.Previous = cpuset.New()
		if had {
			switch {
			case equalSets(found, e.Set): // a pin already in place: nothing new may be live
				e.Previous = old.Previous
			case !equalSets(found, old.Original):
				e.Previous = found
			}
			e.Original = old.Original
		}
		return e
	})
}

// Put writes entries back exactly as given (Original, Set, Previous, Conn
// and GoneSince included), replacing those with the same ids: the undo of a
// Record whose pins were not made, or a change of GoneSince. Validation and
// errors are Record's.
func (s *Store) Put(entries []Entry) error {
	return s.write(entries, func(e Entry, _ Entry, _ bool) Entry {
		if e.Previous.IsEmpty() {
			e.Previous = cpuset.New()
		}
		return e
	})
}

// write validates entries, merges each with the one recorded under its id
// (if any) through merge, and commits the result; on error nothing changes.
func (s *Store) write(entries []Entry, merge func(e, old Entry, had bool) Entry) error {
	for _, e := range entries {
		if err := e.validate(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := maps.Clone(s.entries)
	for _, e := range entries {
		old, had := next[e.ID()]
		next[e.ID()] = merge(e, old, had)
	}
	return s.commit(next)
}

// Claim gives the entries with these ids that name no connection (a
// version 1 file's) to c, and writes the checkpoint if any changed. The
// caller claims the entries of domains its connection knows.
func (s *Store) Claim(c Connection, ids ...ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := maps.Clone(s.entries)
	for _, id := range ids {
		if e, ok := next[id]; ok && e.Conn.IsZero() {
			e.Conn = c
			next[id] = e
		}
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
	return a.Name == b.Name && a.Conn == b.Conn && a.GoneSince.Equal(b.GoneSince) && equalSets(a.Original, b.Original) &&
		equalSets(a.Set, b.Set) && equalSets(a.Previous, b.Previous)
}

// equalSets compares CPU sets by content: cpuset.CPUSet.Equals tells the
// zero value from an empty set.
func equalSets(a, b cpuset.CPUSet) bool { return a.Size() == b.Size() && a.IsSubsetOf(b) }
