package task

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/sluicedata/sluice/tabledefs"
	"github.com/sluicedata/sluice/target/kinesis"
)

// TestKinesisProducerSettings covers the ✚ producer limits: defaults,
// accepted values, range problems, and their refusal on the file target.
func TestKinesisProducerSettings(t *testing.T) {
	doc := func(engine, settings string) string {
		target := `{"EngineName": "kinesis", "KinesisSettings": {"StreamName": "orders"` + settings + `}}`
		if engine == EngineFile {
			target = `{"EngineName": "file", "FileSettings": {"Path": "/tmp/out.jsonl"}, "KinesisSettings": {"MessageFormat": "json"` + settings + `}}`
		}
		return `{"ReplicationTaskIdentifier": "k1", "MigrationType": "full-load",
  "SourceEndpoint": {"EngineName": "s3", "S3Settings": {"BucketName": "file:///tmp/in",
    "ExternalTableDefinition": {"TableCount": "1", "Tables": [{"TableName": "t", "TablePath": "s/t/", "TableOwner": "s",
      "TableColumns": [{"ColumnName": "id", "ColumnType": "INT4", "ColumnIsPk": "true"}]}]}}},
  "TargetEndpoints": [` + target + `],
  "TableMappings": {"rules": []}}`
	}
	tests := []struct {
		name, engine, settings string
		want                   [3]int // in-flight, per-key, MB
		problem                string
	}{
		{name: "defaults", engine: EngineKinesis, want: [3]int{8, 1, 64}},
		{name: "set", engine: EngineKinesis, settings: `, "MaxInFlightRequests": 64, "MaxRecordsPerKeyPerRequest": "500", "MaxBufferedMB": 1`, want: [3]int{64, 500, 1}},
		{name: "in-flight zero", engine: EngineKinesis, settings: `, "MaxInFlightRequests": 0`,
			problem: `KinesisSettings.MaxInFlightRequests: must be between 1 and 64, not 0`},
		{name: "in-flight too many", engine: EngineKinesis, settings: `, "MaxInFlightRequests": 65`,
			problem: `MaxInFlightRequests: must be between 1 and 64, not 65`},
		{name: "per-key zero", engine: EngineKinesis, settings: `, "MaxRecordsPerKeyPerRequest": 0`,
			problem: `MaxRecordsPerKeyPerRequest: must be between 1 and 500, not 0 (1, the default, keeps strict per-partition-key order`},
		{name: "per-key too many", engine: EngineKinesis, settings: `, "MaxRecordsPerKeyPerRequest": 501`,
			problem: `MaxRecordsPerKeyPerRequest: must be between 1 and 500, not 501`},
		{name: "buffer too large", engine: EngineKinesis, settings: `, "MaxBufferedMB": 4097`,
			problem: `MaxBufferedMB: must be between 1 and 4096, not 4097`},
		{name: "buffer not a number", engine: EngineKinesis, settings: `, "MaxBufferedMB": "lots"`,
			problem: `MaxBufferedMB`},
		{name: "file target refuses", engine: EngineFile, settings: `, "MaxInFlightRequests": 4`,
			problem: `KinesisSettings.MaxInFlightRequests: does not apply to EngineName "file"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig("mem/task.json", []byte(doc(tc.engine, tc.settings)))
			if tc.problem != "" {
				var ps tabledefs.Problems
				if !errors.As(err, &ps) || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("error = %v, want a problem containing %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			k := cfg.TargetEndpoints[0].KinesisSettings
			if got := [3]int{k.MaxInFlightRequests, k.MaxRecordsPerKeyPerRequest, k.MaxBufferedMB}; got != tc.want {
				t.Errorf("limits = %v, want %v", got, tc.want)
			}
		})
	}
}

// openTargets hands the producer limits of the task file to the Kinesis
// target (integration: needs a stream).
func TestOpenTargetsKinesisLimits(t *testing.T) {
	endpoint := os.Getenv("KINESIS_ENDPOINT")
	if endpoint == "" {
		t.Skip("KINESIS_ENDPOINT not set (run under scripts/with-infra.sh)")
	}
	_, stream := newKinesisStream(t, endpoint)
	doc := `{"ReplicationTaskIdentifier": "k1", "MigrationType": "full-load",
  "SourceEndpoint": {"EngineName": "s3", "S3Settings": {"BucketName": "file:///tmp/in",
    "ExternalTableDefinition": {"TableCount": "1", "Tables": [{"TableName": "t", "TablePath": "s/t/", "TableOwner": "s",
      "TableColumns": [{"ColumnName": "id", "ColumnType": "INT4", "ColumnIsPk": "true"}]}]}}},
  "TargetEndpoints": [{"EngineName": "kinesis", "EndpointUrl": "` + endpoint + `", "KinesisSettings": {"StreamName": "` + stream + `",
    "MaxInFlightRequests": 3, "MaxRecordsPerKeyPerRequest": 7, "MaxBufferedMB": 5}}],
  "TableMappings": {"rules": []}}`
	cfg, err := ParseConfig("mem/task.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	outs, closeAll, err := openTargets(context.Background(), cfg, &Runner{}, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	o := outs[0].Target.(*kinesis.Target).Options()
	if o.MaxInFlight != 3 || o.MaxRecordsPerKey != 7 || o.MaxBufferedBytes != 5<<20 {
		t.Errorf("target options: in flight %d, per key %d, buffer %d", o.MaxInFlight, o.MaxRecordsPerKey, o.MaxBufferedBytes)
	}
}

// The Kinesis target's outage error is recoverable for the runner, so
// RecoverableErrorCount/Interval decide whether the task goes on.
func TestKinesisTransportErrorIsRecoverable(t *testing.T) {
	err := error(&kinesis.TransportError{Stream: "s", Err: syscall.ECONNREFUSED})
	if !Retryable(err) || !Retryable(errors.Join(errors.New("flushing kinesis:s"), err)) {
		t.Fatal("kinesis.TransportError is not Retryable")
	}
}
