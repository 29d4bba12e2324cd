package postgres

import (
	"encoding/json"
	"fmt"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/postgres/pgrepl"
)

// Position phases.
const (
	phaseSnapshot = "snapshot"
	phaseCDC      = "cdc"
)

// position is the source's resume point, stored by the runner as JSON:
//
//	{"v":1,"phase":"cdc","slot":"s","publication":"p","lsn":"0/1538AC0"}
//	{"v":1,"phase":"cdc",…,"lsn":"0/1538AC0","tx":"0/1539680","tx_seq":500}
//	{"v":1,"phase":"snapshot",…,"lsn":"0/1538890","done":["public.a"],"table":"public.b","after":["42"],"rows":42}
//
// In the CDC phase lsn is the end LSN of the last transaction delivered
// whole: Commit reports it as the flush LSN. When a batch ends inside a
// large transaction, tx is that transaction's commit LSN and tx_seq how
// many of its changes were delivered; a resume replays the transaction
// from lsn and skips those. In the snapshot phase lsn is the slot's
// consistent point (empty for a full-load-only task), done the tables
// loaded, and table/after/rows the table being read with the primary key
// of its last delivered row (text, in key order; absent for a table
// without a primary key, which is then re-read whole).
type position struct {
	V           int      `json:"v"`
	Phase       string   `json:"phase"`
	Slot        string   `json:"slot,omitempty"`
	Publication string   `json:"publication,omitempty"`
	LSN         string   `json:"lsn,omitempty"`
	Tx          string   `json:"tx,omitempty"`
	TxSeq       int64    `json:"tx_seq,omitempty"`
	Done        []string `json:"done,omitempty"`
	Table       string   `json:"table,omitempty"`
	After       []string `json:"after,omitempty"`
	Rows        int64    `json:"rows,omitempty"`
}

func (p position) encode() source.Position {
	p.V = 1
	b, err := json.Marshal(p)
	if err != nil { // only strings and ints: cannot happen
		panic(err)
	}
	return b
}

func decodePosition(raw source.Position) (position, error) {
	var p position
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("postgres position %s: %w", raw, err)
	}
	if p.V != 1 {
		return p, fmt.Errorf("postgres position: version %d, want 1", p.V)
	}
	switch p.Phase {
	case phaseSnapshot:
	case phaseCDC:
		if _, err := pgrepl.ParseLSN(p.LSN); err != nil {
			return p, fmt.Errorf("postgres position: %w", err)
		}
		if p.Tx != "" {
			if _, err := pgrepl.ParseLSN(p.Tx); err != nil {
				return p, fmt.Errorf("postgres position: tx: %w", err)
			}
		}
	default:
		return p, fmt.Errorf("postgres position: unknown phase %q", p.Phase)
	}
	if p.LSN != "" {
		if _, err := pgrepl.ParseLSN(p.LSN); err != nil {
			return p, fmt.Errorf("postgres position: %w", err)
		}
	}
	return p, nil
}

// lsn returns the parsed LSN (validated by decodePosition).
func (p position) lsn() pgrepl.LSN {
	l, _ := pgrepl.ParseLSN(p.LSN)
	return l
}
