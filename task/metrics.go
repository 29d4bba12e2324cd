package task

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
	lagG        prometheus.Gauge
	bytesG      *prometheus.GaugeVec // schema, table
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
		lagG: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_cdc_lag_seconds",
			Help: "Age of the commit time of the last change read.", ConstLabels: l}),
		bytesG: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sluice_source_bytes_read",
			Help: "Bytes of full-load objects read (sources that report sizes).", ConstLabels: l}, []string{"schema", "table"}),
	}
	m.Registry.MustRegister(m.eventsC, m.writtenC, m.rejectedC, m.retriesC, m.throttledC, m.checkpointC, m.lagG, m.bytesG)
	return m
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
	var last time.Time
	for _, i := range idx {
		ev := &events[i]
		n[k{ev.Table, ev.Op}]++
		if !ev.CommitTime.IsZero() {
			last = ev.CommitTime
		}
	}
	for key, c := range n {
		m.eventsC.WithLabelValues(key.t.Owner, key.t.Name, key.op.String()).Add(float64(c))
	}
	if !last.IsZero() {
		m.lagG.Set(time.Since(last).Seconds())
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

func (m *Metrics) progress(p []TableProgress) {
	if m == nil {
		return
	}
	for _, t := range p {
		s, n := splitKey(t.Table)
		m.bytesG.WithLabelValues(s, n).Set(float64(t.BytesDone))
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
