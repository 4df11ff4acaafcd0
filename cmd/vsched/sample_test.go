package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cgroupstats"
)

func TestBuildReport(t *testing.T) {
	gone := cgroupstats.DomainSample{Domain: cgroupstats.Domain{ID: 3, Name: "gone", UUID: "ug"},
		Err: fmt.Errorf("%w: /proc/1/task/2/schedstat", cgroupstats.ErrVanished)}
	prev := sampleAt(0, []uint64{0, 0}, dsample("ub", "b", 2, 0, 0, 0, 0), dsample("ua", "a", 1, 0, 0),
		dsample("ug", "gone", 3, 0, 0), dsample("ur", "restarted", 4, 9*sec, 0))
	cur := sampleAt(500*time.Millisecond, []uint64{sec / 3, sec / 2},
		dsample("ub", "b", 2, sec/4, sec/8, sec/2, 0), // listed out of order: the report sorts
		dsample("ua", "a", 1, sec/20, 0),
		gone,
		dsample("ur", "restarted", 5, sec/10, 0))
	for i := range cur.CPUs { // 500 ms of total time
		cur.CPUs[i].TotalNs = prev.CPUs[i].TotalNs + sec/2
	}
	ls := listed(dom("ub", "b", 2, cpuset.New(0), cpuset.New(0, 1)))
	want := &sampleReport{
		IntervalMS: 500,
		PCPUs:      []samplePCPU{{CPU: 0, Usage: 66.7}, {CPU: 1, Usage: 100}},
		Domains: []sampleDomain{
			{Name: "a", ID: 1, VCPUs: []sampleVCPU{{VCPU: 0, TID: 100, PCPU: 0, Usage: 10, Wait: 0}}},
			{Name: "b", ID: 2, VCPUs: []sampleVCPU{
				{VCPU: 0, TID: 200, PCPU: 0, Usage: 50, Wait: 25},
				{VCPU: 1, TID: 201, PCPU: 1, Usage: 100, Wait: 0},
			}},
			{Name: "gone", ID: 3, VCPUs: []sampleVCPU{}},
			{Name: "restarted", ID: 5, VCPUs: []sampleVCPU{}},
		},
	}
	if diff := cmp.Diff(want, buildReport(prev, cur, ls)); diff != "" {
		t.Errorf("buildReport (-want +got):\n%s", diff)
	}
}

func TestBuildReport_NothingRunning_EmptyListsNotNull(t *testing.T) {
	rep := buildReport(sampleAt(0, nil), sampleAt(time.Second, nil), listed())
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"interval_ms":1000,"pcpus":[],"domains":[]}`; got != want {
		t.Errorf("JSON %s, want %s", got, want)
	}
}

func TestWriteSampleText_OneRowPerVCPUDashesForFailedDomain(t *testing.T) {
	rep := &sampleReport{IntervalMS: 250,
		PCPUs: []samplePCPU{{CPU: 0, Usage: 12.5}},
		Domains: []sampleDomain{
			{Name: "a", ID: 1, VCPUs: []sampleVCPU{{VCPU: 0, TID: 100, PCPU: 3, Usage: 42.1, Wait: 1.5}}},
			{Name: "gone", ID: 3, VCPUs: []sampleVCPU{}},
		}}
	var out bytes.Buffer
	if err := writeSampleText(&out, rep); err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for _, line := range strings.Split(out.String(), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	want := [][]string{
		{"interval:", "250", "ms"}, {},
		{"DOMAIN", "ID", "VCPU", "TID", "PCPU", "USAGE%", "WAIT%"},
		{"a", "1", "0", "100", "3", "42.1", "1.5"},
		{"gone", "3", "-", "-", "-", "-", "-"},
		{},
		{"PCPU", "USAGE%"},
		{"0", "12.5"},
		{},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("text report rows (-want +got):\n%s", diff)
	}
}

func TestSampleCmd_JSONOnTestDriver_ContractFields(t *testing.T) {
	cg, proc := syntheticRoots(t)
	code, stdout, stderr := runCmd("sample", "--connect", hostURI(t), "--cgroup-root", cg, "--proc-root", proc,
		"--interval", "10ms", "--format", "json")
	if code != 0 {
		t.Fatalf("exit status %d, stderr %q", code, stderr)
	}
	var rep struct {
		IntervalMS *int64 `json:"interval_ms"`
		PCPUs      []struct {
			CPU   *int     `json:"cpu"`
			Usage *float64 `json:"usage"`
		} `json:"pcpus"`
		Domains []struct {
			Name  string `json:"name"`
			ID    int    `json:"id"`
			VCPUs []struct {
				VCPU, TID, PCPU *int
				Usage, Wait     *float64
			} `json:"vcpus"`
		} `json:"domains"`
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("output is not the contract's JSON: %v\n%s", err, stdout)
	}
	if rep.IntervalMS == nil || *rep.IntervalMS < 10 {
		t.Errorf("interval_ms %v, want at least 10", rep.IntervalMS)
	}
	type domID struct {
		Name        string
		ID, NumVCPU int
	}
	var got []domID
	for _, d := range rep.Domains {
		got = append(got, domID{d.Name, d.ID, len(d.VCPUs)})
		for _, v := range d.VCPUs {
			if v.VCPU == nil || v.TID == nil || v.PCPU == nil || v.Usage == nil || v.Wait == nil {
				t.Errorf("%s: vCPU entry lacks a field", d.Name)
			}
		}
	}
	want := []domID{{"guest-000", 1, 2}, {"guest-001", 2, 2}, {"guest-002", 3, 2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("domains (-want +got):\n%s", diff)
	}
}
