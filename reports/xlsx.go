package reports

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/mauledger/mauledger/analysis"
)

// The XLSX report is a workbook for finance. Every sheet is written with
// excelize's StreamWriter, which keeps memory flat however many billed
// users a month has.

// workbookSheet is one sheet of the XLSX report: its tab name and the
// function that fills it.
type workbookSheet struct {
	name  string
	write func(s *sheet, r *analysis.Report) error
}

// reportSheets are the sheets of the XLSX report, in tab order. Adding a
// sheet is adding an entry here. Every sheet but About is an Excel table
// (filters on its header row, which stays in view).
var reportSheets = []workbookSheet{
	{summarySheet, writeSummarySheet},
	{"Bill", writeBillSheet},
	{"Monthly", writeMonthlySheet},
	{"Active users", writeActiveUsersSheet},
	{"Hygiene", writeHygieneSheet},
	{"Identity shapes", writeShapesSheet},
	{"Duplicates", writeDuplicatesSheet},
	{"Identity lint", writeLintSheet},
	{chartDataSheet, writeChartDataSheet},
	{aboutSheet, writeAboutSheet},
}

const aboutSheet = "About"

func writeReportXLSX(w io.Writer, r *analysis.Report, database string) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	// A new workbook has one sheet, "Sheet1": it becomes the first of ours
	// rather than staying empty.
	const defaultSheet = "Sheet1"
	for i, ws := range reportSheets {
		if i == 0 {
			err = f.SetSheetName(defaultSheet, ws.name)
		} else {
			_, err = f.NewSheet(ws.name)
		}
		if err != nil {
			return fmt.Errorf("sheet %s: %w", ws.name, err)
		}
		open := streamed(f)
		if ws.name == summarySheet {
			open = inMemory(f)
		}
		sw, err := open(ws.name)
		if err != nil {
			return fmt.Errorf("sheet %s: %w", ws.name, err)
		}
		s := &sheet{f: f, name: ws.name, sw: sw, open: open, styles: st, next: 1, part: 1, table: ws.name != aboutSheet}
		if err := ws.write(s, r); err != nil {
			return fmt.Errorf("sheet %s: %w", ws.name, err)
		}
		if err := s.flush(); err != nil {
			return fmt.Errorf("sheet %s: %w", ws.name, err)
		}
	}
	if err := addSummaryCharts(f, r); err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	if err := f.SetDocProps(docProperties(r, database)); err != nil {
		return err
	}
	return f.Write(w)
}

// docProperties name the report, its database and settings, and when it
// was made, in the workbook's File > Properties.
func docProperties(r *analysis.Report, database string) *excelize.DocProperties {
	a := r.About
	settings := fmt.Sprintf("scope %s, evidence %s, unknown authors %s, price table %s, final after %s",
		a.Scope, a.Evidence, a.UnknownAuthors, orNone(a.PriceTable), orNone(a.FinalAfter))
	if database != "" {
		settings = "Database " + database + "; " + settings
	}
	status := analysis.StatusFinal
	for _, m := range r.Months {
		if m.Status != analysis.StatusFinal {
			status = analysis.StatusPreliminary
		}
	}
	props := &excelize.DocProperties{
		Creator:       "mauledger",
		Title:         "mauledger MAU report " + r.From + " to " + r.To,
		Subject:       "Twilio Conversations monthly active users and cost, " + r.From + " to " + r.To,
		Description:   settings,
		Keywords:      "mauledger; " + cmp.Or(r.Schema, analysis.ReportSchema),
		ContentStatus: status,
	}
	if !r.GeneratedAt.IsZero() {
		props.Created = r.GeneratedAt.UTC().Format(time.RFC3339)
		props.Modified = props.Created
	}
	return props
}

