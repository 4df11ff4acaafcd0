package checkpoint

import (
	"errors"
	"fmt"
)

// ErrStateDir is wrapped by errors about a state directory that cannot be
// created, read or written (a missing parent that cannot be made, a file
// where the directory should be, permissions, a read-only file system). The
// message names the path.
var ErrStateDir = errors.New("unusable state directory")

// ErrLocked is wrapped by Open's error when another process (a running
// vsched) holds the state directory's lock.
var ErrLocked = errors.New("state directory in use by another vsched")

// ErrInvalidEntry is wrapped by Record's error for an entry without a UUID,
// with a negative vCPU id, or with an empty or impossible pin.
var ErrInvalidEntry = errors.New("invalid checkpoint entry")

// ErrCorrupt is wrapped by every *CorruptError: the file could not be used
// and was set aside.
var ErrCorrupt = errors.New("corrupt checkpoint")

// ErrChecksum is wrapped by a *CorruptError whose file parsed but whose
// checksum does not match its content.
var ErrChecksum = errors.New("checksum mismatch")

// ErrVersion is wrapped by a *CorruptError whose file has no version or a
// version this vsched does not read.
var ErrVersion = errors.New("unsupported version")

// ErrNewerVersion is wrapped by Open's error when the file was written by
// a newer vsched, in a version this one cannot read. The file is left in
// place and no Store is returned: a vsched that went on would record its
// own pins as originals over the ones the file holds.
var ErrNewerVersion = errors.New("checkpoint written by a newer vsched")

// CorruptError reports a checkpoint file Open could not use. By default
// Open renamed it aside and still returns an empty, usable Store with it: a
// warning for the caller to log in one line, not a reason to stop. With
// KeepBadFile the file is left where it was (SetAside is empty) and Open
// returns no Store.
type CorruptError struct {
	// Path is the checkpoint file's path.
	Path string
	// SetAside is where the file was moved; empty when it was left in place.
	SetAside string
	// Err says what was wrong: ErrChecksum, ErrVersion, ErrInvalidEntry or
	// the JSON decoder's error (truncated or garbled text).
	Err error
}

// Error returns one line naming both paths and the reason. The caller adds
// what it does next (the daemon starts with no recorded pins).
func (e *CorruptError) Error() string {
	if e.SetAside == "" {
		return fmt.Sprintf("%s %s: %v; left in place", ErrCorrupt, e.Path, e.Err)
	}
	return fmt.Sprintf("%s %s: %v; set aside as %s", ErrCorrupt, e.Path, e.Err, e.SetAside)
}

// Unwrap returns ErrCorrupt and the reason, for errors.Is.
func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }
