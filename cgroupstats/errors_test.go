package cgroupstats_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/cgroupstats/cgroupstatstest"
)

// taskFile is a synthetic tree's file of vCPU n of domain i (0-based).
func taskFile(proc string, i, vcpus, n int, name string) string {
	pid := cgroupstatstest.PID(i, vcpus)
	return filepath.Join(proc, strconv.Itoa(pid), "task", strconv.Itoa(cgroupstatstest.VCPUTID(pid, n)), name)
}

func TestNew_BadRoots(t *testing.T) {
	_, goodCg, goodProc, err := cgroupstatstest.WriteSyntheticTree(t.TempDir(), cgroupstatstest.LayoutV2, 0, 0)
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
		{"MalformedProcStat_ErrRootAndErrParse", goodCg, badStat, filepath.Join(badStat, "stat"), cgroupstats.ErrParse},
		{"CgroupRootIsAFile_ErrRoot", filepath.Join(goodProc, "stat"), goodProc, "stat", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := cgroupstats.New(tc.cg, tc.proc)
			if err == nil {
				s.Close()
				t.Fatal("cgroupstats.New succeeded")
			}
			if !errors.Is(err, cgroupstats.ErrRoot) {
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
	doms, s, _, proc := synthetic(t, cgroupstatstest.LayoutHybrid, 2, 1)
	var got cgroupstats.Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	bad := taskFile(proc, 0, 1, 0, "schedstat")
	if err := os.WriteFile(bad, []byte("lots 1 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if err := got.Domains[0].Err; !errors.Is(err, cgroupstats.ErrParse) || !strings.Contains(err.Error(), bad) {
		t.Errorf("Err = %v, want cgroupstats.ErrParse naming %s", err, bad)
	}
	if got.Domains[1].Err != nil || len(got.Domains[1].VCPUs) != 1 {
		t.Errorf("other domain: %+v, want it read", got.Domains[1])
	}
}

func TestSample_UnreadableVCPUFile_PermissionErrorNamesPath(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file: no permission error to provoke")
	}
	doms, _, cg, proc := synthetic(t, cgroupstatstest.LayoutV2, 1, 1)
	p := taskFile(proc, 0, 1, 0, "schedstat")
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
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
	if err := got.Domains[0].Err; !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), p) {
		t.Errorf("Err = %v, want a permission error naming %s", err, p)
	}
}

func TestSample_DomainGoneBeforeResolution_ErrNoCgroup(t *testing.T) {
	doms, s, _, _ := synthetic(t, cgroupstatstest.LayoutV2Systemd, 1, 1)
	doms[0].ID, doms[0].Name, doms[0].UUID = 99, "stopped", ""
	var got cgroupstats.Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(got.Domains[0].Err, cgroupstats.ErrNoCgroup) {
		t.Errorf("Err = %v, want ErrNoCgroup", got.Domains[0].Err)
	}
}

func TestSample_DomainDropped_DescriptorsClosed(t *testing.T) {
	doms, s, _, _ := synthetic(t, cgroupstatstest.LayoutV2, 3, 2)
	var got cgroupstats.Sample
	if err := s.Sample(doms, &got); err != nil {
		t.Fatal(err)
	}
	if err := s.Sample(doms[1:2], &got); err != nil {
		t.Fatal(err)
	}
	if s.KeptDomains() != 1 || len(got.Domains) != 1 || got.Domains[0].Domain.Name != "guest-001" {
		t.Errorf("kept %d domain states, sample has %+v; want just guest-001", s.KeptDomains(), got.Domains)
	}
}

// A thread whose start time changed under its TID, or whose counters went
// backwards, is another thread: ErrVanished once, then read afresh, never a
// delta across the two.
func TestSample_ThreadReplacedUnderSameTID_VanishedOnceThenFresh(t *testing.T) {
	tests := []struct {
		name, file, content string
	}{
		{"CountersBackwards", "schedstat", "5 5 1\n"},
		{"OtherStartTime", "stat", ""}, // the thread's own stat, another start time
	}
	for _, tc := range tests {
		t.Run(tc.name+"_ErrVanishedThenFresh", func(t *testing.T) {
			doms, s, _, proc := synthetic(t, cgroupstatstest.LayoutV2, 1, 1)
			// Unpinned, so that stat is read every cycle.
			status := taskFile(proc, 0, 1, 0, "status")
			b, err := os.ReadFile(status)
			if err != nil {
				t.Fatal(err)
			}
			unpinned := regexp.MustCompile(`Cpus_allowed_list:\t\d+\n`).ReplaceAllString(string(b), "Cpus_allowed_list:\t0-3\n")
			if err := os.WriteFile(status, []byte(unpinned), 0o644); err != nil {
				t.Fatal(err)
			}
			var got cgroupstats.Sample
			if err := s.Sample(doms, &got); err != nil || got.Domains[0].Err != nil {
				t.Fatalf("first: %v, %v", err, got.Domains[0].Err)
			}
			p := taskFile(proc, 0, 1, 0, tc.file)
			if tc.name == "OtherStartTime" {
				tc.content = strings.Replace(mustRead(t, p), " 28304 ", " 99999 ", 1)
			}
			if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := s.Sample(doms, &got); err != nil {
				t.Fatal(err)
			}
			if err := got.Domains[0].Err; !errors.Is(err, cgroupstats.ErrVanished) || !strings.Contains(err.Error(), p) {
				t.Fatalf("after replacement: Err = %v, want ErrVanished naming %s", err, p)
			}
			if err := s.Sample(doms, &got); err != nil || got.Domains[0].Err != nil || len(got.Domains[0].VCPUs) != 1 {
				t.Fatalf("next: %v, %+v; want the thread read afresh", err, got.Domains[0])
			}
		})
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
