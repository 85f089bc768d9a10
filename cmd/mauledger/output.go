package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/internal/redact"
	"github.com/mauledger/mauledger/reports"
)

// outputOptions are the flags of every command that writes a result.
type outputOptions struct {
	Format string
	Out    string
	Redact bool
}

// resolve picks the format: --format, else the --out file's extension, else a table.
func (o *outputOptions) resolve(io *streams) (reports.Format, error) {
	name := o.Format
	if name == "" && o.Out != "" {
		name = strings.TrimPrefix(filepath.Ext(o.Out), ".")
	}
	if name == "" {
		return reports.Table, nil
	}
	f, err := reports.ParseFormat(name)
	if err != nil {
		return "", fail.Usage(err)
	}
	if f == reports.XLSX && o.Out == "" && io.OutIsTerminal {
		return "", fail.Usagef("xlsx is a binary format: write it to a file with --out report.xlsx")
	}
	return f, nil
}

// redactor returns the database's pseudonymiser when --redact is set.
func (o *outputOptions) redactor(ctx context.Context, store *ingest.Store) (func(string) string, error) {
	if !o.Redact {
		return nil, nil
	}
	key, err := store.Setting(ctx, "redaction_key")
	if err != nil {
		return nil, err
	}
	return redact.New(key), nil
}

// write sends the output to --out, or to stdout. A file is written whole or
// not at all: to a temporary file beside it, then renamed into place.
func (o *outputOptions) write(io *streams, write func(w io.Writer) error) error {
	if o.Out == "" {
		return write(io.Out)
	}
	return writeFileAtomic(o.Out, write)
}

func writeFileAtomic(path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fail.Input(fmt.Errorf("write %s: %w", path, unwrapPathError(err)))
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
