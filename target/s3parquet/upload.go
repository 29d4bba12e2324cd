package s3parquet

import (
	"context"
	"errors"
	"sync"
)

// uploadWorkers bounds concurrent uploads.
const uploadWorkers = 4

// upload puts every pending file, a few at a time; failed ones stay pending.
func (t *Target) upload(ctx context.Context) error {
	if len(t.pending) == 0 {
		return nil
	}
	errs := make([]error, len(t.pending))
	sem := make(chan struct{}, uploadWorkers)
	var wg sync.WaitGroup
	for i, p := range t.pending {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = t.store.put(ctx, p.key, p.f, p.size)
		}()
	}
	wg.Wait()
	left := t.pending[:0]
	for i, p := range t.pending {
		if errs[i] != nil {
			left = append(left, p)
			continue
		}
		t.log.Debug("file written", "key", p.key, "rows", p.rows, "bytes", p.size)
		removeSpool(p.f)
	}
	clear(t.pending[len(left):])
	t.pending = left
	return errors.Join(errs...)
}
