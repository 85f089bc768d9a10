package analysis

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"fmt"
	"math"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

var (
	//go:embed hygiene_history.sql
	hygieneHistorySQL string
	//go:embed hygiene_subjects.sql
	hygieneSubjectsSQL string
	//go:embed hygiene_shared.sql
	hygieneSharedSQL string
)

// DefaultOneShotWindow is the span all of a one-shot identity's activity
// fits in, unless the caller says otherwise.
const DefaultOneShotWindow = 24 * time.Hour

// HygieneOptions say which identities the hygiene findings look at.
type HygieneOptions struct {
	// OneShotWindow is the span all of a one-shot identity's activity fits in.
	OneShotWindow time.Duration
	// ServiceSID, when not empty, limits the findings to one service.
	ServiceSID string
	// ListSubjects lists every billed identity with its verdicts; the
	// findings alone (a table) do not need the list.
	ListSubjects bool
	// LintOnly lists only the identities with lint findings.
	LintOnly bool
}

// DefaultHygieneOptions are a 24-hour one-shot window over all services,
// listing every identity.
func DefaultHygieneOptions() HygieneOptions {
	return HygieneOptions{OneShotWindow: DefaultOneShotWindow, ListSubjects: true}
}

// maxShapes is how many shapes a month lists, most subjects first.
const maxShapes = 10

// maxDuplicateGroups bounds the duplicate groups a month lists; the
// subjects of `identities` carry their group whatever the count.
const maxDuplicateGroups = 100

// Identities computes the identity hygiene findings for every month of r,
// with every billed identity's shape, verdicts and lint if o.ListSubjects
// (only those with lint findings if o.LintOnly).
func (a *Analyzer) Identities(ctx context.Context, r MonthRange, o HygieneOptions) (*Identities, error) {
	if err := a.selectRange(ctx, r); err != nil {
		return nil, err
	}
	ids := &Identities{
		Schema:        IdentitiesSchema,
		GeneratedAt:   time.Now().UTC().Truncate(time.Second),
		From:          r.From.String(),
		To:            r.To.String(),
		ServiceSID:    o.ServiceSID,
		OneShotWindow: o.OneShotWindow.String(),
		LintOnly:      o.LintOnly,
		About:         a.About(),
	}
	months := map[string]*IdentityMonth{}
	for _, m := range r.Months() {
		ids.Months = append(ids.Months, IdentityMonth{Month: m.String(), Subjects: []IdentitySubject{}})
	}
	for i := range ids.Months {
		months[ids.Months[i].Month] = &ids.Months[i]
	}
	var list func(month string, identities int, s IdentitySubject)
	if o.ListSubjects {
		list = func(month string, identities int, s IdentitySubject) {
			m := months[month]
			if !o.LintOnly && cap(m.Subjects) == 0 {
				// sized once: growing a million-entry list copies it
				// again and again
				m.Subjects = make([]IdentitySubject, 0, identities)
			}
			if !o.LintOnly || len(s.Lint) > 0 {
				m.Subjects = append(m.Subjects, s)
			}
		}
	}
	summaries, err := a.hygiene(ctx, r, o, list)
	if err != nil {
		return nil, err
	}
	for i := range ids.Months {
		ids.Months[i].Summary = summaries[i]
	}
	return ids, nil
}

// hygiene computes the findings of each month of r, in order, over the
// range selectRange materialised; list, if not nil, is given every billed
// identity of the range with its verdicts and lint (see lintIdentities).
func (a *Analyzer) hygiene(ctx context.Context, r MonthRange, o HygieneOptions, list func(month string, identities int, s IdentitySubject)) ([]Hygiene, error) {
	if err := a.buildHygiene(ctx, r, o); err != nil {
		return nil, err
	}
	out := make([]Hygiene, 0, len(r.Months()))
	index := map[string]int{}
	for i, m := range r.Months() {
		index[m.String()] = i
		out = append(out, Hygiene{
			Shapes:     []ShapeFigures{},
			Duplicates: Duplicates{Groups: []DuplicateGroup{}},
			Lint:       []LintFigures{},
			Avoidable:  Avoidable{Currency: a.settings.Prices.Currency},
		})
	}
	for _, step := range []func(context.Context, MonthRange, map[string]int, []Hygiene) error{
		a.hygieneCounts, a.hygieneChurned, a.hygieneShapes, a.hygieneDuplicates, a.hygieneCosts,
	} {
		if err := step(ctx, r, index, out); err != nil {
			return nil, err
		}
	}
	if err := a.lintIdentities(ctx, index, out, list); err != nil {
		return nil, err
	}
	return out, nil
}

