package main

import (
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
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
		cycle(l)
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
		{"PCPU0_DemandFourFullVCPUs", "vsched_pcpu_demand_percent", []string{"cpu", "0"}, 400},
		{"PCPU0_NoBackground", "vsched_pcpu_background_percent", []string{"cpu", "0"}, 0},
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

func TestMetricsObserve_ExportsEveryPoint(t *testing.T) {
	m := newMetrics()
	m.observe([]pcpuPoint{{CPU: 0, Usage: 100, Demand: 250, Background: 10}, {CPU: 3, Usage: 20, Demand: 20}},
		[]vcpuPoint{{Domain: "db", VCPU: 0, Usage: 40, Wait: 60}, {Domain: "db", VCPU: 3, Usage: 5}})
	tests := []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"PCPU0_Usage", "vsched_pcpu_usage_percent", []string{"cpu", "0"}, 100},
		{"PCPU0_DemandAbove100", "vsched_pcpu_demand_percent", []string{"cpu", "0"}, 250},
		{"PCPU0_Background", "vsched_pcpu_background_percent", []string{"cpu", "0"}, 10},
		{"PCPU3_Usage", "vsched_pcpu_usage_percent", []string{"cpu", "3"}, 20},
		{"PCPU3_ZeroBackgroundExported", "vsched_pcpu_background_percent", []string{"cpu", "3"}, 0},
		{"VCPU_UsageByDomainName", "vsched_vcpu_usage_percent", []string{"domain", "db", "vcpu", "0"}, 40},
		{"VCPU_Wait", "vsched_vcpu_wait_percent", []string{"domain", "db", "vcpu", "0"}, 60},
		{"VCPU_IDNotIndex", "vsched_vcpu_usage_percent", []string{"domain", "db", "vcpu", "3"}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustMetric(t, m, tc.metric, tc.labels...); got != tc.want {
				t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
			}
		})
	}
}

func TestMetricsObserve_DropsOnlySeriesNoLongerSeen(t *testing.T) {
	m := newMetrics()
	m.observe([]pcpuPoint{{CPU: 0, Usage: 60}, {CPU: 1, Usage: 30}},
		[]vcpuPoint{{Domain: "gone", VCPU: 0, Usage: 50}, {Domain: "kept", VCPU: 0, Usage: 10}, {Domain: "kept", VCPU: 1, Usage: 10}})
	m.observe([]pcpuPoint{{CPU: 0, Usage: 20, Demand: 25}},
		[]vcpuPoint{{Domain: "kept", VCPU: 0, Usage: 20, Wait: 5}})
	for _, gone := range []struct {
		metric string
		labels []string
	}{
		{"vsched_vcpu_usage_percent", []string{"domain", "gone", "vcpu", "0"}},
		{"vsched_vcpu_wait_percent", []string{"domain", "gone", "vcpu", "0"}},
		{"vsched_vcpu_usage_percent", []string{"domain", "kept", "vcpu", "1"}},
		{"vsched_pcpu_usage_percent", []string{"cpu", "1"}},
		{"vsched_pcpu_demand_percent", []string{"cpu", "1"}},
		{"vsched_pcpu_background_percent", []string{"cpu", "1"}},
	} {
		if _, ok := metricValue(t, m, gone.metric, gone.labels...); ok {
			t.Errorf("%s%v is still exported after it disappeared", gone.metric, gone.labels)
		}
	}
	if got := mustMetric(t, m, "vsched_vcpu_wait_percent", "domain", "kept", "vcpu", "0"); got != 5 {
		t.Errorf("wait of kept/0 = %v, want 5", got)
	}
	if got := mustMetric(t, m, "vsched_pcpu_demand_percent", "cpu", "0"); got != 25 {
		t.Errorf("demand of pCPU0 = %v, want 25", got)
	}
}

// Issue 13: Reset then Set let a scrape between the two see no series at
// all. A series that stays must be the same child, updated in place.
func TestMetricsObserve_UpdatesKeptSeriesInPlace(t *testing.T) {
	m := newMetrics()
	m.observe([]pcpuPoint{{CPU: 0, Usage: 10}}, []vcpuPoint{{Domain: "d", VCPU: 0, Usage: 10}})
	pBefore, vBefore := m.pcpuDemand.WithLabelValues("0"), m.vcpuWait.WithLabelValues("d", "0")
	m.observe([]pcpuPoint{{CPU: 0, Usage: 20}}, []vcpuPoint{{Domain: "d", VCPU: 0, Usage: 20}})
	if m.pcpuDemand.WithLabelValues("0") != pBefore {
		t.Error("observe replaced the pCPU series instead of updating it")
	}
	if m.vcpuWait.WithLabelValues("d", "0") != vBefore {
		t.Error("observe replaced the vCPU series instead of updating it")
	}
}

// A scrape concurrent with observe sees every series that every observe
// gives, never a gap.
func TestMetricsObserve_ConcurrentScrapes_NeverSeeAGap(t *testing.T) {
	m := newMetrics()
	pcpus := []pcpuPoint{{CPU: 0}, {CPU: 1}}
	vcpus := []vcpuPoint{{Domain: "a", VCPU: 0}, {Domain: "b", VCPU: 0}}
	m.observe(pcpus, vcpus)
	want := map[string]int{
		"vsched_pcpu_usage_percent": 2, "vsched_pcpu_demand_percent": 2, "vsched_pcpu_background_percent": 2,
		"vsched_vcpu_usage_percent": 2, "vsched_vcpu_wait_percent": 2,
	}
	const rounds = 300
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range rounds {
			pcpus[0].Usage, vcpus[1].Wait = float64(i%100), float64(i%100)
			churn := []vcpuPoint{{Domain: "churn", VCPU: i % 3}} // comes and goes
			m.observe(pcpus, slices.Concat(vcpus, churn))
		}
	}()
	var gaps []string
	for range rounds {
		fams, err := m.reg.Gather()
		if err != nil {
			t.Fatalf("Gather: %v", err)
		}
		got := map[string]int{}
		for _, f := range fams {
			for _, mt := range f.GetMetric() {
				if lv := labelValue(mt, "domain"); lv != "churn" {
					got[f.GetName()]++
				}
			}
		}
		for name, n := range want {
			if got[name] != n {
				gaps = append(gaps, name)
			}
		}
	}
	wg.Wait()
	if len(gaps) > 0 {
		t.Errorf("%d scrapes saw fewer series than observed, first %s", len(gaps), gaps[0])
	}
}

func labelValue(mt *dto.Metric, name string) string {
	for _, lp := range mt.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
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
	for _, want := range []string{"vsched_moves_total 3", "vsched_pin_errors_total 0", "vsched_sample_duration_seconds_count 0", "vsched_plan_duration_seconds_count 0", "go_goroutines"} {
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
