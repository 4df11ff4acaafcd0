package cgroupstats

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vsched/vsched/cpumask"
)

func TestParseSchedstat(t *testing.T) {
	tests := []struct {
		name          string
		in            string
		run, wait     uint64
		wantParseFail bool
	}{
		{"CapturedThread_RunAndWait", "957980 0 1\n", 957980, 0, false},
		{"Busy_BigValues", "19688394123 7767977456 64\n", 19688394123, 7767977456, false},
		{"NoNewline_StillParses", "1 2 3", 1, 2, false},
		{"Empty_Fails", "", 0, 0, true},
		{"OneField_Fails", "12\n", 0, 0, true},
		{"Letters_Fail", "12a 3 4\n", 0, 0, true},
		{"Overflow_Fails", "99999999999999999999999 1 1\n", 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run, wait, err := parseSchedstat([]byte(tc.in))
			if (err != nil) != tc.wantParseFail {
				t.Fatalf("err = %v, want failure %v", err, tc.wantParseFail)
			}
			if diff := cmp.Diff([2]uint64{tc.run, tc.wait}, [2]uint64{run, wait}); !tc.wantParseFail && diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTaskStat(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantStart uint64
		wantCPU   int
		wantErr   bool
	}{
		{"CapturedThread_StartAndLastCPU1", "", 28304, 1, false},
		{"CommWithSpacesAndParens_CountsFromLastParen",
			"42 (CPU 0/KVM) (x) S" + repeat(" 0", 18) + " 777" + repeat(" 0", 16) + " 3 0\n", 777, 3, false},
		{"NoParen_Fails", "42 comm S 1 2", 0, 0, true},
		{"Truncated_Fails", "42 (a) S 1 2 3\n", 0, 0, true},
		{"StartNotANumber_Fails", "42 (a) S" + repeat(" 0", 18) + " x" + repeat(" 0", 17) + "\n", 0, 0, true},
		{"CPUNotANumber_Fails", "42 (a) S" + repeat(" 0", 35) + " x 0\n", 0, 0, true},
		{"CPUHuge_Fails", "42 (a) S" + repeat(" 0", 35) + " 99999999 0\n", 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in == "" {
				in = capture(t, "task_stat.txt")
			}
			start, cpu, err := parseTaskStat([]byte(in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if diff := cmp.Diff([2]uint64{tc.wantStart, uint64(tc.wantCPU)}, [2]uint64{start, uint64(cpu)}); diff != "" {
				t.Errorf("(start, CPU) (-want +got):\n%s", diff)
			}
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestParseStatusAffinity(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []int
		wantErr bool
	}{
		{"CapturedThread_BothCPUs", "", []int{0, 1}, false},
		{"Pinned_OneCPU", "Name:\tx\nCpus_allowed:\t4\nCpus_allowed_list:\t2\nMems_allowed:\t1\n", []int{2}, false},
		{"Ranges_AllListed", "x\nCpus_allowed_list:\t0-2,5,64-65\n", []int{0, 1, 2, 5, 64, 65}, false},
		{"NoKey_Fails", "Name:\tx\n", nil, true},
		{"BadRange_Fails", "x\nCpus_allowed_list:\t3-1\n", nil, true},
		{"TrailingComma_Fails", "x\nCpus_allowed_list:\t1,\n", nil, true},
		{"Huge_Fails", "x\nCpus_allowed_list:\t0-99999999\n", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in == "" {
				in = capture(t, "task_status.txt")
			}
			mask, err := parseStatusAffinity([]byte(in), []uint64{^uint64(0)})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if diff := cmp.Diff(tc.want, cpumask.CPUs(mask)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseProcStat_CapturedHost_TwoCPUsInNs(t *testing.T) {
	got, complete, err := parseProcStat([]byte(capture(t, "proc_stat.txt")), nil)
	if err != nil || !complete {
		t.Fatalf("err = %v, complete = %v", err, complete)
	}
	// cpu0 7737 0 2704 17655 38 0 12 10: busy 7737+2704+12+10, total + 17655+38.
	want := []CPUStat{
		{CPU: 0, BusyNs: 10463 * nsPerTick, TotalNs: 28156 * nsPerTick},
		{CPU: 1, BusyNs: 11255 * nsPerTick, TotalNs: 28153 * nsPerTick},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseProcStat_CutInsideCPULines_Incomplete(t *testing.T) {
	in := capture(t, "proc_stat.txt")
	_, complete, err := parseProcStat([]byte(in[:60]), nil)
	if err != nil || complete {
		t.Errorf("err = %v, complete = %v; want nil, false", err, complete)
	}
}

func TestParseProcStat_GarbageCPULine_ErrParse(t *testing.T) {
	_, _, err := parseProcStat([]byte("cpu  1 2 3 4\ncpuX 1 2\nintr 0\n"), nil)
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(fileErr("/proc/stat", err), ErrParse) {
		t.Errorf("fileErr(%v) does not wrap ErrParse", err)
	}
}

func TestParseVCPUComm(t *testing.T) {
	tests := []struct {
		in     string
		want   int
		wantOK bool
	}{
		{"CPU 0/KVM\n", 0, true}, {"CPU 12/TCG", 12, true},
		{"kvm-nx-lpage-re", 0, false}, {"CPU x/KVM", 0, false}, {"CPU 1/HVF", 0, false},
	}
	for _, tc := range tests {
		n, ok := parseVCPUComm(tc.in)
		if n != tc.want || ok != tc.wantOK {
			t.Errorf("parseVCPUComm(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.want, tc.wantOK)
		}
	}
}

func TestParseUint_Bounds(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"0", 0, false}, {"18446744073709551615", 1<<64 - 1, false},
		{"18446744073709551616", 0, true}, {"99999999999999999999", 0, true},
		{"0000000000000000000018", 18, false}, {"x", 0, true},
	}
	for _, tc := range tests {
		got, _, err := parseUint([]byte(tc.in), 0)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("parseUint(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// BenchmarkParseProcStat256 is the parse alone of a 256-CPU /proc/stat.
func BenchmarkParseProcStat256(b *testing.B) {
	in := []byte(procStatN(256))
	out := make([]CPUStat, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, _, err = parseProcStat(in, out[:0]); err != nil || len(out) != 256 {
			b.Fatal(err, len(out))
		}
	}
}
