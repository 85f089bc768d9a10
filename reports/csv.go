package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/internal/parquet"
)

// MonthlyColumns are the columns of the monthly table: the long CSV report
// and the Parquet of report --format parquet and export monthly. One row
// per month for the account (service_sid ALL) and one per service.
func MonthlyColumns() []parquet.Column {
	cols := []parquet.Column{{Name: "month", Type: "VARCHAR"}, {Name: "service_sid", Type: "VARCHAR"},
		{Name: "active_users", Type: "BIGINT"}, {Name: "identities", Type: "BIGINT"}, {Name: "addresses", Type: "BIGINT"}}
	for _, f := range analysis.Families {
		cols = append(cols, parquet.Column{Name: "family_" + f, Type: "BIGINT"})
	}
	for _, r := range analysis.Rules {
		cols = append(cols, parquet.Column{Name: ruleColumn(r), Type: "BIGINT"})
	}
	return append(cols, parquet.Column{Name: "cost_total", Type: "DOUBLE"}, parquet.Column{Name: "currency", Type: "VARCHAR"},
		parquet.Column{Name: "complete", Type: "BOOLEAN"}, parquet.Column{Name: "status", Type: "VARCHAR"})
}

// ruleColumn names a rule's column: sdk.connect becomes rule_sdk_connect.
func ruleColumn(rule string) string {
	return "rule_" + strings.ReplaceAll(rule, ".", "_")
}

// MonthlyRows are the monthly table's rows, a value per MonthlyColumns
// column: the cost and currency on the account's row only (the bill is the
// account's), nil on the services'.
func MonthlyRows(r *analysis.Report) [][]any {
	var rows [][]any
	for _, m := range r.Months {
		for i, sf := range monthFigures(m) {
			f := sf.figures
			row := []any{m.Month, sf.service, f.ActiveUsers, f.Identities, f.Addresses}
			for _, fam := range analysis.Families {
				row = append(row, f.ByFamily[fam])
			}
			for _, rule := range analysis.Rules {
				row = append(row, f.ByRule[rule])
			}
			var cost, currency any
			if i == 0 {
				cost, currency = m.Cost.Total, m.Cost.Currency
			}
			rows = append(rows, append(row, cost, currency, m.Complete, m.Status))
		}
	}
	return rows
}

func writeReportCSV(w io.Writer, r *analysis.Report) error {
	cw := csv.NewWriter(w)
	var header []string
	for _, c := range MonthlyColumns() {
		header = append(header, c.Name)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range MonthlyRows(r) {
		record := make([]string, len(row))
		for i, v := range row {
			switch v := v.(type) {
			case nil:
			case float64:
				record[i] = strconv.FormatFloat(v, 'f', -1, 64)
			default:
				record[i] = fmt.Sprint(v)
			}
		}
		if err := cw.Write(record); err != nil {
			return err
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
