package task

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// benchSource hands out the same prepared batch n times.
type benchSource struct {
	batch source.Batch
	left  int
	n     int
}

func (s *benchSource) Next(context.Context) (source.Batch, error) {
	if s.left == 0 {
		return source.Batch{}, source.ErrDone
	}
	s.left--
	s.n++
	s.batch.Pos = source.Position(`{"n":` + strconv.Itoa(s.n) + `}`)
	return s.batch, nil
}
func (s *benchSource) Commit(context.Context, source.Position) error { return nil }
func (s *benchSource) Close() error                                  { return nil }

type passMapper struct{}

func (passMapper) Map(ev *source.Event, dst []mapping.Record) ([]mapping.Record, error) {
	return append(dst, mapping.Record{Event: ev, Values: ev.Values}), nil
}

type nopTarget struct{ n int }

func (t *nopTarget) Write(_ context.Context, recs []mapping.Record) error {
	t.n += len(recs)
	return nil
}
func (t *nopTarget) Flush(context.Context) error { return nil }
func (t *nopTarget) Close(context.Context) error { return nil }

// BenchmarkRunnerOverhead measures the runner's own cost per event (source,
// mapper and target do nothing): batches of 1024 full-load events, a
// checkpoint every 10000, as with the DMS defaults.
func BenchmarkRunnerOverhead(b *testing.B) {
	tables := []*tabledefs.Table{tableDefs["s.a"], tableDefs["s.b"]}
	batch := source.Batch{Events: make([]source.Event, 1024)}
	for i := range batch.Events {
		batch.Events[i] = source.Event{Op: source.OpLoad, Table: tables[i%2], Seq: int64(i),
			Values: []tabledefs.Value{tabledefs.IntValue(int64(i)), tabledefs.IntValue(1)}}
	}
	batches := max(b.N/1024, 1)
	w := &world{dir: b.TempDir()}
	tgt := &nopTarget{}
	r := &Runner{Task: "bench", MigrationType: "full-load", Tables: []string{"s.a", "s.b"},
		Mapper: passMapper{}, Targets: []Output{{Name: "nop", Target: tgt}}, Store: &benchStore{memStore{w: w}},
		CommitTimeout: time.Hour, Log: discardLog(),
		OpenSource: func(context.Context, source.Position) (source.Source, error) {
			return &benchSource{batch: batch, left: batches}, nil
		}}
	b.ResetTimer()
	if _, err := r.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(tgt.n)/b.Elapsed().Seconds(), "events/s")
}

// benchStore skips the fake store's contract checks (no fake events).
type benchStore struct{ memStore }

func (s *benchStore) Save(context.Context, *Checkpoint) error   { return nil }
func (s *benchStore) Load(context.Context) (*Checkpoint, error) { return nil, nil }
