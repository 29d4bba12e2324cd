package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

func versionCommand(o *Options) *cli.Command {
	return &cli.Command{
		Name:        "version",
		Usage:       "print the sluice version and how it was built",
		UsageText:   "sluice version",
		Description: "Prints the release version, the source revision when known, and the Go toolchain.\n\nExit code: 0.",
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("version takes no arguments")
			}
			v := o.Version
			if v == "" {
				v = "dev"
			}
			fmt.Fprintf(o.Stdout, "sluice %s%s (%s, %s/%s)\n", v, revision(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// revision returns " rev abcdef123456" when the binary was built from a
// VCS checkout with stamping on, else "".
func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return ""
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return " rev " + rev + dirty
}
