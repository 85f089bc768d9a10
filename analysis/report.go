package analysis

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
)

// figureSQL counts distinct subjects per month (and per service) along each
// dimension a report shows, from subject_months. The subject key follows
// the scope: with service scope a subject is (service, kind, subject), with
// account scope (kind, subject). Per-service rows are always per service.
//
// first_family counts each subject once, by the family of its first
// qualifying activity (first is ordered by time), so that these counts add
// up to the active users, as a stacked chart needs.
const figureSQL = `
WITH scoped AS (
    SELECT month, subject_kind, rule_list(bit_or(rule_bits)) AS rules, split_part(min(first).rule, '.', 1) AS first_family
    FROM subject_months
    WHERE month BETWEEN $from AND $to
    GROUP BY month, CASE WHEN $account THEN '' ELSE service_sid END, subject_kind, subject
),
per_service AS (
    SELECT month, service_sid, subject_kind, rule_list(rule_bits), split_part(first.rule, '.', 1)
    FROM subject_months WHERE month BETWEEN $from AND $to
),
counted AS (
    SELECT month, NULL AS service_sid, subject_kind, rules, first_family FROM scoped
    UNION ALL
    SELECT * FROM per_service
)
SELECT month, service_sid, 'total' AS dim, '' AS value, count(*) AS n FROM counted GROUP BY ALL
UNION ALL
SELECT month, service_sid, 'first_family', first_family, count(*) FROM counted GROUP BY ALL
UNION ALL
SELECT month, service_sid, 'kind', subject_kind, count(*) FROM counted GROUP BY ALL
UNION ALL
SELECT month, service_sid, 'rule', rule, count(*) FROM counted, unnest(rules) AS r(rule) GROUP BY ALL
UNION ALL
SELECT month, service_sid, 'family', family, count(*)
FROM (SELECT month, service_sid, list_distinct(list_transform(rules, r -> split_part(r, '.', 1))) AS families FROM counted),
     unnest(families) AS f(family)
GROUP BY ALL
`

// billedSQL lists each billed subject of each month with its first
// qualifying activity (see subject_months.sql) and its number of activities.
const billedSQL = `
SELECT month, f.service_sid AS first_service, subject_kind, subject, activities,
       f.at, f.rule, f.source, f.origin, f.evidence, f.inferred, f.unknown_author, f.timed_by
FROM (
    SELECT month, subject_kind, subject, sum(activities) AS activities, min(first) AS f
    FROM subject_months
    WHERE month BETWEEN $from AND $to
    GROUP BY month, CASE WHEN $account THEN '' ELSE service_sid END, subject_kind, subject
)
ORDER BY month, first_service, subject_kind, subject
`

// ReportOptions say what a report lists beyond its figures.
type ReportOptions struct {
	// Billed lists every billed subject of every month (the XLSX sheet
	// "Active users"): a million rows for a million users, so it is made
	// only when asked for.
	Billed bool
	// StreamBilled sets Report.EachBilled instead, which reads the billed
	// subjects from the database each time it is called and holds none of
	// them: for a workbook of millions of rows.
	StreamBilled bool
	// Now is the time the report is made at, which decides whether a month
	// is over and whether it is final; zero means the clock's.
	Now time.Time
}

