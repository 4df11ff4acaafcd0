package checkpoint

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecode checks that the loader never panics or blows up on any file,
// and that whatever it accepts encodes back to the same entries.
func FuzzDecode(f *testing.F) {
	good := encode(sample(f))
	for _, seed := range [][]byte{
		good, good[:len(good)/2], encode(map[ID]Entry{}), encode(sampleV2(f)), []byte(exampleFileV1), nil, []byte("null"),
		[]byte(`{"version":1,"entries":[],"checksum":0}`),
		[]byte(`{"version":2,"entries":[{"uuid":"u","vcpu":0,"name":"n","original":"0","set":"3","previous":"1","uri":"qemu:///system","host":"h","gone_since":"2026-12-04T21:00:00+02:00"}],"checksum":1}`),
		[]byte(`{"version":1,"entries":[{"uuid":"u","vcpu":0,"name":"n","original":"0-8191","set":"3"}],"checksum":1}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := decode(data)
		if err != nil {
			return
		}
		again, err := decode(encode(entries))
		if err != nil {
			t.Fatalf("decode(encode(%v)): %v", entries, err)
		}
		if diff := cmp.Diff(entries, again, cpusetEqual); diff != "" {
			t.Errorf("round trip mismatch (-want +got):\n%s", diff)
		}
	})
}
