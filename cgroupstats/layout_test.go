package cgroupstats_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/cgroupstats/cgroupstatstest"
)

// wantVCPUs is what a Sample must read from a synthetic tree for d.
func wantVCPUs(d cgroupstats.Domain, pid int) []cgroupstats.VCPUStat {
	var out []cgroupstats.VCPUStat
	for _, n := range d.VCPUs {
		tid := cgroupstatstest.VCPUTID(pid, n)
		pin := cgroupstatstest.Pin(d, n)
		out = append(out, cgroupstats.VCPUStat{VCPU: n, TID: tid, Start: cgroupstatstest.StartTime,
			RunNs: cgroupstatstest.RunNs(tid), WaitNs: cgroupstatstest.WaitNs(tid),
			LastCPU: pin, Affinity: cpuset.New(pin)})
	}
	return out
}

var cmpCPUSet = cmp.Comparer(func(a, b cpuset.CPUSet) bool { return a.Equals(b) })

func TestSample_EveryLayout(t *testing.T) {
	tests := []struct {
		layout   cgroupstatstest.Layout
		wantMode string
		wantDir  string // suffix of cgroupstats.DomainSample.Cgroup for domain 0
	}{
		{cgroupstatstest.LayoutHybrid, "hybrid", "unified/machine/qemu-1-guest-000.libvirt-qemu"},
		{cgroupstatstest.LayoutV2Systemd, "v2", `machine.slice/machine-qemu\x2d1\x2dguest\x2d000.scope/libvirt`},
		{cgroupstatstest.LayoutV2SystemdPre71, "v2", `machine.slice/machine-qemu\x2d1\x2dguest\x2d000.scope`},
		{cgroupstatstest.LayoutV2, "v2", "machine/qemu-1-guest-000.libvirt-qemu"},
		// systemd links cpuacct -> cpu,cpuacct; the link is what is found.
		{cgroupstatstest.LayoutV1Systemd, "v1", `cpuacct/machine.slice/machine-qemu\x2d1\x2dguest\x2d000.scope/libvirt`},
		{cgroupstatstest.LayoutV1, "v1", "cpuacct/machine/qemu-1-guest-000.libvirt-qemu"},
	}
	for _, tc := range tests {
		t.Run(tc.layout.String()+"_ReadsEveryVCPUAndSkipsKernelThread", func(t *testing.T) {
			doms, s, _, _ := synthetic(t, tc.layout, 3, 2)
			if s.Mode() != tc.wantMode {
				t.Errorf("Mode() = %q, want %q", s.Mode(), tc.wantMode)
			}
			var got cgroupstats.Sample
			if err := s.Sample(doms, &got); err != nil {
				t.Fatal(err)
			}
			if len(got.CPUs) != cgroupstatstest.CPUs {
				t.Errorf("got %d CPUs, want %d", len(got.CPUs), cgroupstatstest.CPUs)
			}
			if !strings.HasSuffix(got.Domains[0].Cgroup, tc.wantDir) {
				t.Errorf("Cgroup = %q, want suffix %q", got.Domains[0].Cgroup, tc.wantDir)
			}
			for i, d := range doms {
				ds := got.Domains[i]
				if ds.Err != nil {
					t.Fatalf("domain %s: %v", d.Name, ds.Err)
				}
				pid := cgroupstatstest.PID(i, len(d.VCPUs))
				if ds.PID != pid {
					t.Errorf("domain %s: PID = %d, want %d", d.Name, ds.PID, pid)
				}
				if diff := cmp.Diff(wantVCPUs(d, pid), ds.VCPUs, cmpCPUSet); diff != "" {
					t.Errorf("domain %s VCPUs (-want +got):\n%s", d.Name, diff)
				}
			}
		})
	}
}