// Report computes the monthly report for every month of r.
func (a *Analyzer) Report(ctx context.Context, r MonthRange, o ReportOptions) (*Report, error) {
	if err := a.selectRange(ctx, r); err != nil {
		return nil, err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	rep := &Report{
		Schema:      ReportSchema,
		GeneratedAt: now.UTC().Truncate(time.Second),
		From:        r.From.String(),
		To:          r.To.String(),
		About:       a.About(),
	}
	months := map[string]*MonthReport{}
	for _, m := range r.Months() {
		rep.Months = append(rep.Months, MonthReport{
			Month:    m.String(),
			Figures:  newFigures(),
			Services: []ServiceFigures{},
			Billed:   []BilledSubject{},
			DataQuality: DataQuality{
				UnknownAuthors: []string{},
			},
		})
	}
	for i := range rep.Months {
		months[rep.Months[i].Month] = &rep.Months[i]
	}
	fillCoverage := func(ctx context.Context, r MonthRange, months map[string]*MonthReport) error {
		return a.fillCoverage(ctx, r, months, now)
	}
	steps := []func(context.Context, MonthRange, map[string]*MonthReport) error{
		a.fillFigures, fillCoverage, a.fillDataQuality,
	}
	if o.Billed {
		steps = append(steps, a.fillBilled)
	}
	if o.StreamBilled {
		rep.EachBilled = func(fn func(month string, b BilledSubject) error) error { return a.eachBilled(ctx, r, fn) }
	}
	for _, step := range steps {
		if err := step(ctx, r, months); err != nil {
			return nil, err
		}
	}
	hygiene, _, err := a.hygiene(ctx, r, DefaultHygieneOptions())
	if err != nil {
		return nil, err
	}
	for i := range rep.Months {
		m := &rep.Months[i]
		m.Hygiene = hygiene[i]
		m.Cost = a.settings.Prices.Cost(m.ActiveUsers)
		m.Status = a.status(r.Months()[i], m.Complete, now)
		slices.SortFunc(m.Services, func(x, y ServiceFigures) int {
			if x.ActiveUsers != y.ActiveUsers {
				return y.ActiveUsers - x.ActiveUsers
			}
			return strings.Compare(x.ServiceSID, y.ServiceSID)
		})
	}
	return rep, nil
}

// The statuses of a month's figures.
const (
	// StatusPreliminary: late data may still change the month.
	StatusPreliminary = "preliminary"
	// StatusFinal: the month is complete and its grace period has passed.
	StatusFinal = "final"
)

// status is a month's status at now: final once it is complete and
// Settings.FinalAfter has passed since it ended, else preliminary.
func (a *Analyzer) status(m Month, complete bool, now time.Time) string {
	if complete && !now.Before(m.End().Add(a.settings.FinalAfter)) {
		return StatusFinal
	}
	return StatusPreliminary
}

func newFigures() Figures {
	f := Figures{ByFamily: map[string]int{}, ByFirstFamily: map[string]int{}, ByRule: map[string]int{}}
	for _, fam := range Families {
		f.ByFamily[fam] = 0
		f.ByFirstFamily[fam] = 0
	}
	for _, r := range Rules {
		f.ByRule[r] = 0
	}
	return f
}

func (f *Figures) set(dim, value string, n int) {
	switch dim {
	case "total":
		f.ActiveUsers = n
	case "kind":
		if value == "identity" {
			f.Identities = n
		} else {
			f.Addresses = n
		}
	case "family":
		f.ByFamily[value] = n
	case "first_family":
		f.ByFirstFamily[value] = n
	case "rule":
		f.ByRule[value] = n
	}
}

func (a *Analyzer) fillFigures(ctx context.Context, r MonthRange, months map[string]*MonthReport) error {
	services := map[string]map[string]*ServiceFigures{}
	err := a.eachRow(ctx, "count active users", figureSQL, func(rows *sql.Rows) error {
		var (
			month, dim, value string
			service           *string
			n                 int
		)
		if err := rows.Scan(&month, &service, &dim, &value, &n); err != nil {
			return err
		}
		m := months[month]
		if service == nil {
			m.Figures.set(dim, value, n)
			return nil
		}
		if *service == "" {
			if m.ServiceUnknown == nil {
				m.ServiceUnknown = &ServiceUnknown{Figures: newFigures(), Fix: serviceUnknownFix}
			}
			m.ServiceUnknown.set(dim, value, n)
			return nil
		}
		if services[month] == nil {
			services[month] = map[string]*ServiceFigures{}
		}
		sf := services[month][*service]
		if sf == nil {
			sf = &ServiceFigures{ServiceSID: *service, Figures: newFigures()}
			services[month][*service] = sf
		}
		sf.set(dim, value, n)
		return nil
	}, a.rangeArgs(r)...)
	if err != nil {
		return err
	}
	for month, byService := range services {
		for _, sf := range byService {
			months[month].Services = append(months[month].Services, *sf)
		}
	}
	return nil
}

// serviceUnknownFix says what tells the service of activities that no
// evidence ties to one.
const serviceUnknownFix = "no evidence names their Conversation Service (Event Streams events carry none): " +
	"run `mauledger ingest twilio` so that the REST snapshot tells the service of each conversation and user"

func (a *Analyzer) fillBilled(ctx context.Context, r MonthRange, months map[string]*MonthReport) error {
	return a.eachBilled(ctx, r, func(month string, b BilledSubject) error {
		months[month].Billed = append(months[month].Billed, b)
		return nil
	})
}

// eachBilled calls fn for every billed subject of the months of r, month
// by month, with its first qualifying activity. It asks for one month at a
// time: sorting a month's subjects takes a twelfth of the memory of
// sorting a year's.
func (a *Analyzer) eachBilled(ctx context.Context, r MonthRange, fn func(month string, b BilledSubject) error) error {
	for _, m := range r.Months() {
		if err := a.eachBilledOf(ctx, MonthRange{m, m}, fn); err != nil {
			return err
		}
	}
	return nil
}

func (a *Analyzer) eachBilledOf(ctx context.Context, r MonthRange, fn func(month string, b BilledSubject) error) error {
	return a.eachRow(ctx, "list billed users", billedSQL, func(rows *sql.Rows) error {
		var (
			month string
			b     BilledSubject
			f     = &b.First
		)
		if err := rows.Scan(&month, &b.ServiceSID, &b.Kind, &b.Subject, &b.Activities,
			&f.At, &f.Rule, &f.Source, &f.Origin, &f.Evidence, &f.Inferred, &f.UnknownAuthor, &f.TimedBy); err != nil {
			return err
		}
		f.ServiceSID, f.Kind, f.Subject, f.Family = b.ServiceSID, b.Kind, b.Subject, family(f.Rule)
		return fn(month, b)
	}, a.rangeArgs(r)...)
}

// maxUnknownAuthors bounds the unknown authors a month lists, most frequent
// first: an app writing random author strings could otherwise list millions.
const maxUnknownAuthors = 100

func (a *Analyzer) fillDataQuality(ctx context.Context, r MonthRange, months map[string]*MonthReport) error {
	return a.eachRow(ctx, "count data-quality findings", `SELECT month,
		       CASE WHEN unknown_author THEN 'unknown_author' ELSE rule END AS finding, subject, count(*)
		FROM range_all
		WHERE family = 'quality' OR unknown_author
		GROUP BY ALL ORDER BY month, finding, count(*) DESC, subject`, func(rows *sql.Rows) error {
		var (
			month, rule, author string
			n                   int
		)
		if err := rows.Scan(&month, &rule, &author, &n); err != nil {
			return err
		}
		dq := &months[month].DataQuality
		switch rule {
		case "quality.system_author":
			dq.SystemMessages += n
		case "unknown_author":
			dq.UnknownAuthorMessages += n
			if len(dq.UnknownAuthors) < maxUnknownAuthors {
				dq.UnknownAuthors = append(dq.UnknownAuthors, author)
			}
		}
		return nil
	})
}

// family is the part of a rule id before the dot: sdk.connect -> sdk.
func family(rule string) string {
	f, _, _ := strings.Cut(rule, ".")
	return f
}
