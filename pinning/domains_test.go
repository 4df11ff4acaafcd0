package pinning

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
	"libvirt.org/go/libvirt"
)

func TestDomains_ListsRunningDomainsByOnlineVCPUID(t *testing.T) {
	c := openTest(t)
	got, err := c.Domains()
	if err != nil {
		t.Fatalf("Domains: %v", err)
	}
	all := cpuset.New(0, 1, 2, 3, 4, 5, 6, 7)
	want := []Domain{
		{ID: 2, Name: "duo", UUID: duoUUID,
			VCPUs: []VCPU{{0, cpuset.New(0)}, {1, cpuset.New(2, 3)}}},
		{ID: 4, Name: "gappy", UUID: gappyUUID,
			// vCPU 2 is disabled; vCPU 3 is past the maps GetVcpuPinInfo
			// returns (one per online vCPU) and comes from the live XML.
			VCPUs:   []VCPU{{0, cpuset.New(4, 5, 6, 7)}, {1, cpuset.New(5)}, {3, cpuset.New(4, 5, 6, 7)}},
			CPUSet:  cpuset.New(4, 5, 6, 7),
			NodeSet: cpuset.New(0), Unmanaged: true},
		{ID: 3, Name: "quad", UUID: quadUUID,
			VCPUs: []VCPU{{0, cpuset.New(0)}, {1, cpuset.New(0)}, {2, cpuset.New(0)}, {3, cpuset.New(0)}}},
		{ID: 1, Name: "solo", UUID: soloUUID, VCPUs: []VCPU{{0, all}}},
	}
	if diff := cmp.Diff(want, got, cpusetEqual); diff != "" {
		t.Errorf("Domains() mismatch (-want +got):\n%s", diff)
	}
}

func TestDomains_DefaultTestHost_OneDomainTwoVCPUs(t *testing.T) {
	c, err := Open("test:///default")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Domains()
	if err != nil {
		t.Fatalf("Domains: %v", err)
	}
	all, _ := cpuset.Parse("0-15")
	want := []Domain{{ID: 1, Name: "test", UUID: "6695eb01-f6a4-8304-79aa-97f2502e193f",
		VCPUs: []VCPU{{0, all}, {1, all}}}}
	if diff := cmp.Diff(want, got, cpusetEqual); diff != "" {
		t.Errorf("Domains() mismatch (-want +got):\n%s", diff)
	}
}

func TestDomains_DestroyedDomainDropped(t *testing.T) {
	c := openTest(t)
	destroy(t, c, "duo")
	want := with(initialPins(), "duo/0", "", "duo/1", "")
	if diff := cmp.Diff(want, livePins(t, c)); diff != "" {
		t.Errorf("live pins mismatch (-want +got):\n%s", diff)
	}
}

func TestDomains_MetadataSetWhileRunning_Unmanaged(t *testing.T) {
	c := openTest(t)
	onDomain(t, c, "duo", func(d *libvirt.Domain) error {
		return d.SetMetadata(libvirt.DOMAIN_METADATA_ELEMENT, `<vsched manage="no"/>`,
			MetadataKey, MetadataNS, libvirt.DOMAIN_AFFECT_LIVE)
	})
	onDomain(t, c, "gappy", func(d *libvirt.Domain) error { // the mark removed
		return d.SetMetadata(libvirt.DOMAIN_METADATA_ELEMENT, "", "", MetadataNS, libvirt.DOMAIN_AFFECT_LIVE)
	})
	doms, err := c.Domains()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, d := range doms {
		got[d.Name] = d.Unmanaged
	}
	want := map[string]bool{"duo": true, "gappy": false, "quad": false, "solo": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Unmanaged by domain mismatch (-want +got):\n%s", diff)
	}
}

func TestDomains_StartedDomainListed(t *testing.T) {
	c := openTest(t)
	onDomain(t, c, "off", (*libvirt.Domain).Create)
	got := livePins(t, c)
	want := with(initialPins(), "off/0", "0-7", "off/1", "0-7")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("live pins mismatch (-want +got):\n%s", diff)
	}
}

func TestHostCPUs_FromTestHostNodeInfo(t *testing.T) {
	c := openTest(t)
	n, err := c.HostCPUs()
	if err != nil {
		t.Fatalf("HostCPUs: %v", err)
	}
	if n != 8 {
		t.Errorf("HostCPUs() = %d, want 8 (1 node x 1 socket x 4 cores x 2 threads)", n)
	}
}

func TestVCPUPins(t *testing.T) {
	host := hostCPUs{n: 8, online: cpuset.New(0, 1, 2, 3, 5, 6, 7)} // CPU 4 offline
	m := func(cpus ...int) []bool {
		b := make([]bool, 8)
		for _, c := range cpus {
			b[c] = true
		}
		return b
	}
	tests := []struct {
		name string
		info domainInfo
		maps [][]bool
		want []VCPU
	}{
		{
			name: "NoMaps_XMLPinThenCPUSetThenOnline",
			info: domainInfo{VCPUs: []int{0, 1}, Pins: map[int]cpuset.CPUSet{0: cpuset.New(7)}},
			want: []VCPU{{0, cpuset.New(7)}, {1, host.online}},
		},
		{
			name: "NoMaps_UnpinnedTakesDomainCPUSet",
			info: domainInfo{VCPUs: []int{0, 2}, Pins: map[int]cpuset.CPUSet{2: cpuset.New(5)}, CPUSet: cpuset.New(2, 3)},
			want: []VCPU{{0, cpuset.New(2, 3)}, {2, cpuset.New(5)}},
		},
		{
			name: "NumadMaps_ForTheUnpinned_XMLPinWins",
			info: domainInfo{VCPUs: []int{0, 1}, Pins: map[int]cpuset.CPUSet{0: cpuset.New(7)}, AutoPlacement: true},
			maps: [][]bool{m(3), m(1, 2)},
			want: []VCPU{{0, cpuset.New(7)}, {1, cpuset.New(1, 2)}},
		},
		{
			name: "GapPastTheMaps_XMLPinThenCPUSetThenOnline",
			info: domainInfo{VCPUs: []int{0, 3, 4, 5}, Pins: map[int]cpuset.CPUSet{3: cpuset.New(6)}},
			maps: [][]bool{m(0), m(1), m(2)},
			want: []VCPU{{0, cpuset.New(0)}, {3, cpuset.New(6)}, {4, host.online}, {5, host.online}},
		},
		{
			name: "GapPastTheMaps_UnpinnedTakesDomainCPUSet",
			info: domainInfo{VCPUs: []int{1}, CPUSet: cpuset.New(2, 3)},
			maps: [][]bool{m(2, 3)},
			want: []VCPU{{1, cpuset.New(2, 3)}},
		},
		{
			name: "MapsShorterThanHost_XMLPinThenOnline",
			info: domainInfo{VCPUs: []int{0, 1}, Pins: map[int]cpuset.CPUSet{0: cpuset.New(7)}},
			maps: [][]bool{{false, false}, {true, true}},
			want: []VCPU{{0, cpuset.New(7)}, {1, host.online}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := vcpuPins(tt.info, tt.maps, host)
			if diff := cmp.Diff(tt.want, got, cpusetEqual); diff != "" {
				t.Errorf("vcpuPins mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
