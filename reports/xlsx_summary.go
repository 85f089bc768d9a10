package reports

import (
	"fmt"

	"github.com/xuri/excelize/v2"

	"github.com/mauledger/mauledger/analysis"
)

// The workbook's bill and charts: the Bill sheet lists each month's price
// bands as invoice lines; the charts beside the Summary are Excel's own,
// drawn from the Chart data sheet, the same series as the HTML report's.

const (
	summarySheet   = "Summary"
	chartDataSheet = "Chart data"
)

// writeBillSheet writes, per month, a line per price band (users from, to,
// how many, the rate, the amount) and a total line.
func writeBillSheet(s *sheet, r *analysis.Report) error {
	if err := s.header(
		column{"Month", 10}, column{"Line", 10}, column{"Users from", 12}, column{"Users to", 12},
		column{"Users", 12}, column{"Rate", 10}, column{"Amount", 16},
	); err != nil {
		return err
	}
	for _, m := range r.Months {
		for _, b := range m.Cost.Bands {
			amount, err := s.money(b.Amount, m.Cost.Currency)
			if err != nil {
				return err
			}
			var to any = "and up"
			if b.To != nil {
				to = s.count(*b.To)
			}
			if err := s.row(m.Month, "band", s.count(b.From), to, s.count(b.Units), b.Rate, amount); err != nil {
				return err
			}
		}
		total, err := s.money(m.Cost.Total, m.Cost.Currency)
		if err != nil {
			return err
		}
		if err := s.row(m.Month, "total", nil, nil, s.count(m.ActiveUsers), nil, total); err != nil {
			return err
		}
	}
	return nil
}

// writeChartDataSheet writes each chart's series as columns, a row per
// month: what the Summary's charts draw.
func writeChartDataSheet(s *sheet, r *analysis.Report) error {
	charts := reportCharts(r)
	cols := []column{{"Month", 10}}
	for _, c := range charts {
		for _, ser := range c.Series {
			cols = append(cols, column{ser.Name, 16})
		}
	}
	if err := s.header(cols...); err != nil {
		return err
	}
	for i, m := range r.Months {
		row := []any{m.Month}
		for _, c := range charts {
			for _, ser := range c.Series {
				row = append(row, ser.Values[i])
			}
		}
		if err := s.row(row...); err != nil {
			return err
		}
	}
	return nil
}

// addSummaryCharts places the charts side by side under the Summary's
// table, each reading its series from the Chart data sheet, and makes the
// sheet print on one landscape page.
func addSummaryCharts(f *excelize.File, r *analysis.Report) error {
	if len(r.Months) == 0 {
		return nil
	}
	charts := reportCharts(r)
	last := len(r.Months) + 1
	col := 2 // the Chart data sheet's first series column
	for i, c := range charts {
		numFmt := "#,##0"
		if c.Key == "cost" {
			numFmt = "#,##0.00"
		}
		zero, single := 0.0, false
		chart := &excelize.Chart{
			Type:       excelize.ColStacked,
			VaryColors: &single,
			Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: c.Title}}},
			Legend:     excelize.ChartLegend{Position: "bottom"},
			YAxis:      excelize.ChartAxis{MajorGridLines: true, Minimum: &zero, NumFmt: excelize.ChartNumFmt{CustomNumFmt: numFmt}},
			Dimension:  excelize.ChartDimension{Width: chartPixelsWide, Height: 340},
		}
		for _, s := range c.Series {
			name, err := excelize.ColumnNumberToName(col)
			if err != nil {
				return err
			}
			ref := func(column string) string {
				return fmt.Sprintf("'%s'!$%s$2:$%s$%d", chartDataSheet, column, column, last)
			}
			chart.Series = append(chart.Series, excelize.ChartSeries{
				Name:       fmt.Sprintf("'%s'!$%s$1", chartDataSheet, name),
				Categories: ref("A"),
				Values:     ref(name),
				Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{s.Color[1:]}},
			})
			col++
		}
		// Two blank rows under the table, side by side.
		if err := f.AddChart(summarySheet, fmt.Sprintf("%s%d", chartColumns[i], last+3), chart); err != nil {
			return err
		}
	}
	landscape, one, fit := "landscape", 1, true
	if err := f.SetPageLayout(summarySheet, &excelize.PageLayoutOptions{Orientation: &landscape, FitToWidth: &one, FitToHeight: &one}); err != nil {
		return err
	}
	return f.SetSheetProps(summarySheet, &excelize.SheetPropsOptions{FitToPage: &fit})
}

// chartPixelsWide is each chart's width; chartColumns are where they
// start: at these columns of the Summary (of its widths) three of them
// sit side by side under the table without overlapping.
const chartPixelsWide = 350

var chartColumns = []string{"A", "E", "I"}
