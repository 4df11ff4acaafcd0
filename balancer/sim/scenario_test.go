package sim

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vsched/vsched/balancer"
)

const okVM = `{"name": "vm1", "vcpus": 2, "pin": [0, -1], "load": [100, 30]}`

func scenario(vms string) string {
	return `{"name": "t", "pcpus": 4, "iterations": 25, "vms": [` + vms + `]}`
}

// host is a valid scenario with extra top-level fields.
func host(fields string) string {
	return `{"name": "t", "pcpus": 4, "iterations": 25, ` + fields + `, "vms": [` + okVM + `]}`
}

func TestLoadScenario_BadFieldsNamed(t *testing.T) {
	tests := []struct {
		name, in, field string
	}{
		{"BadJSON_WholeDocument", `{"name": "t",`, ""},
		{"TrailingData", scenario(okVM) + `{}`, ""},
		{"UnknownTopField", `{"name": "t", "pcpus": 4, "iterations": 5, "vms": [], "cpus": 3}`, "cpus"},
		{"UnknownVMField_NamedWithPath", scenario(okVM + `, {"name": "b", "vcpus": 1, "lod": [1], "load": [1]}`), "vms[1].lod"},
		{"MissingPCPUs", `{"name": "t", "iterations": 5, "vms": [` + okVM + `]}`, "pcpus"},
		{"PCPUsNotInteger", `{"name": "t", "pcpus": 2.5, "iterations": 5, "vms": [` + okVM + `]}`, "pcpus"},
		{"PCPUsString", `{"name": "t", "pcpus": "4", "iterations": 5, "vms": [` + okVM + `]}`, "pcpus"},
		{"ZeroIterations", `{"name": "t", "pcpus": 4, "iterations": 0, "vms": [` + okVM + `]}`, "iterations"},
		{"NoVMs", scenario(``), "vms"},
		{"PinOutOfRange", scenario(okVM + `, {"name": "b", "vcpus": 1, "pin": [4], "load": [1]}`), "vms[1].pin[0]"},
		{"PinWrongLength", scenario(`{"name": "b", "vcpus": 2, "pin": [1], "load": [1, 1]}`), "vms[0].pin"},
		{"NegativeLoad", scenario(`{"name": "b", "vcpus": 2, "load": [1, -5]}`), "vms[0].load[1]"},
		{"LoadAbove100", scenario(`{"name": "b", "vcpus": 1, "load": [101]}`), "vms[0].load[0]"},
		{"LoadWrongLength", scenario(`{"name": "b", "vcpus": 2, "load": [1]}`), "vms[0].load"},
		{"DuplicateName", scenario(okVM + `,` + okVM), "vms[1].name"},
		{"PhaseAfterEnd", scenario(`{"name": "b", "vcpus": 1, "load": [1], "phases": [{"at": 25, "load": [2]}]}`), "vms[0].phases[0].at"},
		{"PhaseUnknownField", scenario(`{"name": "b", "vcpus": 1, "load": [1], "phases": [{"at": 2, "loads": [2]}]}`), "vms[0].phases[0].loads"},
		{"PhaseLoadWrongLength", scenario(`{"name": "b", "vcpus": 1, "load": [1], "phases": [{"at": 2, "load": [2, 3]}]}`), "vms[0].phases[0].load"},
		{"StopBeforeStart", scenario(`{"name": "b", "vcpus": 1, "load": [1], "start": 5, "stop": 5}`), "vms[0].stop"},
		{"VCPUsZero", scenario(`{"name": "b", "vcpus": 0, "load": []}`), "vms[0].vcpus"},
		{"CPUSetNotAList", scenario(`{"name": "b", "vcpus": 1, "load": [1], "cpuset": "0-x"}`), "vms[0].cpuset"},
		{"CPUSetOffHost", scenario(`{"name": "b", "vcpus": 1, "load": [1], "cpuset": "2-4"}`), "vms[0].cpuset"},
		{"CPUSetNotAString", scenario(`{"name": "b", "vcpus": 1, "load": [1], "cpuset": [0]}`), "vms[0].cpuset"},
		{"PinOutsideCPUSet", scenario(`{"name": "b", "vcpus": 1, "pin": [3], "load": [1], "cpuset": "0-1"}`), "vms[0].pin[0]"},
		{"SpinNotABool", scenario(`{"name": "b", "vcpus": 1, "load": [1], "spin": 1}`), "vms[0].spin"},
		{"TopologyUnknownField", host(`"topology": {"nodes": ["0-3"], "threads": []}`), "topology.threads"},
		{"TopologyNodeOffHost", host(`"topology": {"nodes": ["0-1", "2-4"]}`), "topology.nodes[1]"},
		{"TopologyNodesOverlap", host(`"topology": {"nodes": ["0-2", "2-3"]}`), "topology.nodes[1]"},
		{"TopologyCoreEmpty", host(`"topology": {"cores": ["0,1", ""]}`), "topology.cores[1]"},
		{"TopologyNotAnObject", host(`"topology": ["0-3"]`), "topology"},
		{"BackgroundWrongLength", host(`"background": {"load": [10, 0]}`), "background.load"},
		{"BackgroundAbove100", host(`"background": {"load": [0, 0, 0, 120]}`), "background.load[3]"},
		{"BackgroundPhaseWrongLength", host(`"background": {"load": [0, 0, 0, 0], "phases": [{"at": 2, "load": [1]}]}`), "background.phases[0].load"},
		{"BackgroundPhaseAfterEnd", host(`"background": {"load": [0, 0, 0, 0], "phases": [{"at": 30, "load": [1, 1, 1, 1]}]}`), "background.phases[0].at"},
		{"BackgroundMissingLoad", host(`"background": {"phases": []}`), "background.load"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadScenario(strings.NewReader(tc.in))
			var se *ScenarioError
			if !errors.As(err, &se) || !errors.Is(err, ErrScenario) {
				t.Fatalf("got %v, want a *ScenarioError", err)
			}
			if se.Field != tc.field {
				t.Errorf("error %q names field %q, want %q", err, se.Field, tc.field)
			}
		})
	}
}