// writeSummarySheet writes one row per month, as a bill reads: who is
// billed, the cost, and whether the month may still change. The charts
// go beside it (addSummaryCharts).
func writeSummarySheet(s *sheet, r *analysis.Report) error {
	if err := s.header(
		column{"Month", 10}, column{"Active users", 13}, column{"Identities", 12},
		column{"Addresses", 12}, column{"Cost", 16}, column{"Status", 12},
		column{"Complete", 10}, column{"Contract pricing", 17}, column{"Coverage", 60},
	); err != nil {
		return err
	}
	for _, m := range r.Months {
		cost, err := s.money(m.Cost.Total, m.Cost.Currency)
		if err != nil {
			return err
		}
		if err := s.row(m.Month, s.count(m.ActiveUsers), s.count(m.Identities),
			s.count(m.Addresses), cost, m.Status, yesNo(m.Complete), yesNo(m.Cost.Contract),
			excelize.Cell{StyleID: s.styles.wrap, Value: coverageText(m.Complete, m.Coverage)},
		); err != nil {
			return err
		}
	}
	return nil
}

// coverageText is a month's Coverage cell: "complete", or why it is not.
func coverageText(complete bool, c analysis.Coverage) string {
	switch {
	case complete:
		return "complete"
	case len(c.Reasons) == 0:
		return "incomplete"
	}
	return strings.Join(c.Reasons, "; ")
}

