package task

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluicedata/sluice/tabledefs"
)

// Config is a task file after parsing and validation: DMS's
// create-replication-task and create-endpoint names, plus the sluice
// extensions marked ✚ (design.md "The task file"):
//
//   - StateLocation: file://DIR or s3://BUCKET/PREFIX for checkpoints and state.
//   - SourceEndpoint/TargetEndpoints[].EndpointUrl: custom AWS endpoint.
//   - S3Settings.BucketName "file://DIR": a local directory as the bucket.
//   - S3 source S3Settings.CdcPollInterval (seconds, default 5) and
//     S3Settings.LateCdcFilePolicy ("skip" default, or "stop").
//   - PostgreSQL source ConnectionString and PostgreSQLSettings.PublicationName.
//   - Kinesis KinesisSettings.StreamName instead of StreamArn.
//   - Kinesis producer limits KinesisSettings.MaxInFlightRequests (1..64,
//     default 8), MaxRecordsPerKeyPerRequest (1..500, default 1 = strict
//     per-key order; more trades it for hot-key throughput) and
//     MaxBufferedMB (1..4096, default 64).
//   - EngineName "file" target with FileSettings.Path (+ message options in KinesisSettings).
//
// Documents (ExternalTableDefinition, TableMappings, ReplicationTaskSettings)
// may be inline JSON, JSON text in a string, or file:// relative to the task file.
type Config struct {
	// File is the task file path as given to LoadConfig; Dir its directory,
	// against which relative file:// references were resolved.
	File string
	Dir  string

	ReplicationTaskIdentifier string
	MigrationType             MigrationType
	SourceEndpoint            SourceEndpoint
	TargetEndpoints           []TargetEndpoint
	// TableMappings is the raw table-mapping document: mapping.Compile
	// compiles it (pass its File and Data, and Relocate the error).
	TableMappings           ConfigDocument
	ReplicationTaskSettings Settings
	// StateLocation (✚) is "file:///absolute/dir" or "s3://bucket/prefix".
	// Default: file://<task file dir>/.sluice/<ReplicationTaskIdentifier>.
	StateLocation    string
	CdcStartPosition *ConfigCdcPosition // nil when unset
	CdcStopPosition  *ConfigCdcPosition // nil when unset
}

// MigrationType is DMS's MigrationType.
type MigrationType string

// MigrationType values.
const (
	MigrationFullLoad       MigrationType = "full-load"
	MigrationCDC            MigrationType = "cdc"
	MigrationFullLoadAndCDC MigrationType = "full-load-and-cdc"
)

// FullLoad reports whether the task loads existing data.
func (m MigrationType) FullLoad() bool { return m == MigrationFullLoad || m == MigrationFullLoadAndCDC }

// CDC reports whether the task captures changes.
func (m MigrationType) CDC() bool { return m == MigrationCDC || m == MigrationFullLoadAndCDC }

// ConfigDocument is a document of the task file kept as text, with where its
// problems are to be reported.
type ConfigDocument struct {
	// File is the referenced file (relative to the working directory like
	// the task file path), or the task file itself for inline documents.
	File string
	// Path is the JSON path of the document inside File: "$" for a file of
	// its own, or the key path (e.g. "$.TableMappings") when inline.
	Path string
	Data []byte
}

// Relocate rewrites the Problems that a parser reported against File (with
// paths rooted at "$") so that they point at where the document really is.
// Other errors are returned unchanged.
func (d ConfigDocument) Relocate(err error) error {
	var ps tabledefs.Problems
	if d.Path == "$" || d.Path == "" || !errors.As(err, &ps) {
		return err
	}
	out := make(tabledefs.Problems, len(ps))
	for i, p := range ps {
		p.File = d.File
		if p.Line > 0 {
			p.Msg = fmt.Sprintf("line %d, column %d of the inline JSON text: %s", p.Line, p.Col, p.Msg)
			p.Line, p.Col = 0, 0
			p.Path = d.Path
		} else {
			p.Path = d.Path + strings.TrimPrefix(p.Path, "$")
		}
		out[i] = p
	}
	return out
}

// ConfigCdcPosition is a CdcStartPosition or CdcStopPosition as DMS writes
// them. Raw is kept verbatim; Kind says which form it has.
type ConfigCdcPosition struct {
	Raw  string
	Kind CdcPositionKind
	// Time is set (UTC) for the time forms.
	Time time.Time
	// Value is the text after the "server_time:"/"commit_time:" prefix, the
	// LSN, or the whole checkpoint/native string.
	Value string
}

// LoadConfig reads the task file at path and every document it references.
// An unreadable task file is returned as a wrapped I/O error; any other
// problem makes the error a tabledefs.Problems listing all of them, each as
// FILE:JSONPATH: message.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading task file: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig for a task file already in memory; path locates
// it for file:// references and problem messages.
func ParseConfig(path string, data []byte) (*Config, error) {
	cfg, ps := InspectConfig(path, data)
	if len(ps) > 0 {
		return nil, ps
	}
	return cfg, nil
}