func TestLoadScenario_HostFieldsRead(t *testing.T) {
	sc, err := LoadScenario(strings.NewReader(`{"name": "t", "pcpus": 4, "iterations": 25,
		"topology": {"nodes": ["0-1", "2-3"], "cores": ["0,2", "1,3"]},
		"background": {"load": [60, 0, 0, 0], "phases": [{"at": 10, "load": [0, 0, 0, 0]}]},
		"vms": [{"name": "db", "vcpus": 1, "pin": [1], "load": [90], "cpuset": "0-1", "spin": true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Scenario{Name: "t", PCPUs: 4, Iterations: 25,
		Topology:   &TopologySpec{Nodes: []string{"0-1", "2-3"}, Cores: []string{"0,2", "1,3"}},
		Background: &BackgroundSpec{Load: []float64{60, 0, 0, 0}, Phases: []Phase{{At: 10, Load: []float64{0, 0, 0, 0}}}},
		VMs:        []VMSpec{{Name: "db", VCPUs: 1, Pin: []int{1}, Load: []float64{90}, Stop: 25, CPUSet: "0-1", Spin: true}}}
	if diff := cmp.Diff(want, sc); diff != "" {
		t.Errorf("scenario (-want +got):\n%s", diff)
	}
}

func TestLoadScenario_DefaultsFilled(t *testing.T) {
	sc, err := LoadScenario(strings.NewReader(scenario(
		`{"name": "b", "vcpus": 2, "load": [1, 2], "phases": [{"at": 3, "load": [4, 5]}], "start": 2}`)))
	if err != nil {
		t.Fatal(err)
	}
	want := &Scenario{Name: "t", PCPUs: 4, Iterations: 25, VMs: []VMSpec{{Name: "b", VCPUs: 2,
		Pin: []int{-1, -1}, Load: []float64{1, 2}, Phases: []Phase{{At: 3, Load: []float64{4, 5}}}, Start: 2, Stop: 25}}}
	if diff := cmp.Diff(want, sc); diff != "" {
		t.Errorf("scenario (-want +got):\n%s", diff)
	}
}

// FuzzLoadScenario: any input either loads into a valid scenario that
// simulates, or fails with a *ScenarioError.
func FuzzLoadScenario(f *testing.F) {
	f.Add(scenario(okVM))
	f.Add(scenario(`{"name": "b", "vcpus": 1, "load": [1], "phases": [{"at": 2, "load": [2]}], "start": 1, "stop": 3}`))
	f.Add(`{"name": "t", "pcpus": 1e9}`)
	f.Add(`[`)
	f.Add(host(`"topology": {"nodes": ["0-1", "2-3"], "cores": ["0,1"]}, "background": {"load": [50, 0, 0, 0]}`))
	f.Add(scenario(`{"name": "b", "vcpus": 2, "load": [90, 16], "cpuset": "1-2", "spin": true}`))
	f.Fuzz(func(t *testing.T, in string) {
		sc, err := LoadScenario(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrScenario) {
				t.Fatalf("error %v is not ErrScenario", err)
			}
			return
		}
		if sc.PCPUs > 64 || sc.Iterations > 50 || len(sc.VMs) > 16 {
			return // valid, but too big to simulate in a fuzz loop
		}
		if _, err := Simulate(sc, balancer.NewAdaptive(), balancer.DefaultThreshold); err != nil {
			t.Fatalf("loaded scenario does not simulate: %v", err)
		}
	})
}
