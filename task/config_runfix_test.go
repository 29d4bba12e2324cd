package task

import (
	"strings"
	"testing"
)

// TestConfigRefusesWhatRunIgnores: settings `run` cannot honour for an S3
// source are refused by validation with a clear problem, not accepted and
// then ignored or failed at run time.
func TestConfigRefusesWhatRunIgnores(t *testing.T) {
	base := func(migration, extra, settings string) string {
		return `{
  "ReplicationTaskIdentifier": "r1", "MigrationType": "` + migration + `",
  "SourceEndpoint": {"EngineName": "s3", "S3Settings": {"BucketName": "file:///tmp/data", "CdcPath": "cdc",
    "ExternalTableDefinition": {"TableCount": 1, "Tables": [{"TableName": "items", "TablePath": "shop/items/",
      "TableOwner": "shop", "TableColumns": [{"ColumnName": "sku", "ColumnType": "STRING", "ColumnLength": 20, "ColumnIsPk": true}],
      "TableColumnsTotal": 1}]}}},
  "TargetEndpoints": [{"EngineName": "file", "FileSettings": {"Path": "out.jsonl"}}],
  "TableMappings": {"rules": []}` + extra + `,
  "ReplicationTaskSettings": {` + settings + `}
}`
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"commit_time stop", base("cdc", `, "CdcStopPosition": "commit_time:2030-01-01T00:00:00"`, ""),
			"$.CdcStopPosition: commit_time is not supported for an s3 source"},
		{"server_time start", base("cdc", `, "CdcStartPosition": "server_time:2030-01-01T00:00:00"`, ""),
			"$.CdcStartPosition: a time start position is not supported for an s3 source"},
		{"cached changes applied", base("full-load-and-cdc", "", `"FullLoadSettings": {"StopTaskCachedChangesApplied": true}`),
			"StopTaskCachedChangesApplied: is not supported by sluice run"},
		{"cached changes not applied", base("full-load-and-cdc", "", `"FullLoadSettings": {"StopTaskCachedChangesNotApplied": true}`),
			"StopTaskCachedChangesNotApplied: is not supported by sluice run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("mem/task.json", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a problem containing %q", err, tc.want)
			}
		})
	}
	if _, err := ParseConfig("mem/task.json", []byte(base("cdc", `, "CdcStopPosition": "server_time:2030-01-01T00:00:00"`, ""))); err != nil {
		t.Fatalf("server_time stop refused: %v", err)
	}
}
