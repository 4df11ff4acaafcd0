package cgroupstats

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

// wantVCPUs is what a Sample must read from a synthetic tree for d.
func wantVCPUs(d Domain, pid int, usage bool) []VCPUStat {
	var out []VCPUStat
	for n := range d.VCPUs {
		tid := vcpuTID(pid, n)
		v := VCPUStat{VCPU: n, TID: tid, RunNs: runNs(tid), WaitNs: uint64(tid) * 10,
			LastCPU: syntheticPin(d, n), Affinity: cpuset.New(syntheticPin(d, n))}
		if usage {
			v.CgroupUsageNs = runNs(tid) / 1000 * 1000
		}
		out = append(out, v)
	}
	return out
}

var cmpCPUSet = cmp.Comparer(func(a, b cpuset.CPUSet) bool { return a.Equals(b) })

func TestSample_EveryLayout(t *testing.T) {
	tests := []struct {
		layout    Layout
		wantMode  string
		wantUsage bool
		wantDir   string // suffix of DomainSample.Cgroup for domain 0
	}{
		{LayoutHybrid, "hybrid", true, "unified/machine/qemu-1-guest-000.libvirt-qemu"},
		{LayoutV2Systemd, "v2", true, `machine.slice/machine-qemu\x2d1\x2dguest\x2d000.scope/libvirt`},
		{LayoutV2SystemdPre71, "v2", true, `machine.slice/machine-qemu\x2d1\x2dguest\x2d000.scope`},
		{LayoutV2, "v2", true, "machine/qemu-1-guest-000.libvirt-qemu"},
		// systemd links cpuacct -> cpu,cpuacct; the link is what is found.
		{LayoutV1Systemd, "v1", true, `cpuacct/machine.slice/machine-qemu\x2d1\x2dguest\x2d000.scope/libvirt`},
		{LayoutV1, "v1", true, "cpuacct/machine/qemu-1-guest-000.libvirt-qemu"},
	}
	for _, tc := range tests {
		t.Run(tc.layout.String()+"_ReadsEveryVCPUAndSkipsKernelThread", func(t *testing.T) {
			doms, s, _, _ := synthetic(t, tc.layout, 3, 2)
			if s.Mode() != tc.wantMode {
				t.Errorf("Mode() = %q, want %q", s.Mode(), tc.wantMode)
			}
			var got Sample
			if err := s.Sample(doms, &got); err != nil {
				t.Fatal(err)
			}
			if len(got.CPUs) != syntheticCPUs {
				t.Errorf("got %d CPUs, want %d", len(got.CPUs), syntheticCPUs)
			}
			if !strings.HasSuffix(got.Domains[0].Cgroup, tc.wantDir) {
				t.Errorf("Cgroup = %q, want suffix %q", got.Domains[0].Cgroup, tc.wantDir)
			}
			for i, d := range doms {
				ds := got.Domains[i]
				if ds.Err != nil {
					t.Fatalf("domain %s: %v", d.Name, ds.Err)
				}
				pid := 10000 + i*(d.VCPUs+8)
				if ds.PID != pid {
					t.Errorf("domain %s: PID = %d, want %d", d.Name, ds.PID, pid)
				}
				if diff := cmp.Diff(wantVCPUs(d, pid, tc.wantUsage), ds.VCPUs, cmpCPUSet); diff != "" {
					t.Errorf("domain %s VCPUs (-want +got):\n%s", d.Name, diff)
				}
			}
		})
	}
}

func TestSample_NoVCPUCgroup_FallsBackToThreadNames(t *testing.T) {
	doms, _, cg, proc := synthetic(t, LayoutV2, 1, 2)
	dir := filepath.Join(cg, "machine", "qemu-1-guest-000.libvirt-qemu")
	for _, v := range []string{"vcpu0", "vcpu1"} {
		if err := os.RemoveAll(filepath.Join(dir, v)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(cg, proc)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	ds := got.Domains[0]
	if ds.Err != nil {
		t.Fatal(ds.Err)
	}
	if diff := cmp.Diff(wantVCPUs(doms[0], 10000, false), ds.VCPUs, cmpCPUSet); diff != "" {
		t.Errorf("VCPUs (-want +got):\n%s", diff)
	}
}

func TestSample_NoCgroupAtAll_FindsQEMUByCommandLine(t *testing.T) {
	doms, _, cg, proc := synthetic(t, LayoutV2Systemd, 2, 1)
	if err := os.RemoveAll(filepath.Join(cg, "machine.slice")); err != nil {
		t.Fatal(err)
	}
	s, err := New(cg, proc)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if got.Domains[1].Err != nil || got.Domains[1].PID != 10009 || got.Domains[1].Cgroup != "" {
		t.Errorf("domain 1 = %+v, want PID 10009, no cgroup, no error", got.Domains[1])
	}
	unknown := []Domain{{ID: 77, Name: "nowhere", VCPUs: 1}}
	if err := s.Sample(unknown, &got); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(got.Domains[0].Err, ErrNoCgroup) {
		t.Errorf("unknown domain: Err = %v, want ErrNoCgroup", got.Domains[0].Err)
	}
}

func TestSample_Resolved_SlowPathNotRepeated(t *testing.T) {
	doms, s, cg, _ := synthetic(t, LayoutV2, 1, 2)
	var got Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	// Without the directory a new resolution would fall back to thread
	// names and lose CgroupUsageNs; the kept-open files still read.
	if err := os.Rename(filepath.Join(cg, "machine"), filepath.Join(cg, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if ds := got.Domains[0]; ds.Err != nil || ds.VCPUs[1].CgroupUsageNs == 0 {
		t.Errorf("second sample %+v: want the cached cgroup files read", ds)
	}
	doms[0].VCPUs = 1 // a changed vCPU count re-resolves: now by thread name
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if ds := got.Domains[0]; ds.Err != nil || len(ds.VCPUs) != 1 || ds.VCPUs[0].CgroupUsageNs != 0 {
		t.Errorf("after vCPU count change %+v: want one vCPU found by name", ds)
	}
}
