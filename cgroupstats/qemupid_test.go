package cgroupstats_test

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/cgroupstats/cgroupstatstest"
)

// impostor starts a real process that looks like the QEMU of d to anyone
// reading /proc: libvirt's argv ("-name guest=NAME,debug-threads=on -uuid
// UUID") and a thread named "CPU 0/KVM". It is no guest: any user can
// start one. It ends with the test.
func impostor(t *testing.T, d cgroupstats.Domain) int {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", `printf 'CPU 0/KVM' > /proc/$$/comm && echo ready && read x`,
		"qemu-system-x86_64", "-name", "guest="+d.Name+",debug-threads=on", "-S", "-uuid", d.UUID, "-m", "16")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	buf := make([]byte, 6)
	if _, err := io.ReadFull(stdout, buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("impostor did not start: %q, %v", buf, err)
	}
	comm, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "comm"))
	if strings.TrimSpace(string(comm)) != "CPU 0/KVM" {
		t.Fatalf("impostor's thread is named %q, want CPU 0/KVM", comm)
	}
	return cmd.Process.Pid
}

// noCgroupHost is a cgroup tree holding no cgroup of the domain it returns,
// sampled with the real /proc.
func noCgroupHost(t *testing.T) (string, cgroupstats.Domain) {
	t.Helper()
	doms, cg, _, err := cgroupstatstest.WriteSyntheticTree(t.TempDir(), cgroupstatstest.LayoutV2Systemd, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(cg, "machine.slice")); err != nil {
		t.Fatal(err)
	}
	d := doms[0]
	d.Name = "impostor-" + strconv.Itoa(os.Getpid()) // no real guest has it
	return cg, d
}

func sampleOne(t *testing.T, cg, run string, d cgroupstats.Domain) cgroupstats.DomainSample {
	t.Helper()
	s, err := cgroupstats.New(cg, "/proc", cgroupstats.WithQEMURunDir(run))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got cgroupstats.Sample
	if err := s.Sample([]cgroupstats.Domain{d}, &got); err != nil {
		t.Fatal(err)
	}
	return got.Domains[0]
}

func TestSample_ProcessMimicsAGuestsArgv_NotTakenForIt(t *testing.T) {
	cg, d := noCgroupHost(t)
	pid := impostor(t, d)
	for name, run := range map[string]string{"NoPidFile": t.TempDir(), "NoRunDir": ""} {
		t.Run(name, func(t *testing.T) {
			ds := sampleOne(t, cg, run, d)
			if !errors.Is(ds.Err, cgroupstats.ErrNoCgroup) || ds.PID == pid || len(ds.VCPUs) != 0 {
				t.Errorf("domain with no cgroup, impostor %d running: PID %d, %d vCPUs, Err %v; want ErrNoCgroup and nothing of the impostor",
					pid, ds.PID, len(ds.VCPUs), ds.Err)
			}
		})
	}
}

func TestSample_StalePidFile_ProcessWithoutTheUUIDRefused(t *testing.T) {
	cg, d := noCgroupHost(t)
	other := d
	other.UUID = "99999999-9999-4999-8999-999999999999" // the pid went to another guest's QEMU
	pid := impostor(t, other)
	run := t.TempDir()
	if err := os.WriteFile(filepath.Join(run, d.Name+".pid"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	ds := sampleOne(t, cg, run, d)
	if !errors.Is(ds.Err, cgroupstats.ErrNoCgroup) || !strings.Contains(ds.Err.Error(), "stale pid file") {
		t.Errorf("pid file naming process %d of another UUID: Err %v, want ErrNoCgroup saying the pid file is stale", pid, ds.Err)
	}
}

func TestSample_PidFileNamesTheProcess_Sampled(t *testing.T) {
	cg, d := noCgroupHost(t)
	pid := impostor(t, d)
	run := t.TempDir()
	// libvirt's own word: the pid file it writes for the domain.
	if err := os.WriteFile(filepath.Join(run, d.Name+".pid"), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ds := sampleOne(t, cg, run, d)
	if ds.Err != nil || ds.PID != pid || len(ds.VCPUs) != 1 || ds.VCPUs[0].TID != pid {
		t.Errorf("pid file naming %d: PID %d, vCPUs %+v, Err %v; want vCPU 0 on thread %d", pid, ds.PID, ds.VCPUs, ds.Err, pid)
	}
}
