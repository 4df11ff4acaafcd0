package sim

import "encoding/json"

// loadPhases reads the optional "phases" list of m.
func loadPhases(m object, path string) ([]Phase, error) {
	var raws []json.RawMessage
	if _, ok := m["phases"]; ok {
		if err := decode(m, "phases", path, "a list of phases", &raws); err != nil {
			return nil, err
		}
	}
	var phases []Phase
	for j, p := range raws {
		pp := index(join(path, "phases"), j)
		pm, err := fields(p, pp, "at", "load")
		if err != nil {
			return nil, err
		}
		var ph Phase
		if err := first([]error{decodeInt(pm, "at", pp, &ph.At),
			decode(pm, "load", pp, "a list of numbers", &ph.Load)}); err != nil {
			return nil, err
		}
		phases = append(phases, ph)
	}
	return phases, nil
}

// loadTopology reads the optional "topology" object.
func loadTopology(top object) (*TopologySpec, error) {
	if _, ok := top["topology"]; !ok {
		return nil, nil
	}
	var raw json.RawMessage
	if err := decode(top, "topology", "", "an object", &raw); err != nil {
		return nil, err
	}
	m, err := fields(raw, "topology", "nodes", "cores")
	if err != nil {
		return nil, err
	}
	t := &TopologySpec{}
	for _, f := range []struct {
		key string
		dst *[]string
	}{{"nodes", &t.Nodes}, {"cores", &t.Cores}} {
		if _, ok := m[f.key]; ok {
			if err := decode(m, f.key, "topology", "a list of CPU lists", f.dst); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// loadBackground reads the optional "background" object.
func loadBackground(top object) (*BackgroundSpec, error) {
	if _, ok := top["background"]; !ok {
		return nil, nil
	}
	var raw json.RawMessage
	if err := decode(top, "background", "", "an object", &raw); err != nil {
		return nil, err
	}
	m, err := fields(raw, "background", "load", "phases")
	if err != nil {
		return nil, err
	}
	b := &BackgroundSpec{}
	if err := decode(m, "load", "background", "a list of numbers", &b.Load); err != nil {
		return nil, err
	}
	b.Phases, err = loadPhases(m, "background")
	return b, err
}
