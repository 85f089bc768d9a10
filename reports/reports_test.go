package reports

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/mauledger/mauledger/analysis"
)

func writeReport(t *testing.T, r *analysis.Report, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteReport(&buf, r, opts); err != nil {
		t.Fatalf("WriteReport(%s): %v", opts.Format, err)
	}
	return buf.Bytes()
}

func writeExplanation(t *testing.T, e *analysis.Explanation, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteExplanation(&buf, e, opts); err != nil {
		t.Fatalf("WriteExplanation(%s): %v", opts.Format, err)
	}
	return buf.Bytes()
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"table": Table, "csv": CSV, "JSON": JSON, " xlsx ": XLSX, "html": HTML, "Parquet": Parquet} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "xml", "pdf"} {
		_, err := ParseFormat(in)
		if !errors.Is(err, ErrBadFormat) {
			t.Errorf("ParseFormat(%q) error = %v, want ErrBadFormat", in, err)
			continue
		}
		if !strings.Contains(err.Error(), "table, csv, json, xlsx, html, parquet") {
			t.Errorf("ParseFormat(%q) error %q does not list the formats", in, err)
		}
	}
}

func TestWriteReportRejectsUnknownFormat(t *testing.T) {
	err := WriteReport(&bytes.Buffer{}, testReport(), Options{Format: "yaml"})
	if !errors.Is(err, ErrBadFormat) {
		t.Fatalf("error = %v, want ErrBadFormat", err)
	}
}

