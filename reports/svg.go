package reports

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// The HTML report's charts are SVG the program draws, inline in the page:
// no script, no library, nothing fetched, and they print as sharply as
// the text.

// barSeries is one colour of a bar chart: a value per category.
type barSeries struct {
	Name   string
	Color  string
	Values []float64
}

// barChart is a column chart of categories (months), its series stacked.
type barChart struct {
	// Key names the chart in a word or two (a workbook column's prefix).
	Key        string
	Title      string
	Categories []string
	Series     []barSeries
	// Format writes a value for the axis and the tooltips.
	Format func(float64) string
}

// Chart geometry, in SVG user units (the chart scales to its box).
const (
	chartWidth  = 480
	chartHeight = 300
	chartLeft   = 60
	chartRight  = 12
	chartTop    = 12
	chartBottom = 32
	chartTicks  = 4
)

// palette colours series in order (Tableau 10, readable in print and by
// most colour-blind readers).
var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

// html draws the chart as a figure: its title, the SVG, and the legend as
// a list that wraps on a narrow screen. Each bar segment is a rect of
// class "mark" with a title (its tooltip) naming the category, series and
// value.
func (c barChart) html() template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<figure><figcaption>%s</figcaption>`, esc(c.Title))
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartWidth, chartHeight, esc(c.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	top := 0.0
	for i := range c.Categories {
		sum := 0.0
		for _, s := range c.Series {
			sum += s.Values[i]
		}
		top = max(top, sum)
	}
	step := niceStep(top / chartTicks)
	axisMax := step * chartTicks
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	y := func(v float64) float64 { return chartTop + plotH - v/axisMax*plotH }
	for i := 0; i <= chartTicks; i++ {
		v := step * float64(i)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, chartLeft, chartWidth-chartRight, y(v), y(v))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`,
			chartLeft-6, y(v), esc(c.Format(v)))
	}
	slot := plotW / float64(max(1, len(c.Categories)))
	barW := min(slot*0.6, 64)
	for i, cat := range c.Categories {
		x := chartLeft + slot*float64(i) + (slot-barW)/2
		base := 0.0
		for _, s := range c.Series {
			v := s.Values[i]
			if v > 0 {
				fmt.Fprintf(&b, `<rect class="mark" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`,
					x, y(base+v), barW, y(base)-y(base+v), s.Color, esc(cat), esc(s.Name), esc(c.Format(v)))
			}
			base += v
		}
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+barW/2, chartHeight-chartBottom+18, esc(cat))
	}
	b.WriteString(`</svg><ul class="legend">`)
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<li><span class="swatch" style="background:%s"></span>%s</li>`, s.Color, esc(s.Name))
	}
	b.WriteString(`</ul></figure>`)
	return template.HTML(b.String())
}

// niceStep rounds a tick step up to 1, 2 or 5 times a power of ten, so
// that the axis reads 0, 2,000, 4,000... rather than 0, 1,873...
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return m * pow
		}
	}
	return 10 * pow
}
