package task

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseConfig feeds arbitrary task files to the parser: it must never
// panic, and a file without problems must give a usable Config.
func FuzzParseConfig(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(tasksDir, "*", "*.json"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"ReplicationTaskSettings": "{\"ErrorBehavior\": {\"DataErrorPolicy\": 1}}"}`))
	f.Add([]byte(`{"TargetEndpoints": [null, 1, "x", {"EngineName": "file", "KinesisSettings": []}]}`))
	dir := filepath.Join(tasksDir, "valid-files")
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, ps := InspectConfig(filepath.Join(dir, "fuzz.json"), data)
		if cfg == nil {
			t.Fatal("InspectConfig returned a nil Config")
		}
		if len(ps) > 0 {
			return
		}
		if cfg.ReplicationTaskIdentifier == "" || cfg.MigrationType == "" || len(cfg.TargetEndpoints) == 0 ||
			cfg.StateLocation == "" || cfg.TableMappings.Data == nil {
			t.Fatalf("no problems but an incomplete Config: %+v", cfg)
		}
		for _, ep := range cfg.TargetEndpoints {
			if ep.KinesisSettings == nil && ep.S3Settings == nil && ep.FileSettings == nil {
				t.Fatalf("target without settings: %+v", ep)
			}
		}
	})
}
