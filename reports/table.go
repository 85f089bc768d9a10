package reports

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/mauledger/mauledger/analysis"
)

// The table format is for a person at an 80-column terminal: key figures
// as short "label: value" lines, lists as aligned columns.

const (
	// serviceUnknown names, in every output, the Conversation Service of
	// activities that no evidence tells (the ledger's service_sid '').
	serviceUnknown = "service unknown"
	// lineWidth is the terminal width the text is wrapped to.
	lineWidth = 80
	// maxListed caps lists that can be long (unknown authors, a subject's
	// activities); the csv and json outputs carry them whole.
	maxListed = 20
	// incompleteNote is what an incomplete month says about itself; its
	// coverage reasons follow.
	incompleteNote = "no — lower bound"
)

func writeReportTable(w io.Writer, r *analysis.Report) error {
	bw := bufio.NewWriter(w)
	p := &printer{w: bw}

	title := "mauledger MAU report"
	switch {
	case r.From != "" && r.From == r.To:
		title += ", " + r.From
	case r.From != "" || r.To != "":
		title += ", " + r.From + " to " + r.To
	}
	p.line(title)
	var meta []string
	if !r.GeneratedAt.IsZero() {
		meta = append(meta, "generated "+r.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if r.Schema != "" {
		meta = append(meta, "schema "+r.Schema)
	}
	if len(meta) > 0 {
		p.line(strings.Join(meta, ", "))
	}
	if len(r.Months) == 0 {
		p.line("")
		p.line("no months in the report")
	}
	for _, m := range r.Months {
		p.line("")
		writeMonthTable(p, m)
	}
	p.line("")
	writeAboutTable(p, r.About)
	if p.err != nil {
		return p.err
	}
	return bw.Flush()
}

func writeMonthTable(p *printer, m analysis.MonthReport) {
	p.line(m.Month)
	p.line(strings.Repeat("=", max(utf8.RuneCountInString(m.Month), 1)))
	p.linef("active users: %s (%s identities, %s addresses)",
		group(m.ActiveUsers), group(m.Identities), group(m.Addresses))
	writeCoverageTable(p, m.Complete, m.Coverage)

	p.line("")
	t := newTextTable("  ", false, true)
	t.add("family / rule", "users")
	writtenRules := map[string]bool{}
	rules := orderedKeys(m.ByRule, analysis.Rules)
	for _, fam := range orderedKeys(m.ByFamily, analysis.Families) {
		t.add(fam, group(m.ByFamily[fam]))
		for _, rule := range rules {
			if strings.HasPrefix(rule, fam+".") {
				t.add("  "+rule, group(m.ByRule[rule]))
				writtenRules[rule] = true
			}
		}
	}
	for _, rule := range rules {
		if !writtenRules[rule] {
			t.add(rule, group(m.ByRule[rule]))
		}
	}
	t.write(p)

	if len(m.Services) > 0 || m.ServiceUnknown != nil {
		p.line("")
		t := newTextTable("  ", false, true, true, true)
		t.add("service", "users", "identities", "addresses")
		for _, s := range m.Services {
			t.add(s.ServiceSID, group(s.ActiveUsers), group(s.Identities), group(s.Addresses))
		}
		if u := m.ServiceUnknown; u != nil {
			t.add(serviceUnknown, group(u.ActiveUsers), group(u.Identities), group(u.Addresses))
		}
		t.write(p)
		if u := m.ServiceUnknown; u != nil {
			p.wrapped("  "+serviceUnknown+": ", "    ", u.Fix)
		}
	}

	p.line("")
	writeCostTable(p, m.Cost)

	p.line("")
	writeDataQualityTable(p, m.DataQuality)

	p.line("")
	p.line("identity hygiene (mauledger identities tells more)")
	writeHygieneTable(p, m.Hygiene)
}

// coverageSourceNames are the evidence sources as the coverage part names them.
var coverageSourceNames = map[string]string{
	"webhook":       "webhooks",
	"event_stream":  "Event Streams",
	"rest_snapshot": "REST snapshots",
	"token_log":     "token logs",
}

// writeCoverageTable writes whether a month is complete and, when it is
// not, why; then what each source covers, the snapshots taken and the
// gaps in live capture.
func writeCoverageTable(p *printer, complete bool, c analysis.Coverage) {
	if complete {
		p.line("complete: yes")
	} else {
		p.line("complete: " + incompleteNote)
		for _, why := range c.Reasons {
			p.wrapped("  - ", "    ", why)
		}
	}
	if len(c.Sources) == 0 {
		return
	}
	p.line("")
	t := newTextTable("  ", false, true, false, false)
	t.add("coverage", "events", "first (UTC)", "last (UTC)")
	for _, s := range c.Sources {
		name := coverageSourceNames[s.Source]
		if name == "" {
			name = s.Source
		}
		t.add(name, group(s.Events), coverageTime(s.First), coverageTime(s.Last))
	}
	t.write(p)
	taken := make([]string, len(c.Snapshots))
	for i, s := range c.Snapshots {
		taken[i] = coverageTime(&s.StartedAt)
	}
	if len(taken) == 0 {
		taken = []string{"none"}
	}
	p.wrapped("  ", "    ", "REST snapshots taken (UTC): "+strings.Join(taken, ", "))
	longer := fmt.Sprintf("  live gaps longer than %g h: ", analysis.MaxLiveGap.Hours())
	if c.GapCount == 0 {
		p.line(longer + "none")
		return
	}
	p.line(longer + group(c.GapCount) + ", longest first")
	g := newTextTable("    ", false, true)
	for _, gap := range c.Gaps[:min(len(c.Gaps), maxListed)] {
		g.add(coverageTime(&gap.From)+" – "+coverageTime(&gap.To), gap.Length())
	}
	g.write(p)
	if n := c.GapCount - min(len(c.Gaps), maxListed); n > 0 {
		p.linef("    ... and %s more", group(n))
	}
}

// coverageTime is an instant of the coverage part: to the minute, UTC;
// "-" for none.
func coverageTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func writeDataQualityTable(p *printer, dq analysis.DataQuality) {
	if dq.SystemMessages == 0 && dq.UnknownAuthorMessages == 0 && len(dq.UnknownAuthors) == 0 {
		p.line("data quality: no system or unknown-author messages")
		return
	}
	p.linef("data quality: %s %s, %s %s by unknown authors",
		group(dq.SystemMessages), plural(dq.SystemMessages, "system message", "system messages"),
		group(dq.UnknownAuthorMessages), plural(dq.UnknownAuthorMessages, "message", "messages"))
	if n := len(dq.UnknownAuthors); n > 0 {
		shown := dq.UnknownAuthors[:min(n, maxListed)]
		text := "unknown authors: " + strings.Join(shown, ", ")
		if n > len(shown) {
			text += fmt.Sprintf(" and %s more (json lists all)", group(n-len(shown)))
		}
		p.wrapped("  ", "    ", text)
	}
}

func writeCostTable(p *printer, c analysis.Cost) {
	total := money(c.Total)
	if c.Currency != "" {
		total += " " + c.Currency
	}
	if len(c.Bands) == 0 {
		p.line("cost: " + total)
	} else {
		// Show every rate with as many decimals as the most precise one
		// needs, at least two, so that the column lines up without hiding
		// a digit.
		decimals := 2
		for _, b := range c.Bands {
			s := strconv.FormatFloat(b.Rate, 'f', -1, 64)
			if i := strings.IndexByte(s, '.'); i >= 0 {
				decimals = max(decimals, len(s)-i-1)
			}
		}
		heading := "cost"
		if c.Currency != "" {
			heading += " (" + c.Currency + ")"
		}
		t := newTextTable("  ", false, true, true, true)
		t.add(heading, "users", "rate", "amount")
		for _, b := range c.Bands {
			band := group(b.From) + "+"
			if b.To != nil {
				band = group(b.From) + "–" + group(*b.To)
			}
			t.add(band, group(b.Units), strconv.FormatFloat(b.Rate, 'f', decimals, 64), money(b.Amount))
		}
		t.write(p)
		p.line("  total: " + total)
	}
	if c.Contract {
		p.wrapped("  ", "  ", "note: some users fall in a contract-pricing band; "+
			"its rate is an estimate, not a list price")
	}
}

func writeAboutTable(p *printer, a analysis.About) {
	p.line("About")
	p.line("=====")
	p.wrapped("", "  ", "scope: "+describe(string(a.Scope), scopeMeaning))
	p.wrapped("", "  ", "evidence: "+describe(string(a.Evidence), evidenceMeaning))
	p.wrapped("", "  ", "unknown authors: "+describe(string(a.UnknownAuthors), unknownAuthorsMeaning))
	p.wrapped("", "  ", "price table: "+orNone(a.PriceTable))
	if len(a.Assumptions) == 0 {
		p.line("assumptions: none stated")
		return
	}
	p.line("assumptions:")
	for _, s := range a.Assumptions {
		p.wrapped("  - ", "    ", s)
	}
}

var scopeMeaning = map[string]string{
	string(analysis.ScopeService): "a subject active in two services is two users",
	string(analysis.ScopeAccount): "a subject counts once across the account's services",
}

var evidenceMeaning = map[string]string{
	string(analysis.EvidenceStrict):   "only activity that Twilio's events or records prove counts",
	string(analysis.EvidenceInferred): "likely activity, such as an access token issued, counts too",
}

var unknownAuthorsMeaning = map[string]string{
	string(analysis.UnknownAuthorsIgnore): "a message's author nobody knows bills nobody",
	string(analysis.UnknownAuthorsBill):   "a message's author nobody knows is billed",
}

func describe(value string, meanings map[string]string) string {
	if value == "" {
		return "not stated"
	}
	if m, ok := meanings[value]; ok {
		return value + " (" + m + ")"
	}
	return value
}

func orNone(s string) string {
	if s == "" {
		return "not stated"
	}
	return s
}

func writeExplanationTable(w io.Writer, e *analysis.Explanation) error {
	bw := bufio.NewWriter(w)
	p := &printer{w: bw}

	p.wrapped("", "  ", fmt.Sprintf("%s in %s", orNone(e.Subject), orNone(e.Month)))
	billedIn := 0
	for _, s := range e.Services {
		if s.Billed {
			billedIn++
		}
	}
	switch {
	case len(e.Services) == 0:
		p.line("not billed: not seen in any service this month")
	case billedIn == 0:
		p.line("not billed")
	default:
		p.linef("billed in %d of %d %s", billedIn, len(e.Services),
			plural(len(e.Services), "service", "services"))
	}

	for _, s := range e.Services {
		p.line("")
		status := "not billed"
		if s.Billed {
			status = "billed"
		}
		kind := ""
		if s.Kind != "" {
			kind = " (" + s.Kind + ")"
		}
		where := "service " + s.ServiceSID
		switch {
		case s.ServiceSID == "" && len(s.Activities) > 0:
			where = serviceUnknown
		case s.ServiceSID == "":
			where = "all services"
		}
		p.linef("%s%s: %s", where, kind, status)
		for _, why := range s.NotBilled {
			p.wrapped("  - ", "    ", why)
		}
		if len(s.Activities) == 0 {
			continue
		}
		p.linef("  %s qualifying %s, oldest first:", group(len(s.Activities)),
			plural(len(s.Activities), "activity", "activities"))
		shown := s.Activities[:min(len(s.Activities), maxListed)]
		for i, a := range shown {
			writeActivity(p, i+1, a)
		}
		if n := len(s.Activities) - len(shown); n > 0 {
			p.linef("  ... and %s more (csv and json list all)", group(n))
		}
	}
	p.line("")
	writeAboutTable(p, e.About)
	if p.err != nil {
		return p.err
	}
	return bw.Flush()
}

// writeActivity prints one activity on two lines: what and when, then
// where the evidence came from. One line would not fit 80 columns once
// a 34-character SID is on it.
func writeActivity(p *printer, n int, a analysis.Activity) {
	at := tableTime(a.At)
	if at == "" {
		at = "time unknown"
	}
	what := a.Rule
	if a.Family != "" && !strings.HasPrefix(a.Rule, a.Family+".") {
		what += " (" + a.Family + ")"
	}
	if a.Inferred {
		what += " (inferred)"
	}
	p.linef("  %2d. %s  %s", n, at, what)
	var via []string
	if a.Source != "" {
		src := "via " + a.Source
		if a.Origin != "" {
			src += " (" + a.Origin + ")"
		}
		via = append(via, src)
	} else if a.Origin != "" {
		via = append(via, "origin "+a.Origin)
	}
	if a.Evidence != "" {
		via = append(via, "evidence "+a.Evidence)
	}
	if by := timedByNames[a.TimedBy]; by != "" {
		via = append(via, "at its "+by)
	}
	if len(via) > 0 {
		p.wrapped("      ", "      ", strings.Join(via, ", "))
	}
}

// timedByNames say, for explain, which time an activity was timed by.
var timedByNames = map[string]string{
	"time":         "CloudEvent time",
	"received_at":  "receipt (_received_at)",
	"date_created": "DateCreated",
	"date_updated": "DateUpdated",
	"issued_at":    "token issue",
}

// printer writes lines and keeps the first error, so that the layout code
// reads as a list of lines.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, s+"\n")
	}
}

