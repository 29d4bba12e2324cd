package task

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestMetricsServed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewMetrics("t1")
	addr, errc, err := ServeMetrics(ctx, "127.0.0.1:0", m)
	if err != nil {
		t.Fatal(err)
	}
	events := genEvents(10, 2)
	events[3] = fakeEvent{table: "s.a", key: 1, reject: true}
	w := newWorld(t, events, "t1")
	g := newRig(w, nil, 4)
	g.r.Metrics = m
	if _, err := g.r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`sluice_source_events_total{op="load",schema="s",table="a",task="t1"} 4`,
		`sluice_source_events_total{op="load",schema="s",table="b",task="t1"} 5`,
		`sluice_target_records_total{target="t1",task="t1"} 9`,
		`sluice_rejected_rows_total{schema="s",table="a",task="t1"} 1`,
		`sluice_checkpoints_saved_total{task="t1"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
