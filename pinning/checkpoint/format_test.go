package checkpoint

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// exampleFile is sample()'s file, byte for byte: the format's example.
const exampleFile = `{
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

func TestEncode_SampleEntries_ExampleFile(t *testing.T) {
	got := string(encode(sample(t)))
	if diff := cmp.Diff(exampleFile, got); diff != "" {
		t.Errorf("encode mismatch (-want +got):\n%s", diff)
	}
}

func TestDecode_EncodedEntries_RoundTrip(t *testing.T) {
	for _, m := range []map[ID]Entry{{}, sample(t)} {
		got, err := decode(encode(m))
		if err != nil {
			t.Fatalf("decode(encode(%v)): %v", m, err)
		}
		if diff := cmp.Diff(m, got, cpusetEqual); diff != "" {
			t.Errorf("round trip mismatch (-want +got):\n%s", diff)
		}
	}
}