func writeMonthlySheet(s *sheet, r *analysis.Report) error {
	if err := s.header(
		column{"Month", 10}, column{"Service", 36}, column{"Metric kind", 12},
		column{"Metric", 26}, column{"Subjects", 11},
	); err != nil {
		return err
	}
	for _, m := range r.Months {
		for _, sf := range monthFigures(m) {
			f := sf.figures
			for _, fam := range orderedKeys(f.ByFamily, analysis.Families) {
				if err := s.row(m.Month, sf.service, "family", fam, s.count(f.ByFamily[fam])); err != nil {
					return err
				}
			}
			for _, rule := range orderedKeys(f.ByRule, analysis.Rules) {
				if err := s.row(m.Month, sf.service, "rule", rule, s.count(f.ByRule[rule])); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func writeActiveUsersSheet(s *sheet, r *analysis.Report) error {
	if err := s.header(
		column{"Month", 10}, column{"Service SID", 36}, column{"Subject kind", 13},
		column{"Subject", 32}, column{"First rule", 24}, column{"Family", 9},
		column{"First activity (UTC)", 20}, column{"Source", 14}, column{"Origin", 11},
		column{"Evidence SID", 36}, column{"Activities", 11}, column{"Inferred", 9},
		column{"Unknown author", 15}, column{"Timed by", 13},
	); err != nil {
		return err
	}
	return eachBilled(r, func(month string, b analysis.BilledSubject) error {
		return s.row(month, serviceColumn(b.ServiceSID), b.Kind, b.Subject, b.First.Rule, b.First.Family,
			s.time(b.First.At), b.First.Source, b.First.Origin, b.First.Evidence,
			s.count(b.Activities), yesNo(b.First.Inferred), yesNo(b.First.UnknownAuthor), b.First.TimedBy)
	})
}

func writeAboutSheet(s *sheet, r *analysis.Report) error {
	if err := s.header(column{"Field", 18}, column{"Value", 90}); err != nil {
		return err
	}
	schema := r.Schema
	if schema == "" {
		schema = analysis.ReportSchema
	}
	wrap := excelize.Cell{StyleID: s.styles.wrap}
	rows := [][]any{
		{"Schema", schema},
		{"Generated at (UTC)", s.time(r.GeneratedAt)},
		{"From", r.From},
		{"To", r.To},
		{"Scope", describe(string(r.About.Scope), scopeMeaning)},
		{"Evidence", describe(string(r.About.Evidence), evidenceMeaning)},
		{"Unknown authors", describe(string(r.About.UnknownAuthors), unknownAuthorsMeaning)},
		{"Price table", orNone(r.About.PriceTable)},
	}
	for _, a := range r.About.Assumptions {
		rows = append(rows, []any{"Assumption", a})
	}
	rows = append(rows, []any{"Complete = no",
		fmt.Sprintf("live capture (webhooks and Event Streams) does not cover the whole month without a gap "+
			"longer than %g hours, or no REST snapshot (ingest twilio) was taken after the month ended: "+
			"the figures are a lower bound. The Summary's Coverage column says why.", analysis.MaxLiveGap.Hours())})
	for _, row := range rows {
		if v, ok := row[1].(string); ok {
			wrap.Value = v
			row[1] = wrap
		}
		if err := s.row(row...); err != nil {
			return err
		}
	}
	return nil
}

// maxSheetRows is the most rows a sheet holds: Excel's limit. A test
// lowers it.
var maxSheetRows = excelize.TotalRows

// sheet writes the rows of one sheet, top to bottom. A sheet that reaches
// maxSheetRows goes on in a new sheet, "NAME (2)" and so on, placed after
// it and with the same header: a month of more than a million billed users
// does not fit in one.
type sheet struct {
	f      *excelize.File
	name   string // of the first sheet
	sw     rowWriter
	open   func(name string) (rowWriter, error)
	styles *styles
	next   int      // the row the next call to row writes
	cols   []column // the header, repeated on each continuation
	part   int      // 1, then 2 for "NAME (2)"...
	table  bool     // each part is an Excel table
}

// rowWriter writes a sheet's rows: excelize's StreamWriter, which keeps
// memory flat however long the sheet, or cells set in memory for the
// Summary, to which charts and a page setup are added afterwards (excelize
// cannot add those to a streamed sheet).
type rowWriter interface {
	SetColWidth(first, last int, width float64) error
	SetPanes(panes *excelize.Panes) error
	SetRow(cell string, values []any, opts ...excelize.RowOpts) error
	AddTable(table *excelize.Table) error
	Flush() error
}

func streamed(f *excelize.File) func(string) (rowWriter, error) {
	return func(name string) (rowWriter, error) { return f.NewStreamWriter(name) }
}

func inMemory(f *excelize.File) func(string) (rowWriter, error) {
	return func(name string) (rowWriter, error) { return cellWriter{f, name}, nil }
}

// cellWriter is a rowWriter that sets each cell of a sheet held in memory.
type cellWriter struct {
	f     *excelize.File
	sheet string
}

func (c cellWriter) SetColWidth(first, last int, width float64) error {
	from, err := excelize.ColumnNumberToName(first)
	if err != nil {
		return err
	}
	to, err := excelize.ColumnNumberToName(last)
	if err != nil {
		return err
	}
	return c.f.SetColWidth(c.sheet, from, to, width)
}

func (c cellWriter) SetPanes(panes *excelize.Panes) error { return c.f.SetPanes(c.sheet, panes) }

func (c cellWriter) SetRow(cell string, values []any, _ ...excelize.RowOpts) error {
	col, row, err := excelize.CellNameToCoordinates(cell)
	if err != nil {
		return err
	}
	for i, v := range values {
		name, err := excelize.CoordinatesToCellName(col+i, row)
		if err != nil {
			return err
		}
		style := 0
		if c, ok := v.(excelize.Cell); ok {
			v, style = c.Value, c.StyleID
		}
		if err := c.f.SetCellValue(c.sheet, name, v); err != nil {
			return err
		}
		if style != 0 {
			if err := c.f.SetCellStyle(c.sheet, name, name, style); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c cellWriter) AddTable(table *excelize.Table) error { return c.f.AddTable(c.sheet, table) }

func (c cellWriter) Flush() error { return nil }

type column struct {
	title string
	width float64
}

// header sets the column widths, writes the bold header row and freezes
// it. It must come before any row.
func (s *sheet) header(cols ...column) error {
	s.cols = cols
	titles := make([]any, len(cols))
	for i, c := range cols {
		if err := s.sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return err
		}
		titles[i] = excelize.Cell{StyleID: s.styles.header, Value: c.title}
	}
	if err := s.sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}
	return s.row(titles...)
}

func (s *sheet) row(values ...any) error {
	if s.next > maxSheetRows {
		if err := s.continueOnNewSheet(); err != nil {
			return err
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, s.next)
	if err != nil {
		return err
	}
	s.next++
	return s.sw.SetRow(cell, values)
}

// flush ends the sheet (or its current part): its rows become an Excel
// table, with a filter on each column, when there are any.
func (s *sheet) flush() error {
	if s.table && s.next > 2 {
		last, err := excelize.CoordinatesToCellName(len(s.cols), s.next-1)
		if err != nil {
			return err
		}
		name := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, s.name)
		err = s.sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: fmt.Sprintf("%s_%d", name, s.part), StyleName: "TableStyleLight9"})
		if err != nil {
			return err
		}
	}
	return s.sw.Flush()
}

// continueOnNewSheet closes the full sheet and goes on in the next part.
func (s *sheet) continueOnNewSheet() error {
	if err := s.flush(); err != nil {
		return err
	}
	s.part++
	name := fmt.Sprintf("%s (%d)", s.name, s.part)
	if _, err := s.f.NewSheet(name); err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	sw, err := s.open(name)
	if err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	s.sw, s.next = sw, 1
	return s.header(s.cols...)
}

func (s *sheet) count(n int) excelize.Cell {
	return excelize.Cell{StyleID: s.styles.count, Value: n}
}

// share is a fraction shown as a percentage with one decimal.
func (s *sheet) share(v float64) excelize.Cell {
	return excelize.Cell{StyleID: s.styles.percent, Value: v}
}

func (s *sheet) money(v float64, currency string) (excelize.Cell, error) {
	id, err := s.styles.money(currency)
	return excelize.Cell{StyleID: id, Value: v}, err
}

// time is an instant as an Excel datetime, in UTC because Excel datetimes
// have no zone and months are UTC months; a zero instant is an empty cell.
func (s *sheet) time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return excelize.Cell{StyleID: s.styles.datetime, Value: t.UTC()}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// styles are the workbook's cell styles, made once per workbook.
type styles struct {
	f                                      *excelize.File
	header, count, datetime, wrap, percent int
	moneyByCurrency                        map[string]int
}

func newStyles(f *excelize.File) (*styles, error) {
	st := &styles{f: f, moneyByCurrency: map[string]int{}}
	datetime, percent := "yyyy-mm-dd hh:mm:ss", "0.0%"
	for _, s := range []struct {
		id    *int
		style *excelize.Style
	}{
		{&st.header, &excelize.Style{Font: &excelize.Font{Bold: true},
			Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}}},
		{&st.count, &excelize.Style{NumFmt: 3}}, // #,##0
		{&st.percent, &excelize.Style{CustomNumFmt: &percent}},
		{&st.datetime, &excelize.Style{CustomNumFmt: &datetime}},
		{&st.wrap, &excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
	} {
		id, err := f.NewStyle(s.style)
		if err != nil {
			return nil, fmt.Errorf("cell style: %w", err)
		}
		*s.id = id
	}
	return st, nil
}

// money is the style of an amount in currency: two decimals followed by
// the currency code, e.g. 1,234.50 "USD".
func (st *styles) money(currency string) (int, error) {
	if id, ok := st.moneyByCurrency[currency]; ok {
		return id, nil
	}
	format := "#,##0.00"
	if code := strings.ReplaceAll(currency, `"`, ""); code != "" {
		format += ` "` + code + `"`
	}
	id, err := st.f.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return 0, fmt.Errorf("cell style for %s: %w", currency, err)
	}
	st.moneyByCurrency[currency] = id
	return id, nil
}
