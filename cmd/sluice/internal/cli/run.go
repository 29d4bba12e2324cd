package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sluicedata/sluice/tabledefs"
	"github.com/sluicedata/sluice/task"
)

func runCommand(o *Options) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a replication task",
		ArgsUsage: "TASK.json",
		Description: "Validates TASK.json (refusing to start if anything is wrong), takes ownership of its\n" +
			"StateLocation, then runs the MigrationType: full-load, cdc or full-load-and-cdc.\n" +
			"A restarted task resumes from its last checkpoint: loaded tables are not reloaded, a\n" +
			"table interrupted mid-load resumes from its last completed file, CDC resumes after\n" +
			"its last applied change. A change is acknowledged to its source only after every\n" +
			"target made it durable and the checkpoint is saved.\n\n" +
			"Without --once, CDC runs until SIGINT/SIGTERM, which flushes every target, saves the\n" +
			"checkpoint and exits. With --once the full load runs if it is not done, then every\n" +
			"change available when CDC starts, then sluice saves the checkpoint and exits: for\n" +
			"cron lines and batch schedulers.\n\n" +
			"On a terminal a live display shows each table's progress (log lines scroll above\n" +
			"it); otherwise a progress log line every 30 s (--log-format json for machines). Rows that cannot be read or written go to\n" +
			"<StateLocation>/exceptions.jsonl with their position and reason (for an s3://\n" +
			"StateLocation, in parts exceptions/NNNNNNNN.jsonl read in order). The first rejects\n" +
			"of each table are logged, then counts every few seconds.\n\n" +
			"Examples:\n" +
			"   sluice run orders.json\n" +
			"   sluice --log-format json run --once --metrics-listen 127.0.0.1:9090 orders.json\n\n" +
			"Exit codes: 0 the task stopped normally; 1 the task failed or TASK.json is invalid;\n" +
			"2 usage error or unreadable file; 3 the task finished but rows were rejected (written to\n" +
			"the exceptions file; rows dropped by IGNORE_RECORD do not count).",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "once", Usage: "full load if not done, then the changes available now, then exit"},
			&cli.StringFlag{Name: "metrics-listen", Usage: "serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9090)"},
			&cli.DurationFlag{Name: "grace-timeout", Value: 30 * time.Second,
				Usage: "how long the final flush may take after SIGINT/SIGTERM"},
			&cli.BoolFlag{Name: "no-progress", Usage: "no live display, even on a terminal"},
		},
		Action: func(c *cli.Context) error {
			f, err := parseRunArgs(c)
			if err != nil {
				return err
			}
			cfg, err := loadTask(o, f.file)
			if err != nil {
				return err
			}
			opts := task.RunOptions{
				Once:          f.once,
				MetricsListen: f.metricsListen,
				GraceTimeout:  f.graceTimeout,
			}
			switch {
			case f.noProgress:
			case task.IsTerminal(o.Stderr):
				// Live display and log lines share the terminal.
				mux := task.NewTerminalMux(o.Stderr)
				stderr := o.Stderr
				o.Stderr = mux.Logs()
				lerr := o.setLogger(c)
				o.Stderr = stderr
				if lerr != nil {
					return lerr
				}
				opts.Progress = mux.Display()
			default:
				opts.Progress = o.Stderr // not a terminal: periodic progress log lines
			}
			opts.Log = o.Logger()
			res, err := task.Run(c.Context, cfg, opts)
			if werr := task.WriteSummary(o.Stdout, res); werr != nil {
				return fmt.Errorf("writing summary: %w", werr)
			}
			if err != nil {
				return &exitError{code: ExitFailed, msg: err.Error()}
			}
			if code := res.ExitCode(); code != ExitOK {
				return exitCode(code)
			}
			return nil
		},
	}
}

