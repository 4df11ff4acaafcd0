package checkpoint

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// exampleFileV1 is sample()'s file as version 1 wrote it, byte for byte:
// no previous pins, no connections.
const exampleFileV1 = `{
  "version": 1,
  "entries": [
    {
      "uuid": "00000001-5a1e-4c0d-9e8f-000000000001",
      "vcpu": 0,
      "name": "vm1",
      "original": "0-1",
      "set": "1"
    },
    {
      "uuid": "00000001-5a1e-4c0d-9e8f-000000000001",
      "vcpu": 1,
      "name": "vm1",
      "original": "0-1",
      "set": "0"
    },
    {
      "uuid": "00000002-5a1e-4c0d-9e8f-000000000002",
      "vcpu": 3,
      "name": "vm2",
      "original": "4-7",
      "set": "5"
    }
  ],
  "checksum": 2672033440
}
`

// exampleFile is sampleV2()'s file, byte for byte: the format's example.
const exampleFile = `{
  "version": 2,
  "entries": [
    {
      "uuid": "00000001-5a1e-4c0d-9e8f-000000000001",
      "vcpu": 0,
      "name": "vm1",
      "original": "0-1",
      "set": "0",
      "previous": "1",
      "uri": "qemu:///system",
      "host": "kvm1"
    },
    {
      "uuid": "00000002-5a1e-4c0d-9e8f-000000000002",
      "vcpu": 3,
      "name": "vm2",
      "original": "4-7",
      "set": "5",
      "uri": "qemu:///system",
      "host": "kvm1"
    }
  ],
  "checksum": 3169057925
}
`

// sampleV2 uses what version 2 added: a previous pin and connections.
func sampleV2(t testing.TB) map[ID]Entry {
	c := Connection{URI: "qemu:///system", Host: "kvm1"}
	a := withPrevious(t, entry(t, uuidA, "vm1", 0, "0-1", "0"), "1")
	b := entry(t, uuidB, "vm2", 3, "4-7", "5")
	a.Conn, b.Conn = c, c
	return mapOf([]Entry{a, b})
}

func TestEncode_SampleEntries_ExampleFile(t *testing.T) {
	got := string(encode(sampleV2(t)))
	if diff := cmp.Diff(exampleFile, got); diff != "" {
		t.Errorf("encode mismatch (-want +got):\n%s", diff)
	}
}

func TestDecode_Version1File_ReadWithoutPreviousOrConnection(t *testing.T) {
	got, err := decode([]byte(exampleFileV1))
	if err != nil {
		t.Fatalf("decode(version 1 file): %v", err)
	}
	if diff := cmp.Diff(sample(t), got, cpusetEqual); diff != "" {
		t.Errorf("version 1 entries mismatch (-want +got):\n%s", diff)
	}
	for _, e := range got {
		if !e.Conn.IsZero() || !e.Previous.IsEmpty() {
			t.Errorf("version 1 entry %s: connection %v, previous %q; want none", e.ID(), e.Conn, e.Previous)
		}
	}
}

func TestDecode_NewerVersion_ErrNewerVersion(t *testing.T) {
	data := strings.Replace(exampleFileV1, `"version": 1`, `"version": 3`, 1)
	if _, err := decode([]byte(data)); !errors.Is(err, ErrNewerVersion) {
		t.Errorf("decode(version 3) = %v, want ErrNewerVersion", err)
	}
}

func TestDecode_EncodedEntries_RoundTrip(t *testing.T) {
	gone := sampleV2(t)
	for id, e := range gone {
		e.GoneSince = time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)
		gone[id] = e
	}
	for _, m := range []map[ID]Entry{{}, sample(t), sampleV2(t), gone} {
		got, err := decode(encode(m))
		if err != nil {
			t.Fatalf("decode(encode(%v)): %v", m, err)
		}
		if diff := cmp.Diff(m, got, cpusetEqual); diff != "" {
			t.Errorf("round trip mismatch (-want +got):\n%s", diff)
		}
	}
}
