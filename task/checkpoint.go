package task

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluicedata/sluice/source"
)

// CheckpointVersion is the version of the checkpoint document this build
// writes and the only one it reads.
const CheckpointVersion = 1

// Phases recorded in a checkpoint.
const (
	PhaseFullLoad = "full-load"
	PhaseCDC      = "cdc"
)

// Checkpoint is the durable state of one task: the source position up to
// which every target has made every change durable, and the table
// statistics that describe exactly the changes up to that position.
type Checkpoint struct {
	Version     int             `json:"version"`
	Task        string          `json:"task"`
	Fingerprint string          `json:"fingerprint"`
	Identity    Identity        `json:"identity"`
	Phase       string          `json:"phase"`
	Source      source.Position `json:"source"`
	Stats       TaskStats       `json:"stats"`
	// Owner identifies the runner that saved it (host, pid, random id); the
	// S3 store uses it with SavedAt as a lease.
	Owner   string    `json:"owner,omitempty"`
	SavedAt time.Time `json:"saved_at"`
	// ExceptionParts is how many exceptions parts an s3:// state location
	// holds (exceptions/00000001.jsonl …); 0 for file://.
	ExceptionParts int `json:"exception_parts,omitempty"`
}

// Identity is what must not change between runs of one task: resuming a
// checkpoint under a different identity would skip or mix data.
type Identity struct {
	SourceEngine   string   `json:"source_engine"`   // "s3", "postgres"
	SourceLocation string   `json:"source_location"` // bucket/folder or server/database
	Tables         []string `json:"tables"`          // selected "schema.table", sorted
	MigrationType  string   `json:"migration_type"`
}

// Fingerprint returns a stable hash of the identity.
func (id Identity) Fingerprint() string {
	n := id.normalized()
	b, _ := json.Marshal(n) // a struct of strings cannot fail to marshal
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

func (id Identity) normalized() Identity {
	n := id
	n.Tables = slices.Clone(id.Tables)
	slices.Sort(n.Tables)
	n.Tables = slices.Compact(n.Tables)
	if n.Tables == nil {
		n.Tables = []string{}
	}
	return n
}

// CheckResume refuses to resume cp under a different task or identity and
// says what changed. A nil checkpoint (new task) is always accepted.
func CheckResume(cp *Checkpoint, task string, id Identity) error {
	if cp == nil {
		return nil
	}
	if cp.Version != CheckpointVersion {
		return fmt.Errorf("checkpoint version %d is not supported by this sluice (want %d)", cp.Version, CheckpointVersion)
	}
	if cp.Task != task {
		return fmt.Errorf("the state location holds task %q, not %q: use another StateLocation", cp.Task, task)
	}
	if cp.Fingerprint == id.Fingerprint() {
		return nil
	}
	old, cur := cp.Identity.normalized(), id.normalized()
	var diffs []string
	if old.SourceEngine != cur.SourceEngine {
		diffs = append(diffs, fmt.Sprintf("source engine %q → %q", old.SourceEngine, cur.SourceEngine))
	}
	if old.SourceLocation != cur.SourceLocation {
		diffs = append(diffs, fmt.Sprintf("source location %q → %q", old.SourceLocation, cur.SourceLocation))
	}
	if old.MigrationType != cur.MigrationType {
		diffs = append(diffs, fmt.Sprintf("migration type %q → %q", old.MigrationType, cur.MigrationType))
	}
	if added, removed := setDiff(cur.Tables, old.Tables), setDiff(old.Tables, cur.Tables); len(added)+len(removed) > 0 {
		d := "selected tables changed:"
		if len(added) > 0 {
			d += " added " + strings.Join(added, ", ")
		}
		if len(removed) > 0 {
			if len(added) > 0 {
				d += ";"
			}
			d += " removed " + strings.Join(removed, ", ")
		}
		diffs = append(diffs, d)
	}
	if len(diffs) == 0 {
		diffs = append(diffs, "fingerprint "+cp.Fingerprint+" → "+id.Fingerprint())
	}
	return fmt.Errorf("task %q changed incompatibly since its last checkpoint (%s); it cannot resume: restore the old settings or use a new StateLocation to start over",
		task, strings.Join(diffs, "; "))
}

// setDiff returns the elements of a (sorted) that are not in b (sorted).
func setDiff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if _, found := slices.BinarySearch(b, s); !found {
			out = append(out, s)
		}
	}
	return out
}

// decodeCheckpoint parses and checks the envelope of a stored checkpoint.
func decodeCheckpoint(b []byte, where string) (*Checkpoint, error) {
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("reading checkpoint %s: %w", where, err)
	}
	if cp.Version != CheckpointVersion {
		return nil, fmt.Errorf("reading checkpoint %s: version %d is not supported (want %d)", where, cp.Version, CheckpointVersion)
	}
	if string(cp.Source) == "null" {
		cp.Source = nil
	}
	return &cp, nil
}

func encodeCheckpoint(cp *Checkpoint) ([]byte, error) {
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding checkpoint: %w", err)
	}
	return append(b, '\n'), nil
}
