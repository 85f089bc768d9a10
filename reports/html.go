package reports

import (
	"bytes"
	"cmp"
	_ "embed"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mauledger/mauledger/analysis"
)

// The HTML format is one self-contained page for a ticket or a chat: the
// table format's sections, with charts drawn as inline SVG, its style
// inline, and no script: it works offline, on a phone, and on paper.

var (
	//go:embed html/page.tmpl
	pageTemplate string
	//go:embed html/style.css
	pageStyle string

	htmlPage = template.Must(template.New("page").Funcs(template.FuncMap{
		"group":      group,
		"money":      money,
		"percent":    percent,
		"rate":       func(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) },
		"deref":      func(p *int) int { return *p },
		"join":       strings.Join,
		"when":       htmlTime,
		"sourceName": func(s string) string { return cmp.Or(coverageSourceNames[s], s) },
		"familyRows": familyRows,
		"describe":   func(setting, value string) string { return describe(value, settingMeanings[setting]) },
		"limit":      func(gs []analysis.DuplicateGroup) []analysis.DuplicateGroup { return gs[:min(len(gs), maxListed)] },
	}).Parse(pageTemplate))
)

// htmlData is what the page template reads: a report or an identities
// result, never both.
type htmlData struct {
	Title      string
	Meta       []string
	Style      template.CSS
	Report     *analysis.Report
	Identities *analysis.Identities
	Charts     []template.HTML
}

func writeReportHTML(w io.Writer, r *analysis.Report) error {
	title := "mauledger MAU report " + r.From
	if r.To != r.From {
		title += " to " + r.To
	}
	var charts []template.HTML
	for _, c := range reportCharts(r) {
		charts = append(charts, c.html())
	}
	return writeHTML(w, htmlData{Title: title, Meta: htmlMeta(r.GeneratedAt, r.Schema), Report: r, Charts: charts})
}

func writeIdentitiesHTML(w io.Writer, ids *analysis.Identities) error {
	title := "mauledger identity hygiene " + ids.From
	if ids.To != ids.From {
		title += " to " + ids.To
	}
	return writeHTML(w, htmlData{Title: title, Meta: htmlMeta(ids.GeneratedAt, ids.Schema), Identities: ids})
}

func writeHTML(w io.Writer, d htmlData) error {
	d.Style = template.CSS(pageStyle)
	var buf bytes.Buffer // a template error leaves no half page behind
	if err := htmlPage.ExecuteTemplate(&buf, "page", d); err != nil {
		return err
	}
	_, err := buf.WriteTo(w)
	return err
}

func htmlMeta(generated time.Time, schema string) []string {
	var meta []string
	if !generated.IsZero() {
		meta = append(meta, "generated "+generated.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if schema != "" {
		meta = append(meta, "data as in "+schema)
	}
	return meta
}

func htmlTime(v any) string {
	switch t := v.(type) {
	case *time.Time:
		return coverageTime(t)
	case time.Time:
		return coverageTime(&t)
	}
	return "-"
}

// familyRow is a line of the families and rules table.
type familyRow struct {
	Name  string
	Rule  bool
	Users int
}

// familyRows lists each family, then its rules indented, as the table
// format does.
func familyRows(f analysis.Figures) []familyRow {
	var rows []familyRow
	for _, fam := range orderedKeys(f.ByFamily, analysis.Families) {
		rows = append(rows, familyRow{Name: fam, Users: f.ByFamily[fam]})
		for _, rule := range orderedKeys(f.ByRule, analysis.Rules) {
			if strings.HasPrefix(rule, fam+".") {
				rows = append(rows, familyRow{Name: rule, Rule: true, Users: f.ByRule[rule]})
			}
		}
	}
	return rows
}

// settingMeanings are what each setting's values mean, by the name the
// page template gives the setting.
var settingMeanings = map[string]map[string]string{
	"scope": scopeMeaning, "evidence": evidenceMeaning, "unknown_authors": unknownAuthorsMeaning,
}

// reportCharts are the report's charts, in the HTML overview and under
// the workbook's Summary: active users per month stacked by the family of
// each one's first qualifying activity, cost per month, and active users
// per month stacked by Conversation Service.
func reportCharts(r *analysis.Report) []barChart {
	if len(r.Months) == 0 {
		return nil
	}
	months := make([]string, len(r.Months))
	for i, m := range r.Months {
		months[i] = m.Month
	}
	count := func(v float64) string { return group(int(v)) }
	byFamily := barChart{Key: "users by first family", Title: "Active users per month, by the family of their first qualifying activity", Categories: months, Format: count}
	for i, fam := range analysis.Families {
		s := barSeries{Name: fam, Color: palette[i]}
		for _, m := range r.Months {
			s.Values = append(s.Values, float64(m.ByFirstFamily[fam]))
		}
		byFamily.Series = append(byFamily.Series, s)
	}
	currency := r.Months[0].Cost.Currency
	cost := barChart{Key: "cost", Title: "Cost per month (" + currency + ")", Categories: months,
		Format: func(v float64) string { return money(v) }, Series: []barSeries{{Name: "cost, " + currency, Color: palette[0]}}}
	for _, m := range r.Months {
		cost.Series[0].Values = append(cost.Series[0].Values, m.Cost.Total)
	}
	return []barChart{byFamily, cost, serviceChart(r, months, count)}
}

// serviceChart stacks each month's active users by service, the services
// in order of their users over the report; past nine, the rest are one
// "other services" series.
func serviceChart(r *analysis.Report, months []string, format func(float64) string) barChart {
	totals := map[string]int{}
	for _, m := range r.Months {
		for _, s := range m.Services {
			totals[s.ServiceSID] += s.ActiveUsers
		}
		if u := m.ServiceUnknown; u != nil {
			totals[serviceUnknown] += u.ActiveUsers
		}
	}
	names := make([]string, 0, len(totals))
	for name := range totals {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(totals[b]-totals[a], strings.Compare(a, b)) })
	const shown = 9
	c := barChart{Key: "users by service", Title: "Active users per month, by Conversation Service", Categories: months, Format: format}
	index := map[string]int{}
	for i, name := range names {
		if i == shown {
			c.Series = append(c.Series, barSeries{Name: "other services", Color: palette[shown], Values: make([]float64, len(months))})
		}
		if i >= shown {
			index[name] = shown
			continue
		}
		index[name] = i
		c.Series = append(c.Series, barSeries{Name: name, Color: palette[i], Values: make([]float64, len(months))})
	}
	for i, m := range r.Months {
		for _, s := range m.Services {
			c.Series[index[s.ServiceSID]].Values[i] += float64(s.ActiveUsers)
		}
		if u := m.ServiceUnknown; u != nil {
			c.Series[index[serviceUnknown]].Values[i] += float64(u.ActiveUsers)
		}
	}
	return c
}
