package task

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/tabledefs"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/tasks/invalid")

const tasksDir = "../testdata/tasks"

func mustLoadConfig(t *testing.T, path string) *Config {
	t.Helper()
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("LoadConfig(%s): %v", path, err)
	}
	return cfg
}

func absPathT(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLoadConfigValidFiles(t *testing.T) {
	dir := filepath.Join(tasksDir, "valid-files")
	cfg := mustLoadConfig(t, filepath.Join(dir, "task.json"))

	if cfg.ReplicationTaskIdentifier != "orders-to-kinesis" || cfg.MigrationType != MigrationFullLoadAndCDC {
		t.Errorf("id/type = %q/%q", cfg.ReplicationTaskIdentifier, cfg.MigrationType)
	}
	src := cfg.SourceEndpoint
	if src.EngineName != EngineS3 || src.EndpointUrl != "http://127.0.0.1:9000" || src.S3Settings == nil || src.Postgres != nil {
		t.Fatalf("source endpoint = %+v", src)
	}
	s3 := src.S3Settings
	wantNull := ""
	want := S3SourceSettings{
		BucketName: "landing", BucketFolder: "exports", CdcPath: "cdc", CsvDelimiter: ",", CsvRowDelimiter: "\n",
		IgnoreHeaderRows: 1, Rfc4180: true, CsvNullValue: &wantNull, DataFormat: "csv",
		ExternalTableDefinition:     s3.ExternalTableDefinition,
		ExternalTableDefinitionFile: filepath.Join(dir, "tabledefs.json"),
		CdcPollInterval:             2, LateCdcFilePolicy: LateCdcFileStop,
	}
	if !reflect.DeepEqual(*s3, want) {
		t.Errorf("S3Settings =\n%+v, want\n%+v", *s3, want)
	}
	if def := s3.ExternalTableDefinition; def == nil || len(def.Tables) != 2 || def.Tables[0].Name != "orders" {
		t.Errorf("ExternalTableDefinition = %+v", def)
	}

	if len(cfg.TargetEndpoints) != 3 {
		t.Fatalf("%d targets", len(cfg.TargetEndpoints))
	}
	k := cfg.TargetEndpoints[0].KinesisSettings
	if k == nil || k.StreamArn != "arn:aws:kinesis:us-east-1:123456789012:stream/orders" || k.MessageFormat != MessageJSON ||
		!k.IncludeTransactionDetails || !k.PartitionIncludeSchemaTable || k.IncludeNullAndEmpty {
		t.Errorf("kinesis settings = %+v", k)
	}
	s3t := cfg.TargetEndpoints[1].S3Settings
	if s3t == nil || s3t.BucketName != "file://"+absPathT(t, filepath.Join(dir, "lake")) || s3t.DataFormat != "parquet" ||
		s3t.ParquetVersion != "parquet-2-0" || s3t.CompressionType != "gzip" || s3t.DatePartitionTimezone != "Europe/Paris" ||
		s3t.RowGroupLength != 10000 || !s3t.EnableStatistics || s3t.CsvNullValue != nil {
		t.Errorf("s3 target settings = %+v", s3t)
	}
	ft := cfg.TargetEndpoints[2]
	if ft.FileSettings == nil || ft.FileSettings.Path != absPathT(t, filepath.Join(dir, "out/records.jsonl")) ||
		ft.KinesisSettings == nil || ft.KinesisSettings.MessageFormat != MessageJSONUnformatted || !ft.KinesisSettings.IncludeNullAndEmpty {
		t.Errorf("file target = %+v / %+v", ft.FileSettings, ft.KinesisSettings)
	}

	if cfg.TableMappings.File != filepath.Join(dir, "table-mappings.json") || cfg.TableMappings.Path != "$" ||
		!strings.Contains(string(cfg.TableMappings.Data), `"rule-type": "selection"`) {
		t.Errorf("TableMappings = %+v", cfg.TableMappings)
	}
	st := cfg.ReplicationTaskSettings
	if st.FullLoadSettings.CommitRate != 20000 || st.FullLoadSettings.MaxFullLoadSubTasks != 4 ||
		st.FullLoadSettings.TargetTablePrepMode != PrepDropAndCreate || st.TargetMetadata.ParallelApplyThreads != 4 ||
		!st.BeforeImageSettings.EnableBeforeImage || st.BeforeImageSettings.FieldName != "before-image" ||
		st.ErrorBehavior.DataErrorEscalationCount != 50 || st.ErrorBehavior.RecoverableErrorCount != 0 ||
		st.ChangeProcessingTuning.MinTransactionSize != 500 || st.ChangeProcessingTuning.CommitTimeout != 2 ||
		len(st.Logging.LogComponents) != 2 || st.Logging.LogComponents[1].Severity != "LOGGER_SEVERITY_DEBUG" {
		t.Errorf("settings = %+v", st)
	}
	// Keys not set keep DMS defaults.
	if st.ErrorBehavior.EventErrorPolicy != ErrorIgnore || st.ValidationSettings.PartitionSize != 10000 {
		t.Errorf("defaults lost: %+v", st)
	}
	wantIgnored := []string{
		filepath.Join(dir, "task-settings.json") + ":$.Logging.CloudWatchLogGroup",
		filepath.Join(dir, "task-settings.json") + ":$.Logging.CloudWatchLogStream",
		filepath.Join(dir, "task-settings.json") + ":$.CharacterSetSettings",
	}
	if !reflect.DeepEqual(st.Ignored, wantIgnored) {
		t.Errorf("Ignored = %q, want %q", st.Ignored, wantIgnored)
	}
	if cfg.StateLocation != "s3://state-bucket/sluice/orders" {
		t.Errorf("StateLocation = %q", cfg.StateLocation)
	}
	if p := cfg.CdcStopPosition; p == nil || p.Kind != CdcPositionServerTime || p.Time.Year() != 2030 || p.Value != "2030-01-01T00:00:00" {
		t.Errorf("CdcStopPosition = %+v", p)
	}
	if cfg.CdcStartPosition != nil {
		t.Errorf("CdcStartPosition = %+v, want nil", cfg.CdcStartPosition)
	}
}

func TestLoadConfigValidInline(t *testing.T) {
	dir := filepath.Join(tasksDir, "valid-inline")
	file := filepath.Join(dir, "task.json")
	cfg := mustLoadConfig(t, file)

	s3 := cfg.SourceEndpoint.S3Settings
	if s3.BucketName != "file://"+absPathT(t, filepath.Join(dir, "data")) || s3.Rfc4180 || s3.CsvNullValue != nil ||
		s3.CdcPollInterval != 5 || s3.LateCdcFilePolicy != LateCdcFileSkip {
		t.Errorf("S3Settings = %+v", s3)
	}
	if s3.ExternalTableDefinitionFile != file || s3.ExternalTableDefinition == nil || s3.ExternalTableDefinition.Tables[0].Name != "items" {
		t.Errorf("inline table definition = %q %+v", s3.ExternalTableDefinitionFile, s3.ExternalTableDefinition)
	}
	if cfg.TableMappings.File != file || cfg.TableMappings.Path != "$.TableMappings" ||
		!strings.HasPrefix(string(cfg.TableMappings.Data), `{"rules":`) {
		t.Errorf("TableMappings = %+v", cfg.TableMappings)
	}
	want := DefaultSettings()
	want.FullLoadSettings.MaxFullLoadSubTasks = 2
	if !reflect.DeepEqual(cfg.ReplicationTaskSettings, want) {
		t.Errorf("settings =\n%+v, want\n%+v", cfg.ReplicationTaskSettings, want)
	}
	if got, wantLoc := cfg.StateLocation, "file://"+absPathT(t, filepath.Join(dir, ".sluice", "inline1")); got != wantLoc {
		t.Errorf("StateLocation = %q, want %q", got, wantLoc)
	}
	ft := cfg.TargetEndpoints[0]
	if ft.KinesisSettings == nil || ft.KinesisSettings.MessageFormat != MessageJSON {
		t.Errorf("file target message options = %+v", ft.KinesisSettings)
	}
}

func TestLoadConfigPostgresFile(t *testing.T) {
	dir := filepath.Join(tasksDir, "valid-postgres")
	cfg := mustLoadConfig(t, filepath.Join(dir, "task.json"))
	pg := cfg.SourceEndpoint.Postgres
	if pg == nil || pg.ConnectionString == "" || pg.ServerName != "" || pg.Port != 5432 ||
		pg.Settings.PublicationName != "sluice_orders" || pg.Settings.SlotName != "sluice_pg_orders" {
		t.Errorf("postgres endpoint = %+v", pg)
	}
	if cfg.StateLocation != "file://"+absPathT(t, filepath.Join(dir, "state")) {
		t.Errorf("StateLocation = %q", cfg.StateLocation)
	}
	if cfg.TableMappings.File != filepath.Join(dir, "../valid-files/table-mappings.json") {
		t.Errorf("TableMappings.File = %q", cfg.TableMappings.File)
	}
	if p := cfg.CdcStopPosition; p == nil || p.Kind != CdcPositionCommitTime {
		t.Errorf("CdcStopPosition = %+v", p)
	}
}

func TestLoadConfigPostgres(t *testing.T) {
	doc := `{
  "ReplicationTaskIdentifier": "pg1", "MigrationType": "cdc",
  "SourceEndpoint": {"EngineName": "postgres", "ServerName": "localhost", "Port": "5433",
    "DatabaseName": "app", "Username": "repl",
    "PostgreSQLSettings": {"SlotName": "sluice_pg1", "PluginName": "pgoutput", "HeartbeatEnable": "y",
      "HeartbeatFrequency": 1, "MaxFileSize": 32768}},
  "TargetEndpoints": [{"EngineName": "kinesis", "EndpointUrl": "https://kinesis.local:4567",
    "KinesisSettings": {"StreamName": "orders"}}],
  "TableMappings": {"rules": []},
  "CdcStartPosition": "checkpoint:V1#1#000004AF/B00000D0#0#0#*#0#0"
}`
	cfg, err := ParseConfig("mem/task.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	pg := cfg.SourceEndpoint.Postgres
	if pg == nil || pg.ServerName != "localhost" || pg.Port != 5433 || pg.DatabaseName != "app" || pg.Username != "repl" ||
		pg.Settings.SlotName != "sluice_pg1" || pg.Settings.PluginName != "pgoutput" || !pg.Settings.HeartbeatEnable ||
		pg.Settings.HeartbeatFrequency != 1 || pg.Settings.HeartbeatSchema != "public" || !pg.Settings.TrimSpaceInChar {
		t.Errorf("postgres endpoint = %+v", pg)
	}
	if p := cfg.CdcStartPosition; p == nil || p.Kind != CdcPositionCheckpoint {
		t.Errorf("CdcStartPosition = %+v", p)
	}
	if cfg.TargetEndpoints[0].EndpointUrl != "https://kinesis.local:4567" {
		t.Errorf("EndpointUrl = %q", cfg.TargetEndpoints[0].EndpointUrl)
	}
}

// TestLoadConfigInvalid loads every task of testdata/tasks/invalid and
// compares the problems with NAME.golden (go test -update rewrites them).
func TestLoadConfigInvalid(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(tasksDir, "invalid", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			_, err := LoadConfig(file)
			var ps tabledefs.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("LoadConfig error = %v, want Problems", err)
			}
			got := ps.Error() + "\n"
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestLoadConfigUnreadable(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "missing.json"))
	var ps tabledefs.Problems
	if err == nil || errors.As(err, &ps) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want a wrapped fs.ErrNotExist", err)
	}
}