func statusCommand(o *Options) *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "show table statistics, task state and positions from a task's saved state",
		ArgsUsage: "TASK.json",
		Description: "Reads the checkpoint in the task's StateLocation (it does not contact the source or\n" +
			"targets) and prints the task status, stop reason and, per table, the DMS table\n" +
			"statistics: inserts, updates, deletes, DDLs, full-load rows, rejected rows and\n" +
			"TableState.\n\n" +
			"Examples:\n" +
			"   sluice status orders.json\n" +
			"   sluice status --json orders.json | jq '.Stats.Tables[] | {TableName, FullLoadRows}'\n\n" +
			"Exit codes: 0 printed; 1 no state yet or TASK.json is invalid; 2 usage error or\n" +
			"unreadable file.",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the status as JSON"}},
		Action: func(c *cli.Context) error {
			file, asJSON, err := oneFileArg(c, "TASK.json")
			if err != nil {
				return err
			}
			cfg, err := loadTask(o, file)
			if err != nil {
				return err
			}
			st, err := task.LoadStatus(c.Context, cfg.StateLocation)
			if err != nil {
				return &exitError{code: ExitFailed, msg: err.Error()}
			}
			if asJSON {
				err = task.WriteStatusJSON(o.Stdout, st)
			} else {
				err = task.WriteStatusTable(o.Stdout, st)
			}
			if err != nil {
				return fmt.Errorf("writing status: %w", err)
			}
			return nil
		},
	}
}

type runArgs struct {
	file             string
	once, noProgress bool
	metricsListen    string
	graceTimeout     time.Duration
}

// parseRunArgs reads run's flags wherever they stand: urfave/cli stops at
// the first argument, so flags after TASK.json (`run TASK.json --once`,
// as status and validate accept) are parsed here from what it left.
func parseRunArgs(c *cli.Context) (runArgs, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		if err := f.Apply(fs); err != nil {
			return runArgs{}, fmt.Errorf("run flags: %w", err)
		}
	}
	var files []string
	args := c.Args().Slice()
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return runArgs{}, usageErrorf("%v (see --help)", err)
		}
		args = fs.Args()
		if len(args) > 0 {
			files, args = append(files, args[0]), args[1:]
		}
	}
	a := runArgs{once: c.Bool("once"), noProgress: c.Bool("no-progress"),
		metricsListen: c.String("metrics-listen"), graceTimeout: c.Duration("grace-timeout")}
	fs.Visit(func(f *flag.Flag) { // flags after the file win
		g, _ := f.Value.(flag.Getter)
		if g == nil {
			return
		}
		switch v := g.Get().(type) {
		case bool:
			if f.Name == "once" {
				a.once = v
			} else if f.Name == "no-progress" {
				a.noProgress = v
			}
		case string:
			if f.Name == "metrics-listen" {
				a.metricsListen = v
			}
		case time.Duration:
			if f.Name == "grace-timeout" {
				a.graceTimeout = v
			}
		}
	})
	switch len(files) {
	case 1:
		a.file = files[0]
		return a, nil
	case 0:
		return a, usageErrorf("missing TASK.json argument (usage: %s TASK.json)", c.Command.HelpName)
	}
	return a, usageErrorf("expected one TASK.json argument, got %d", len(files))
}

// taskArg returns the single TASK.json argument.
func taskArg(c *cli.Context) (string, error) {
	switch c.NArg() {
	case 1:
		return c.Args().First(), nil
	case 0:
		return "", usageErrorf("missing TASK.json argument (usage: %s TASK.json)", c.Command.HelpName)
	}
	return "", usageErrorf("expected one TASK.json argument, got %d", c.NArg())
}

// loadTask reads and validates a task file for commands that act on it. An
// invalid task prints its problems as `validate` does and exits 1; an
// unreadable one exits 2.
func loadTask(o *Options, file string) (*task.Config, error) {
	cfg, err := task.LoadConfig(file)
	var ps tabledefs.Problems
	switch {
	case err == nil:
		return cfg, nil
	case errors.As(err, &ps):
		return nil, report(o, file, ps, false, "")
	}
	return nil, usageErrorf("%v", err)
}
