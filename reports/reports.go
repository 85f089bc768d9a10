// Package reports turns analysis results into output: a terminal table,
// CSV, JSON and an XLSX workbook. The writers compute nothing about
// billing; they only format what the analysis put in its result structs,
// and repeat the report's About section so that no figure travels without
// its caveats.
package reports

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mauledger/mauledger/analysis"
)

// Format is an output format.
type Format string

// The output formats, in the order help texts list them.
const (
	Table Format = "table"
	CSV   Format = "csv"
	JSON  Format = "json"
	XLSX  Format = "xlsx"
	HTML  Format = "html"
	// Parquet is a folder, not a stream: report writes MonthlyRows there
	// (see internal/parquet); WriteReport refuses it.
	Parquet Format = "parquet"
)

// Formats lists every format a command may be asked for.
var Formats = []Format{Table, CSV, JSON, XLSX, HTML, Parquet}

// ErrBadFormat is returned for an output format that does not exist, or
// that a writer does not offer.
var ErrBadFormat = errors.New("bad output format")

// ParseFormat reads a format name such as "csv" (case-insensitive).
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Formats {
		if f == known {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w %q: want one of %s", ErrBadFormat, s, formatList())
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Options say how to write a result.
type Options struct {
	Format Format
	// Redact, when not nil, replaces every identity, address or other
	// subject string before it is written, so that an output can leave the
	// company without personal data in it.
	Redact func(string) string
	// Database is the database the result was read from: the workbook's
	// properties name it.
	Database string
}

// WriteReport writes r to w in opts.Format. XLSX is binary: the workbook
// bytes go to w. The caller's report is never modified.
func WriteReport(w io.Writer, r *analysis.Report, opts Options) error {
	if r == nil {
		return errors.New("write report: no report")
	}
	r = redactReport(r, opts.Redact)
	var err error
	switch opts.Format {
	case Table:
		err = writeReportTable(w, r)
	case CSV:
		err = writeReportCSV(w, r)
	case JSON:
		err = writeJSON(w, normaliseReport(r))
	case XLSX:
		err = writeReportXLSX(w, r, opts.Database)
	case HTML:
		err = writeReportHTML(w, normaliseReport(r))
	case Parquet:
		return fmt.Errorf("%w: parquet is a folder of files, written by report --format parquet --out DIR", ErrBadFormat)
	default:
		return fmt.Errorf("%w %q: want one of %s", ErrBadFormat, opts.Format, formatList())
	}
	if err != nil {
		return fmt.Errorf("write %s report: %w", opts.Format, err)
	}
	return nil
}

// WriteExplanation writes e to w as a table (human text), JSON, or CSV with
// one row per activity. There is no XLSX explanation.
func WriteExplanation(w io.Writer, e *analysis.Explanation, opts Options) error {
	if e == nil {
		return errors.New("write explanation: no explanation")
	}
	e = redactExplanation(e, opts.Redact)
	var err error
	switch opts.Format {
	case Table:
		err = writeExplanationTable(w, e)
	case CSV:
		err = writeExplanationCSV(w, e)
	case JSON:
		err = writeJSON(w, normaliseExplanation(e))
	case XLSX, HTML:
		return fmt.Errorf("%w: explain has no %s format; want table, csv or json", ErrBadFormat, opts.Format)
	default:
		return fmt.Errorf("%w %q: want table, csv or json", ErrBadFormat, opts.Format)
	}
	if err != nil {
		return fmt.Errorf("write %s explanation: %w", opts.Format, err)
	}
	return nil
}

// redactReport returns r itself when there is nothing to redact, otherwise
// a copy whose subject strings have gone through redact. Slices that hold
// subjects are copied; everything else is shared with r and must be
// treated as read-only.
func redactReport(r *analysis.Report, redact func(string) string) *analysis.Report {
	if redact == nil {
		return r
	}
	c := *r
	c.Months = make([]analysis.MonthReport, len(r.Months))
	for i, m := range r.Months {
		m.DataQuality.UnknownAuthors = redactAll(m.DataQuality.UnknownAuthors, redact)
		m.Hygiene = redactHygiene(m.Hygiene, redact)
		if m.Billed != nil {
			billed := make([]analysis.BilledSubject, len(m.Billed))
			for j, b := range m.Billed {
				b.Subject = redact(b.Subject)
				b.First.Subject = redact(b.First.Subject)
				billed[j] = b
			}
			m.Billed = billed
		}
		c.Months[i] = m
	}
	if r.Months == nil {
		c.Months = nil
	}
	if r.EachBilled != nil {
		c.EachBilled = func(fn func(month string, b analysis.BilledSubject) error) error {
			return r.EachBilled(func(month string, b analysis.BilledSubject) error {
				b.Subject = redact(b.Subject)
				b.First.Subject = redact(b.First.Subject)
				return fn(month, b)
			})
		}
	}
	return &c
}

// eachBilled calls fn for every billed subject of r, month by month: from
// the database when the report streams them (EachBilled), else from each
// month's Billed list.
func eachBilled(r *analysis.Report, fn func(month string, b analysis.BilledSubject) error) error {
	if r.EachBilled != nil {
		return r.EachBilled(fn)
	}
	for _, m := range r.Months {
		for _, b := range m.Billed {
			if err := fn(m.Month, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// redactExplanation is redactReport for an explanation.
func redactExplanation(e *analysis.Explanation, redact func(string) string) *analysis.Explanation {
	if redact == nil {
		return e
	}
	c := *e
	c.Subject = redact(e.Subject)
	if e.Services != nil {
		c.Services = make([]analysis.SubjectInService, len(e.Services))
		for i, s := range e.Services {
			if s.Activities != nil {
				acts := make([]analysis.Activity, len(s.Activities))
				for j, a := range s.Activities {
					a.Subject = redact(a.Subject)
					acts[j] = a
				}
				s.Activities = acts
			}
			c.Services[i] = s
		}
	}
	return &c
}

func redactAll(ss []string, redact func(string) string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = redact(s)
	}
	return out
}

// orderedKeys lists the keys of counts in the canonical order, followed by
// any key the canonical list does not know, sorted, so that nothing the
// analysis reported is hidden.
func orderedKeys(counts map[string]int, canonical []string) []string {
	keys := append([]string(nil), canonical...)
	known := make(map[string]bool, len(canonical))
	for _, k := range canonical {
		known[k] = true
	}
	var extra []string
	for k := range counts {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return append(keys, extra...)
}

// monthFigures pairs each figure set of a month with the service it
// belongs to: the account ("ALL") first, then each service.
func monthFigures(m analysis.MonthReport) []serviceFigures {
	out := make([]serviceFigures, 0, 1+len(m.Services))
	out = append(out, serviceFigures{service: allServices, figures: m.Figures})
	for _, s := range m.Services {
		out = append(out, serviceFigures{service: s.ServiceSID, figures: s.Figures})
	}
	if u := m.ServiceUnknown; u != nil {
		out = append(out, serviceFigures{service: unknownServiceColumn, figures: u.Figures})
	}
	return out
}

const (
	// allServices stands in the service column for the account's figures.
	allServices = "ALL"
	// unknownServiceColumn stands in the service column for the subjects
	// whose service no evidence tells.
	unknownServiceColumn = "UNKNOWN"
)

// serviceColumn is what a service column says of a billed subject's
// service: its SID, or UNKNOWN when no evidence tells it.
func serviceColumn(sid string) string {
	if sid == "" {
		return unknownServiceColumn
	}
	return sid
}

type serviceFigures struct {
	service string
	figures analysis.Figures
}
