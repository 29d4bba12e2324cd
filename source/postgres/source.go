// Package postgres is the PostgreSQL source: a consistent snapshot of the
// selected tables, then logical replication with the pgoutput plugin
// (protocol in package pgrepl).
//
// Durability: the flush LSN reported to the server is only ever the LSN
// of the last position passed to Commit, so the server keeps every change
// the runner has not yet made durable. A restart replays from there.
//
// Values: pgoutput and the snapshot both deliver text, decoded with the
// DMS type map (see types.go). Connections run with DateStyle=ISO,
// TimeZone=UTC, bytea_output=hex and lc_monetary=C so the text forms are
// fixed. Unchanged TOASTed values of an update are taken from the old row
// when the table has REPLICA IDENTITY FULL; otherwise they are NULL and
// listed in Event.Unchanged.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/postgres/pgrepl"
	"github.com/sluicedata/sluice/tabledefs"
)

// Options configures a Source.
type Options struct {
	ConnString      string // libpq URL or key=value string
	SlotName        string // logical slot; created when missing
	PublicationName string // created FOR TABLE the selected tables when missing
	// Tables are the selected tables (from Describe, after table mapping);
	// events point at these.
	Tables        []*tabledefs.Table
	FullLoad, CDC bool
	// Once ends CDC (ErrDone) once every change committed before streaming
	// began has been delivered.
	Once bool
	// StartLSN is a native CdcStartPosition for a new CDC-only task (0: the
	// slot's confirmed position).
	StartLSN pgrepl.LSN
	// HeartbeatFrequency, when positive, writes a WAL record that often
	// (pg_logical_emit_message) so an idle database's slot can advance.
	HeartbeatFrequency time.Duration
	// StatusInterval is the standby status period (default 10 s; keep it
	// below wal_sender_timeout/2).
	StatusInterval  time.Duration
	BatchSize       int  // events per batch (default 5000)
	TrimSpaceInChar bool // right-trim CHAR(n) values (DMS default true)
	Logger          *slog.Logger
}

// Source reads one PostgreSQL database. Next and Commit must not be called
// concurrently with each other (the runner never does).
type Source struct {
	opts  Options
	log   *slog.Logger
	infos []*relInfo

	rconn *pgconn.PgConn // replication connection
	snap  *snapshot
	pos   position // position after everything handed out so far

	// CDC
	committed atomic.Uint64
	kick      chan struct{}
	items     chan item
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	errMu     sync.Mutex
	err       error
	done      chan struct{}
	inTx      bool
	caughtUp  bool
	cdcLive   bool
}

