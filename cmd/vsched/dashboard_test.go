package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
)

// dashboardFile is the Grafana dashboard the repository ships.
var dashboardFile = filepath.Join("..", "..", "docs", "grafana-dashboard.json")

// promqlWords are PromQL keywords and aggregation modifiers: identifiers in
// an expression that are not metric names.
var promqlWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true,
	"atan2": true,
}

// promqlMetricNames returns the metric names an expression selects, in
// order of first use: identifiers outside label matchers, ranges and
// strings that are neither functions nor keywords, nor the label list of a
// grouping modifier. Grafana variables ($instance) are not names.
func promqlMetricNames(expr string) []string {
	var names []string
	afterGrouping := false // the next ( opens a label list: by (le)
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '{' || c == '[':
			end := map[byte]byte{'{': '}', '[': ']'}[c]
			j := i + 1
			for j < len(expr) && expr[j] != end {
				if expr[j] == '"' || expr[j] == '\'' || expr[j] == '`' { // a "}" inside a matcher's value
					q := expr[j]
					for j++; j < len(expr) && expr[j] != q; j++ {
						if expr[j] == '\\' {
							j++
						}
					}
				}
				j++
			}
			i = j + 1
		case c == '(' && afterGrouping:
			j := strings.IndexByte(expr[i:], ')')
			if j < 0 {
				return names
			}
			i += j + 1
			afterGrouping = false
		case c == '$':
			i++
			for i < len(expr) && isIdentByte(expr[i]) {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdentByte(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && expr[k] == ' ' {
				k++
			}
			switch {
			case word == "by" || word == "without" || word == "on" || word == "ignoring" ||
				word == "group_left" || word == "group_right":
				afterGrouping = true
			case promqlWords[strings.ToLower(word)]:
			case k < len(expr) && expr[k] == '(' || nextWordIs(expr[k:], "by", "without"):
				// a function or an aggregation: rate(, sum by (le) (
			case !slices.Contains(names, word):
				names = append(names, word)
			}
			i = j
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdentByte(expr[i]) || expr[i] == '.') {
				i++ // 0.99, 1e3, 5m
			}
		default:
			i++
		}
	}
	return names
}

// nextWordIs reports whether s starts with one of words as a whole word.
func nextWordIs(s string, words ...string) bool {
	j := 0
	for j < len(s) && isIdentByte(s[j]) {
		j++
	}
	return j > 0 && slices.Contains(words, s[:j])
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func TestPromqlMetricNames_Table(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want []string
	}{
		{"Selector", `vsched_pcpu_usage_percent{instance=~"$instance"}`, []string{"vsched_pcpu_usage_percent"}},
		{"RateWithGrafanaRange", `rate(vsched_moves_total{job="a"}[$__rate_interval])`, []string{"vsched_moves_total"}},
		{"HistogramQuantileByLe", `histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))`, []string{"x_bucket"}},
		{"BinaryOfTwo", `max by (instance) (a{b="}"}) - min without (cpu) (c)`, []string{"a", "c"}},
		{"OnGroupLeft", `a * on (instance) group_left (version) b`, []string{"a", "b"}},
		{"KeywordsAndNumbers", `a > bool 1e3 or b offset 5m`, []string{"a", "b"}},
		{"LabelValuesArgs", `label_values(vsched_moves_total{job=~"$job"}, instance)`, []string{"vsched_moves_total", "instance"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, promqlMetricNames(tc.expr)); diff != "" {
				t.Errorf("promqlMetricNames(%q) (-want +got):\n%s", tc.expr, diff)
			}
		})
	}
}

// dashboardQueries returns every PromQL expression of the dashboard: panel
// targets (rows' nested panels included) and query variables. A variable's
// label_values(METRIC, LABEL) gives only its metric selector.
func dashboardQueries(t *testing.T, raw []byte) []string {
	t.Helper()
	type target struct {
		Expr string `json:"expr"`
	}
	type panel struct {
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var d struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var out []string
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				if tg.Expr == "" {
					t.Errorf("panel %q has a target without expr", p.Title)
				}
				out = append(out, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil { // older dashboards: a plain string
			if err := json.Unmarshal(v.Query, &q.Query); err != nil {
				t.Fatalf("variable query %s: %v", v.Query, err)
			}
		}
		if m := labelValues.FindStringSubmatch(q.Query); m != nil {
			q.Query = m[1]
		}
		out = append(out, q.Query)
	}
	return out
}

// registeredFamilies returns the type of every metric family newMetrics
// registers, each vector given one series so that it is gathered.
func registeredFamilies(t *testing.T) map[string]dto.MetricType {
	t.Helper()
	m := newMetrics()
	m.observe([]pcpuPoint{{CPU: 0}}, []vcpuPoint{{Domain: "d", VCPU: 0}})
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]dto.MetricType{}
	for _, f := range fams {
		out[f.GetName()] = f.GetType()
	}
	return out
}

func TestDashboard_QueriesOnlyRegisteredMetrics(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	fams := registeredFamilies(t)
	used := map[string]bool{}
	for _, q := range dashboardQueries(t, raw) {
		names := promqlMetricNames(q)
		if len(names) == 0 {
			t.Errorf("query %q selects no metric", q)
		}
		for _, name := range names {
			base, typ := name, fams[name]
			if _, ok := fams[name]; !ok {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if b, ok := strings.CutSuffix(name, suffix); ok {
						base, typ = b, fams[b]
						break
					}
				}
				if _, ok := fams[base]; !ok {
					t.Errorf("query %q uses %s, which vsched does not export", q, name)
					continue
				}
				if strings.HasSuffix(name, "_bucket") && typ != dto.MetricType_HISTOGRAM {
					t.Errorf("query %q uses %s, but %s is a %v, not a histogram", q, name, base, typ)
				}
			}
			used[base] = true
		}
	}
	// The panels issue 15 asks for: each of these must be on the dashboard.
	for _, want := range []string{
		"vsched_pcpu_usage_percent", "vsched_pcpu_demand_percent", "vsched_pcpu_background_percent",
		"vsched_vcpu_usage_percent", "vsched_vcpu_wait_percent", "vsched_moves_total", "vsched_pin_errors_total",
		"vsched_sample_duration_seconds", "vsched_plan_duration_seconds",
	} {
		if !used[want] {
			t.Errorf("the dashboard has no panel on %s", want)
		}
	}
}
