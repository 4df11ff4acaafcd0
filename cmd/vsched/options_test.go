package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
)

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	roots := t.TempDir()
	file := writeFile(t, "plain", "")
	tests := []struct {
		name     string
		change   func(o *daemonOptions)
		wantFlag string // "" for valid options
		wrapped  error  // also wrapped, beyond errUsage
	}{
		{"Defaults_Valid", func(*daemonOptions) {}, "", nil},
		{"SubSecondInterval_Valid", func(o *daemonOptions) { o.interval = 250 * time.Millisecond }, "", nil},
		{"ClassicThreshold100JSONDebugCPUs_Valid", func(o *daemonOptions) {
			o.policy, o.threshold, o.logFormat, o.logLevel, o.cpus = "classic", 100, "json", "debug", "0-3,7"
		}, "", nil},
		{"IntervalBelow10ms_Refused", func(o *daemonOptions) { o.interval = 5 * time.Millisecond }, "--interval", nil},
		{"NegativeInterval_Refused", func(o *daemonOptions) { o.interval = -time.Second }, "--interval", nil},
		{"ZeroThreshold_Refused", func(o *daemonOptions) { o.threshold = 0 }, "--threshold", nil},
		{"ThresholdAbove100_Refused", func(o *daemonOptions) { o.threshold = 100.5 }, "--threshold", nil},
		{"NaNThreshold_Refused", func(o *daemonOptions) { o.threshold = nan() }, "--threshold", nil},
		{"UnknownPolicy_Refused", func(o *daemonOptions) { o.policy = "fair" }, "--policy", balancer.ErrUnknownPolicy},
		{"UnknownLogFormat_Refused", func(o *daemonOptions) { o.logFormat = "yaml" }, "--log-format", nil},
		{"UnknownLogLevel_Refused", func(o *daemonOptions) { o.logLevel = "loud" }, "--log-level", nil},
		{"ReversedCPURange_Refused", func(o *daemonOptions) { o.cpus = "3-1" }, "--cpus", nil},
		{"HugeCPURange_RefusedNotBuilt", func(o *daemonOptions) { o.cpus = "10-111111110" }, "--cpus", nil},
		{"GarbageCPUList_Refused", func(o *daemonOptions) { o.cpus = "two" }, "--cpus", nil},
		{"MissingCgroupRoot_Refused", func(o *daemonOptions) { o.cgroupRoot = filepath.Join(roots, "nope") }, "--cgroup-root", fs.ErrNotExist},
		{"WindowShorterThanInterval_Refused", func(o *daemonOptions) { o.window = o.interval / 2 }, "--window", nil},
		{"WindowOf6002SamplesAt100ms_RefusedOverTheMemoryBudget", func(o *daemonOptions) { o.interval, o.window = 100*time.Millisecond, 10*time.Minute }, "--window", nil},
		{"LongestWindowAt500ms_Valid", func(o *daemonOptions) { o.interval, o.window = 500*time.Millisecond, 10*time.Minute }, "", nil},
		{"ZeroConfirm_Refused", func(o *daemonOptions) { o.confirm = 0 }, "--confirm", nil},
		{"NegativeCooldown_Refused", func(o *daemonOptions) { o.cooldown = -time.Second }, "--cooldown", nil},
		{"ProcRootIsAFile_Refused", func(o *daemonOptions) { o.procRoot = file }, "--proc-root", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultDaemonOptions()
			o.cgroupRoot, o.procRoot = roots, roots
			tc.change(o)
			err := o.validate()
			if tc.wantFlag == "" {
				if err != nil {
					t.Fatalf("validate: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, errUsage) {
				t.Fatalf("validate: %v, want an error wrapping errUsage", err)
			}
			if tc.wrapped != nil && !errors.Is(err, tc.wrapped) {
				t.Errorf("validate: %v, want it to wrap %v", err, tc.wrapped)
			}
			if !strings.Contains(err.Error(), tc.wantFlag) {
				t.Errorf("validate: %q does not name %s", err, tc.wantFlag)
			}
		})
	}
}

func TestValidate_WindowDefaults(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		once     bool
		want     time.Duration
	}{
		{"SubSecondInterval_WindowIsOneSecond", 250 * time.Millisecond, false, time.Second},
		{"LongInterval_WindowIsTheInterval", 3 * time.Second, false, 3 * time.Second},
		{"Once_WindowIsOneInterval", 250 * time.Millisecond, true, 250 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultDaemonOptions()
			o.cgroupRoot, o.procRoot = t.TempDir(), t.TempDir()
			o.interval, o.once = tc.interval, tc.once
			if err := o.validate(); err != nil {
				t.Fatal(err)
			}
			if o.window != tc.want {
				t.Errorf("window = %s, want %s", o.window, tc.want)
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestExcluded(t *testing.T) {
	o := defaultDaemonOptions()
	o.exclude = []string{"db1", "db2"}
	for name, want := range map[string]bool{"db1": true, "db2": true, "db": false, "web1": false} {
		if got := o.excluded(name); got != want {
			t.Errorf("excluded(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestNewHostView_CPUsToBalance(t *testing.T) {
	tests := []struct {
		name     string
		online   string
		isolated string
		nohz     string // "" means no file
		list     string
		want     string
		wantErr  string
	}{
		{"Default_AllOnline", "0-3", "", "", "", "0-3", ""},
		{"Default_IsolatedAndNohzFullRemoved", "0-3", "1", "3", "", "0,2", ""},
		{"Default_HoleInOnline_Skipped", "0,2-3", "", "", "", "0,2-3", ""},
		{"Default_AllIsolated_Error", "0-3", "0-3", "", "", "", "no online, non-isolated CPUs"},
		{"List_IsolatedCPUsKeptWhenAskedFor", "0-3", "1", "", "1-2", "1-2", ""},
		{"List_OfflineCPUs_ErrorNamesThem", "0-3", "", "", "2-5", "", "CPUs 4-5 are not online"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := sysRoot(t, 4)
			write := func(rel, body string) {
				if err := os.WriteFile(filepath.Join(dir, rel), []byte(body+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("devices/system/cpu/online", tc.online)
			write("devices/system/cpu/isolated", tc.isolated)
			if tc.nohz != "" {
				write("devices/system/cpu/nohz_full", tc.nohz)
			}
			want := cpuset.New()
			if tc.list != "" {
				want, _ = cpuset.Parse(tc.list)
			}
			h, err := newHostView(dir, want)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("newHostView: error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("newHostView: %v", err)
			}
			defer h.close()
			if got := h.cpus.String(); got != tc.want {
				t.Errorf("CPUs to balance %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHostView_Hotplug_NoticedAndBalancedOver(t *testing.T) {
	dir := sysRoot(t, 4)
	h, err := newHostView(dir, cpuset.New())
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	if changed, err := h.refresh(); changed || err != nil {
		t.Fatalf("refresh with nothing changed: %v %v", changed, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "devices/system/cpu/online"), []byte("0-1,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := h.refresh()
	if !changed || err != nil || h.cpus.String() != "0-1,3" {
		t.Fatalf("after CPU 2 went offline: changed %v err %v cpus %s, want true nil 0-1,3", changed, err, h.cpus)
	}
}
