package pinning

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

func TestDomains_ListsRunningDomainsWithLivePins(t *testing.T) {
	c := openTest(t)
	got, err := c.Domains()
	if err != nil {
		t.Fatalf("Domains: %v", err)
	}
	want := []Domain{
		{ID: 2, Name: "duo", UUID: "22222222-2222-4222-8222-222222222222", VCPUs: 2,
			Pins: []cpuset.CPUSet{cpuset.New(0), cpuset.New(2, 3)}},
		{ID: 3, Name: "quad", UUID: "44444444-4444-4444-8444-444444444444", VCPUs: 4,
			Pins: []cpuset.CPUSet{cpuset.New(0), cpuset.New(0), cpuset.New(0), cpuset.New(0)}},
		{ID: 1, Name: "solo", UUID: "11111111-1111-4111-8111-111111111111", VCPUs: 1,
			Pins: []cpuset.CPUSet{cpuset.New(0, 1, 2, 3, 4, 5, 6, 7)}},
	}
	if diff := cmp.Diff(want, got, cpusetEqual); diff != "" {
		t.Errorf("Domains() mismatch (-want +got):\n%s", diff)
	}
}

func TestDomains_DestroyedDomainDropped(t *testing.T) {
	c := openTest(t)
	destroy(t, c, "duo")
	want := with(initialPins())
	delete(want, "duo/0")
	delete(want, "duo/1")
	if diff := cmp.Diff(want, livePins(t, c)); diff != "" {
		t.Errorf("live pins mismatch (-want +got):\n%s", diff)
	}
}

func TestHostCPUs_CountsNodeTopology(t *testing.T) {
	c := openTest(t)
	n, err := c.HostCPUs()
	if err != nil {
		t.Fatalf("HostCPUs: %v", err)
	}
	if n != 8 {
		t.Errorf("HostCPUs() = %d, want 8 (1 node x 1 socket x 4 cores x 2 threads)", n)
	}
}
