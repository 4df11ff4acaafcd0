package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the daemon's Prometheus series. They are always updated; they
// are served only when --metrics-addr is set. docs/grafana-dashboard.json
// queries them (TestDashboard_QueriesOnlyRegisteredMetrics keeps it so).
type metrics struct {
	reg            *prometheus.Registry
	pcpuUsage      *prometheus.GaugeVec
	pcpuDemand     *prometheus.GaugeVec
	pcpuBackground *prometheus.GaugeVec
	vcpuUsage      *prometheus.GaugeVec
	vcpuWait       *prometheus.GaugeVec
	moves          prometheus.Counter
	pinErrors      prometheus.Counter
	overruns       prometheus.Counter
	sampleDuration prometheus.Histogram
	planDuration   prometheus.Histogram
	srv            *http.Server
	addr           string // the address served, its port resolved (":0" asks for any)

	// The label values exported by the last observe, so that the next one
	// deletes only the series that disappeared. Touched by observe only.
	pcpuSeen map[string]bool
	vcpuSeen map[[2]string]bool
}

// pcpuPoint is one pCPU over the last window, in percent of that pCPU.
type pcpuPoint struct {
	CPU int
	// Usage is the busy share from /proc/stat (at most 100).
	Usage float64
	// Demand is what its vCPUs asked for (run plus wait) plus its
	// background; above 100 when the pCPU is crowded.
	Demand float64
	// Background is busy time that no sampled vCPU ran there.
	Background float64
}

// vcpuPoint is one vCPU over the last window, in percent of one pCPU.
type vcpuPoint struct {
	Domain string // the domain's name (the label); names are unique among running domains
	VCPU   int
	Usage  float64 // run time
	Wait   float64 // run-queue wait: time it was runnable but another thread ran (steal)
}

func newMetrics() *metrics {
	durBuckets := prometheus.ExponentialBuckets(10e-6, 4, 10) // 10us .. 2.6s
	m := &metrics{
		reg: prometheus.NewRegistry(),
		pcpuUsage: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vsched_pcpu_usage_percent",
			Help: "Busy share of each balanced physical CPU over the last window, in percent."}, []string{"cpu"}),
		pcpuDemand: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vsched_pcpu_demand_percent",
			Help: "Demand on each balanced physical CPU over the last window: its vCPUs' run plus run-queue wait, plus its background load, in percent (above 100 when crowded)."}, []string{"cpu"}),
		pcpuBackground: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vsched_pcpu_background_percent",
			Help: "Busy share of each balanced physical CPU that no sampled vCPU ran (emulator and I/O threads, vhost, host processes) over the last window, in percent."}, []string{"cpu"}),
		vcpuUsage: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vsched_vcpu_usage_percent",
			Help: "CPU time each vCPU thread ran over the last window, in percent of one pCPU."}, []string{"domain", "vcpu"}),
		vcpuWait: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vsched_vcpu_wait_percent",
			Help: "Run-queue wait (steal) of each vCPU thread over the last window, in percent of one pCPU."}, []string{"domain", "vcpu"}),
		moves: prometheus.NewCounter(prometheus.CounterOpts{Name: "vsched_moves_total",
			Help: "vCPU pins changed."}),
		pinErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "vsched_pin_errors_total",
			Help: "vCPU pins that failed."}),
		overruns: prometheus.NewCounter(prometheus.CounterOpts{Name: "vsched_cycle_overruns_total",
			Help: "Cycles that took longer than the interval."}),
		sampleDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vsched_sample_duration_seconds",
			Help: "Time one full kernel sample of every vCPU and pCPU takes (kernel reads only).", Buckets: durBuckets}),
		planDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vsched_plan_duration_seconds",
			Help: "Time the policy took to plan one cycle.", Buckets: durBuckets}),
		pcpuSeen: map[string]bool{},
		vcpuSeen: map[[2]string]bool{},
	}
	m.reg.MustRegister(m.pcpuUsage, m.pcpuDemand, m.pcpuBackground, m.vcpuUsage, m.vcpuWait,
		m.moves, m.pinErrors, m.overruns, m.sampleDuration, m.planDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// startMetrics builds the metrics and, when addr is not empty, serves them
// on addr at /metrics. A bad or busy address is an error before any pin.
func startMetrics(addr string) (*metrics, error) {
	m := newMetrics()
	if addr == "" {
		return m, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m.addr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = m.srv.Serve(ln) }() // returns http.ErrServerClosed on shutdown
	return m, nil
}

func (m *metrics) shutdown() {
	if m == nil || m.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = m.srv.Shutdown(ctx)
}

// observe sets the per-pCPU and per-vCPU gauges to this window's values. The
// loop calls it once per cycle. Series are updated in place and only those
// of pCPUs and vCPUs no longer given (a stopped domain, an unplugged vCPU, a
// pCPU taken out of the balanced set) are deleted, so a concurrent scrape
// never sees a series vanish and come back.
func (m *metrics) observe(pcpus []pcpuPoint, vcpus []vcpuPoint) {
	pcpuNow := make(map[string]bool, len(pcpus))
	for _, p := range pcpus {
		cpu := strconv.Itoa(p.CPU)
		pcpuNow[cpu] = true
		m.pcpuUsage.WithLabelValues(cpu).Set(p.Usage)
		m.pcpuDemand.WithLabelValues(cpu).Set(p.Demand)
		m.pcpuBackground.WithLabelValues(cpu).Set(p.Background)
	}
	for cpu := range m.pcpuSeen {
		if !pcpuNow[cpu] {
			m.pcpuUsage.DeleteLabelValues(cpu)
			m.pcpuDemand.DeleteLabelValues(cpu)
			m.pcpuBackground.DeleteLabelValues(cpu)
		}
	}
	m.pcpuSeen = pcpuNow

	vcpuNow := make(map[[2]string]bool, len(vcpus))
	for _, v := range vcpus {
		lv := [2]string{v.Domain, strconv.Itoa(v.VCPU)}
		vcpuNow[lv] = true
		m.vcpuUsage.WithLabelValues(lv[0], lv[1]).Set(v.Usage)
		m.vcpuWait.WithLabelValues(lv[0], lv[1]).Set(v.Wait)
	}
	for lv := range m.vcpuSeen {
		if !vcpuNow[lv] {
			m.vcpuUsage.DeleteLabelValues(lv[0], lv[1])
			m.vcpuWait.DeleteLabelValues(lv[0], lv[1])
		}
	}
	m.vcpuSeen = vcpuNow
}