func TestJSONReportRoundTripsWithSchemaAndEmptyLists(t *testing.T) {
	r := testReport()
	out := writeReport(t, r, Options{Format: JSON})
	if !bytes.HasSuffix(out, []byte("}\n")) {
		t.Errorf("JSON does not end in a newline")
	}

	var back analysis.Report
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("JSON does not parse: %v\n%s", err, out)
	}
	if back.Schema != analysis.ReportSchema {
		t.Errorf("schema = %q, want %q", back.Schema, analysis.ReportSchema)
	}
	if !back.GeneratedAt.Equal(r.GeneratedAt) || back.From != "2026-09" || back.To != "2026-10" {
		t.Errorf("header = %v %s %s", back.GeneratedAt, back.From, back.To)
	}
	if !reflect.DeepEqual(back.About, r.About) {
		t.Errorf("about = %+v, want %+v", back.About, r.About)
	}
	if len(back.Months) != 2 {
		t.Fatalf("months = %d, want 2", len(back.Months))
	}
	sep := back.Months[0]
	if sep.ActiveUsers != 5240 || sep.Cost.Total != 251.4 || len(sep.Cost.Bands) != 3 ||
		*sep.Cost.Bands[1].To != 5000 || sep.Services[1].ByRule["channel.address_added"] != 40 {
		t.Errorf("September did not round-trip: %+v", sep)
	}
	if back.Months[1].Complete {
		t.Errorf("October complete = true, want false")
	}

	// Lists are [] rather than null, and billed subjects stay out.
	var raw struct {
		Months []map[string]json.RawMessage `json:"months"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	oct := raw.Months[1]
	var cost, dq map[string]json.RawMessage
	if err := json.Unmarshal(oct["cost"], &cost); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(oct["data_quality"], &dq); err != nil {
		t.Fatal(err)
	}
	if got := string(cost["bands"]); got != "[]" {
		t.Errorf("October cost.bands = %s, want []", got)
	}
	if got := string(dq["unknown_authors"]); got != "[]" {
		t.Errorf("October data_quality.unknown_authors = %s, want []", got)
	}
	if _, ok := oct["billed"]; ok {
		t.Errorf("JSON carries billed subjects")
	}
	for _, key := range []string{"by_family", "by_rule"} {
		var m map[string]int
		if err := json.Unmarshal(oct[key], &m); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		want := analysis.Families
		if key == "by_rule" {
			want = analysis.Rules
		}
		for _, k := range want {
			if _, ok := m[k]; !ok {
				t.Errorf("October %s lacks %q", key, k)
			}
		}
	}
}

func TestJSONReportOfEmptyReportHasEmptyLists(t *testing.T) {
	r := &analysis.Report{Months: nil}
	out := writeReport(t, r, Options{Format: JSON})
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	if got := string(raw["months"]); got != "[]" {
		t.Errorf("months = %s, want []", got)
	}
	if got := string(raw["schema"]); got != strconv.Quote(analysis.ReportSchema) {
		t.Errorf("schema = %s", got)
	}
	if r.Schema != "" || r.Months != nil {
		t.Errorf("WriteReport modified the caller's report: %+v", r)
	}
}

func TestJSONFillsMissingFamilyAndRuleKeysWithoutTouchingCaller(t *testing.T) {
	r := testReport()
	r.Months[1].ByRule = map[string]int{"rest.user_write": 150}
	r.Months[1].Services[0].ByFamily = nil
	out := writeReport(t, r, Options{Format: JSON})

	var back analysis.Report
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Months[1].ByRule; len(got) != len(analysis.Rules) || got["rest.user_write"] != 150 || got["sdk.connect"] != 0 {
		t.Errorf("October by_rule = %v", got)
	}
	if got := back.Months[1].Services[0].ByFamily; len(got) != len(analysis.Families) {
		t.Errorf("October service by_family = %v", got)
	}
	if len(r.Months[1].ByRule) != 1 || r.Months[1].Services[0].ByFamily != nil {
		t.Errorf("WriteReport modified the caller's maps")
	}
	if r.Months[1].Cost.Bands != nil || r.Months[1].DataQuality.UnknownAuthors != nil {
		t.Errorf("WriteReport modified the caller's lists")
	}
}

func TestRedactionReachesEveryFormat(t *testing.T) {
	opts := func(f Format) Options { return Options{Format: f, Redact: redactForTest} }
	outputs := map[string][]byte{}
	for _, f := range []Format{Table, CSV, JSON} {
		r := testReport()
		outputs["report "+string(f)] = writeReport(t, r, opts(f))
		e := testExplanation()
		outputs["explain "+string(f)] = writeExplanation(t, e, opts(f))
		outputs["identities "+string(f)] = writeIdentities(t, testIdentities(), opts(f))
	}
	outputs["report xlsx"] = xlsxText(t, writeReport(t, testReport(), opts(XLSX)))
	outputs["report html"] = writeReport(t, testReport(), opts(HTML))
	outputs["identities html"] = writeIdentities(t, testIdentities(), opts(HTML))

	// Without redaction the subjects are there, so the check below can fail.
	plain := xlsxText(t, writeReport(t, testReport(), Options{Format: XLSX}))
	plain = append(plain, writeReport(t, testReport(), Options{Format: JSON})...)
	plain = append(plain, writeReport(t, testReport(), Options{Format: HTML})...)
	plain = append(plain, writeExplanation(t, testExplanation(), Options{Format: CSV})...)
	for _, f := range []Format{Table, CSV, JSON} {
		ids := writeIdentities(t, testIdentities(), Options{Format: f})
		for _, s := range []string{aliceAgain, bob, guest} {
			if !bytes.Contains(ids, []byte(s)) {
				t.Errorf("unredacted identities %s lacks %q: the fixture no longer tests redaction", f, s)
			}
		}
	}
	for _, s := range rawSubjects {
		if !bytes.Contains(plain, []byte(s)) {
			t.Errorf("unredacted outputs lack %q: the fixture no longer tests redaction", s)
		}
	}

	for name, out := range outputs {
		for _, s := range rawSubjects {
			if bytes.Contains(out, []byte(s)) {
				t.Errorf("%s contains %q despite redaction", name, s)
			}
		}
	}
	for _, name := range []string{"report table", "report json", "report xlsx", "report html", "explain table", "explain json", "explain csv",
		"identities table", "identities csv", "identities json", "identities html"} {
		if !bytes.Contains(outputs[name], []byte("[redacted]")) {
			t.Errorf("%s shows no redacted subject", name)
		}
	}

	// The caller's structs keep their subjects.
	r := testReport()
	writeReport(t, r, opts(XLSX))
	if r.Months[0].Billed[0].Subject != alice || r.Months[0].DataQuality.UnknownAuthors[0] != ghost {
		t.Errorf("redaction modified the caller's report")
	}
	e := testExplanation()
	writeExplanation(t, e, opts(JSON))
	if e.Subject != alice || e.Services[0].Activities[0].Subject != alice {
		t.Errorf("redaction modified the caller's explanation")
	}
}

// xlsxText is every cell of every sheet of a workbook, one per line: the
// workbook bytes are compressed, so they cannot be searched directly.
func xlsxText(t *testing.T, b []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	defer f.Close()
	var out bytes.Buffer
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatalf("rows of %s: %v", name, err)
		}
		for _, row := range rows {
			out.WriteString(strings.Join(row, "\t") + "\n")
		}
	}
	return out.Bytes()
}

func TestCSVReport(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(writeReport(t, testReport(), Options{Format: CSV}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{
		"month", "service_sid", "active_users", "identities", "addresses",
		"family_sdk", "family_rest", "family_channel",
		"rule_sdk_connect", "rule_sdk_message", "rule_sdk_join_leave",
		"rule_rest_user_write", "rule_rest_message_author", "rule_rest_participant_write",
		"rule_channel_inbound_message", "rule_channel_address_added",
		"cost_total", "currency", "complete", "status",
	}
	if !slices.Equal(rows[0], wantHeader) {
		t.Fatalf("header = %q\nwant     %q", rows[0], wantHeader)
	}
	// September: ALL + 2 services; October: ALL + 1 service.
	if len(rows) != 1+3+2 {
		t.Fatalf("rows = %d, want 6", len(rows))
	}
	col := func(name string) int { return slices.Index(wantHeader, name) }
	cell := func(row int, name string) string { return rows[row][col(name)] }

	if got := rows[1][:3]; !slices.Equal(got, []string{"2026-09", "ALL", "5240"}) {
		t.Errorf("first row starts %q", got)
	}
	if cell(1, "cost_total") != "251.4" || cell(1, "currency") != "USD" || cell(1, "complete") != "true" {
		t.Errorf("September ALL cost = %q %q complete %q", cell(1, "cost_total"), cell(1, "currency"), cell(1, "complete"))
	}
	if rows[3][1] != service2 || cell(3, "rule_channel_inbound_message") != "38" || cell(3, "addresses") != "40" {
		t.Errorf("September %s row = %q", service2, rows[3])
	}
	if cell(3, "cost_total") != "" || cell(3, "currency") != "" {
		t.Errorf("service row carries a cost: %q", rows[3])
	}
	if rows[4][0] != "2026-10" || rows[4][1] != "ALL" || cell(4, "cost_total") != "0" || cell(4, "complete") != "false" {
		t.Errorf("October ALL row = %q", rows[4])
	}
	if cell(5, "complete") != "false" || cell(5, "rule_rest_user_write") != "150" {
		t.Errorf("October service row = %q", rows[5])
	}
}

func TestXLSXReport(t *testing.T) {
	r := testReport()
	r.Months[0].Status, r.Months[1].Status = analysis.StatusFinal, analysis.StatusPreliminary
	book := writeReport(t, r, Options{Format: XLSX, Database: "/var/lib/mauledger/m.duckdb"})
	f, err := excelize.OpenReader(bytes.NewReader(book))
	if err != nil {
		t.Fatalf("workbook does not open: %v", err)
	}
	defer f.Close()

	if got, want := f.GetSheetList(), []string{"Summary", "Bill", "Monthly", "Active users", "Hygiene", "Identity shapes", "Duplicates", "Identity lint", "Chart data", "About"}; !slices.Equal(got, want) {
		t.Fatalf("sheets = %q, want %q", got, want)
	}

	raw := excelize.Options{RawCellValue: true}
	get := func(sheet, cell string) string {
		t.Helper()
		v, err := f.GetCellValue(sheet, cell, raw)
		if err != nil {
			t.Fatalf("%s!%s: %v", sheet, cell, err)
		}
		return v
	}
	number := func(sheet, cell string) float64 {
		t.Helper()
		typ, err := f.GetCellType(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Errorf("%s!%s has type %v, want a number", sheet, cell, typ)
		}
		v, err := strconv.ParseFloat(get(sheet, cell), 64)
		if err != nil {
			t.Errorf("%s!%s = %q, not a number", sheet, cell, get(sheet, cell))
		}
		return v
	}

	// Summary: header, then one row per month.
	if got := get("Summary", "A1") + "|" + get("Summary", "E1") + "|" + get("Summary", "F1") + "|" + get("Summary", "G1"); got != "Month|Cost|Status|Complete" {
		t.Errorf("Summary header = %q", got)
	}
	if get("Summary", "A2") != "2026-09" || get("Summary", "A3") != "2026-10" {
		t.Errorf("Summary months = %q %q", get("Summary", "A2"), get("Summary", "A3"))
	}
	if v := number("Summary", "B2"); v != 5240 {
		t.Errorf("Summary!B2 active users = %v, want 5240", v)
	}
	if v := number("Summary", "D2"); v != 40 {
		t.Errorf("Summary!D2 addresses = %v, want 40", v)
	}
	if v := number("Summary", "E2"); v != 251.4 {
		t.Errorf("Summary!E2 cost = %v, want 251.4", v)
	}
	if get("Summary", "F2") != "final" || get("Summary", "F3") != "preliminary" || get("Summary", "G2") != "yes" || get("Summary", "G3") != "no" {
		t.Errorf("Summary status/complete = %q %q %q %q", get("Summary", "F2"), get("Summary", "F3"), get("Summary", "G2"), get("Summary", "G3"))
	}
	formatted, err := f.GetCellValue("Summary", "E2")
	if err != nil || formatted != "251.40 USD" {
		t.Errorf("Summary!E2 shows %q (%v), want 251.40 USD", formatted, err)
	}
	if panes, err := f.GetPanes("Summary"); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("Summary header not frozen: %+v %v", panes, err)
	}
	if style, err := f.GetCellStyle("Summary", "A1"); err != nil {
		t.Error(err)
	} else if s, err := f.GetStyle(style); err != nil || s.Font == nil || !s.Font.Bold {
		t.Errorf("Summary header is not bold")
	}

	// Active users: header plus one row per billed subject of every month.
	users, err := f.GetRows("Active users")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1+3+1 {
		t.Fatalf("Active users rows = %d, want 5", len(users))
	}
	if users[1][3] != alice || users[1][4] != "sdk.connect" || users[3][2] != "address" || users[4][0] != "2026-10" {
		t.Errorf("Active users rows = %q", users)
	}
	// 12:00 in UTC+2 is 10:00 UTC.
	at, err := excelize.ExcelDateToTime(number("Active users", "G2"), false)
	if err != nil || !at.Equal(time.Date(2026, 9, 3, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("Active users!G2 = %v (%v), want 2026-09-03 10:00 UTC", at, err)
	}
	if v := number("Active users", "K2"); v != 12 {
		t.Errorf("Active users!K2 activities = %v, want 12", v)
	}

	// Monthly: every family and rule for the account and each service.
	monthly, err := f.GetRows("Monthly")
	if err != nil {
		t.Fatal(err)
	}
	perSet := len(analysis.Families) + len(analysis.Rules)
	if want := 1 + (3+2)*perSet; len(monthly) != want {
		t.Errorf("Monthly rows = %d, want %d", len(monthly), want)
	}
	if got := monthly[1]; !slices.Equal(got, []string{"2026-09", "ALL", "family", "sdk", "5,000"}) {
		t.Errorf("Monthly first row = %q", got)
	}

	// Bill: each band of each month as an invoice line, then the total.
	bill, err := f.GetRows("Bill")
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + len(r.Months[0].Cost.Bands) + 1 + len(r.Months[1].Cost.Bands) + 1; len(bill) != want {
		t.Errorf("Bill rows = %d, want %d", len(bill), want)
	}
	if got := bill[2]; !slices.Equal(got, []string{"2026-09", "band", "201", "5,000", "4,800", "0.05", "240.00 USD"}) {
		t.Errorf("Bill's second band = %q", got)
	}
	if got := bill[1+len(r.Months[0].Cost.Bands)]; !slices.Equal(got, []string{"2026-09", "total", "", "", "5,240", "", "251.40 USD"}) {
		t.Errorf("Bill's September total = %q", got)
	}

	// Every list sheet is an Excel table, filters on its header row.
	for _, sheet := range []string{"Summary", "Bill", "Monthly", "Active users", "Hygiene", "Identity shapes", "Duplicates", "Identity lint", "Chart data"} {
		tables, err := f.GetTables(sheet)
		if err != nil || len(tables) != 1 || !strings.HasPrefix(tables[0].Range, "A1:") {
			t.Errorf("%s tables: %+v, %v", sheet, tables, err)
		}
	}

	// Three charts beside the Summary, drawn from the Chart data sheet.
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	var charts []string
	var summaryXML string
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		switch {
		case strings.HasPrefix(zf.Name, "xl/charts/chart"):
			charts = append(charts, string(b))
		case zf.Name == "xl/worksheets/sheet1.xml":
			summaryXML = string(b)
		}
	}
	// The sheet itself must point at its drawing, or no application shows
	// the charts; and it prints on one landscape page.
	if !strings.Contains(summaryXML, "<drawing r:id=") || !strings.Contains(summaryXML, `fitToPage="true"`) ||
		!strings.Contains(summaryXML, `orientation="landscape"`) {
		t.Errorf("the Summary sheet shows no charts or does not fit its page:\n%.2000s", summaryXML)
	}
	if len(charts) != 3 || !strings.Contains(strings.Join(charts, ""), "Chart data&#39;!$B$2:$B$3") {
		t.Errorf("%d charts", len(charts))
	}
	if data := string(xlsxSheetText(t, f, "Chart data")); !strings.HasPrefix(data, "Month\tsdk\trest\tchannel\tcost, USD\t") ||
		!strings.Contains(data, "2026-09\t5000\t200\t40\t251.4\t") {
		t.Errorf("Chart data:\n%s", data)
	}

	props, err := f.GetDocProps()
	if err != nil || !strings.Contains(props.Description, "Database /var/lib/mauledger/m.duckdb; scope service, evidence strict") ||
		props.ContentStatus != "preliminary" || props.Created != "2026-11-02T08:30:00Z" {
		t.Errorf("document properties: %+v, %v", props, err)
	}

	// About: settings, each assumption, the schema.
	about := string(xlsxSheetText(t, f, "About"))
	for _, want := range append([]string{analysis.ReportSchema, "twilio-conversations-list-usd", "service"}, r.About.Assumptions...) {
		if !strings.Contains(about, want) {
			t.Errorf("About sheet lacks %q", want)
		}
	}
}

func xlsxSheetText(t *testing.T, f *excelize.File, sheet string) []byte {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, row := range rows {
		out.WriteString(strings.Join(row, "\t") + "\n")
	}
	return out.Bytes()
}

func TestXLSXSheetOverExcelsRowLimitGoesOnInANewSheet(t *testing.T) {
	r := testReport()
	whole, err := excelize.OpenReader(bytes.NewReader(writeReport(t, r, Options{Format: XLSX})))
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	all, err := whole.GetRows("Active users")
	if err != nil || len(all) != 5 {
		t.Fatalf("Active users in one sheet: %d rows, %v", len(all), err)
	}

	// As if Excel's limit were 3 rows: a header and two users per sheet.
	defer func(n int) { maxSheetRows = n }(maxSheetRows)
	maxSheetRows = 3
	f, err := excelize.OpenReader(bytes.NewReader(writeReport(t, r, Options{Format: XLSX})))
	if err != nil {
		t.Fatalf("workbook does not open: %v", err)
	}
	defer f.Close()
	// Every long sheet goes on the same way; Active users takes two.
	sheets := f.GetSheetList()
	i := slices.Index(sheets, "Active users")
	if i < 0 || i+2 >= len(sheets) || sheets[i+1] != "Active users (2)" || sheets[i+2] != "Hygiene" {
		t.Fatalf("sheets = %q", sheets)
	}
	first, _ := f.GetRows("Active users")
	second, _ := f.GetRows("Active users (2)")
	if len(first) != 3 || len(second) != 3 || !slices.Equal(first[0], all[0]) || !slices.Equal(second[0], all[0]) {
		t.Fatalf("parts: %q and %q", first, second)
	}
	for i, row := range append(first[1:], second[1:]...) {
		if !slices.Equal(row, all[i+1]) {
			t.Errorf("user %d = %q, want %q", i, row, all[i+1])
		}
	}
}

func TestTableReport(t *testing.T) {
	out := string(writeReport(t, testReport(), Options{Format: Table}))
	for _, want := range []string{
		"2026-09", "2026-10",
		"generated 2026-11-02 08:30 UTC",
		"active users: 5,240 (5,200 identities, 40 addresses)",
		"complete: yes",
		"complete: no — lower bound",
		"251.40 USD",
		"5,001–10,000",
		service2,
		"unknown authors: " + ghost,
		"About",
		"scope: service",
		"- An access token issued to an identity is not taken as a connection",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q\n%s", want, out)
		}
	}
	if strings.Count(out, "lower bound") != 1 {
		t.Errorf("lower-bound note appears %d times, want once (October only)", strings.Count(out, "lower bound"))
	}
	checkWidths(t, out)
}

func TestExplanationFormats(t *testing.T) {
	e := testExplanation()

	text := string(writeExplanation(t, e, Options{Format: Table}))
	for _, want := range []string{
		alice + " in 2026-09", "billed in 1 of 2 services",
		"service " + service1 + " (identity): billed",
		"2026-09-03 10:00:00 UTC  sdk.connect",
		"via webhook (SDK), evidence IM00000000000000000000000000000001",
		"service " + service2 + " (identity): not billed",
		"only received 3 outbound messages",
		"About",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation table lacks %q\n%s", want, text)
		}
	}
	for i, line := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
		}
	}

	var back analysis.Explanation
	if err := json.Unmarshal(writeExplanation(t, e, Options{Format: JSON}), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Services[0].Activities[1].Rule, "sdk.message") || back.Services[1].Activities == nil {
		t.Errorf("explanation JSON = %+v", back)
	}

	rows, err := csv.NewReader(bytes.NewReader(writeExplanation(t, e, Options{Format: CSV}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// Header, two activities, one not-billed service.
	if len(rows) != 4 {
		t.Fatalf("explanation CSV rows = %d, want 4: %q", len(rows), rows)
	}
	if rows[1][5] != "2026-09-03T10:00:00Z" || rows[2][6] != "sdk.message" || rows[3][4] != "false" ||
		rows[3][len(rows[3])-1] != "only received 3 outbound messages" {
		t.Errorf("explanation CSV = %q", rows)
	}

	err = WriteExplanation(&bytes.Buffer{}, e, Options{Format: XLSX})
	if !errors.Is(err, ErrBadFormat) || !strings.Contains(err.Error(), "explain has no xlsx format") {
		t.Errorf("xlsx explanation error = %v", err)
	}
}

func TestExplanationOfUnseenSubject(t *testing.T) {
	e := &analysis.Explanation{Subject: "nobody", Month: "2026-09"}
	text := string(writeExplanation(t, e, Options{Format: Table}))
	if !strings.Contains(text, "not billed: not seen in any service this month") {
		t.Errorf("table = %s", text)
	}
	out := writeExplanation(t, e, Options{Format: JSON})
	if !bytes.Contains(out, []byte(`"services": []`)) {
		t.Errorf("JSON services is not []: %s", out)
	}
}
