package task

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// Metrics are the task's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	Registry *prometheus.Registry
	task     string

	eventsC     *prometheus.CounterVec // schema, table, op
	writtenC    *prometheus.CounterVec // target
	rejectedC   *prometheus.CounterVec // schema, table
	retriesC    *prometheus.CounterVec // action
	throttledC  *prometheus.CounterVec // action
	checkpointC prometheus.Counter
	lagD        *prometheus.Desc // sluice_cdc_lag_seconds
	bytesD      *prometheus.Desc // sluice_source_bytes_read{schema,table}
	totalD      *prometheus.Desc // sluice_source_bytes_total{schema,table}

	runner atomic.Pointer[Runner] // read at scrape time (lag, source progress)
}

// NewMetrics registers the task's metrics in a new registry.
func NewMetrics(task string) *Metrics {
	l := prometheus.Labels{"task": task}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: l}, labels)
	}
	m := &Metrics{Registry: prometheus.NewRegistry(), task: task,
		eventsC:    counter("sluice_source_events_total", "Change events read from the source.", "schema", "table", "op"),
		writtenC:   counter("sluice_target_records_total", "Records written to a target.", "target"),
		rejectedC:  counter("sluice_rejected_rows_total", "Rows rejected (exceptions file or ignored by policy).", "schema", "table"),
		retriesC:   counter("sluice_retries_total", "Recoverable errors retried.", "action"),
		throttledC: counter("sluice_throttled_total", "Requests a service throttled.", "action"),
		checkpointC: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_checkpoints_saved_total",
			Help: "Checkpoints saved.", ConstLabels: l}),
		lagD: prometheus.NewDesc("sluice_cdc_lag_seconds",
			"Age of the newest change read: its commit time, or the source's latest change time (S3 CDC file).", nil, l),
		bytesD: prometheus.NewDesc("sluice_source_bytes_read",
			"Bytes of full-load objects read (sources that report sizes).", []string{"schema", "table"}, l),
		totalD: prometheus.NewDesc("sluice_source_bytes_total",
			"Bytes of a table's full-load objects (sources that report sizes).", []string{"schema", "table"}, l),
	}
	m.Registry.MustRegister(m.eventsC, m.writtenC, m.rejectedC, m.retriesC, m.throttledC, m.checkpointC, scrapeCollector{m})
	return m
}

// attach makes scrapes read r's lag and its source's progress.
func (m *Metrics) attach(r *Runner) {
	if m != nil {
		m.runner.Store(r)
	}
}

// scrapeCollector reports the values read at scrape time: the CDC lag and
// the source's full-load progress (ProgressReporter).
type scrapeCollector struct{ m *Metrics }

func (c scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.m.lagD
	ch <- c.m.bytesD
	ch <- c.m.totalD
}

func (c scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.m.runner.Load()
	if r == nil || !r.started.Load() {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.m.lagD, prometheus.GaugeValue, r.lag(time.Now()).Seconds())
	pr, ok := r.Source().(ProgressReporter)
	if !ok {
		return
	}
	for _, t := range pr.Progress() {
		s, n := splitKey(t.Table)
		ch <- prometheus.MustNewConstMetric(c.m.bytesD, prometheus.GaugeValue, float64(t.BytesDone), s, n)
		if t.BytesTotal > 0 {
			ch <- prometheus.MustNewConstMetric(c.m.totalD, prometheus.GaugeValue, float64(t.BytesTotal), s, n)
		}
	}
}

// events counts events[i] for every i in idx, one Add per table and op.
func (m *Metrics) events(events []source.Event, idx []int) {
	if m == nil || len(idx) == 0 {
		return
	}
	type k struct {
		t  *tabledefs.Table
		op source.Op
	}
	n := map[k]int{}
	for _, i := range idx {
		ev := &events[i]
		n[k{ev.Table, ev.Op}]++
	}
	for key, c := range n {
		m.eventsC.WithLabelValues(key.t.Owner, key.t.Name, key.op.String()).Add(float64(c))
	}
}

func (m *Metrics) written(target string, n int) {
	if m != nil {
		m.writtenC.WithLabelValues(target).Add(float64(n))
	}
}

func (m *Metrics) rejected(schema, table string) {
	if m != nil {
		m.rejectedC.WithLabelValues(schema, table).Inc()
	}
}

func (m *Metrics) retried(action string, throttled bool) {
	if m == nil {
		return
	}
	m.retriesC.WithLabelValues(action).Inc()
	if throttled {
		m.throttledC.WithLabelValues(action).Inc()
	}
}

func (m *Metrics) saved() {
	if m != nil {
		m.checkpointC.Inc()
	}
}

// ServeMetrics serves /metrics on addr until ctx ends (--metrics-listen).
// It returns once the listener is bound; serve errors go to errc.
func ServeMetrics(ctx context.Context, addr string, m *Metrics) (bound string, errc <-chan error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listening for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ch := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		ch <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr().String(), ch, nil
}
