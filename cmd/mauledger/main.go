// Command mauledger tells a Twilio Conversations customer who they are
// billed for each month, why, what it costs, and which identities are waste.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mauledger/mauledger/internal/fail"
)

func main() {
	os.Exit(runWithSignals(os.Args[1:]))
}

// runWithSignals runs a command line that Ctrl-C or SIGTERM interrupts.
func runWithSignals(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, newStreams())
}

// run executes one command line and returns the process exit code. Every
// failure is printed as one line on stderr.
func run(ctx context.Context, args []string, io *streams) int {
	root := newRootCmd(io)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var status *fail.Status
	if errors.As(err, &status) {
		return status.Code
	}
	// Once interrupted, whatever failed failed because of it (DuckDB, for
	// one, reports an interrupted query as its own error).
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		fmt.Fprintln(io.Err, "mauledger: interrupted")
		return 130
	}
	fmt.Fprintf(io.Err, "mauledger: %s\n", oneLine(err.Error()))
	return fail.Code(classify(err))
}

// classify gives cobra's own errors (unknown commands and flags, wrong
// argument counts) the usage exit code.
func classify(err error) error {
	var f *fail.Error
	if errors.As(err, &f) {
		return err
	}
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "required flag", "if any flags in the group"} {
		if strings.HasPrefix(msg, prefix) {
			return fail.Usage(err)
		}
	}
	return err
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// streams are where a command reads and writes; tests replace them.
type streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// OutIsTerminal says whether Out is a terminal (tables there).
	OutIsTerminal bool
	// ErrIsTerminal says whether Err is a terminal (live progress there;
	// nothing interactive otherwise).
	ErrIsTerminal bool
}

func newStreams() *streams {
	return &streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, OutIsTerminal: isTerminal(os.Stdout), ErrIsTerminal: isTerminal(os.Stderr)}
}

func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// newLogger logs to w at info level, or debug with verbose, as text
// (key=value) or as JSON (one object per line), with the same fields.
func newLogger(w io.Writer, format string, verbose bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if verbose {
		opts.Level = slog.LevelDebug
	}
	if format == logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// The values of --log-format.
const (
	logText = "text"
	logJSON = "json"
)
