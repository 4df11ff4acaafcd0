package cgroupstats

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNew_BadRoots(t *testing.T) {
	_, goodCg, goodProc, err := WriteSyntheticTree(t.TempDir(), LayoutV2, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	badStat := writeTree(t, map[string]string{"stat": "cpu  1 2\ncpuZ\nintr 0\n"})
	tests := []struct {
		name     string
		cg, proc string
		wantPath string
		wantAlso error
	}{
		{"MissingCgroupRoot_ErrRootNotExist", "/nonexistent/cg", goodProc, "/nonexistent/cg", fs.ErrNotExist},
		{"MissingProcRoot_ErrRootNotExist", goodCg, "/nonexistent/proc", "/nonexistent/proc", fs.ErrNotExist},
		{"ProcRootWithoutStat_ErrRoot", goodCg, empty, empty, nil},
		{"EmptyCgroupRoot_ErrRoot", empty, goodProc, empty, nil},
		{"MalformedProcStat_ErrRootAndErrParse", goodCg, badStat, filepath.Join(badStat, "stat"), ErrParse},
		{"CgroupRootIsAFile_ErrRoot", filepath.Join(goodProc, "stat"), goodProc, "stat", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cg, tc.proc)
			if err == nil {
				s.Close()
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, ErrRoot) {
				t.Errorf("err = %v, want ErrRoot", err)
			}
			if tc.wantAlso != nil && !errors.Is(err, tc.wantAlso) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.wantAlso)
			}
			if !strings.Contains(err.Error(), tc.wantPath) {
				t.Errorf("err = %q, does not name %q", err, tc.wantPath)
			}
		})
	}
}

func TestSample_MalformedVCPUFile_ErrParseNamesPathOthersStillRead(t *testing.T) {
	doms, s, cg, _ := synthetic(t, LayoutHybrid, 2, 1)
	var got Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(cg, "unified/machine/qemu-1-guest-000.libvirt-qemu/vcpu0/cpu.stat")
	if err := os.WriteFile(bad, []byte("usage_usec lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if err := got.Domains[0].Err; !errors.Is(err, ErrParse) || !strings.Contains(err.Error(), bad) {
		t.Errorf("Err = %v, want ErrParse naming %s", err, bad)
	}
	if got.Domains[1].Err != nil || len(got.Domains[1].VCPUs) != 1 {
		t.Errorf("other domain: %+v, want it read", got.Domains[1])
	}
}

func TestSample_UnreadableVCPUFile_PermissionErrorNamesPath(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file: no permission error to provoke")
	}
	doms, _, cg, proc := synthetic(t, LayoutV2, 1, 1)
	p := filepath.Join(cg, "machine/qemu-1-guest-000.libvirt-qemu/vcpu0/cpu.stat")
	if err := os.Chmod(p, 0); err != nil {
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
	if err := got.Domains[0].Err; !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), p) {
		t.Errorf("Err = %v, want a permission error naming %s", err, p)
	}
}

func TestSample_DomainGoneBeforeResolution_ErrNoCgroup(t *testing.T) {
	doms, s, _, _ := synthetic(t, LayoutV2Systemd, 1, 1)
	doms[0].ID, doms[0].Name, doms[0].UUID = 99, "stopped", ""
	var got Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(got.Domains[0].Err, ErrNoCgroup) {
		t.Errorf("Err = %v, want ErrNoCgroup", got.Domains[0].Err)
	}
}

func TestSample_DomainDropped_DescriptorsClosed(t *testing.T) {
	doms, s, _, _ := synthetic(t, LayoutV2, 3, 2)
	var got Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if err := s.Sample(doms[1:2], &got); err != nil {
		t.Fatal(err)
	}
	if len(s.domains) != 1 || len(got.Domains) != 1 || got.Domains[0].Domain.Name != "guest-001" {
		t.Errorf("kept %d domain states, sample has %+v; want just guest-001", len(s.domains), got.Domains)
	}
}