// buildHygiene fills the temporary tables the findings are read from:
// hygiene_history, hygiene_shapes, hygiene_shared and hygiene_subjects.
func (a *Analyzer) buildHygiene(ctx context.Context, r MonthRange, o HygieneOptions) error {
	if _, err := a.conn.ExecContext(ctx, hygieneHistorySQL,
		sql.Named("account", a.settings.Scope == ScopeAccount), sql.Named("service", o.ServiceSID)); err != nil {
		return fmt.Errorf("identity history: %w", err)
	}
	if err := a.classifySubjects(ctx, r); err != nil {
		return err
	}
	if _, err := a.conn.ExecContext(ctx, hygieneSharedSQL,
		sql.Named("from", r.From.String()), sql.Named("to", r.To.String()),
		sql.Named("account", a.settings.Scope == ScopeAccount),
		sql.Named("min_conversations", SharedMinConversations), sql.Named("factor", SharedPercentileFactor),
		sql.Named("overlap_conversations", OverlapConversations)); err != nil {
		return fmt.Errorf("shared identities: %w", err)
	}
	if _, err := a.conn.ExecContext(ctx, hygieneSubjectsSQL,
		sql.Named("window_us", o.OneShotWindow.Microseconds()),
		sql.Named("from", r.From.Start()), sql.Named("to", r.To.Start())); err != nil {
		return fmt.Errorf("identity verdicts: %w", err)
	}
	return nil
}

// classifySubjects shapes each distinct subject of the range once, into
// hygiene_shapes: DuckDB calls patternOf and DuplicateKey (registered as
// mauledger_shape and mauledger_duplicate_key) on its own threads. The
// verdict depends on the pattern alone, so Go judges the few distinct
// patterns into hygiene_verdicts.
func (a *Analyzer) classifySubjects(ctx context.Context, r MonthRange) error {
	if _, err := a.conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE hygiene_shapes AS
		SELECT subject, mauledger_shape(subject) AS shape, mauledger_duplicate_key(subject) AS dup_key
		FROM (SELECT DISTINCT subject FROM hygiene_history
		      WHERE month_start BETWEEN ? AND ? AND in_service)`, r.From.Start(), r.To.Start()); err != nil {
		return fmt.Errorf("shape identities: %w", err)
	}
	var patterns []string
	if err := a.eachRow(ctx, "judge shapes", `SELECT DISTINCT shape FROM hygiene_shapes`, func(rows *sql.Rows) error {
		var p string
		if err := rows.Scan(&p); err != nil {
			return err
		}
		patterns = append(patterns, p)
		return nil
	}); err != nil {
		return err
	}
	if _, err := a.conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE hygiene_verdicts (
		shape VARCHAR, random BOOLEAN, reason VARCHAR)`); err != nil {
		return fmt.Errorf("judge shapes: %w", err)
	}
	return a.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "hygiene_verdicts")
		if err != nil {
			return fmt.Errorf("judge shapes: %w", err)
		}
		for _, p := range patterns {
			random, reason := a.judge.verdict(p)
			if err := app.AppendRow(p, random, reason); err != nil {
				app.Close()
				return fmt.Errorf("judge shapes: %w", err)
			}
		}
		return app.Close()
	})
}

