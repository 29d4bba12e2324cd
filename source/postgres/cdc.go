package postgres

import (
	"context"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/postgres/pgrepl"
	"github.com/sluicedata/sluice/tabledefs"
)

// startCDC starts streaming from the position's LSN in a goroutine the
// Source owns until Close.
func (s *Source) startCDC(ctx context.Context) error {
	var target pgrepl.LSN
	if s.opts.Once {
		sys, err := pgrepl.IdentifySystem(ctx, s.rconn)
		if err != nil {
			return err
		}
		target = sys.WALPos
	}
	from := s.pos.lsn()
	if err := pgrepl.StartReplication(ctx, s.rconn, s.opts.SlotName, from, s.opts.PublicationName); err != nil {
		return err
	}
	s.log.Info("streaming changes", "slot", s.opts.SlotName, "from", from.String())
	tables := map[[2]string]*tabledefs.Table{}
	for _, ri := range s.infos {
		tables[[2]string{ri.table.Owner, ri.table.Name}] = ri.table
	}
	st := &stream{conn: s.rconn, tables: tables, trimChar: s.opts.TrimSpaceInChar, out: make(chan item, 1024),
		committed: &s.committed, kick: s.kick, interval: s.opts.StatusInterval, once: s.opts.Once, target: target,
		log: s.log, sentPos: from, reported: from}
	if s.pos.Tx != "" {
		st.skipTx, _ = pgrepl.ParseLSN(s.pos.Tx)
		st.skipSeq = s.pos.TxSeq
		s.inTx = true
	}
	s.items = st.out
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.done)
		err := st.run(rctx)
		s.errMu.Lock()
		s.err = err
		s.errMu.Unlock()
	}()
	if s.opts.HeartbeatFrequency > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.heartbeat(rctx)
		}()
	}
	s.cdcLive = true
	return nil
}

// heartbeat writes a non-transactional logical message periodically so the
// walsender has WAL to pass, and the slot can advance on an idle database.
// Failures are logged: they never stop the task.
func (s *Source) heartbeat(ctx context.Context) {
	t := time.NewTicker(s.opts.HeartbeatFrequency)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		db, err := connect(ctx, s.opts.ConnString)
		if err == nil {
			_, err = db.Exec(ctx, `SELECT pg_logical_emit_message(false, 'sluice_heartbeat', '')`)
			db.Close(context.WithoutCancel(ctx))
		}
		if err != nil && ctx.Err() == nil {
			s.log.Warn("heartbeat failed", "err", err)
		}
	}
}

// idleReturn is how long Next waits without any change before returning an
// empty batch, so the runner can run its deferred Commit.
const idleReturn = time.Second

func (s *Source) nextCDC(ctx context.Context) (source.Batch, error) {
	var b source.Batch
	moved := false
	idle := time.NewTimer(idleReturn)
	defer idle.Stop()
	for len(b.Events)+len(b.Rejects) < s.opts.BatchSize {
		var it item
		select {
		case it = <-s.items:
		default:
			if moved && !s.inTx {
				b.Pos = s.pos.encode()
				return b, nil
			}
			select {
			case it = <-s.items:
			case <-idle.C:
				if moved {
					b.Pos = s.pos.encode()
				}
				return b, nil
			case <-s.done:
				return b, s.streamErr()
			case <-ctx.Done():
				return source.Batch{}, ctx.Err()
			}
		}
		moved = true
		switch it.kind {
		case itemChange:
			b.Events = append(b.Events, it.events...)
			if it.reject != nil {
				b.Rejects = append(b.Rejects, *it.reject)
			}
			s.inTx = true
			s.pos.Tx, s.pos.TxSeq = it.tx.String(), it.seq
		case itemCommit, itemProgress:
			s.inTx = false
			s.pos.LSN, s.pos.Tx, s.pos.TxSeq = it.lsn.String(), "", 0
		case itemCaughtUp:
			s.caughtUp = true
			b.Pos = s.pos.encode()
			return b, nil
		}
	}
	b.Pos = s.pos.encode()
	return b, nil
}

func (s *Source) streamErr() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if s.err == nil {
		return errStreamEnded
	}
	return s.err
}
