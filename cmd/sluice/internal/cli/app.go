// Package cli is sluice's command line: the urfave/cli application, its
// commands, and the mapping of outcomes to exit codes. main only wires
// signals and calls Run, so tests run every command in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sluicedata/sluice/tabledefs"
)

// Exit codes (design.md "The command line").
const (
	ExitOK       = 0 // success, or the input is valid
	ExitFailed   = 1 // the task failed or the input is invalid
	ExitUsage    = 2 // usage error or unreadable file
	ExitRejected = 3 // the task finished but rows were rejected
)

// Options are what the application needs from its process.
type Options struct {
	Version string // set by main from -ldflags "-X main.version=…"
	Stdout  io.Writer
	Stderr  io.Writer

	logger *slog.Logger // built from --log-format/--log-level before any command runs
}

// Logger returns the logger configured by the global flags (a text logger on
// Stderr before they were parsed).
func (o *Options) Logger() *slog.Logger {
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(o.Stderr, nil))
	}
	return o.logger
}

// exitError makes a command end with a given exit code. Msg, when not empty,
// is printed on stderr by Run.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
func (e *exitError) ExitCode() int { return e.code }

// usageErrorf is a usage mistake: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, msg: fmt.Sprintf(format, args...)}
}

// exitCode ends a command with code after it printed its own report.
func exitCode(code int) error { return &exitError{code: code} }

// Run runs the command line args (args[0] is the program name) and returns
// the process exit code. It never calls os.Exit.
func Run(ctx context.Context, opts Options, args []string) int {
	app := App(opts)
	err := app.RunContext(ctx, args)
	if err == nil {
		return ExitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(app.ErrWriter, "sluice: %s\n", msg)
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return ExitFailed
}

// App builds the sluice application. Its commands return errors carrying
// exit codes instead of exiting, so Run (and tests) decide what happens.
func App(opts Options) *cli.App {
	o := &opts
	app := &cli.App{
		Name:      "sluice",
		Usage:     "run AWS DMS-style replication tasks from a terminal, cron or a batch scheduler",
		UsageText: "sluice [global options] command [command options] [arguments...]",
		Description: "sluice reads DMS documents with DMS's own names — task settings, table mappings,\n" +
			"external table definitions, endpoint settings — and moves data from S3 CSV files or\n" +
			"PostgreSQL (pgoutput) to Kinesis Data Streams, S3 Parquet and JSON-lines files.\n" +
			"`sluice help COMMAND` describes each command.\n\n" +
			"Examples:\n" +
			"   sluice validate task orders.json\n" +
			"   sluice --log-format json --log-level debug validate tabledefs tabledefs.json\n\n" +
			"Exit codes: 0 success or valid input; 1 the task failed or the input is invalid;\n" +
			"2 usage error or unreadable file; 3 the task finished but rows were rejected.",
		Version:         o.Version,
		HideVersion:     true, // `sluice version` prints more than -v would
		Writer:          o.Stdout,
		ErrWriter:       o.Stderr,
		Suggest:         true,
		ExitErrHandler:  func(*cli.Context, error) {}, // Run maps errors to exit codes
		OnUsageError:    onUsageError,
		HideHelpCommand: false,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log line format: text or json"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "least severe level logged: debug, info, warn or error"},
		},
		Before: func(c *cli.Context) error { return o.setLogger(c) },
		Commands: []*cli.Command{
			runCommand(o),
			statusCommand(o),
			validateCommand(o),
			checkCommand(o),
			versionCommand(o),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return unknownCommand(c, c.Args().First())
			}
			_ = cli.ShowAppHelp(c)
			return usageErrorf("no command given")
		},
	}
	for _, cmd := range app.Commands {
		setUsageHandlers(cmd)
	}
	return app
}

// setUsageHandlers makes flag mistakes in every command a usage error.
func setUsageHandlers(cmd *cli.Command) {
	if cmd.OnUsageError == nil {
		cmd.OnUsageError = onUsageError
	}
	for _, sub := range cmd.Subcommands {
		setUsageHandlers(sub)
	}
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	return usageErrorf("%v (see --help)", err)
}

// unknownCommand reports name as a usage error, suggesting the nearest command.
func unknownCommand(c *cli.Context, name string) error {
	cmds := c.App.Commands
	if c.Command != nil && len(c.Command.Subcommands) > 0 {
		cmds = c.Command.Subcommands
	}
	var names []string
	for _, cmd := range cmds {
		if cmd.Name != "help" && !cmd.Hidden {
			names = append(names, cmd.Name)
		}
	}
	msg := fmt.Sprintf("unknown command %q; commands: %s", name, strings.Join(names, ", "))
	if s := tabledefs.Closest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return usageErrorf("%s", msg)
}

func (o *Options) setLogger(c *cli.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return usageErrorf("--log-level must be debug, info, warn or error, not %q", c.String("log-level"))
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch c.String("log-format") {
	case "text":
		o.logger = slog.New(slog.NewTextHandler(o.Stderr, hopts))
	case "json":
		o.logger = slog.New(slog.NewJSONHandler(o.Stderr, hopts))
	default:
		return usageErrorf("--log-format must be text or json, not %q", c.String("log-format"))
	}
	return nil
}
