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
// are served only when --metrics-addr is set.
type metrics struct {
	reg            *prometheus.Registry
	pcpuUsage      *prometheus.GaugeVec
	vcpuUsage      *prometheus.GaugeVec
	vcpuWait       *prometheus.GaugeVec
	moves          prometheus.Counter
	pinErrors      prometheus.Counter
	overruns       prometheus.Counter
	sampleDuration prometheus.Histogram
	planDuration   prometheus.Histogram
	srv            *http.Server
	addr           string // the address served, its port resolved (":0" asks for any)
}

func newMetrics() *metrics {
	durBuckets := prometheus.ExponentialBuckets(10e-6, 4, 10) // 10us .. 2.6s
	m := &metrics{
		reg: prometheus.NewRegistry(),
		pcpuUsage: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vsched_pcpu_usage_percent",
			Help: "Busy share of each physical CPU over the last interval, in percent."}, []string{"cpu"}),
		vcpuUsage: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vsched_vcpu_usage_percent",
			Help: "CPU time each vCPU thread ran over the last interval, in percent of one pCPU."}, []string{"domain", "vcpu"}),
		vcpuWait: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vsched_vcpu_wait_percent",
			Help: "Run-queue wait of each vCPU thread over the last interval, in percent of one pCPU."}, []string{"domain", "vcpu"}),
		moves: prometheus.NewCounter(prometheus.CounterOpts{Name: "vsched_moves_total",
			Help: "vCPU pins changed."}),
		pinErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "vsched_pin_errors_total",
			Help: "vCPU pins that failed."}),
		overruns: prometheus.NewCounter(prometheus.CounterOpts{Name: "vsched_cycle_overruns_total",
			Help: "Cycles that took longer than the interval."}),
		sampleDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vsched_sample_duration_seconds",
			Help: "Time to sample every vCPU from the kernel.", Buckets: durBuckets}),
		planDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vsched_plan_duration_seconds",
			Help: "Time the policy took to plan one cycle.", Buckets: durBuckets}),
	}
	m.reg.MustRegister(m.pcpuUsage, m.vcpuUsage, m.vcpuWait, m.moves, m.pinErrors, m.overruns,
		m.sampleDuration, m.planDuration,
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

// observe replaces the per-CPU and per-vCPU gauges with this cycle's values,
// so domains that stopped drop out.
func (m *metrics) observe(rates map[vcpuKey]vcpuRate, pcpu []cpuUsage) {
	m.pcpuUsage.Reset()
	for _, c := range pcpu {
		m.pcpuUsage.WithLabelValues(strconv.Itoa(c.cpu)).Set(c.usage)
	}
	m.vcpuUsage.Reset()
	m.vcpuWait.Reset()
	for k, r := range rates {
		v := strconv.Itoa(k.vcpu)
		m.vcpuUsage.WithLabelValues(k.domain, v).Set(r.usage)
		m.vcpuWait.WithLabelValues(k.domain, v).Set(r.wait)
	}
}