// InspectConfig parses like ParseConfig but always returns the Config as far
// as it could be read, next to the problems found. It is for tools that
// check further (validate compiles TableMappings against the table
// definition); a Config with problems must never be run.
func InspectConfig(path string, data []byte) (*Config, tabledefs.Problems) {
	var ps tabledefs.Problems
	v, err := tabledefs.DecodeJSON(path, data)
	if err != nil {
		if errors.As(err, &ps) {
			return &Config{File: path, Dir: filepath.Dir(path)}, ps
		}
		return &Config{File: path, Dir: filepath.Dir(path)}, tabledefs.Problems{{File: path, Path: "$", Msg: err.Error()}}
	}
	l := &configLoader{file: path, dir: filepath.Dir(path), p: &ps}
	return l.parse(v), ps
}

type configLoader struct {
	file        string
	dir         string
	p           *tabledefs.Problems
	settingsDoc ConfigDocument // where ReplicationTaskSettings came from
}

func (l *configLoader) parse(v any) *Config {
	cfg := &Config{File: l.file, Dir: l.dir, ReplicationTaskSettings: DefaultSettings()}
	l.settingsDoc = ConfigDocument{File: l.file, Path: "$.ReplicationTaskSettings"}
	root, ok := tabledefs.AsObject(v, l.file, "$", l.p)
	if !ok {
		return cfg
	}
	if id, ok := root.String("ReplicationTaskIdentifier", true); ok {
		if msg := checkTaskIdentifier(id); msg != "" {
			l.p.Add(l.file, root.KeyPath("ReplicationTaskIdentifier"), "%s", msg)
		} else {
			cfg.ReplicationTaskIdentifier = id
		}
	}
	if mt, ok := root.String("MigrationType", true); ok {
		cfg.MigrationType, _ = checkEnum(l.p, l.file, root.KeyPath("MigrationType"), mt,
			[]MigrationType{MigrationFullLoad, MigrationCDC, MigrationFullLoadAndCDC})
	}
	if o, ok := root.Object("SourceEndpoint", true); ok {
		cfg.SourceEndpoint = l.sourceEndpoint(o)
	}
	if arr, ok := root.Array("TargetEndpoints", true); ok {
		if len(arr) == 0 {
			l.p.Add(l.file, root.KeyPath("TargetEndpoints"), "must list at least one target endpoint")
		}
		for i, tv := range arr {
			// Keep indexes aligned with the array even for a broken entry:
			// conflict checks name targets by index (a problem was recorded,
			// so this Config is never run).
			var ep TargetEndpoint
			if o, ok := tabledefs.AsObject(tv, l.file, configIndexPath(root.KeyPath("TargetEndpoints"), i), l.p); ok {
				ep = l.targetEndpoint(o)
			}
			cfg.TargetEndpoints = append(cfg.TargetEndpoints, ep)
		}
	}
	if d, ok := l.document(root, "TableMappings", true); ok {
		cfg.TableMappings = d.ConfigDocument
	}
	if d, ok := l.document(root, "ReplicationTaskSettings", false); ok {
		cfg.ReplicationTaskSettings = parseSettings(d.value, d.File, d.Path, l.p)
		l.settingsDoc = d.ConfigDocument
	}
	if s, ok := root.String("StateLocation", false); ok {
		cfg.StateLocation = l.stateLocation(root.KeyPath("StateLocation"), s)
	} else if cfg.ReplicationTaskIdentifier != "" {
		cfg.StateLocation = "file://" + l.abs(filepath.Join(".sluice", cfg.ReplicationTaskIdentifier))
	}
	if s, ok := root.String("CdcStartPosition", false); ok {
		cfg.CdcStartPosition = parseCdcPosition(l.p, l.file, root.KeyPath("CdcStartPosition"), s, true)
	}
	if s, ok := root.String("CdcStopPosition", false); ok {
		cfg.CdcStopPosition = parseCdcPosition(l.p, l.file, root.KeyPath("CdcStopPosition"), s, false)
	}
	refuse(root, "SourceEndpointArn", "is not used: sluice reads the endpoint itself from SourceEndpoint")
	refuse(root, "TargetEndpointArn", "is not used: sluice reads the endpoints themselves from TargetEndpoints")
	refuse(root, "CdcStartTime", "is not supported: use CdcStartPosition \"server_time:YYYY-MM-DDTHH:MM:SS\"")
	// Keys of create-replication-task that concern the DMS service only.
	root.Unknown("ReplicationInstanceArn", "Tags", "TaskData", "ResourceIdentifier")
	l.checkConflicts(root, cfg)
	return cfg
}

