package reports

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/mauledger/mauledger/analysis"
	"golang.org/x/sync/errgroup"
)

// WriteIdentities writes the identity hygiene findings to w: a table (the
// findings of each month), CSV (one row per billed identity) or JSON (both).
func WriteIdentities(w io.Writer, ids *analysis.Identities, opts Options) error {
	if ids == nil {
		return errors.New("write identities: no identities")
	}
	ids = redactIdentities(ids, opts.Redact)
	var err error
	switch opts.Format {
	case Table:
		err = writeIdentitiesTable(w, ids)
	case CSV:
		err = writeIdentitiesCSV(w, ids)
	case JSON:
		err = writeIdentitiesJSON(w, normaliseIdentities(ids))
	case HTML:
		err = writeIdentitiesHTML(w, normaliseIdentities(ids))
	case XLSX:
		return fmt.Errorf("%w: identities has no xlsx format (report --out FILE.xlsx has the hygiene sheets); want table, csv, json or html", ErrBadFormat)
	default:
		return fmt.Errorf("%w %q: want table, csv, json or html", ErrBadFormat, opts.Format)
	}
	if err != nil {
		return fmt.Errorf("write %s identities: %w", opts.Format, err)
	}
	return nil
}

// redactIdentities is redactReport for the identities result: every
// identity, example, duplicate key and member, and the literal words of
// every shape (an application's prefix can be a person's name).
func redactIdentities(ids *analysis.Identities, redact func(string) string) *analysis.Identities {
	if redact == nil {
		return ids
	}
	c := *ids
	c.Months = make([]analysis.IdentityMonth, len(ids.Months))
	for i, m := range ids.Months {
		m.Summary = redactHygiene(m.Summary, redact)
		subjects := make([]analysis.IdentitySubject, len(m.Subjects))
		for j, s := range m.Subjects {
			s.Identity = redact(s.Identity)
			s.Pattern = analysis.MapShapeLiterals(s.Pattern, redact)
			if s.DuplicateGroup != nil {
				key := redact(*s.DuplicateGroup)
				s.DuplicateGroup = &key
			}
			subjects[j] = s
		}
		m.Subjects = subjects
		c.Months[i] = m
	}
	return &c
}

// redactHygiene returns a copy of h with its shapes' examples and literal
// words, its duplicate groups and its lint examples redacted. Lint reasons
// never quote an identity (analysis.Lint), so they stay.
func redactHygiene(h analysis.Hygiene, redact func(string) string) analysis.Hygiene {
	lint := make([]analysis.LintFigures, len(h.Lint))
	for i, l := range h.Lint {
		l.Example = redact(l.Example)
		lint[i] = l
	}
	h.Lint = lint
	shapes := make([]analysis.ShapeFigures, len(h.Shapes))
	for i, s := range h.Shapes {
		s.Pattern = analysis.MapShapeLiterals(s.Pattern, redact)
		s.Example = redact(s.Example)
		shapes[i] = s
	}
	h.Shapes = shapes
	groups := make([]analysis.DuplicateGroup, len(h.Duplicates.Groups))
	for i, g := range h.Duplicates.Groups {
		g.Key = redact(g.Key)
		members := make([]analysis.DuplicateMember, len(g.Members))
		for j, m := range g.Members {
			m.Subject = redact(m.Subject)
			members[j] = m
		}
		g.Members = members
		groups[i] = g
	}
	h.Duplicates.Groups = groups
	return h
}

// normaliseIdentities gives JSON consumers [] rather than null lists.
func normaliseIdentities(ids *analysis.Identities) *analysis.Identities {
	c := *ids
	if c.Schema == "" {
		c.Schema = analysis.IdentitiesSchema
	}
	c.About.Assumptions = nonNil(c.About.Assumptions)
	c.Months = make([]analysis.IdentityMonth, len(ids.Months))
	for i, m := range ids.Months {
		m.Summary = normaliseHygiene(m.Summary)
		m.Subjects = nonNil(m.Subjects)
		c.Months[i] = m
	}
	return &c
}

