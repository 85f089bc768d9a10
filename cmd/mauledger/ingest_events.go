package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
)

func newIngestCmd(io *streams, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "ingest",
		Short:   "Load evidence into the database",
		Example: "  mauledger ingest events webhooks.ndjson\n  mauledger ingest twilio",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return fail.Usagef("ingest needs a source: events or twilio")
		},
	}
	cmd.AddCommand(newIngestEventsCmd(io, g), newIngestTwilioCmd(io, g))
	return cmd
}

// maxRejectionsShown bounds the rejected lines printed per input; the count
// of the rest follows.
const maxRejectionsShown = 50

type ingestEventsOptions struct {
	io     *streams
	global *globalOptions
	Files  []string
}

func newIngestEventsCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &ingestEventsOptions{io: io, global: g}
	return &cobra.Command{
		Use:   "events FILE...",
		Short: "Load Conversations webhook payloads and Event Streams CloudEvents",
		Long: `Load Conversations post-event webhook payloads (their form fields as a JSON
object of strings) and Event Streams CloudEvents, one JSON object per line
(NDJSON) or one JSON array per file; "-" reads standard input. The format is
detected line by line.

Retries and repeats load once, and loading a file twice changes nothing. A
malformed line stops nothing: the good lines load, every rejected line is
reported as FILE:LINE: REASON, and the command then exits 3.`,
		Example: `  mauledger ingest events webhooks-2026-10.ndjson eventstreams-dump.json
  zcat archive.ndjson.gz | mauledger ingest events -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			return o.run(cmd.Context())
		},
	}
}

func (o *ingestEventsOptions) run(ctx context.Context) error {
	log := newLogger(o.io.Err, o.global.Verbose)
	// Check every file before touching the database, so that a typo costs nothing.
	for _, f := range o.Files {
		if f == "-" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return fail.Input(fmt.Errorf("input %s: %w", f, unwrapPathError(err)))
		}
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
		log.Debug("loaded", "input", res.Name, "events", res.Events, "new", res.Loaded)
		fmt.Fprintf(o.io.Out, "%s: %d events: %d loaded, %d duplicates, %d ignored (not Conversations), %d rejected\n",
			res.Name, res.Events, res.Loaded, res.Duplicates, res.Ignored, len(res.Rejected))
		for i, r := range res.Rejected {
			if i == maxRejectionsShown {
				fmt.Fprintf(o.io.Err, "%s: ... and %d more rejected lines\n", res.Name, len(res.Rejected)-i)
				break
			}
			fmt.Fprintf(o.io.Err, "%s:%d: %s\n", res.Name, r.Line, r.Reason)
		}
		rejected += len(res.Rejected)
	}
	if rejected > 0 {
		return fail.Input(fmt.Errorf("%d input line(s) rejected; the others were loaded", rejected))
	}
	return nil
}

func (o *ingestEventsOptions) loadOne(ctx context.Context, store *ingest.Store, name string) (ingest.EventsResult, error) {
	var r io.Reader = o.io.In
	display := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return ingest.EventsResult{}, fail.Input(fmt.Errorf("input %s: %w", name, unwrapPathError(err)))
		}
		defer f.Close()
		r, display = f, name
	}
	res, err := store.LoadEvents(ctx, display, r)
	if err != nil {
		return res, fmt.Errorf("load %s: %w", display, err)
	}
	return res, nil
}

// unwrapPathError drops the path from an *os.PathError, which the caller
// already names.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
