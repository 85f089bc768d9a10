package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
)

type ingestTokensOptions struct {
	io     *streams
	global *globalOptions
	Files  []string
}

func newIngestTokensCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &ingestTokensOptions{io: io, global: g}
	return &cobra.Command{
		Use:   "tokens FILE...",
		Short: "Load token-server logs: access tokens issued, as inferred SDK connections",
		Long: `Load the log of your access-token server: which identity got a token when.
A token issued usually, but not always, means the identity connected with an
SDK, so these lines are inferred evidence (sdk.connect, source token_log):
reports bill them only with --evidence inferred.

Each file is CSV with a header row, or NDJSON (one JSON object per line);
"-" reads standard input. Fields: identity, issued_at (RFC 3339, e.g.
2026-11-01T09:30:00Z; offsets are converted to UTC) and, optionally,
service_sid (IS...). A line without a service counts in the one service the
identity is known in from events, else in none. Other CSV columns are
ignored. A token logged twice (same identity, service and time) loads once;
rejected lines are reported as FILE:LINE: REASON and the command exits 3.
Each file's good lines are stored together or not at all.`,
		Example: `  mauledger ingest tokens token-server-2026-10.csv
  mauledger ingest tokens tokens.ndjson && mauledger report --month 2026-10 --evidence inferred`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			return o.run(cmd.Context())
		},
	}
}

func (o *ingestTokensOptions) run(ctx context.Context) error {
	if err := checkInputs(o.Files); err != nil {
		return err
	}
	store, err := o.global.openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	var rejected int
	for _, name := range o.Files {
		res, err := o.loadOne(ctx, store, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.io.Out, "%s: %d tokens: %d loaded, %d duplicates, %d rejected\n",
			res.Name, res.Tokens, res.Loaded, res.Duplicates, len(res.Rejected))
		printRejections(o.io.Err, res.Name, res.Rejected)
		rejected += len(res.Rejected)
	}
	if err := refreshLedger(ctx, store, o.global.logger(o.io.Err)); err != nil {
		return err
	}
	if rejected > 0 {
		return fail.Input(fmt.Errorf("%d token line(s) rejected; the others were loaded", rejected))
	}
	return nil
}

func (o *ingestTokensOptions) loadOne(ctx context.Context, store *ingest.Store, name string) (ingest.TokensResult, error) {
	r, display, done, err := openInput(name, o.io.In)
	if err != nil {
		return ingest.TokensResult{}, err
	}
	defer done()
	res, err := store.LoadTokens(ctx, display, r)
	if errors.Is(err, ingest.ErrTokenLog) {
		return res, fail.Input(err)
	}
	return res, err
}