// New opens the source. resume is a position from an earlier run, or nil
// for a new task.
func New(ctx context.Context, opts Options, resume source.Position) (_ *Source, err error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if opts.StatusInterval <= 0 {
		opts.StatusInterval = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if !opts.FullLoad && !opts.CDC {
		return nil, errors.New("postgres source: neither full load nor CDC")
	}
	if opts.CDC {
		if err := pgrepl.ValidName("slot", opts.SlotName); err != nil {
			return nil, err
		}
		if err := pgrepl.ValidName("publication", opts.PublicationName); err != nil {
			return nil, err
		}
	}
	s := &Source{opts: opts, log: opts.Logger, kick: make(chan struct{}, 1), done: make(chan struct{})}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	var p position
	if resume != nil {
		if p, err = decodePosition(resume); err != nil {
			return nil, err
		}
		if opts.CDC && (p.Slot != opts.SlotName || p.Publication != opts.PublicationName) {
			return nil, fmt.Errorf("postgres source: the saved position is for slot %q and publication %q, the task now names %q and %q",
				p.Slot, p.Publication, opts.SlotName, opts.PublicationName)
		}
	} else {
		p = position{Phase: phaseSnapshot, Slot: opts.SlotName, Publication: opts.PublicationName}
		if !opts.FullLoad {
			p.Phase = phaseCDC
		}
	}
	if !opts.CDC {
		p.Slot, p.Publication = "", ""
	}

	db, err := connect(ctx, opts.ConnString)
	if err != nil {
		return nil, err
	}
	if s.infos, err = s.describeTables(ctx, db); err != nil {
		db.Close(ctx)
		return nil, err
	}
	var slotInfo *slotState
	if opts.CDC {
		if err := s.ensurePublication(ctx, db); err != nil {
			db.Close(ctx)
			return nil, err
		}
		if slotInfo, err = readSlot(ctx, db, opts.SlotName); err != nil {
			db.Close(ctx)
			return nil, err
		}
		if s.rconn, err = pgrepl.Connect(ctx, opts.ConnString, sessionParams()); err != nil {
			db.Close(ctx)
			return nil, err
		}
	}

	snapName := ""
	switch {
	case resume == nil && opts.CDC && (opts.FullLoad || slotInfo == nil):
		if slotInfo != nil {
			db.Close(ctx)
			return nil, fmt.Errorf("replication slot %s already exists: a new full-load-and-cdc task creates its own slot "+
				"(drop it, or resume the task that owns it)", opts.SlotName)
		}
		action := pgrepl.NoExportSnapshot
		if opts.FullLoad {
			action = pgrepl.ExportSnapshot
		}
		sl, err := pgrepl.CreateSlot(ctx, s.rconn, opts.SlotName, false, action)
		if err != nil {
			db.Close(ctx)
			return nil, err
		}
		s.log.Info("created replication slot", "slot", sl.Name, "consistent_point", sl.ConsistentPoint.String())
		p.LSN, snapName = sl.ConsistentPoint.String(), sl.Snapshot
	case resume == nil && opts.CDC:
		start := opts.StartLSN
		if start != 0 && start < slotInfo.confirmed {
			db.Close(ctx)
			return nil, fmt.Errorf("CdcStartPosition %s is before slot %s's confirmed_flush_lsn %s: those changes are gone",
				start, opts.SlotName, slotInfo.confirmed)
		}
		p.LSN = max(start, slotInfo.confirmed).String()
	case opts.CDC:
		if slotInfo == nil {
			db.Close(ctx)
			return nil, fmt.Errorf("replication slot %s no longer exists: the saved position cannot be resumed", opts.SlotName)
		}
		// The server never confirms past what was committed, so a confirmed
		// position ahead of the saved one means another consumer moved it.
		if p.lsn() < slotInfo.confirmed {
			db.Close(ctx)
			return nil, fmt.Errorf("slot %s is confirmed to %s, after the saved position %s: changes in between were consumed elsewhere",
				opts.SlotName, slotInfo.confirmed, p.LSN)
		}
	}
	s.pos = p
	if opts.CDC {
		s.committed.Store(uint64(p.lsn()))
	}

	if p.Phase == phaseSnapshot {
		if resume != nil && opts.CDC {
			s.log.Warn("resuming a full load with a new snapshot: rows changed since the slot was created may be delivered twice")
		}
		s.snap = &snapshot{conn: db, tables: s.infos, trimChar: opts.TrimSpaceInChar, pos: p}
		if err := s.snap.begin(ctx, snapName); err != nil {
			return nil, err
		}
	} else {
		db.Close(ctx)
		if err := s.startCDC(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Next returns the next batch.
func (s *Source) Next(ctx context.Context) (source.Batch, error) {
	if s.snap != nil && !s.snap.finished {
		return s.nextSnapshot(ctx)
	}
	if !s.opts.CDC {
		return source.Batch{}, source.ErrDone
	}
	if s.caughtUp {
		return source.Batch{}, source.ErrDone
	}
	return s.nextCDC(ctx)
}

func (s *Source) nextSnapshot(ctx context.Context) (source.Batch, error) {
	var b source.Batch
	if err := s.snap.next(ctx, s.opts.BatchSize, &b); err != nil {
		return source.Batch{}, err
	}
	s.pos.Done, s.pos.Table, s.pos.After, s.pos.Rows = s.snap.pos.Done, s.snap.pos.Table, s.snap.pos.After, s.snap.pos.Rows
	if s.snap.finished {
		s.snap.conn.Close(ctx)
		if s.opts.CDC {
			s.pos = position{Phase: phaseCDC, Slot: s.pos.Slot, Publication: s.pos.Publication, LSN: s.pos.LSN}
			if err := s.startCDC(ctx); err != nil {
				return source.Batch{}, err
			}
		}
	}
	b.Pos = s.pos.encode()
	return b, nil
}

// Commit records that everything up to pos is durable downstream; the
// stream reports its LSN as the flush position. A position inside a
// transaction commits the transactions before it only.
func (s *Source) Commit(ctx context.Context, pos source.Position) error {
	p, err := decodePosition(pos)
	if err != nil {
		return err
	}
	if !s.opts.CDC || p.Phase != phaseCDC && p.LSN == "" {
		return nil
	}
	l := uint64(p.lsn())
	for {
		cur := s.committed.Load()
		if l <= cur || s.committed.CompareAndSwap(cur, l) {
			break
		}
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// Close stops streaming and closes the connections.
func (s *Source) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.snap != nil {
		s.snap.close()
		if !s.snap.conn.IsClosed() {
			s.snap.conn.Close(ctx)
		}
	}
	if s.rconn != nil {
		if s.cdcLive && !s.rconn.IsClosed() {
			// The stream goroutine has ended, so the connection is free: report
			// the last committed position so the slot does not lag a restart.
			flushed := pgrepl.LSN(s.committed.Load())
			_ = pgrepl.SendStatus(s.rconn, pgrepl.Status{Written: flushed, Flushed: flushed, Applied: flushed})
		}
		return s.rconn.Close(ctx)
	}
	return nil
}