// checkTaskIdentifier applies DMS's rules for replication task identifiers;
// it returns "" when id is valid.
func checkTaskIdentifier(id string) string {
	switch {
	case id == "":
		return "must not be empty"
	case len(id) > 255:
		return "must be at most 255 characters"
	case !isASCIILetter(id[0]):
		return fmt.Sprintf("must start with a letter, not %q", id[:1])
	case strings.HasSuffix(id, "-"):
		return "must not end with a hyphen"
	case strings.Contains(id, "--"):
		return "must not contain two consecutive hyphens"
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isASCIILetter(c) && !('0' <= c && c <= '9') && c != '-' {
			return fmt.Sprintf("may contain only ASCII letters, digits and hyphens, not %q", string(rune(c)))
		}
	}
	return ""
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func configIndexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// abs resolves a path from the task file against the task file's directory.
func (l *configLoader) abs(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.dir, p)
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// display is the name a referenced file gets in problem messages: relative
// to the working directory the same way the task file path was given.
func (l *configLoader) display(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(l.dir, p)
}

// loadedDocument is a document after resolving file:// references.
type loadedDocument struct {
	ConfigDocument
	value any // decoded JSON
}

// document reads a document value: inline JSON (object or array), JSON text
// in a string (as the AWS CLI accepts), or "file://path" relative to the
// task file. Problems inside a referenced file carry that file's name; a
// file that cannot be read is a problem at the referencing key.
func (l *configLoader) document(o *tabledefs.Object, key string, required bool) (loadedDocument, bool) {
	raw, ok := o.Raw(key)
	kp := o.KeyPath(key)
	if !ok {
		if required {
			l.p.Add(l.file, kp, "is required")
		}
		return loadedDocument{}, false
	}
	switch x := raw.(type) {
	case map[string]any, []any:
		data, err := json.Marshal(x)
		if err != nil { // cannot happen for decoded JSON; keep the cause if it does
			l.p.Add(l.file, kp, "re-encoding inline document: %v", err)
			return loadedDocument{}, false
		}
		return loadedDocument{ConfigDocument{File: l.file, Path: kp, Data: data}, x}, true
	case string:
		s := strings.TrimSpace(x)
		if rel, isRef := strings.CutPrefix(s, "file://"); isRef {
			if rel == "" {
				l.p.Add(l.file, kp, "file:// reference without a path")
				return loadedDocument{}, false
			}
			name := l.display(rel)
			data, err := os.ReadFile(name)
			if err != nil {
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err
				}
				l.p.Add(l.file, kp, "cannot read %s: %v", name, err)
				return loadedDocument{}, false
			}
			v, err := tabledefs.DecodeJSON(name, data)
			if err != nil {
				l.addErr(err)
				return loadedDocument{}, false
			}
			return loadedDocument{ConfigDocument{File: name, Path: "$", Data: data}, v}, true
		}
		if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
			d := ConfigDocument{File: l.file, Path: kp, Data: []byte(x)}
			v, err := tabledefs.DecodeJSON(l.file, d.Data)
			if err != nil {
				l.addErr(d.Relocate(err))
				return loadedDocument{}, false
			}
			return loadedDocument{d, v}, true
		}
		l.p.Add(l.file, kp, "must be a JSON document, JSON text or a file:// reference, not %q", x)
	default:
		l.p.Add(l.file, kp, "must be a JSON document, JSON text or a file:// reference")
	}
	return loadedDocument{}, false
}

// addErr appends Problems (or, defensively, any other error as one problem).
func (l *configLoader) addErr(err error) {
	var ps tabledefs.Problems
	if errors.As(err, &ps) {
		*l.p = append(*l.p, ps...)
		return
	}
	l.p.Add(l.file, "$", "%v", err)
}

// stateLocation normalises StateLocation to file:///abs or s3://bucket/prefix.
func (l *configLoader) stateLocation(path, s string) string {
	switch {
	case strings.HasPrefix(s, "file://"):
		dir := strings.TrimPrefix(s, "file://")
		if dir == "" {
			l.p.Add(l.file, path, "file:// location without a directory")
			return ""
		}
		return "file://" + l.abs(dir)
	case strings.HasPrefix(s, "s3://"):
		bucket, _, _ := strings.Cut(strings.TrimPrefix(s, "s3://"), "/")
		if msg := checkBucketName(bucket); msg != "" {
			l.p.Add(l.file, path, "bucket %s", msg)
			return ""
		}
		return s
	}
	l.p.Add(l.file, path, "must be file://DIR or s3://BUCKET/PREFIX, not %q", s)
	return ""
}

// checkBucketName applies the S3 bucket naming rules that catch typos.
func checkBucketName(b string) string {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Sprintf("name %q must be 3 to 63 characters long", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return fmt.Sprintf("name %q may contain only lowercase letters, digits, '.' and '-'", b)
		}
	}
	return ""
}