// registerShapeFunctions makes the judge's shape and duplicateKey (patternOf
// and DuplicateKey over a store) callable from SQL on conn, as
// mauledger_shape(VARCHAR) and mauledger_duplicate_key(VARCHAR).
func registerShapeFunctions(conn *sql.Conn, judge identityJudge) error {
	for name, f := range map[string]stringFunction{
		"mauledger_shape":         judge.shape,
		"mauledger_duplicate_key": judge.duplicateKey,
	} {
		if err := duckdb.RegisterScalarUDF(conn, name, f); err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
	}
	return nil
}

// stringFunction is a Go string function as a DuckDB scalar function of
// one VARCHAR (NULL in, NULL out).
type stringFunction func(string) string

func (f stringFunction) Config() duckdb.ScalarFuncConfig {
	varchar, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR) // cannot fail for a primitive type
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar}, ResultTypeInfo: varchar}
}

func (f stringFunction) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		return f(values[0].(string)), nil
	}}
}

func (a *Analyzer) hygieneCounts(ctx context.Context, _ MonthRange, index map[string]int, out []Hygiene) error {
	return a.eachRow(ctx, "count hygiene findings", `SELECT month, count(*),
		       count(*) FILTER (subject_kind = 'identity'),
		       count(*) FILTER (subject_kind = 'identity' AND random),
		       count(*) FILTER (one_shot),
		       count(*) FILTER (one_shot AND random),
		       count(*) FILTER (status = 'new'),
		       count(*) FILTER (status = 'returning'),
		       count(*) FILTER (status = 'reactivated'),
		       count(*) FILTER (status = 'new' AND subject_kind = 'identity' AND random),
		       count(*) FILTER (subject_kind = 'identity' AND connect_only),
		       count(*) FILTER (subject_kind = 'identity' AND rest_write_only),
		       count(*) FILTER (subject_kind = 'address' AND added_silent)
		FROM hygiene_subjects GROUP BY month`, func(rows *sql.Rows) error {
		var (
			month string
			h     Hygiene
		)
		if err := rows.Scan(&month, &h.ActiveUsers, &h.Identities, &h.RandomIdentities, &h.OneShot, &h.OneShotRandom,
			&h.Churn.New, &h.Churn.Returning, &h.Churn.Reactivated, &h.Churn.NewRandom,
			&h.Avoidable.ConnectOnly.Subjects, &h.Avoidable.RESTWriteOnly.Subjects, &h.Avoidable.SilentAddresses.Subjects); err != nil {
			return err
		}
		o := &out[index[month]]
		h.Shapes, h.Duplicates, h.Lint, h.Avoidable.Currency = o.Shapes, o.Duplicates, o.Lint, o.Avoidable.Currency
		*o = h
		return nil
	})
}

// hygieneChurned counts, for each month of r, the subjects billed the month
// before and not in it.
func (a *Analyzer) hygieneChurned(ctx context.Context, r MonthRange, index map[string]int, out []Hygiene) error {
	return a.eachRow(ctx, "count churned users", `SELECT strftime(month_start + INTERVAL 1 MONTH, '%Y-%m'), count(*)
		FROM hygiene_history
		WHERE month_start + INTERVAL 1 MONTH BETWEEN ? AND ? AND in_service
		  AND next_month IS DISTINCT FROM month_start + INTERVAL 1 MONTH
		GROUP BY 1`, func(rows *sql.Rows) error {
		var (
			month string
			n     int
		)
		if err := rows.Scan(&month, &n); err != nil {
			return err
		}
		out[index[month]].Churn.Churned = n
		return nil
	}, r.From.Start(), r.To.Start())
}

func (a *Analyzer) hygieneShapes(ctx context.Context, _ MonthRange, index map[string]int, out []Hygiene) error {
	return a.eachRow(ctx, "count identity shapes", `SELECT month, shape, any_value(random), any_value(reason),
		       count(*) AS subjects, min(subject), count(*) FILTER (status = 'new')
		FROM hygiene_subjects WHERE subject_kind = 'identity'
		GROUP BY month, shape
		QUALIFY row_number() OVER (PARTITION BY month ORDER BY subjects DESC, shape) <= ?
		ORDER BY month, subjects DESC, shape`, func(rows *sql.Rows) error {
		var (
			month string
			s     ShapeFigures
		)
		if err := rows.Scan(&month, &s.Pattern, &s.Random, &s.Reason, &s.Subjects, &s.Example, &s.New); err != nil {
			return err
		}
		h := &out[index[month]]
		s.Share, s.ChurnRate = share(s.Subjects, h.ActiveUsers), share(s.New, h.ActiveUsers)
		h.Shapes = append(h.Shapes, s)
		return nil
	}, maxShapes)
}

