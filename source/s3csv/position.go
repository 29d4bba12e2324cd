package s3csv

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/sluicedata/sluice/source"
)

const positionVersion = 1

// position is the resume state of the source as of the end of a batch.
type position struct {
	V      int                    `json:"v"`
	Bucket string                 `json:"bucket"`
	Folder string                 `json:"folder,omitempty"`
	Tables map[string]*tableState `json:"tables,omitempty"` // key: "schema.table"
	CDC    *cdcState              `json:"cdc,omitempty"`
}

// tableState is the full-load progress of one table. Objects are read in
// key order, so everything up to LastKey is delivered; CurKey is the object
// being read, delivered up to (not including) NextLine / Offset.
type tableState struct {
	Started   bool   `json:"started,omitempty"` // drop/create control events delivered
	Done      bool   `json:"done,omitempty"`
	Suspended bool   `json:"suspended,omitempty"`
	LastKey   string `json:"last_key,omitempty"`
	LastETag  string `json:"last_etag,omitempty"`
	CurKey    string `json:"cur_key,omitempty"`
	CurETag   string `json:"cur_etag,omitempty"`
	NextLine  int64  `json:"next_line,omitempty"` // line where the next undelivered row of CurKey starts
	Offset    int64  `json:"offset,omitempty"`    // byte offset of that row in CurKey
	Rows      int64  `json:"rows,omitempty"`      // rows and rejects delivered so far
}

// cdcState is the CDC progress: the file being (or last) applied, and the
// CDC files applied or reported recently, with their ETags, which is how
// late and rewritten files are recognised. Seen stays small: a file whose
// LastModified is not after SeenSince is left out of it, because every
// such file sorting before Key was listed, and applied or reported, by an
// earlier full listing (see cdcFollower).
type cdcState struct {
	Started   bool              `json:"started,omitempty"` // create-table control events delivered
	Key       string            `json:"key,omitempty"`
	ETag      string            `json:"etag,omitempty"`
	NextLine  int64             `json:"next_line,omitempty"`
	Offset    int64             `json:"offset,omitempty"`
	FileDone  bool              `json:"file_done,omitempty"`
	Seen      map[string]string `json:"seen,omitempty"`
	SeenSince time.Time         `json:"seen_since,omitzero"`

	seenEnc []byte // Seen encoded; nil when Seen changed since
}

func (p *position) clone() *position {
	c := &position{V: p.V, Bucket: p.Bucket, Folder: p.Folder, Tables: make(map[string]*tableState, len(p.Tables))}
	for k, t := range p.Tables {
		tc := *t
		c.Tables[k] = &tc
	}
	if p.CDC != nil {
		cc := *p.CDC
		cc.Seen = maps.Clone(p.CDC.Seen)
		c.CDC = &cc
	}
	return c
}

func parsePosition(raw source.Position, bucket, folder string) (*position, error) {
	p := &position{V: positionVersion, Bucket: bucket, Folder: folder, Tables: map[string]*tableState{}}
	if len(raw) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("reading the S3 source position: %w", err)
	}
	if p.V != positionVersion {
		return nil, fmt.Errorf("S3 source position has version %d; this sluice reads version %d", p.V, positionVersion)
	}
	if p.Bucket != bucket || p.Folder != folder {
		return nil, fmt.Errorf("the saved position is for bucket %q folder %q, the task now reads bucket %q folder %q: "+
			"start the task from a fresh state", p.Bucket, p.Folder, bucket, folder)
	}
	if p.Tables == nil {
		p.Tables = map[string]*tableState{}
	}
	return p, nil
}

// marshal encodes the position, reusing the encoding of the seen set
// while it is unchanged: batches mostly move the line, not the file set.
func (p *position) marshal() (source.Position, error) {
	type cdcWire struct {
		*cdcState
		Seen json.RawMessage `json:"seen,omitempty"` // shadows cdcState.Seen
	}
	type posWire struct {
		*position
		CDC *cdcWire `json:"cdc,omitempty"` // shadows position.CDC
	}
	w := posWire{position: p}
	if c := p.CDC; c != nil {
		if c.seenEnc == nil && len(c.Seen) > 0 {
			enc, err := json.Marshal(c.Seen)
			if err != nil {
				return nil, fmt.Errorf("encoding the S3 source position: %w", err)
			}
			c.seenEnc = enc
		}
		w.CDC = &cdcWire{cdcState: c, Seen: c.seenEnc}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encoding the S3 source position: %w", err)
	}
	return b, nil
}