func normaliseHygiene(h analysis.Hygiene) analysis.Hygiene {
	h.Shapes = nonNil(h.Shapes)
	h.Lint = nonNil(h.Lint)
	groups := make([]analysis.DuplicateGroup, len(h.Duplicates.Groups))
	for i, g := range h.Duplicates.Groups {
		g.Members = nonNil(g.Members)
		groups[i] = g
	}
	h.Duplicates.Groups = groups
	return h
}

// writeIdentitiesJSON writes ids indented like every JSON output, except
// that each identity of a subjects list is one compact line: indenting a
// million of them takes five times as long as encoding them. The months
// are encoded without their lists first, then each "subjects": null is
// replaced by its month's list (no other field of an identities result is
// a null "subjects", and a key cannot appear unescaped inside a string).
func writeIdentitiesJSON(w io.Writer, ids *analysis.Identities) error {
	envelope := *ids
	envelope.Months = make([]analysis.IdentityMonth, len(ids.Months))
	for i, m := range ids.Months {
		m.Subjects = nil
		envelope.Months[i] = m
	}
	b, err := json.MarshalIndent(&envelope, "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	const placeholder = `"subjects": null`
	for _, m := range ids.Months {
		before, after, _ := bytes.Cut(b, []byte(placeholder))
		bw.Write(before)
		bw.WriteString(`"subjects": [`)
		if err := writeSubjectLines(bw, m.Subjects); err != nil {
			return err
		}
		if len(m.Subjects) > 0 {
			bw.WriteString("\n      ")
		}
		bw.WriteByte(']')
		b = after
	}
	bw.Write(b)
	bw.WriteByte('\n')
	return bw.Flush()
}

// writeSubjectLines writes each subject as one compact line of a JSON list,
// in order, encoding them on every processor: a batch of lines per
// processor at a time, then written one batch after the other.
func writeSubjectLines(w io.Writer, subjects []analysis.IdentitySubject) error {
	const batch = 8192
	workers := runtime.GOMAXPROCS(0)
	bufs := make([]bytes.Buffer, workers)
	for start := 0; start < len(subjects); start += batch * workers {
		var g errgroup.Group
		for i := range bufs {
			from := min(start+i*batch, len(subjects))
			to := min(from+batch, len(subjects))
			g.Go(func() error {
				buf := &bufs[i]
				buf.Reset()
				enc := json.NewEncoder(buf)
				for j, s := range subjects[from:to] {
					if from+j > 0 {
						buf.WriteByte(',')
					}
					buf.WriteString("\n        ")
					s.Lint = nonNil(s.Lint)
					if err := enc.Encode(s); err != nil {
						return err
					}
					buf.Truncate(buf.Len() - 1) // the newline Encode ends with
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for i := range bufs {
			if _, err := w.Write(bufs[i].Bytes()); err != nil {
				return err
			}
		}
	}
	return nil
}

var identitiesCSVHeader = []string{
	"month", "service_sid", "identity", "shape", "random", "reason",
	"one_shot", "duplicate_group", "status", "avoidable", "lint",
}

// lintCodes writes an identity's lint findings in one cell: their codes,
// a note marked, e.g. "whitespace, generic" or "reserved-characters (note)".
func lintCodes(findings []analysis.LintFinding) string {
	codes := make([]string, len(findings))
	for i, f := range findings {
		codes[i] = f.Code
		if f.Severity == analysis.SeverityNote {
			codes[i] += " (note)"
		}
	}
	return strings.Join(codes, ", ")
}

// writeIdentitiesCSV writes one row per billed identity per month: the flat
// shape of the findings, for a spreadsheet's filters and pivots.
func writeIdentitiesCSV(w io.Writer, ids *analysis.Identities) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(identitiesCSVHeader); err != nil {
		return err
	}
	for _, m := range ids.Months {
		for _, s := range m.Subjects {
			group := ""
			if s.DuplicateGroup != nil {
				group = *s.DuplicateGroup
			}
			if err := cw.Write([]string{m.Month, s.ServiceSID, s.Identity, s.Pattern,
				strconv.FormatBool(s.Random), s.Reason, strconv.FormatBool(s.OneShot), group, s.Status, s.Avoidable,
				lintCodes(s.Lint),
			}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeIdentitiesTable(w io.Writer, ids *analysis.Identities) error {
	bw := bufio.NewWriter(w)
	p := &printer{w: bw}
	title := "mauledger identity hygiene, " + ids.From
	if ids.To != ids.From {
		title += " to " + ids.To
	}
	p.line(title)
	service := "all services"
	if ids.ServiceSID != "" {
		service = "service " + ids.ServiceSID
	}
	p.linef("%s, one-shot window %s", service, ids.OneShotWindow)
	for _, m := range ids.Months {
		p.line("")
		p.line(m.Month)
		p.line(strings.Repeat("=", len(m.Month)))
		if ids.LintOnly {
			writeLintTable(p, m.Summary.Lint)
			writeLintedIdentities(p, m.Subjects)
			continue
		}
		writeHygieneTable(p, m.Summary)
	}
	p.line("")
	if ids.LintOnly {
		p.wrapped("", "", "Every identity with lint findings, notes too: --lint-only --format csv or json.")
	} else {
		p.wrapped("", "", "Every billed identity with its shape, verdicts and lint: --format csv or json.")
	}
	p.line("")
	writeAboutTable(p, ids.About)
	if p.err != nil {
		return p.err
	}
	return bw.Flush()
}

// writeHygieneTable prints a month's hygiene findings: the identities
// table's body and the report table's hygiene section.
func writeHygieneTable(p *printer, h analysis.Hygiene) {
	p.linef("billed: %s (%s identities, %s of a random shape)",
		group(h.ActiveUsers), group(h.Identities), group(h.RandomIdentities))
	c := h.Churn
	p.wrapped("", "  ", fmt.Sprintf("churn: %s new (%s random), %s returning, %s reactivated; %s churned since the month before",
		group(c.New), group(c.NewRandom), group(c.Returning), group(c.Reactivated), group(c.Churned)))
	p.wrapped("", "  ", fmt.Sprintf("random-identity churn rate: %s of billed users are new random identities",
		percent(c.RandomChurnRate)))
	p.linef("one-shot identities: %s (%s random)", group(h.OneShot), group(h.OneShotRandom))

	if len(h.Shapes) > 0 {
		p.line("")
		t := newTextTable("  ", false, true, true, true, false)
		t.add("shape", "identities", "share", "new", "verdict")
		for _, s := range h.Shapes {
			verdict := "stable"
			if s.Random {
				verdict = "random"
			}
			t.add(s.Pattern, group(s.Subjects), percent(s.Share), group(s.New), verdict+" ("+s.Reason+")")
		}
		t.write(p)
		p.line("  examples:")
		for _, s := range h.Shapes {
			p.wrapped("    ", "      ", s.Pattern+": "+s.Example)
		}
	}

	p.line("")
	av := h.Avoidable
	d := h.Duplicates
	p.wrapped("", "  ", fmt.Sprintf("duplicates: %s %s, %s extra billed %s, %s %s",
		group(d.GroupCount), plural(d.GroupCount, "group", "groups"),
		group(d.ExtraUsers), plural(d.ExtraUsers, "user", "users"), money(d.Cost), av.Currency))
	shown := d.Groups[:min(len(d.Groups), maxListed)]
	for _, g := range shown {
		members := make([]string, len(g.Members))
		for i, m := range g.Members {
			members[i] = m.Subject
			if m.Kind == "address" {
				members[i] += " (address)"
			}
		}
		p.wrapped("  - ", "    ", fmt.Sprintf("%s in %s: %s", g.Key, g.ServiceSID, strings.Join(members, ", ")))
	}
	if n := d.GroupCount - len(shown); n > 0 {
		p.linef("  ... and %s more (json lists up to 100)", group(n))
	}

	p.line("")
	p.wrapped("", "  ", fmt.Sprintf("avoidable activity, and what the bill would drop by without it (%s):", av.Currency))
	t := newTextTable("  ", false, true, true)
	t.add("", "subjects", "cost")
	t.add("connect-only identities", group(av.ConnectOnly.Subjects), money(av.ConnectOnly.Cost))
	t.add("REST-write-only identities", group(av.RESTWriteOnly.Subjects), money(av.RESTWriteOnly.Cost))
	t.add("addresses added, then silent", group(av.SilentAddresses.Subjects), money(av.SilentAddresses.Cost))
	t.add("total", "", money(av.Cost))
	t.write(p)

	w := h.WhatIf
	p.line("")
	p.wrapped("", "  ", fmt.Sprintf("what-if, without the %s one-shot random identities: %s active users instead of %s, %s %s instead of %s (saving %s)",
		group(w.OneShotRandom), group(w.ActiveUsersWithout), group(w.ActiveUsers),
		money(w.CostWithout), av.Currency, money(w.Cost), money(w.Saving)))

	p.line("")
	writeLintTable(p, h.Lint)
}

// writeLintTable prints a month's lint findings: how many identities have
// each, an example, and what to do.
func writeLintTable(p *printer, lint []analysis.LintFigures) {
	if len(lint) == 0 {
		p.line("identity lint: no findings")
		return
	}
	p.line("identity lint (billed identities with each finding):")
	t := newTextTable("  ", false, false, true, false)
	t.add("finding", "severity", "identities", "example")
	for _, l := range lint {
		t.add(l.Code, l.Severity, group(l.Identities), shownIdentity(l.Example))
	}
	t.write(p)
	p.line("  what to do:")
	for _, l := range lint {
		p.wrapped("  - ", "    ", l.Code+" ("+l.Severity+"): "+l.Fix)
	}
}

// writeLintedIdentities lists the identities of identities --lint-only with
// a warning, by service, with their findings; those with notes only are
// counted. An identity gets a line of its own, unwrapped: wrapping would
// collapse the whitespace it may be faulted for.
func writeLintedIdentities(p *printer, subjects []analysis.IdentitySubject) {
	notesOnly := 0
	var warned []analysis.IdentitySubject
	for _, s := range subjects {
		switch {
		case slices.ContainsFunc(s.Lint, func(f analysis.LintFinding) bool { return f.Severity == analysis.SeverityWarning }):
			warned = append(warned, s)
		case len(s.Lint) > 0:
			notesOnly++
		}
	}
	p.line("")
	p.linef("identities with lint warnings: %s", group(len(warned)))
	for i, s := range warned {
		if i == 0 || s.ServiceSID != warned[i-1].ServiceSID {
			p.line("  in " + s.ServiceSID + ":")
		}
		p.line("  - " + shownIdentity(s.Identity))
		for _, f := range s.Lint {
			p.wrapped("      ", "        ", f.Code+" ("+f.Severity+"): "+f.Reason)
		}
	}
	if notesOnly > 0 {
		p.wrapped("", "  ", fmt.Sprintf("and %s %s with notes only", group(notesOnly), plural(notesOnly, "identity", "identities")))
	}
}

// maxShownIdentity is how many characters of an identity a table shows.
const maxShownIdentity = 48

// shownIdentity writes an identity for a terminal: quoted, with invisible
// and control characters escaped, so that whitespace and lookalikes show,
// and cut short when long.
func shownIdentity(identity string) string {
	if r := []rune(identity); len(r) > maxShownIdentity {
		return strconv.QuoteToGraphic(string(r[:maxShownIdentity])) + "... (" + group(len(r)) + " characters)"
	}
	return strconv.QuoteToGraphic(identity)
}

// percent writes a share such as 0.4791 as 47.9%, rounding half away from
// zero as a spreadsheet does.
func percent(share float64) string {
	return strconv.FormatFloat(math.Round(share*1000)/10, 'f', 1, 64) + "%"
}
