package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/ingest"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version Go recorded, or "dev".
var version = ""

func newVersionCmd(io *streams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print mauledger's version and the database schema it writes",
		Example: "  mauledger version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(io.Out, "mauledger %s (database schema v%d)\n", buildVersion(), ingest.SchemaVersion())
			return err
		},
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
