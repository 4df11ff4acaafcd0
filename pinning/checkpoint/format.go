package checkpoint

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"slices"
	"time"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/pinning/cpulist"
)

// Version is the version of the file format this package writes. It reads
// this one and every older one: version 1 had no previous pin and no
// connection in its entries.
const Version = 2

// castagnoli is the CRC-32C table of the checksum.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// body is the checksummed part of the file. Its compact JSON encoding, as
// encoding/json writes it, is what the checksum covers.
type body struct {
	Version int         `json:"version"`
	Entries []fileEntry `json:"entries"`
}

// fileEntry is one Entry as the file holds it: pins as kernel-style CPU
// lists. The fields version 2 added are left out when empty, so a version 1
// entry encodes, and checksums, as version 1 wrote it.
type fileEntry struct {
	UUID     string `json:"uuid"`
	VCPU     int    `json:"vcpu"`
	Name     string `json:"name"`
	Original string `json:"original"`
	Set      string `json:"set"`
	Previous string `json:"previous,omitempty"`
	URI      string `json:"uri,omitempty"`
	Host     string `json:"host,omitempty"`
	Gone     string `json:"gone_since,omitempty"` // RFC 3339, UTC
}

// document is the whole file.
type document struct {
	Version  int         `json:"version"`
	Entries  []fileEntry `json:"entries"`
	Checksum *uint32     `json:"checksum"`
}

// checksum returns the CRC-32C of b's compact JSON encoding.
func checksum(b body) uint32 {
	data, err := json.Marshal(b)
	if err != nil { // strings and ints only: cannot happen
		panic(fmt.Sprintf("checkpoint: encoding body: %v", err))
	}
	return crc32.Checksum(data, castagnoli)
}

// encode returns the file for entries: indented JSON ending in a newline,
// entries sorted by name, UUID and vCPU.
func encode(entries map[ID]Entry) []byte {
	list := make([]Entry, 0, len(entries))
	for _, e := range entries {
		list = append(list, e)
	}
	slices.SortFunc(list, compareEntries)
	b := body{Version: Version, Entries: make([]fileEntry, len(list))}
	for i, e := range list {
		b.Entries[i] = fileEntry{UUID: e.UUID, VCPU: e.VCPU, Name: e.Name, Original: e.Original.String(), Set: e.Set.String(),
			Previous: e.Previous.String(), URI: e.Conn.URI, Host: e.Conn.Host}
		if !e.GoneSince.IsZero() {
			b.Entries[i].Gone = e.GoneSince.UTC().Format(time.RFC3339)
		}
	}
	sum := checksum(b)
	data, err := json.MarshalIndent(document{Version: b.Version, Entries: b.Entries, Checksum: &sum}, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("checkpoint: encoding document: %v", err))
	}
	return append(data, '\n')
}

// decode parses a file of this version or an older one into entries.
// Truncated or garbled JSON returns the decoder's error; a missing or
// unknown version ErrVersion, and a version newer than this package writes
// ErrNewerVersion; a missing or wrong checksum ErrChecksum; an unusable or
// duplicate entry ErrInvalidEntry.
func decode(data []byte) (map[ID]Entry, error) {
	var v struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	if v.Version == nil {
		return nil, fmt.Errorf("%w: no version", ErrVersion)
	}
	if *v.Version > Version {
		return nil, fmt.Errorf("%w: version %d (this vsched reads 1 to %d)", ErrNewerVersion, *v.Version, Version)
	}
	if *v.Version < 1 {
		return nil, fmt.Errorf("%w: version %d (this vsched reads 1 to %d)", ErrVersion, *v.Version, Version)
	}
	var d document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	if d.Checksum == nil {
		return nil, fmt.Errorf("%w: no checksum", ErrChecksum)
	}
	if got := checksum(body{Version: d.Version, Entries: d.Entries}); got != *d.Checksum {
		return nil, fmt.Errorf("%w: file says %d, content sums to %d", ErrChecksum, *d.Checksum, got)
	}
	out := make(map[ID]Entry, len(d.Entries))
	for _, fe := range d.Entries {
		e, err := fe.entry()
		if err != nil {
			return nil, err
		}
		if _, dup := out[e.ID()]; dup {
			return nil, fmt.Errorf("%w: %s listed twice", ErrInvalidEntry, e.ID())
		}
		out[e.ID()] = e
	}
	return out, nil
}

// entry parses the pins of a file entry and validates it.
func (fe fileEntry) entry() (Entry, error) {
	e := Entry{UUID: fe.UUID, Name: fe.Name, VCPU: fe.VCPU, Conn: Connection{URI: fe.URI, Host: fe.Host}, Previous: cpuset.New()}
	var err error
	if fe.Gone != "" {
		if e.GoneSince, err = time.Parse(time.RFC3339, fe.Gone); err != nil {
			return Entry{}, fmt.Errorf("%w: %s: gone_since: %w", ErrInvalidEntry, e.ID(), err)
		}
	}
	if fe.Previous != "" {
		if e.Previous, err = cpulist.Parse(fe.Previous); err != nil {
			return Entry{}, fmt.Errorf("%w: %s: previous pin: %w", ErrInvalidEntry, e.ID(), err)
		}
	}
	if e.Original, err = cpulist.Parse(fe.Original); err != nil {
		return Entry{}, fmt.Errorf("%w: %s: original pin: %w", ErrInvalidEntry, e.ID(), err)
	}
	if e.Set, err = cpulist.Parse(fe.Set); err != nil {
		return Entry{}, fmt.Errorf("%w: %s: set pin: %w", ErrInvalidEntry, e.ID(), err)
	}
	return e, e.validate()
}
