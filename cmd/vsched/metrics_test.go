package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
)

// metricValue gathers m's registry and returns the value of the counter or
// gauge name whose labels are exactly labels ("k", "v", ...); ok is false
// when there is none.
func metricValue(t *testing.T, m *metrics, name string, labels ...string) (v float64, ok bool) {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			got := map[string]string{}
			for _, lp := range mt.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if !cmp.Equal(want, got) {
				continue
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return mt.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return mt.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(mt.GetHistogram().GetSampleCount()), true
			default:
				t.Fatalf("%s: unexpected type %v", name, f.GetType())
			}
		}
	}
	return 0, false
}

// mustMetric is metricValue that fails the test when the series is absent.
func mustMetric(t *testing.T, m *metrics, name string, labels ...string) float64 {
	t.Helper()
	v, ok := metricValue(t, m, name, labels...)
	if !ok {
		t.Fatalf("no series %s%v in the registry", name, labels)
	}
	return v
}

func TestMetrics_AfterCrowdedCycle_ExposeUsageWaitMovesDurations(t *testing.T) {
	h := newSynthHost(t)
	l := h.newLoop(testOptions(), nil)
	for range 2 {
		h.step(busyOnCPU0())
		l.cycle()
	}
	moves := float64(len(loggedMoves(t, &h.log)))
	tests := []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"PCPU0_Full", "vsched_pcpu_usage_percent", []string{"cpu", "0"}, 100},
		{"PCPU1_Idle", "vsched_pcpu_usage_percent", []string{"cpu", "1"}, 0},
		{"CrowdedVCPU_GetsAQuarter", "vsched_vcpu_usage_percent", []string{"domain", "guest-000", "vcpu", "1"}, 25},
		{"CrowdedVCPU_WaitsThreeQuarters", "vsched_vcpu_wait_percent", []string{"domain", "guest-001", "vcpu", "0"}, 75},
		{"IdleVCPU_Zero", "vsched_vcpu_usage_percent", []string{"domain", "guest-002", "vcpu", "0"}, 0},
		{"Moves_CountApplied", "vsched_moves_total", nil, moves},
		{"PinErrors_None", "vsched_pin_errors_total", nil, 0},
		{"Overruns_None", "vsched_cycle_overruns_total", nil, 0},
		{"SampleDuration_OnePerCycle", "vsched_sample_duration_seconds", nil, 2},
		{"PlanDuration_OnePerPlan", "vsched_plan_duration_seconds", nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustMetric(t, l.metrics, tc.metric, tc.labels...); got != tc.want {
				t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
			}
		})
	}
}

func TestMetricsObserve_DropsVCPUsNoLongerSeen(t *testing.T) {
	m := newMetrics()
	m.observe(map[vcpuKey]vcpuRate{{"gone", 0}: {usage: 50}, {"kept", 0}: {usage: 10}}, []cpuUsage{{0, 60}})
	m.observe(map[vcpuKey]vcpuRate{{"kept", 0}: {usage: 20, wait: 5}}, []cpuUsage{{0, 20}})
	if _, ok := metricValue(t, m, "vsched_vcpu_usage_percent", "domain", "gone", "vcpu", "0"); ok {
		t.Error("a vCPU of a stopped domain is still exported")
	}
	if got := mustMetric(t, m, "vsched_vcpu_wait_percent", "domain", "kept", "vcpu", "0"); got != 5 {
		t.Errorf("wait of kept/0 = %v, want 5", got)
	}
}

func TestStartMetrics_ServesMetricsOverHTTP(t *testing.T) {
	m, err := startMetrics(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer m.shutdown()
	m.moves.Add(3)
	_, port, err := net.SplitHostPort(m.addr)
	if err != nil {
		t.Fatalf("served address %q: %v", m.addr, err)
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	for _, want := range []string{"vsched_moves_total 3", "vsched_pin_errors_total 0", "vsched_sample_duration_seconds_count 0", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestStartMetrics_BusyAddressFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if m, err := startMetrics(ln.Addr().String()); err == nil {
		m.shutdown()
		t.Fatalf("startMetrics(%s) on a busy address: no error", ln.Addr())
	}
}

func TestStartMetrics_EmptyAddress_NotServedShutdownNoop(t *testing.T) {
	m, err := startMetrics("")
	if err != nil {
		t.Fatal(err)
	}
	if m.srv != nil || m.addr != "" {
		t.Errorf("empty --metrics-addr started a server at %q", m.addr)
	}
	m.shutdown()
}
