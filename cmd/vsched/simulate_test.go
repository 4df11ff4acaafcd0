package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/balancer/sim"
)

const scenarioDir = "../../balancer/sim/testdata/scenarios"

func runSimulateCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newSimulateCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestSimulateJSON_ExactContractFields checks the JSON object has exactly
// DESIGN.md's fields, at the top and in each iteration.
func TestSimulateJSON_ExactContractFields(t *testing.T) {
	out, err := runSimulateCmd(t, "--scenario", filepath.Join(scenarioDir, "all-on-cpu0.json"), "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	want := []string{"best_spread", "converged_at", "final_pins", "final_spread", "final_stddev_pct_of_mean",
		"iterations", "moves", "moves_after_converged", "pcpus", "pin_calls", "policy", "scenario", "threshold"}
	if diff := cmp.Diff(want, sortedKeys(top)); diff != "" {
		t.Errorf("top-level fields (-want +got):\n%s", diff)
	}
	var its []map[string]json.RawMessage
	if err := json.Unmarshal(top["iterations"], &its); err != nil || len(its) != 25 {
		t.Fatalf("iterations: %v (%d entries)", err, len(its))
	}
	if diff := cmp.Diff([]string{"i", "moves", "pcpu_demand", "pcpu_usage"}, sortedKeys(its[0])); diff != "" {
		t.Errorf("iteration fields (-want +got):\n%s", diff)
	}
	var res struct {
		Policy      string         `json:"policy"`
		ConvergedAt *int           `json:"converged_at"`
		FinalPins   map[string]int `json:"final_pins"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Policy != "adaptive" || res.ConvergedAt == nil || *res.ConvergedAt != 1 || len(res.FinalPins) != 8 {
		t.Errorf("got policy %q, converged_at %v, %d final pins; want adaptive, 1, 8", res.Policy, res.ConvergedAt, len(res.FinalPins))
	}
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestSimulate_BadInvocationsFail(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"name": "x", "pcpus": 4, "iterations": 3, "vms": [
		{"name": "a", "vcpus": 1, "pin": [0], "load": [1]},
		{"name": "b", "vcpus": 1, "pin": [0], "load": [1]},
		{"name": "c", "vcpus": 1, "pin": [7], "load": [1]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(scenarioDir, "pingpong.json")
	tests := []struct {
		name       string
		args       []string
		sentinel   error
		wantInText string
	}{
		{"NoScenario_Usage", nil, errUsage, "--scenario"},
		{"MissingFile_Usage", []string{"--scenario", filepath.Join(dir, "nope.json")}, errUsage, "nope.json"},
		{"PinOutOfRange_NamesField", []string{"--scenario", bad}, sim.ErrScenario, "vms[2].pin[0]: 7 out of range 0-3"},
		{"UnknownPolicy_Usage", []string{"--scenario", good, "--policy", "fair"}, balancer.ErrUnknownPolicy, "fair"},
		{"BadFormat_Usage", []string{"--scenario", good, "--format", "yaml"}, errUsage, "yaml"},
		{"NegativeThreshold_Usage", []string{"--scenario", good, "--threshold", "-1"}, errUsage, "threshold"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runSimulateCmd(t, tc.args...)
			if !errors.Is(err, tc.sentinel) || errors.Is(err, errRuntime) {
				t.Fatalf("got %v, want an error wrapping %v (exit status 2)", err, tc.sentinel)
			}
			if !strings.Contains(err.Error(), tc.wantInText) {
				t.Errorf("error %q does not mention %q", err, tc.wantInText)
			}
		})
	}
}

func TestSimulateText_TableAndSummary(t *testing.T) {
	out, err := runSimulateCmd(t, "--scenario", filepath.Join(scenarioDir, "pingpong.json"), "--policy", "classic", "--threshold", "10")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"policy classic", "iter", "heavy/0 0->1", "converged at:", "course pass rule at: never", "moves:               25"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

// TestSimulateJSON_WholeHostFields reads topology, background, cpuset and
// spin, and counts the background in pcpu_usage, pcpu_demand and
// best_spread.
func TestSimulateJSON_WholeHostFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.json")
	if err := os.WriteFile(path, []byte(`{"name": "whole-host", "pcpus": 4, "iterations": 6,
		"topology": {"nodes": ["0-1", "2-3"], "cores": ["0,1", "2,3"]},
		"background": {"load": [100, 0, 0, 0]},
		"vms": [
			{"name": "db", "vcpus": 2, "pin": [0, 0], "load": [60, 60], "cpuset": "0-1"},
			{"name": "duty", "vcpus": 1, "pin": [1], "load": [16], "spin": true}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runSimulateCmd(t, "--scenario", path, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Iterations []struct {
			Usage  []float64 `json:"pcpu_usage"`
			Demand []float64 `json:"pcpu_demand"`
		} `json:"iterations"`
		BestSpread float64        `json:"best_spread"`
		FinalPins  map[string]int `json:"final_pins"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	first := res.Iterations[0]
	if diff := cmp.Diff([]float64{220, 16, 0, 0}, first.Demand); diff != "" {
		t.Errorf("first pcpu_demand (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{100, 16, 0, 0}, first.Usage); diff != "" {
		t.Errorf("first pcpu_usage (-want +got):\n%s", diff)
	}
	// Background 100 on pCPU 0 and db only on 0-1: at best 100 | 60+60 | 16 | 0.
	if res.BestSpread != 120 {
		t.Errorf("best_spread %v, want 120 (background and cpuset counted)", res.BestSpread)
	}
	for _, k := range []string{"db/0", "db/1"} {
		if c := res.FinalPins[k]; c > 1 {
			t.Errorf("%s ended on pCPU %d, outside its cpuset 0-1", k, c)
		}
	}
}
