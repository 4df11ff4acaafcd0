package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"sort"
	"strings"
)

// Limits that keep a scenario to something the simulator runs in seconds.
const (
	maxPCPUs      = 4096
	maxIterations = 100000
	maxVCPUs      = 1024
)

type object map[string]json.RawMessage

// LoadScenario reads one scenario strictly: malformed JSON, an unknown or
// missing field, a wrong type, a length that does not match vcpus (or
// pcpus, for background), a pin out of range or outside the VM's cpuset,
// a CPU list that does not parse or names a CPU off the host, overlapping
// nodes or cores, a load outside 0-100 or misordered phases is a
// *ScenarioError naming the field. Defaults (pin, start, stop) are filled
// in.
func LoadScenario(r io.Reader) (*Scenario, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, syntaxError(data, err)
	}
	if dec.More() {
		return nil, bad("", "unexpected data after the scenario object")
	}
	top, err := fields(raw, "", "name", "pcpus", "iterations", "topology", "background", "vms")
	if err != nil {
		return nil, err
	}
	sc := &Scenario{}
	if err := decodeString(top, "name", "", &sc.Name); err != nil {
		return nil, err
	}
	if err := decodeInt(top, "pcpus", "", &sc.PCPUs); err != nil {
		return nil, err
	}
	if err := decodeInt(top, "iterations", "", &sc.Iterations); err != nil {
		return nil, err
	}
	if sc.Topology, err = loadTopology(top); err != nil {
		return nil, err
	}
	if sc.Background, err = loadBackground(top); err != nil {
		return nil, err
	}
	var vms []json.RawMessage
	if err := decode(top, "vms", "", "a list of VMs", &vms); err != nil {
		return nil, err
	}
	for i, v := range vms {
		vm, err := loadVM(v, index("vms", i), sc.Iterations)
		if err != nil {
			return nil, err
		}
		sc.VMs = append(sc.VMs, vm)
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

func loadVM(raw json.RawMessage, path string, iterations int) (VMSpec, error) {
	vm := VMSpec{Stop: iterations}
	m, err := fields(raw, path, "name", "vcpus", "pin", "load", "phases", "start", "stop", "cpuset", "spin")
	if err != nil {
		return vm, err
	}
	errs := []error{
		decodeString(m, "name", path, &vm.Name),
		decodeInt(m, "vcpus", path, &vm.VCPUs),
		decode(m, "load", path, "a list of numbers", &vm.Load),
	}
	for _, k := range []string{"pin", "start", "stop", "cpuset", "spin"} {
		if _, ok := m[k]; !ok {
			continue
		}
		switch k {
		case "pin":
			errs = append(errs, decode(m, k, path, "a list of integers", &vm.Pin))
		case "start":
			errs = append(errs, decodeInt(m, k, path, &vm.Start))
		case "stop":
			errs = append(errs, decodeInt(m, k, path, &vm.Stop))
		case "cpuset":
			errs = append(errs, decodeString(m, k, path, &vm.CPUSet))
		case "spin":
			errs = append(errs, decode(m, k, path, "true or false", &vm.Spin))
		}
	}
	if err := first(errs); err != nil {
		return vm, err
	}
	if _, ok := m["pin"]; !ok && vm.VCPUs > 0 && vm.VCPUs <= maxVCPUs {
		vm.Pin = make([]int, vm.VCPUs)
		for i := range vm.Pin {
			vm.Pin[i] = -1
		}
	}
	vm.Phases, err = loadPhases(m, path)
	return vm, err
}

func first(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// fields decodes an object and rejects keys not in allowed (the first in
// sorted order is named) and missing required ones are checked by decode.
func fields(raw json.RawMessage, path string, allowed ...string) (object, error) {
	var m object
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, bad(path, "want a JSON object")
	}
	var unknown []string
	for k := range m {
		if !contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, bad(join(path, unknown[0]), "unknown field (want one of %s)", strings.Join(allowed, ", "))
	}
	return m, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// decode unmarshals the required field key of m into dst.
func decode(m object, key, path, want string, dst any) error {
	raw, ok := m[key]
	if !ok {
		return bad(join(path, key), "missing")
	}
	if string(bytes.TrimSpace(raw)) == "null" || json.Unmarshal(raw, dst) != nil {
		return bad(join(path, key), "want %s", want)
	}
	return nil
}

func decodeString(m object, key, path string, dst *string) error {
	return decode(m, key, path, "a string", dst)
}

func decodeInt(m object, key, path string, dst *int) error {
	var f float64
	if err := decode(m, key, path, "an integer", &f); err != nil {
		return err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1e9 {
		return bad(join(path, key), "want an integer, got %v", f)
	}
	*dst = int(f)
	return nil
}

func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return bad("", "bad JSON at line %d: %v", line, se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return bad("", "bad JSON: empty or truncated document")
	}
	return bad("", "bad JSON: %v", err)
}