func (p *printer) linef(format string, args ...any) { p.line(fmt.Sprintf(format, args...)) }

// wrapped writes text word-wrapped to lineWidth, the first line after
// first and the others after rest. A word longer than the line stays whole.
func (p *printer) wrapped(first, rest, text string) {
	for i, line := range wrapWords(text, lineWidth-utf8.RuneCountInString(first), lineWidth-utf8.RuneCountInString(rest)) {
		if i == 0 {
			p.line(first + line)
		} else {
			p.line(rest + line)
		}
	}
}

// wrapWords splits text into lines between words, the first at most first
// runes wide and the others at most rest; a word longer than that stays
// whole on its own line.
func wrapWords(text string, first, rest int) []string {
	var lines []string
	width, line := first, ""
	for _, word := range strings.Fields(text) {
		if line != "" && utf8.RuneCountInString(line+" "+word) > width {
			lines = append(lines, line)
			width, line = rest, ""
		}
		if line == "" {
			line = word
		} else {
			line += " " + word
		}
	}
	return append(lines, line)
}

// textTable lays out rows with text/tabwriter. Columns marked right are
// right-aligned (numbers); tabwriter only aligns left, so their cells are
// padded to the column's width first.
type textTable struct {
	indent string
	right  []bool
	rows   [][]string
}

func newTextTable(indent string, right ...bool) *textTable {
	return &textTable{indent: indent, right: right}
}

func (t *textTable) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *textTable) write(p *printer) {
	widths := make([]int, len(t.right))
	for _, row := range t.rows {
		for i, c := range row {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	for _, row := range t.rows {
		cells := make([]string, len(row))
		for i, c := range row {
			if i < len(t.right) && t.right[i] {
				c = strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)) + c
			}
			cells[i] = c
		}
		if p.err == nil {
			_, p.err = io.WriteString(tw, t.indent+strings.Join(cells, "\t")+"\n")
		}
	}
	if p.err == nil {
		p.err = tw.Flush()
	}
}

// group writes n with thousands separators: 12345 is 12,345.
func group(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	s = groupDigits(s)
	if neg {
		s = "-" + s
	}
	return s
}

// money writes an amount with two decimals and thousands separators.
func money(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	s = groupDigits(whole) + "." + frac
	if neg && strings.Trim(s, "0.,") != "" {
		s = "-" + s
	}
	return s
}

func groupDigits(digits string) string {
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// tableTime is how the table shows an instant, always in UTC since months
// are UTC months; a zero instant is blank.
func tableTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
