package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sluicedata/sluice/tabledefs"
	"github.com/sluicedata/sluice/task"
)

func checkCommand(o *Options) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "reach every endpoint of a task and check what sluice run needs",
		ArgsUsage: "TASK.json",
		Description: "Validates TASK.json like `sluice validate task`, then contacts every endpoint and\n" +
			"reports each check on its own line. It writes no data (a probe file is created and\n" +
			"removed to test local directories):\n" +
			"   S3 source       bucket listable, BucketFolder not empty, files for every selected\n" +
			"                   table (full load), CdcPath listable (CDC)\n" +
			"   PostgreSQL      connection, version ≥ 10, and for CDC wal_level = logical, a free\n" +
			"                   replication slot and WAL sender, REPLICATION privilege, the\n" +
			"                   named slot (pgoutput) and publication; every selected table\n" +
			"                   readable and with a primary key or REPLICA IDENTITY FULL\n" +
			"   Kinesis target  stream exists and is ACTIVE\n" +
			"   S3 target       bucket exists and is listable\n" +
			"   file target     file can be appended to\n" +
			"   StateLocation   directory writable, or bucket listable; whether a checkpoint exists\n" +
			"Each check has its own timeout; a failure never stops the others.\n\n" +
			"Examples:\n" +
			"   sluice check orders.json\n" +
			"   sluice check --json orders.json | jq '.checks[] | select(.ok | not)'\n\n" +
			"Exit codes: 0 every check passed; 1 a check failed or the task file is invalid;\n" +
			"2 usage error or the task file cannot be read.",
		Flags: []cli.Flag{&cli.BoolFlag{
			Name:  "json",
			Usage: `print {"ok": bool, "checks": [{"endpoint", "check", "ok", "warning", "detail", "duration_ms"}]} on stdout instead of lines`,
		}},
		Action: func(c *cli.Context) error {
			file, asJSON, err := oneFileArg(c, "TASK.json")
			if err != nil {
				return err
			}
			return checkTask(c, o, file, asJSON)
		},
	}
}

type jsonCheck struct {
	Endpoint   string  `json:"endpoint"`
	Check      string  `json:"check"`
	OK         bool    `json:"ok"`
	Warning    bool    `json:"warning"`
	Detail     string  `json:"detail"`
	DurationMS float64 `json:"duration_ms"`
}

type jsonCheckReport struct {
	OK     bool        `json:"ok"`
	Checks []jsonCheck `json:"checks"`
	// Problems lists what makes the task file invalid; no endpoint is
	// contacted then.
	Problems []jsonProblem `json:"problems,omitempty"`
}

func checkTask(c *cli.Context, o *Options, file string, asJSON bool) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return usageErrorf("reading task file: %v", err)
	}
	cfg, ps := task.InspectConfig(file, data)
	if cfg.SourceEndpoint.Postgres == nil {
		// A PostgreSQL source's mappings are compiled against its catalog
		// by the checks themselves.
		ps = append(ps, compileMappings(o, cfg)...)
	}
	if len(ps) > 0 {
		if asJSON {
			msg := fmt.Sprintf("%d problems in %s", len(ps), file)
			if len(ps) == 1 {
				msg = "1 problem in " + file
			}
			return writeCheckJSON(o, jsonCheckReport{Checks: []jsonCheck{}, Problems: jsonProblems(ps)}, msg)
		}
		return report(o, file, ps, false, "")
	}
	o.Logger().Debug("checking endpoints", "task", cfg.ReplicationTaskIdentifier)
	results := task.CheckTask(c.Context, cfg)
	failed := 0
	for _, r := range results {
		if !r.OK {
			failed++
		}
	}
	msg := ""
	if failed > 0 {
		msg = fmt.Sprintf("%d of %d checks failed", failed, len(results))
	}
	if asJSON {
		rep := jsonCheckReport{OK: failed == 0, Checks: make([]jsonCheck, 0, len(results))}
		for _, r := range results {
			rep.Checks = append(rep.Checks, jsonCheck{Endpoint: r.Endpoint, Check: r.Check, OK: r.OK, Warning: r.Warning,
				Detail: r.Detail, DurationMS: float64(r.Duration.Microseconds()) / 1000})
		}
		return writeCheckJSON(o, rep, msg)
	}
	printChecks(o, results)
	warned := 0
	for _, r := range results {
		if r.Warning {
			warned++
		}
	}
	summary := fmt.Sprintf("%s: %d checks, %d passed, %d failed", file, len(results), len(results)-failed, failed)
	if warned > 0 {
		summary += fmt.Sprintf(", %d with warnings", warned)
	}
	fmt.Fprintln(o.Stdout, summary)
	if failed > 0 {
		return &exitError{code: ExitFailed, msg: msg}
	}
	return nil
}

// printChecks prints one aligned line per check:
//
//	ok   source s3://landing/exports  bucket listable: bucket landing is listable  (12ms)
//	FAIL target kinesis:orders        stream ACTIVE: stream orders does not exist  (3ms)
func printChecks(o *Options, results []task.CheckResult) {
	width := 0
	for _, r := range results {
		width = max(width, len(r.Endpoint))
	}
	for _, r := range results {
		status := "ok  "
		switch {
		case !r.OK:
			status = "FAIL"
		case r.Warning:
			status = "warn"
		}
		line := fmt.Sprintf("%s %-*s  %s", status, width, r.Endpoint, r.Check)
		if r.Detail != "" {
			line += ": " + r.Detail
		}
		fmt.Fprintf(o.Stdout, "%s  (%s)\n", line, checkDuration(r.Duration))
	}
}

func checkDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

func jsonProblems(ps tabledefs.Problems) []jsonProblem {
	out := make([]jsonProblem, 0, len(ps))
	for _, p := range ps {
		out = append(out, jsonProblem{File: p.File, Path: p.Path, Line: p.Line, Col: p.Col, Message: p.Msg})
	}
	return out
}

// writeCheckJSON prints the report; a non-empty msg makes the exit code 1.
func writeCheckJSON(o *Options, rep jsonCheckReport, msg string) error {
	rep.OK = rep.OK && msg == ""
	enc := json.NewEncoder(o.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if msg != "" {
		return &exitError{code: ExitFailed, msg: strings.TrimSpace(msg)}
	}
	return nil
}
