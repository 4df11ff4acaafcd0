package pinning

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/pinning/cpulist"
)

// The qemu-live-*.xml fixtures are `virsh dumpxml` of running KVM guests on
// a real libvirt 9.0 host (Debian 12), made by scripts/guest.sh:
//   - vcpu-disabled: 4 vCPUs started with ids 0, 1, 3 online, cpuset 0-1;
//   - pinned-optout: the same after `virsh setvcpu 2 --enable --live`,
//     `virsh vcpupin` of vCPUs 0, 1 and 3, and the vsched opt-out set with
//     `virsh metadata ... --set '<vsched manage="no"/>' --live`;
//   - numatune: 2 vCPUs, cpuset 0-1, strict numatune on node 0, vCPU 1
//     pinned to CPU 1.
// test-default-live.xml is test:///default's domain after SetMetadata.

// fixture reads testdata/name.
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseDomainXML(t *testing.T) {
	set := func(s string) cpuset.CPUSet {
		c, err := cpuset.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	none := cpuset.New()
	tests := []struct {
		name string
		xml  string // a fixture file name, or XML
		want domainInfo
	}{
		{
			name: "QEMUWithVCPU2Disabled_IDs013CPUSet",
			xml:  "qemu-live-vcpu-disabled.xml",
			want: domainInfo{ID: 2, Name: "vsched-t-probea", UUID: "e8ae9f10-c57f-4a20-aa6f-63f5d6bedf29",
				VCPUs: []int{0, 1, 3}, CPUSet: set("0-1"), NodeSet: none},
		},
		{
			name: "QEMUPinnedAndOptedOut_AllIDsPinsUnmanaged",
			xml:  "qemu-live-pinned-optout.xml",
			want: domainInfo{ID: 2, Name: "vsched-t-probea", UUID: "e8ae9f10-c57f-4a20-aa6f-63f5d6bedf29",
				VCPUs: []int{0, 1, 2, 3}, CPUSet: set("0-1"), NodeSet: none, Unmanaged: true,
				Pins: map[int]cpuset.CPUSet{0: set("1"), 1: set("1"), 3: set("0")}},
		},
		{
			name: "QEMUStrictNUMATune_NodeSet",
			xml:  "qemu-live-numatune.xml",
			want: domainInfo{ID: 3, Name: "vsched-t-probec", UUID: "de7b6307-66c2-47a6-942b-8225e80d01fb",
				VCPUs: []int{0, 1}, CPUSet: set("0-1"), NodeSet: set("0"),
				Pins: map[int]cpuset.CPUSet{1: set("1")}},
		},
		{
			name: "TestDriverWithMetadata_Unmanaged",
			xml:  "test-default-live.xml",
			want: domainInfo{ID: 1, Name: "test", UUID: "6695eb01-f6a4-8304-79aa-97f2502e193f",
				VCPUs: []int{0, 1}, CPUSet: none, NodeSet: none, Unmanaged: true},
		},
		{
			name: "NoVCPUsElement_CurrentCounts",
			xml:  `<domain id='7'><name>a</name><uuid>u</uuid><vcpu current='2'>8</vcpu></domain>`,
			want: domainInfo{ID: 7, Name: "a", UUID: "u", VCPUs: []int{0, 1}, CPUSet: none, NodeSet: none},
		},
		{
			name: "Inactive_NoID",
			xml:  `<domain><name>a</name><vcpu>1</vcpu></domain>`,
			want: domainInfo{ID: -1, Name: "a", VCPUs: []int{0}, CPUSet: none, NodeSet: none},
		},
		{
			name: "PreferredNUMATune_NoNodeSet",
			xml:  `<domain><vcpu>1</vcpu><numatune><memory mode='preferred' nodeset='1'/></numatune></domain>`,
			want: domainInfo{ID: -1, VCPUs: []int{0}, CPUSet: none, NodeSet: none},
		},
		{
			name: "NUMATuneWithoutMode_StrictByDefault",
			xml:  `<domain><vcpu>1</vcpu><numatune><memory nodeset='0-1'/></numatune></domain>`,
			want: domainInfo{ID: -1, VCPUs: []int{0}, CPUSet: none, NodeSet: set("0-1")},
		},
		{
			name: "OtherNamespaceVsched_Ignored",
			xml: `<domain><vcpu>1</vcpu><metadata><x:vsched xmlns:x="https://example.com/other" manage="no"/>
			      <y:vsched xmlns:y="https://vsched.dev/xmlns/domain/1.0" manage="yes"/></metadata></domain>`,
			want: domainInfo{ID: -1, VCPUs: []int{0}, CPUSet: none, NodeSet: none},
		},
		{
			name: "NumadPlacement_Auto",
			xml: `<domain><vcpu placement='auto'>2</vcpu><cputune><vcpupin vcpu='1' cpuset='3'/></cputune>
			      <numatune><memory mode='strict' placement='auto'/></numatune></domain>`,
			want: domainInfo{ID: -1, VCPUs: []int{0, 1}, Pins: map[int]cpuset.CPUSet{1: set("3")}, CPUSet: none, NodeSet: none,
				AutoPlacement: true},
		},
		{
			name: "CPUSetWithExclusion_Subtracted",
			xml:  `<domain><vcpu cpuset='0-5,^2,8'>1</vcpu></domain>`,
			want: domainInfo{ID: -1, VCPUs: []int{0}, CPUSet: set("0-1,3-5,8"), NodeSet: none},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.xml
			if filepath.Ext(src) == ".xml" {
				src = fixture(t, src)
			}
			got, err := parseDomainXML(src)
			if err != nil {
				t.Fatalf("parseDomainXML: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cpusetEqual); diff != "" {
				t.Errorf("parseDomainXML mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDomainXML_Malformed_ErrDomainXML(t *testing.T) {
	for name, xml := range map[string]string{
		"NotXML":              "not xml",
		"Truncated":           "<domain><name>a</name><vcpu>2</vc",
		"VCPUCountNotANumber": "<domain><vcpu>two</vcpu></domain>",
		"TooManyVCPUs":        "<domain><vcpu>100000</vcpu></domain>",
		"NegativeVCPUID":      "<domain><vcpu>2</vcpu><vcpus><vcpu id='-1' enabled='yes'/></vcpus></domain>",
		"BadCPUSet":           "<domain><vcpu cpuset='0-'>1</vcpu></domain>",
		"CPUBeyondLimit":      "<domain><vcpu cpuset='0-99999999'>1</vcpu></domain>",
		"BadPin":              "<domain><vcpu>1</vcpu><cputune><vcpupin vcpu='0' cpuset='x'/></cputune></domain>",
		"BadNodeSet":          "<domain><vcpu>1</vcpu><numatune><memory mode='strict' nodeset='3-1'/></numatune></domain>",
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := parseDomainXML(xml); !errors.Is(err, ErrDomainXML) {
				t.Errorf("parseDomainXML = %+v, %v; want ErrDomainXML", got, err)
			}
		})
	}
}

func FuzzParseDomainXML(f *testing.F) {
	for _, name := range []string{"qemu-live-vcpu-disabled.xml", "qemu-live-pinned-optout.xml",
		"qemu-live-numatune.xml", "test-default-live.xml"} {
		f.Add(fixture(f, name))
	}
	f.Add(`<domain><vcpu current='3'>4</vcpu><vcpus><vcpu id='2' enabled='no'/></vcpus></domain>`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDomainXML(s)
		if err != nil {
			if !errors.Is(err, ErrDomainXML) {
				t.Fatalf("error %v does not wrap ErrDomainXML", err)
			}
			return
		}
		if !slices.IsSorted(d.VCPUs) || len(slices.Compact(slices.Clone(d.VCPUs))) != len(d.VCPUs) {
			t.Errorf("vCPU ids %v not ascending and unique", d.VCPUs)
		}
		if len(d.VCPUs) > 0 && (d.VCPUs[0] < 0 || d.VCPUs[len(d.VCPUs)-1] >= maxVCPUs) {
			t.Errorf("vCPU ids %v out of range", d.VCPUs)
		}
		for _, s := range append([]cpuset.CPUSet{d.CPUSet, d.NodeSet}, mapsValues(d.Pins)...) {
			if l := s.List(); len(l) > 0 && (l[0] < 0 || l[len(l)-1] > cpulist.Max) {
				t.Errorf("set %s out of range", s)
			}
		}
	})
}

// mapsValues returns m's values.
func mapsValues(m map[int]cpuset.CPUSet) []cpuset.CPUSet {
	out := make([]cpuset.CPUSet, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func BenchmarkParseDomainXML(b *testing.B) {
	s := fixture(b, "qemu-live-pinned-optout.xml")
	for b.Loop() {
		if _, err := parseDomainXML(s); err != nil {
			b.Fatal(err)
		}
	}
}
