package reports

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mauledger/mauledger/analysis"
)

// reportCSVHeader is the header of the long CSV report: one row per month
// and service, the account's figures under the service "ALL".
func reportCSVHeader() []string {
	h := []string{"month", "service_sid", "active_users", "identities", "addresses"}
	for _, f := range analysis.Families {
		h = append(h, "family_"+f)
	}
	for _, r := range analysis.Rules {
		h = append(h, ruleColumn(r))
	}
	return append(h, "cost_total", "currency", "complete")
}

// ruleColumn names a rule's column: sdk.connect becomes rule_sdk_connect.
func ruleColumn(rule string) string {
	return "rule_" + strings.ReplaceAll(rule, ".", "_")
}

func writeReportCSV(w io.Writer, r *analysis.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(reportCSVHeader()); err != nil {
		return err
	}
	for _, m := range r.Months {
		complete := strconv.FormatBool(m.Complete)
		for i, sf := range monthFigures(m) {
			f := sf.figures
			row := []string{m.Month, sf.service, itoa(f.ActiveUsers), itoa(f.Identities), itoa(f.Addresses)}
			for _, fam := range analysis.Families {
				row = append(row, itoa(f.ByFamily[fam]))
			}
			for _, rule := range analysis.Rules {
				row = append(row, itoa(f.ByRule[rule]))
			}
			// The bill is the account's: a service has no cost of its own.
			cost, currency := "", ""
			if i == 0 {
				cost, currency = strconv.FormatFloat(m.Cost.Total, 'f', -1, 64), m.Cost.Currency
			}
			if err := cw.Write(append(row, cost, currency, complete)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

var explanationCSVHeader = []string{
	"subject", "month", "service_sid", "subject_kind", "billed",
	"at", "rule", "family", "source", "origin", "evidence", "inferred", "unknown_author", "timed_by", "not_billed",
}

// writeExplanationCSV writes one row per activity. A service where the
// subject was seen but did nothing billable gets one row without activity
// columns, saying in not_billed what was seen instead.
func writeExplanationCSV(w io.Writer, e *analysis.Explanation) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(explanationCSVHeader); err != nil {
		return err
	}
	for _, s := range e.Services {
		service := s.ServiceSID
		if service == "" && len(s.Activities) > 0 {
			service = unknownServiceColumn
		}
		lead := []string{e.Subject, e.Month, service, s.Kind, strconv.FormatBool(s.Billed)}
		if len(s.Activities) == 0 {
			row := append(lead, "", "", "", "", "", "", "", "", "", strings.Join(s.NotBilled, "; "))
			if err := cw.Write(row); err != nil {
				return err
			}
			continue
		}
		for _, a := range s.Activities {
			row := append(append([]string(nil), lead...),
				csvTime(a.At), a.Rule, a.Family, a.Source, a.Origin, a.Evidence,
				strconv.FormatBool(a.Inferred), strconv.FormatBool(a.UnknownAuthor), a.TimedBy, "")
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func itoa(n int) string { return strconv.Itoa(n) }

// BilledCSVHeader is the header of WriteBilledCSV: a billed subject and its
// first qualifying activity of the month.
var BilledCSVHeader = []string{
	"month", "service_sid", "subject_kind", "subject", "activities",
	"at", "rule", "source", "origin", "evidence", "inferred", "unknown_author", "timed_by",
}

// WriteBilledCSV writes every billed subject of the report's months, one
// row each, with its first qualifying activity: the list a month close
// keeps, and compares with the next version's to tell who was added or
// removed. The report must have been made with ReportOptions.Billed or
// StreamBilled.
func WriteBilledCSV(w io.Writer, r *analysis.Report, redact func(string) string) error {
	r = redactReport(r, redact)
	cw := csv.NewWriter(w)
	if err := cw.Write(BilledCSVHeader); err != nil {
		return err
	}
	err := eachBilled(r, func(month string, b analysis.BilledSubject) error {
		f := b.First
		return cw.Write([]string{month, serviceColumn(b.ServiceSID), b.Kind, b.Subject, itoa(b.Activities),
			csvTime(f.At), f.Rule, f.Source, f.Origin, f.Evidence,
			strconv.FormatBool(f.Inferred), strconv.FormatBool(f.UnknownAuthor), f.TimedBy})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