func TestCheckTaskIdentifier(t *testing.T) {
	tests := []struct {
		id, want string
	}{
		{"orders", ""},
		{"Orders-2024-a", ""},
		{"a", ""},
		{strings.Repeat("a", 255), ""},
		{strings.Repeat("a", 256), "must be at most 255 characters"},
		{"", "must not be empty"},
		{"1orders", `must start with a letter, not "1"`},
		{"-orders", `must start with a letter, not "-"`},
		{"orders-", "must not end with a hyphen"},
		{"or--ders", "must not contain two consecutive hyphens"},
		{"or_ders", `may contain only ASCII letters, digits and hyphens, not "_"`},
		{"ordérs", `may contain only ASCII letters, digits and hyphens, not "Ã"`},
	}
	for _, tt := range tests {
		if got := checkTaskIdentifier(tt.id); got != tt.want {
			t.Errorf("checkTaskIdentifier(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestParseCdcPosition(t *testing.T) {
	tests := []struct {
		in       string
		start    bool
		wantKind CdcPositionKind
		wantErr  string
	}{
		{"server_time:2018-02-09T12:12:12", false, CdcPositionServerTime, ""},
		{"commit_time:2018-02-09T12:12:12", false, CdcPositionCommitTime, ""},
		{"commit_time:2018-02-09T12:12:12", true, CdcPositionCommitTime, ""},
		{"2018-03-08T12:12:12", true, CdcPositionTime, ""},
		{"2018-03-08T12:12:12Z", true, CdcPositionTime, ""},
		{"checkpoint:V1#27#00000132/0F000E48#0#0#*#0#121", true, CdcPositionCheckpoint, ""},
		{"4AF/B00000D0", true, CdcPositionLSN, ""},
		{"mysql-bin-changelog.000024:373", true, CdcPositionNative, ""},
		{"2018-03-08 12:12", true, "", "time must look like"},
		{"server_time:yesterday", false, "", "server_time: time must look like"},
		{"2018-02-09T12:12:12", false, "", `must be "server_time:`},
		{"", true, "", "must not be empty"},
	}
	for _, tt := range tests {
		var ps tabledefs.Problems
		pos := parseCdcPosition(&ps, "f", "$.P", tt.in, tt.start)
		if tt.wantErr != "" {
			if pos != nil || len(ps) != 1 || !strings.Contains(ps[0].Msg, tt.wantErr) {
				t.Errorf("%q: pos %+v, problems %v, want %q", tt.in, pos, ps, tt.wantErr)
			}
			continue
		}
		if len(ps) > 0 || pos == nil || pos.Kind != tt.wantKind || pos.Raw != tt.in {
			t.Errorf("%q: pos %+v, problems %v, want kind %q", tt.in, pos, ps, tt.wantKind)
		}
		if (tt.wantKind == CdcPositionTime || tt.wantKind == CdcPositionServerTime) && pos.Time.IsZero() {
			t.Errorf("%q: time not parsed", tt.in)
		}
	}
}

func TestDefaultSettingsMatchDMS(t *testing.T) {
	s := DefaultSettings()
	checks := []struct {
		name      string
		got, want any
	}{
		{"MaxFullLoadSubTasks", s.FullLoadSettings.MaxFullLoadSubTasks, 8},
		{"CommitRate", s.FullLoadSettings.CommitRate, 10000},
		{"TransactionConsistencyTimeout", s.FullLoadSettings.TransactionConsistencyTimeout, 600},
		{"ParallelApplyBufferSize", s.TargetMetadata.ParallelApplyBufferSize, 100},
		{"LobMaxSize", s.TargetMetadata.LobMaxSize, 32},
		{"StreamBufferCount", s.StreamBufferSettings.StreamBufferCount, 3},
		{"StreamBufferSizeInMB", s.StreamBufferSettings.StreamBufferSizeInMB, 8},
		{"MinTransactionSize", s.ChangeProcessingTuning.MinTransactionSize, 1000},
		{"CommitTimeout", s.ChangeProcessingTuning.CommitTimeout, 1},
		{"MemoryLimitTotal", s.ChangeProcessingTuning.MemoryLimitTotal, 1024},
		{"DataErrorPolicy", s.ErrorBehavior.DataErrorPolicy, ErrorLogError},
		{"TableErrorPolicy", s.ErrorBehavior.TableErrorPolicy, ErrorSuspendTable},
		{"ApplyErrorDeletePolicy", s.ErrorBehavior.ApplyErrorDeletePolicy, ErrorIgnoreRecord},
		{"RecoverableErrorCount", s.ErrorBehavior.RecoverableErrorCount, -1},
		{"RecoverableErrorThrottlingMax", s.ErrorBehavior.RecoverableErrorThrottlingMax, 1800},
		{"FullLoadIgnoreConflicts", s.ErrorBehavior.FullLoadIgnoreConflicts, true},
		{"ColumnFilter", s.BeforeImageSettings.ColumnFilter, BeforeImagePKOnly},
		{"HandleSourceTableAltered", s.ChangeProcessingDdlHandlingPolicy.HandleSourceTableAltered, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestConfigDocumentRelocate(t *testing.T) {
	d := ConfigDocument{File: "task.json", Path: "$.TableMappings"}
	in := tabledefs.Problems{
		{File: "task.json", Path: "$.rules[0].rule-type", Msg: "bad"},
		{File: "task.json", Line: 1, Col: 9, Msg: "invalid JSON: x"},
	}
	got := d.Relocate(in).Error()
	want := "task.json:$.TableMappings.rules[0].rule-type: bad\n" +
		"task.json:$.TableMappings: line 1, column 9 of the inline JSON text: invalid JSON: x"
	if got != want {
		t.Errorf("Relocate =\n%s\nwant\n%s", got, want)
	}
	other := errors.New("boom")
	if err := d.Relocate(other); err != other {
		t.Errorf("non-Problems error changed: %v", err)
	}
	own := ConfigDocument{File: "m.json", Path: "$"}
	if err := own.Relocate(in); !reflect.DeepEqual(err, error(in)) {
		t.Errorf("own-file document changed problems: %v", err)
	}
}

func TestReadEnumSuggestions(t *testing.T) {
	tests := []struct{ in, want string }{
		{"LOG_ERROR", ""},
		{"log_error", `must be "LOG_ERROR", not "log_error" (values are case-sensitive)`},
		{"LOG_EROR", `must be one of "IGNORE_RECORD", "LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK", not "LOG_EROR" (did you mean "LOG_ERROR"?)`},
		{"zzz", `must be one of "IGNORE_RECORD", "LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK", not "zzz"`},
	}
	for _, tt := range tests {
		var ps tabledefs.Problems
		o, _ := tabledefs.AsObject(map[string]any{"P": tt.in}, "f", "$", &ps)
		var got ErrorPolicy
		readEnum(o, "P", &got, ErrorIgnoreRecord, ErrorLogError, ErrorSuspendTable, ErrorStopTask)
		msg := ""
		if len(ps) > 0 {
			msg = ps[0].Msg
		}
		if msg != tt.want {
			t.Errorf("%q: %q, want %q", tt.in, msg, tt.want)
		}
	}
}

func TestLoadConfigEndpointLevelTableDefinition(t *testing.T) {
	task := func(s3Extra string) string {
		return `{"ReplicationTaskIdentifier": "t", "MigrationType": "full-load",
  "SourceEndpoint": {"EngineName": "s3", "ExternalTableDefinition": "file://tabledefs.json",
    "S3Settings": {"BucketName": "landing"` + s3Extra + `}},
  "TargetEndpoints": [{"EngineName": "file", "FileSettings": {"Path": "o.jsonl"}}],
  "TableMappings": {"rules": []}}`
	}
	file := filepath.Join(tasksDir, "valid-files", "mem.json")
	cfg, err := ParseConfig(file, []byte(task("")))
	if err != nil {
		t.Fatal(err)
	}
	if def := cfg.SourceEndpoint.S3Settings.ExternalTableDefinition; def == nil || len(def.Tables) != 2 {
		t.Errorf("definition from the endpoint level = %+v", def)
	}
	_, err = ParseConfig(file, []byte(task(`, "ExternalTableDefinition": "file://tabledefs.json"`)))
	want := file + ":$.SourceEndpoint.S3Settings.ExternalTableDefinition: conflicts with SourceEndpoint.ExternalTableDefinition: give one of them"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// TestDMSDefaultSettingsDocument parses the full default settings document of
// dms-behaviour.md §6.2: every key is known and the result is DefaultSettings.
func TestDMSDefaultSettingsDocument(t *testing.T) {
	file := filepath.Join(tasksDir, "dms-default-settings.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tabledefs.DecodeJSON(file, data)
	if err != nil {
		t.Fatal(err)
	}
	var ps tabledefs.Problems
	got := parseSettings(v, file, "$", &ps)
	if len(ps) > 0 {
		t.Fatalf("problems:\n%v", ps)
	}
	if want := DefaultSettings(); !reflect.DeepEqual(got, want) {
		t.Errorf("settings =\n%+v\nwant DefaultSettings()\n%+v", got, want)
	}
}
