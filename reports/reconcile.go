package reports

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mauledger/mauledger/analysis"
)

// WriteReconciliation writes r as a table, JSON, or CSV with one row per
// Twilio usage record. It holds counts only: nothing to redact.
func WriteReconciliation(w io.Writer, r *analysis.Reconciliation, opts Options) error {
	if r == nil {
		return errors.New("write reconciliation: no reconciliation")
	}
	var err error
	switch opts.Format {
	case Table:
		err = writeReconciliationTable(w, r)
	case CSV:
		err = writeReconciliationCSV(w, r)
	case JSON:
		err = writeJSON(w, r)
	default:
		return fmt.Errorf("%w %q: reconcile writes table, csv or json", ErrBadFormat, opts.Format)
	}
	if err != nil {
		return fmt.Errorf("write %s reconciliation: %w", opts.Format, err)
	}
	return nil
}

func writeReconciliationTable(w io.Writer, r *analysis.Reconciliation) error {
	bw := bufio.NewWriter(w)
	p := &printer{w: bw}
	p.linef("Reconciliation for %s", r.Month)
	p.line("")
	complete := "yes"
	if !r.Complete {
		complete = incompleteNote
	}
	twilio := "no usage record"
	if r.TwilioMAU != nil {
		twilio = group(*r.TwilioMAU) + " (usage record \"" + analysis.TwilioMAUCategory + "\")"
	}
	t := newTextTable("", false, false)
	t.add("mauledger MAU:", fmt.Sprintf("%s (scope %s)", group(r.MAU), r.About.Scope))
	t.add("  per service / per account:", group(r.ServiceScopeMAU)+" / "+group(r.AccountScopeMAU))
	t.add("  complete:", complete)
	// The reasons go under it, wrapped to the width the value column has
	// left at 80 columns.
	for _, why := range r.Coverage.Reasons {
		for i, part := range wrapWords(why, 46, 46) {
			lead := "- "
			if i > 0 {
				lead = "  "
			}
			t.add("", lead+part)
		}
	}
	t.add("Twilio MAU:", twilio)
	t.add("difference:", r.DifferenceText())
	t.write(p)
	p.line("")
	p.line("Twilio usage records")
	if len(r.Usage) == 0 {
		p.line("  none stored for this month")
	} else {
		u := newTextTable("  ", false, true, false, true)
		u.add("category", "count", "unit", "price")
		for _, rec := range r.Usage {
			u.add(rec.Category, group(rec.Count), rec.CountUnit, strconv.FormatFloat(rec.Price, 'f', 2, 64)+" "+strings.ToUpper(rec.PriceUnit))
		}
		u.write(p)
	}
	p.line("")
	p.line("Likely causes")
	for _, c := range r.Causes {
		p.wrapped("  - ", "    ", c)
	}
	p.line("")
	writeAboutTable(p, r.About)
	if p.err != nil {
		return p.err
	}
	return bw.Flush()
}

func writeReconciliationCSV(w io.Writer, r *analysis.Reconciliation) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"month", "category", "twilio_count", "count_unit", "mauledger_mau", "difference", "complete", "likely_causes"})
	causes := strings.Join(r.Causes, " | ")
	row := func(category, count, unit string, difference string) {
		cw.Write([]string{r.Month, category, count, unit, itoa(r.MAU), difference, strconv.FormatBool(r.Complete), causes})
	}
	if len(r.Usage) == 0 {
		row("", "", "", "")
	}
	for _, u := range r.Usage {
		diff := ""
		if u.Category == analysis.TwilioMAUCategory && r.Difference != nil {
			diff = itoa(*r.Difference)
		}
		row(u.Category, itoa(u.Count), u.CountUnit, diff)
	}
	cw.Flush()
	return cw.Error()
}
