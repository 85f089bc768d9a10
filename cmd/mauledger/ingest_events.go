package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
)

func newIngestCmd(io *streams, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "ingest",
		Short:   "Load evidence into the database",
		Example: "  mauledger ingest events webhooks.ndjson\n  mauledger ingest events --spool ./spool\n  mauledger ingest tokens token-server.csv\n  mauledger ingest twilio",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return fail.Usagef("ingest needs a source: events, tokens or twilio")
		},
	}
	cmd.AddCommand(newIngestEventsCmd(io, g), newIngestTokensCmd(io, g), newIngestTwilioCmd(io, g))
	return cmd
}

// maxRejectionsShown bounds the rejected lines printed per input; the count
// of the rest follows.
const maxRejectionsShown = 50

type ingestEventsOptions struct {
	io     *streams
	global *globalOptions
	Files  []string
	Spool  string
	Force  bool
}

func newIngestEventsCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &ingestEventsOptions{io: io, global: g}
	cmd := &cobra.Command{
		Use:   "events (FILE|DIR... | --spool DIR)",
		Short: "Load Conversations webhook payloads and Event Streams CloudEvents",
		Long: `Load Conversations post-event webhook payloads (their form fields as a JSON
object of strings) and Event Streams CloudEvents, one JSON object per line
(NDJSON), one JSON array per file, or JSON objects one after another with no
separator (concatenated JSON, as Kinesis Data Firehose writes them); "-"
reads standard input. Input compressed with gzip is read as such, whatever
its name. The payload format is detected record by record.

A DIR is read recursively, its files in the order of their paths (time
order for a Firehose archive's YYYY/MM/DD/HH folders), hidden files and
folders (names starting with ".") left out. Each file is remembered by its
path, size and SHA-256 once its events are stored: a rerun skips the files
already loaded and counts them, and loads a file again only if it changed.
--force reads every file again (its events are then duplicates). Standard
input is never remembered.

Retries and repeats load once, and loading a file twice changes nothing. A
malformed line stops nothing: the good lines load, every rejected line is
reported as FILE:LINE: REASON (FILE:OFFSET: REASON for concatenated JSON,
the byte offset from 0 where the object starts, uncompressed), and the
command then exits 3.

Every ingest ends by bringing the stored activity ledger up to date, so
that reports read it instead of deriving it: it rebuilds only what the new
events can change, or the whole ledger after a new REST snapshot, new
rules, or a load larger than a quarter of what is stored (see README).

--spool DIR loads what is new in the spool "mauledger serve" writes: the
complete lines each segment gained since the last load (the database
remembers how far it got). It is safe while serve runs. A torn last line,
left by a crash in the middle of a write that was therefore never
acknowledged, is skipped with a warning.`,
		Example: `  mauledger ingest events webhooks-2026-10.ndjson eventstreams-dump.json
  aws s3 sync s3://bucket/prefix ./archive && mauledger ingest events ./archive
  mauledger ingest events - < archive.ndjson.gz
  mauledger ingest events --spool /var/lib/mauledger/spool`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && o.Spool == "" {
				return fail.Usagef("ingest events needs FILE|DIR... or --spool DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			return o.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.Spool, "spool", "", "load what is new in this serve spool directory")
	cmd.Flags().BoolVar(&o.Force, "force", false, "read files already loaded again")
	return cmd
}

func (o *ingestEventsOptions) run(ctx context.Context) error {
	log := o.global.logger(o.io.Err)
	inputs, err := listInputs(o.Files, log)
	if err != nil {
		return err
	}
	if o.Spool != "" {
		if info, err := os.Stat(o.Spool); err != nil || !info.IsDir() {
			return fail.Input(fmt.Errorf("spool %s: not a directory", o.Spool))
		}
	}
	store, err := o.global.openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	var rejected, skipped int
	for _, name := range inputs {
		res, err := o.loadOne(ctx, store, name)
		if err != nil {
			return err
		}
		if res.AlreadyLoaded {
			skipped++
			continue
		}
		rejected += o.print(log, res.EventsResult)
	}
	if skipped > 0 {
		fmt.Fprintf(o.io.Out, "%d %s already loaded, not read again\n", skipped, plural(skipped, "file", "files"))
	}
	if o.Spool != "" {
		n, err := o.loadSpool(ctx, store, log)
		rejected += n
		if err != nil {
			return err
		}
	}
	if err := refreshLedger(ctx, store, log); err != nil {
		return err
	}
	if rejected > 0 {
		return fail.Input(fmt.Errorf("%d input line(s) rejected; the others were loaded", rejected))
	}
	return nil
}

// print reports one input's load and returns its number of rejected lines.
func (o *ingestEventsOptions) print(log *slog.Logger, res ingest.EventsResult) int {
	log.Debug("loaded", "input", res.Name, "events", res.Events, "new", res.Loaded)
	fmt.Fprintf(o.io.Out, "%s: %d events: %d loaded, %d duplicates, %d ignored (not Conversations), %d rejected\n",
		res.Name, res.Events, res.Loaded, res.Duplicates, res.Ignored, len(res.Rejected))
	printRejections(o.io.Err, res.Name, res.Rejected)
	return len(res.Rejected)
}

// printRejections prints the first rejected lines of an input as
// NAME:LINE: REASON, then how many more there are.
func printRejections(w io.Writer, name string, rejected []ingest.Rejection) {
	for i, r := range rejected {
		if i == maxRejectionsShown {
			fmt.Fprintf(w, "%s: ... and %d more rejected lines\n", name, len(rejected)-i)
			return
		}
		fmt.Fprintf(w, "%s:%d: %s\n", name, r.Line, r.Reason)
	}
}

// loadSpool loads what is new in the spool and returns the number of
// rejected lines.
func (o *ingestEventsOptions) loadSpool(ctx context.Context, store *ingest.Store, log *slog.Logger) (int, error) {
	loads, err := store.LoadSpool(ctx, o.Spool)
	var rejected, printed int
	for _, l := range loads {
		if l.Events > 0 {
			rejected += o.print(log, l.EventsResult)
			printed++
		}
		if l.TornBytes > 0 {
			log.Warn("skipped a torn last line: a crash cut its write short, before serve acknowledged it",
				"segment", l.Name, "bytes", l.TornBytes)
		}
		if l.PendingBytes > 0 {
			log.Debug("a line serve is still writing is left for the next load", "segment", l.Name, "bytes", l.PendingBytes)
		}
	}
	if errors.Is(err, ingest.ErrSegmentEdited) {
		return rejected, fail.Input(err)
	}
	if err != nil {
		return rejected, err
	}
	if printed == 0 {
		fmt.Fprintf(o.io.Out, "%s: nothing new\n", o.Spool)
	}
	return rejected, nil
}

func (o *ingestEventsOptions) loadOne(ctx context.Context, store *ingest.Store, name string) (ingest.FileLoad, error) {
	if name == "-" {
		res, err := store.LoadEvents(ctx, "stdin", o.io.In)
		if err != nil {
			return ingest.FileLoad{EventsResult: res}, fmt.Errorf("load stdin: %w", err)
		}
		return ingest.FileLoad{EventsResult: res}, nil
	}
	res, err := store.LoadEventFile(ctx, name, o.Force)
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return res, fail.Input(fmt.Errorf("input %s: %w", name, unwrapPathError(pathErr)))
	}
	if err != nil {
		return res, fmt.Errorf("load %s: %w", name, err)
	}
	return res, nil
}

// listInputs turns the arguments into the files to load, a directory into
// the files under it, and fails on the first that cannot be read, before
// the database is touched, so that a typo costs nothing. "-" is stdin.
func listInputs(args []string, log *slog.Logger) ([]string, error) {
	var files []string
	for _, a := range args {
		if a == "-" {
			files = append(files, a)
			continue
		}
		found, err := ingest.EventFiles(a)
		if err != nil {
			return nil, fail.Input(fmt.Errorf("input %s: %w", a, unwrapPathError(err)))
		}
		if len(found) == 0 {
			log.Warn("no files in directory", "dir", a)
		}
		files = append(files, found...)
	}
	return files, nil
}

// checkInputs fails on the first input that cannot be opened, before the
// database is touched, so that a typo costs nothing. "-" is stdin.
func checkInputs(files []string) error {
	for _, f := range files {
		if f == "-" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return fail.Input(fmt.Errorf("input %s: %w", f, unwrapPathError(err)))
		}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// openInput opens the file name, or stdin for "-", and names it for
// messages; done closes it.
func openInput(name string, stdin io.Reader) (r io.Reader, display string, done func(), err error) {
	if name == "-" {
		return stdin, "stdin", func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, name, nil, fail.Input(fmt.Errorf("input %s: %w", name, unwrapPathError(err)))
	}
	return f, name, func() { f.Close() }, nil
}

// unwrapPathError drops the path from an *os.PathError, which the caller
// already names.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
