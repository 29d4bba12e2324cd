// Command sluice runs AWS DMS-style replication tasks. See
// cmd/sluice/internal/cli for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluicedata/sluice/cmd/sluice/internal/cli"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	// The first SIGINT/SIGTERM cancels ctx so commands stop cleanly (a run
	// saves its checkpoint); stop() restores the default so a second one kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := cli.Run(ctx, cli.Options{Version: version, Stdout: os.Stdout, Stderr: os.Stderr}, os.Args)
	stop()
	os.Exit(code)
}