func (a *Analyzer) hygieneDuplicates(ctx context.Context, _ MonthRange, index map[string]int, out []Hygiene) error {
	return a.eachRow(ctx, "group duplicate identities", `SELECT month, duplicate_group, min(service_sid),
		       list({'kind': subject_kind, 'subject': subject} ORDER BY subject_kind, subject), count(*) - 1 AS extra
		FROM hygiene_subjects WHERE duplicate_group IS NOT NULL
		GROUP BY month, key_service, duplicate_group
		ORDER BY month, extra DESC, duplicate_group, min(service_sid)`, func(rows *sql.Rows) error {
		var (
			month   string
			g       DuplicateGroup
			members []any
		)
		if err := rows.Scan(&month, &g.Key, &g.ServiceSID, &members, &g.ExtraUsers); err != nil {
			return err
		}
		d := &out[index[month]].Duplicates
		d.GroupCount++
		d.ExtraUsers += g.ExtraUsers
		if len(d.Groups) >= maxDuplicateGroups {
			return nil
		}
		for _, m := range members {
			m := m.(map[string]any)
			g.Members = append(g.Members, DuplicateMember{Kind: m["kind"].(string), Subject: m["subject"].(string)})
		}
		d.Groups = append(d.Groups, g)
		return nil
	})
}

// hygieneCosts prices the findings and works out the what-if, from the
// account's MAU of each month. Each figure is what the bill would really
// drop by without its subjects, Cost(MAU) − Cost(MAU − subjects) through
// the graduated bands (PriceTable.Saving), not subjects × marginal rate:
// the marginal rate is reported for information only.
func (a *Analyzer) hygieneCosts(ctx context.Context, r MonthRange, index map[string]int, out []Hygiene) error {
	mau := make([]int, len(out))
	if err := a.eachRow(ctx, "count active users", `SELECT strftime(month_start, '%Y-%m'), count(*)
		FROM hygiene_history WHERE month_start BETWEEN ? AND ? GROUP BY month_start`, func(rows *sql.Rows) error {
		var (
			month string
			n     int
		)
		if err := rows.Scan(&month, &n); err != nil {
			return err
		}
		mau[index[month]] = n
		return nil
	}, r.From.Start(), r.To.Start()); err != nil {
		return err
	}
	p := a.settings.Prices
	for i := range out {
		h := &out[i]
		av := &h.Avoidable
		av.MarginalRate = p.MarginalRate(mau[i])
		for _, f := range []*AvoidableFigure{&av.ConnectOnly, &av.RESTWriteOnly, &av.SilentAddresses} {
			f.Cost = p.Saving(mau[i], f.Subjects)
		}
		av.Cost = p.Saving(mau[i], av.ConnectOnly.Subjects+av.RESTWriteOnly.Subjects+av.SilentAddresses.Subjects)
		h.Duplicates.Cost = p.Saving(mau[i], h.Duplicates.ExtraUsers)
		h.Churn.RandomChurnRate = share(h.Churn.NewRandom, h.ActiveUsers)
		w := &h.WhatIf
		w.OneShotRandom = h.OneShotRandom
		w.ActiveUsers, w.Cost = mau[i], p.Cost(mau[i]).Total
		w.ActiveUsersWithout = mau[i] - h.OneShotRandom
		w.CostWithout = p.Cost(w.ActiveUsersWithout).Total
		w.Saving = p.Saving(mau[i], h.OneShotRandom)
	}
	return nil
}

// share is part over whole, rounded to four decimals; 0 when whole is 0.
func share(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return math.Round(float64(part)/float64(whole)*10_000) / 10_000
}
