package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/tabledefs"
	"github.com/sluicedata/sluice/task"
)

const validateExitCodes = `Every problem is printed on stdout, one per line, as FILE:JSONPATH: message
(FILE:LINE:COL: message for JSON syntax errors); a count follows on stderr.

Exit codes: 0 valid; 1 invalid; 2 usage error or the file cannot be read.`

func validateCommand(o *Options) *cli.Command {
	cmd := &cli.Command{
		Name:      "validate",
		Usage:     "check a task file or an external table definition, offline",
		UsageText: "sluice validate task|tabledefs [--json] FILE",
		Description: "Checks documents without contacting any endpoint and reports every problem, not\n" +
			"just the first.\n\n" +
			"Examples:\n" +
			"   sluice validate task orders.json\n" +
			"   sluice validate tabledefs --json tabledefs.json | jq .problems\n\n" + validateExitCodes,
		Subcommands: []*cli.Command{validateTaskCommand(o), validateTabledefsCommand(o)},
	}
	cmd.Action = func(c *cli.Context) error {
		if c.Args().Present() {
			return unknownCommand(c, c.Args().First())
		}
		_ = cli.ShowSubcommandHelp(c)
		return usageErrorf("validate needs a subcommand: task or tabledefs")
	}
	return cmd
}

var jsonFlag = &cli.BoolFlag{
	Name:  "json",
	Usage: `print {"valid": bool, "problems": [{"file", "path", "line", "col", "message"}]} on stdout instead of lines`,
}

func validateTaskCommand(o *Options) *cli.Command {
	return &cli.Command{
		Name:      "task",
		Usage:     "check a task file and every document it references",
		ArgsUsage: "TASK.json",
		Description: "Reads TASK.json and the documents it names (inline or file:// relative to it):\n" +
			"endpoint settings, ExternalTableDefinition, TableMappings and ReplicationTaskSettings.\n" +
			"Unknown keys, misspelt DMS enum values and settings that conflict are reported, and\n" +
			"every table-mapping rule is checked against the tables and columns of the\n" +
			"external table definition.\n\n" +
			"Example:\n   sluice validate task orders.json\n\n" + validateExitCodes,
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			file, asJSON, err := oneFileArg(c, "TASK.json")
			if err != nil {
				return err
			}
			return validateTask(o, file, asJSON)
		},
	}
}

func validateTabledefsCommand(o *Options) *cli.Command {
	return &cli.Command{
		Name:      "tabledefs",
		Usage:     "check an external table definition (the S3 source's ExternalTableDefinition)",
		ArgsUsage: "FILE",
		Description: "Checks table and column names, the 19 DMS column types with their length,\n" +
			"precision and scale, ColumnDateFormat, TableCount and TableColumnsTotal.\n\n" +
			"Example:\n   sluice validate tabledefs tabledefs.json\n\n" + validateExitCodes,
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			file, asJSON, err := oneFileArg(c, "FILE")
			if err != nil {
				return err
			}
			def, err := tabledefs.Load(file)
			var ps tabledefs.Problems
			switch {
			case errors.As(err, &ps):
			case err != nil:
				return usageErrorf("%v", err)
			}
			summary := ""
			if def != nil {
				summary = fmt.Sprintf("%d tables", len(def.Tables))
			}
			return report(o, file, ps, asJSON, summary)
		},
	}
}

// oneFileArg returns the single file argument. --json is also accepted
// after the file, where urfave/cli would otherwise take it for an argument.
func oneFileArg(c *cli.Context, name string) (string, bool, error) {
	asJSON := c.Bool("json")
	var args []string
	for _, a := range c.Args().Slice() {
		if a == "--json" || a == "-json" {
			asJSON = true
			continue
		}
		args = append(args, a)
	}
	switch len(args) {
	case 1:
		return args[0], asJSON, nil
	case 0:
		return "", false, usageErrorf("missing %s argument (usage: %s [--json] %s)", name, c.Command.HelpName, name)
	}
	return "", false, usageErrorf("expected one %s argument, got %d: %s", name, len(args), strings.Join(args, " "))
}

func validateTask(o *Options, file string, asJSON bool) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return usageErrorf("reading task file: %v", err)
	}
	cfg, ps := task.InspectConfig(file, data)
	ps = append(ps, compileMappings(o, cfg)...)
	for _, ig := range cfg.ReplicationTaskSettings.Ignored {
		fmt.Fprintf(o.Stderr, "note: %s has no effect in sluice\n", ig)
	}
	summary := ""
	if len(ps) == 0 {
		var engines []string
		for _, t := range cfg.TargetEndpoints {
			engines = append(engines, t.EngineName)
		}
		summary = fmt.Sprintf("task %s, %s from %s to %s", cfg.ReplicationTaskIdentifier, cfg.MigrationType,
			cfg.SourceEndpoint.EngineName, strings.Join(engines, ", "))
	}
	return report(o, file, ps, asJSON, summary)
}

// compileMappings checks the table mappings against the table definition
// when both parsed. A PostgreSQL source's tables are only known by asking
// the database, so its mappings are checked by `sluice check`.
func compileMappings(o *Options, cfg *task.Config) tabledefs.Problems {
	tm := cfg.TableMappings
	s3 := cfg.SourceEndpoint.S3Settings
	if tm.Data == nil || s3 == nil || s3.ExternalTableDefinition == nil {
		if tm.Data != nil && cfg.SourceEndpoint.Postgres != nil {
			fmt.Fprintf(o.Stderr, "note: %s: table mappings are checked against a PostgreSQL source by `sluice check`\n", tm.File)
		}
		return nil
	}
	opts := mapping.Options{
		TaskID:        cfg.ReplicationTaskIdentifier,
		ParallelApply: cfg.ReplicationTaskSettings.TargetMetadata.ParallelApplyThreads > 0,
	}
	for _, t := range cfg.TargetEndpoints {
		if t.KinesisSettings != nil {
			opts.PartitionIncludeSchemaTable = t.KinesisSettings.PartitionIncludeSchemaTable
			break
		}
	}
	_, err := mapping.Compile(tm.File, tm.Data, s3.ExternalTableDefinition, opts)
	if err == nil {
		return nil
	}
	var ps tabledefs.Problems
	if errors.As(tm.Relocate(err), &ps) {
		return ps
	}
	return tabledefs.Problems{{File: tm.File, Path: tm.Path, Msg: err.Error()}}
}

type jsonProblem struct {
	File    string `json:"file"`
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"` // syntax errors only
	Col     int    `json:"col,omitempty"`
	Message string `json:"message"`
}

type jsonReport struct {
	Valid    bool          `json:"valid"`
	Problems []jsonProblem `json:"problems"`
}

// report prints the outcome of a validation and returns the exit error.
func report(o *Options, file string, ps tabledefs.Problems, asJSON bool, summary string) error {
	if asJSON {
		r := jsonReport{Valid: len(ps) == 0, Problems: []jsonProblem{}}
		for _, p := range ps {
			r.Problems = append(r.Problems, jsonProblem{File: p.File, Path: p.Path, Line: p.Line, Col: p.Col, Message: p.Msg})
		}
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
	} else {
		for _, p := range ps {
			fmt.Fprintln(o.Stdout, p.String())
		}
		if len(ps) == 0 {
			fmt.Fprintf(o.Stdout, "%s: valid (%s)\n", file, summary)
		}
	}
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return &exitError{code: ExitFailed, msg: fmt.Sprintf("1 problem in %s", file)}
	}
	return &exitError{code: ExitFailed, msg: fmt.Sprintf("%d problems in %s", len(ps), file)}
}