func TestSample_NoVCPUCgroup_FallsBackToThreadNames(t *testing.T) {
	doms, _, cg, proc := synthetic(t, cgroupstatstest.LayoutV2, 1, 2)
	dir := filepath.Join(cg, "machine", "qemu-1-guest-000.libvirt-qemu")
	for _, v := range []string{"vcpu0", "vcpu1"} {
		if err := os.RemoveAll(filepath.Join(dir, v)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := cgroupstats.New(cg, proc)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got cgroupstats.Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	ds := got.Domains[0]
	if ds.Err != nil {
		t.Fatal(ds.Err)
	}
	if diff := cmp.Diff(wantVCPUs(doms[0], 10000), ds.VCPUs, cmpCPUSet); diff != "" {
		t.Errorf("VCPUs (-want +got):\n%s", diff)
	}
}

func TestSample_NoCgroupAtAll_FindsQEMUByLibvirtsPidFile(t *testing.T) {
	doms, _, cg, proc := synthetic(t, cgroupstatstest.LayoutV2Systemd, 2, 1)
	if err := os.RemoveAll(filepath.Join(cg, "machine.slice")); err != nil {
		t.Fatal(err)
	}
	run := writeTree(t, map[string]string{doms[1].Name + ".pid": "10009"}) // as libvirt writes it, no newline
	s, err := cgroupstats.New(cg, proc, cgroupstats.WithQEMURunDir(run))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got cgroupstats.Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if got.Domains[1].Err != nil || got.Domains[1].PID != 10009 || got.Domains[1].Cgroup != "" {
		t.Errorf("domain 1 = %+v, want PID 10009, no cgroup, no error", got.Domains[1])
	}
	unknown := []cgroupstats.Domain{{ID: 77, Name: "nowhere", VCPUs: []int{0}}}
	if err := s.Sample(unknown, &got); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(got.Domains[0].Err, cgroupstats.ErrNoCgroup) {
		t.Errorf("unknown domain: Err = %v, want ErrNoCgroup", got.Domains[0].Err)
	}
}

func TestSample_Resolved_SlowPathNotRepeated(t *testing.T) {
	doms, _, cg, proc := synthetic(t, cgroupstatstest.LayoutV2, 1, 2)
	// Once its cgroup is gone, the domain's QEMU is known from libvirt's
	// pid file only.
	run := writeTree(t, map[string]string{doms[0].Name + ".pid": strconv.Itoa(cgroupstatstest.PID(0, 2))})
	s, err := cgroupstats.New(cg, proc, cgroupstats.WithQEMURunDir(run))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got cgroupstats.Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	// Without the cgroup directory a new resolution would find no cgroup;
	// the kept-open files still read.
	if err := os.Rename(filepath.Join(cg, "machine"), filepath.Join(cg, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if ds := got.Domains[0]; ds.Err != nil || ds.Cgroup == "" || len(ds.VCPUs) != 2 {
		t.Errorf("second sample %+v: want the cached resolution read", ds)
	}
	doms[0].VCPUs = []int{1} // changed vCPU ids re-resolve: now by thread name
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if ds := got.Domains[0]; ds.Err != nil || ds.Cgroup != "" || len(ds.VCPUs) != 1 || ds.VCPUs[0].VCPU != 1 {
		t.Errorf("after vCPU ids change %+v: want vCPU 1 alone, found by name", ds)
	}
}

// vCPU ids are libvirt's online ids, not 0..n-1: with vCPU 1 disabled the
// domain's ids are 0 and 2, and each is read from its own thread.
func TestSample_VCPUIDsWithGap_ReadByID(t *testing.T) {
	doms, s, _, _ := synthetic(t, cgroupstatstest.LayoutHybrid, 1, 3)
	doms[0].VCPUs = []int{0, 2}
	var got cgroupstats.Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	ds := got.Domains[0]
	if ds.Err != nil {
		t.Fatal(ds.Err)
	}
	if diff := cmp.Diff(wantVCPUs(doms[0], ds.PID), ds.VCPUs, cmpCPUSet); diff != "" {
		t.Errorf("VCPUs (-want +got):\n%s", diff)
	}
}
