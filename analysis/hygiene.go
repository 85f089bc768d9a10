package analysis

import (
	"cmp"
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

var (
	//go:embed hygiene_months.sql
	hygieneMonthsSQL string
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
// (only those with lint findings if o.LintOnly), in order of service and
// identity.
func (a *Analyzer) Identities(ctx context.Context, r MonthRange, o HygieneOptions) (*Identities, error) {
	if err := a.selectRange(ctx, r); err != nil {
		return nil, err
	}
	summaries, subjects, err := a.hygiene(ctx, r, o)
	if err != nil {
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
	for i, m := range r.Months() {
		month := IdentityMonth{Month: m.String(), Summary: summaries[i], Subjects: []IdentitySubject{}}
		if o.ListSubjects && !o.LintOnly {
			month.Subjects = make([]IdentitySubject, 0, summaries[i].Identities)
		}
		ids.Months = append(ids.Months, month)
	}
	if !o.ListSubjects {
		return ids, nil
	}
	for i := range subjects {
		s := &subjects[i]
		if s.identity && (!o.LintOnly || len(s.lint) > 0) {
			m := &ids.Months[s.month]
			m.Subjects = append(m.Subjects, s.listed())
		}
	}
	byServiceAndIdentity := func(x, y IdentitySubject) int {
		return cmp.Or(strings.Compare(x.ServiceSID, y.ServiceSID), strings.Compare(x.Identity, y.Identity))
	}
	for _, m := range ids.Months {
		// sorted already with service scope (see hygiene_months.sql)
		if !slices.IsSortedFunc(m.Subjects, byServiceAndIdentity) {
			slices.SortFunc(m.Subjects, byServiceAndIdentity)
		}
	}
	return ids, nil
}

// hygieneSubject is a billed subject of a month of the range, of the
// service asked for, with what hygiene finds in it.
type hygieneSubject struct {
	month int // index in the range's months
	// keyService is its service in the scope's subject key: "" with
	// account scope. service is its service (its least with account scope).
	keyService, service string
	identity            bool // an identity, else an address
	subject             string
	oneShot             bool
	status              string // new, returning or reactivated
	avoidable           string // connect_only, rest_write_only, added_silent or ""
	// Judged from the string (identityJudge.judgeAll):
	Shape
	dupKey string
	lint   []LintFinding
	// duplicate: other billed subjects of its month share dupKey, and at
	// least one of them is an identity.
	duplicate bool
}

// The kinds of avoidable activity (avoidableOf).
const (
	avoidableConnect   = "connect_only"
	avoidableRESTWrite = "rest_write_only"
	avoidableSilent    = "added_silent"
)

// listed is the identity as `identities` lists it.
func (s *hygieneSubject) listed() IdentitySubject {
	l := IdentitySubject{ServiceSID: s.service, Identity: s.subject, Shape: s.Shape, OneShot: s.oneShot,
		Status: s.status, Lint: s.lint}
	if s.duplicate {
		key := s.dupKey
		l.DuplicateGroup = &key
	}
	if s.avoidable == avoidableConnect || s.avoidable == avoidableRESTWrite {
		l.Avoidable = s.avoidable
	}
	if l.Lint == nil {
		l.Lint = []LintFinding{}
	}
	return l
}

// hygiene computes the findings of each month of r, in order, and returns
// the billed subjects they were found in (those of o.ServiceSID when set),
// in order of subject key and then month.
//
// DuckDB hands over each subject's months (hygiene_months.sql) and the
// shared identities (hygiene_shared.sql); the rest is worked out here, in
// one walk over the subjects: a million of them are judged on their
// strings in Go anyway, and grouping or windowing them again in DuckDB by
// string keys cost more than the walk.
func (a *Analyzer) hygiene(ctx context.Context, r MonthRange, o HygieneOptions) ([]Hygiene, []hygieneSubject, error) {
	shared, err := a.sharedSignals(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Hygiene, len(r.Months()))
	for i := range out {
		out[i] = Hygiene{
			Shapes:     []ShapeFigures{},
			Duplicates: Duplicates{Groups: []DuplicateGroup{}},
			Lint:       []LintFigures{},
			Avoidable:  Avoidable{Currency: a.settings.Prices.Currency},
		}
	}
	subjects, mau, err := a.readLives(ctx, r, o, out)
	if err != nil {
		return nil, nil, err
	}
	a.judge.judgeAll(subjects)
	for i := range subjects {
		s := &subjects[i]
		if signals, ok := shared[sharedKey{s.month, s.keyService, s.subject}]; ok && s.identity {
			// a copy: a judge may hand several subjects one list
			s.lint = append(slices.Clip(s.lint), SharedFinding(signals))
		}
	}
	findDuplicates(subjects, out)
	countFindings(subjects, out)
	a.priceFindings(mau, out)
	return out, subjects, nil
}

// readLives walks every billed subject's months (hygiene_months.sql) and
// returns the subjects of r's months of the service asked for, with their
// status, one-shot and avoidable verdicts, and the account's MAU of each
// month; it counts each month's churned subjects into out.
func (a *Analyzer) readLives(ctx context.Context, r MonthRange, o HygieneOptions, out []Hygiene) ([]hygieneSubject, []int, error) {
	before := MonthOf(r.From.Start().AddDate(0, -1, 0))
	account := a.settings.Scope == ScopeAccount
	window := o.OneShotWindow.Microseconds()
	mau := make([]int, len(out))
	var rows int
	if err := a.conn.QueryRowContext(ctx, `SELECT count(*) FROM subject_months WHERE month BETWEEN ? AND ?`,
		r.From.String(), r.To.String()).Scan(&rows); err != nil {
		return nil, nil, fmt.Errorf("count billed subjects: %w", err)
	}
	var (
		// sized once: growing a million-entry list copies it again and again
		subjects = make([]hygieneSubject, 0, rows)
		// One subject's life: its key, its months read, in order (month
		// indexes count from the month before the range, 0, so that the
		// range's months are 1 to len(out)), and its other months.
		identity, billedBefore bool
		subject                string
		life                   []lifeRow
		otherMonths            int
	)
	// endLife settles the subject whose months life holds.
	endLife := func() {
		if len(life) == 0 {
			return
		}
		// one-shot: billed in one month in all, within the window, and
		// never wrote a message
		only := life[0]
		oneShot := identity && len(life)+otherMonths == 1 &&
			only.last-only.first <= window && only.rules&authoredRules == 0
		for i, m := range life {
			billedNext := i+1 < len(life) && life[i+1].month == m.month+1
			if m.inService && m.month < len(out) && !billedNext {
				out[m.month].Churn.Churned++ // billed in month m, not in the next
			}
			if m.month == 0 {
				continue // the month before the range
			}
			mau[m.month-1]++
			if !m.inService {
				continue
			}
			s := hygieneSubject{month: m.month - 1, service: m.service, identity: identity, subject: subject,
				oneShot: oneShot, avoidable: avoidableOf(m.rules)}
			if !account {
				s.keyService = m.service
			}
			switch {
			case i > 0 && life[i-1].month == m.month-1:
				s.status = "returning"
			case i > 0 || billedBefore:
				s.status = "reactivated"
			default:
				s.status = "new"
			}
			subjects = append(subjects, s)
		}
		life = life[:0]
	}
	err := a.eachRow(ctx, "read identity history", hygieneMonthsSQL, func(rows *sql.Rows) error {
		var (
			row        lifeRow
			isIdentity bool
			name       string
			others     int
			before     bool
		)
		if err := rows.Scan(&isIdentity, &name, &row.month, &row.service, &row.first, &row.last,
			&row.rules, &row.inService, &others, &before); err != nil {
			return err
		}
		if len(life) > 0 && (name != subject || isIdentity != identity || (!account && row.service != life[0].service)) {
			endLife()
		}
		identity, subject, otherMonths, billedBefore = isIdentity, name, others, before
		if n := len(life); n > 0 && life[n-1].month == row.month {
			// another service's row of the month, with account scope: the
			// least service came first
			m := &life[n-1]
			m.first, m.last, m.rules = min(m.first, row.first), max(m.last, row.last), m.rules|row.rules
			m.inService = m.inService || row.inService
			return nil
		}
		life = append(life, row)
		return nil
	}, sql.Named("account", account), sql.Named("service", o.ServiceSID),
		sql.Named("before", before.String()), sql.Named("before_start", before.Start()), sql.Named("to", r.To.String()))
	if err != nil {
		return nil, nil, err
	}
	endLife()
	return subjects, mau, nil
}

// lifeRow is one month of a subject's life, as hygiene_months.sql reads it.
type lifeRow struct {
	month       int // 0 is the month before the range
	service     string
	first, last int64  // microseconds since the epoch
	rules       uint32 // rule_bits
	inService   bool
}

var (
	// authoredRules are the rules of writing a message.
	authoredRules = ruleBit("sdk.message") | ruleBit("rest.message_author")
	// The rules of avoidable activity, each alone (avoidableOf).
	connectRules     = ruleBit("sdk.connect")
	restWriteRules   = ruleBit("rest.user_write")
	addedSilentRules = ruleBit("channel.address_added")
)

// avoidableOf tells, from a subject's rules of a month, whether it was
// billable only through one kind of activity it could do without: an SDK
// connection (connect_only), a REST update of its User (rest_write_only),
// an address added to a conversation and nothing else (added_silent).
func avoidableOf(rules uint32) string {
	switch rules {
	case connectRules:
		return avoidableConnect
	case restWriteRules:
		return avoidableRESTWrite
	case addedSilentRules:
		return avoidableSilent
	}
	return ""
}

// judgeAll judges each subject on its string, on every processor: its
// shape and verdict, its duplicate key and, for an identity, its lint.
func (j identityJudge) judgeAll(subjects []hygieneSubject) {
	workers := runtime.GOMAXPROCS(0)
	part := (len(subjects) + workers - 1) / workers
	var wg sync.WaitGroup
	for start := 0; start < len(subjects); start += part {
		wg.Go(func() {
			for i := range subjects[start:min(start+part, len(subjects))] {
				s := &subjects[start+i]
				s.Pattern, s.dupKey = j.shape(s.subject), j.duplicateKey(s.subject)
				if s.identity {
					s.lint = j.lint(s.subject)
				}
			}
		})
	}
	wg.Wait()
	// The verdict depends on the pattern alone: a few patterns, judged once.
	verdicts := map[string]Shape{}
	for i := range subjects {
		s := &subjects[i]
		v, ok := verdicts[s.Pattern]
		if !ok {
			v.Pattern = s.Pattern
			v.Random, v.Reason = j.verdict(s.Pattern)
			verdicts[s.Pattern] = v
		}
		s.Shape = v
	}
}

// findDuplicates marks the subjects whose duplicate key others of their
// month (and service, with service scope) share, at least one of them an
// identity, and lists those groups in out: the most extra users first, up
// to maxDuplicateGroups a month.
//
// The subjects are sorted by a hash of that key, so that those who may
// share it sit side by side, and only those are compared by their strings:
// a Go map of a million string keys cost several times more.
func findDuplicates(subjects []hygieneSubject, out []Hygiene) {
	type candidate struct {
		hash    uint64
		subject int
	}
	type groupKey struct {
		month              int
		keyService, dupKey string
	}
	seed := maphash.MakeSeed()
	order := make([]candidate, len(subjects))
	for i := range subjects {
		s := &subjects[i]
		order[i] = candidate{maphash.String(seed, s.dupKey) ^ maphash.String(seed, s.keyService)*31 ^ uint64(s.month), i}
	}
	slices.SortFunc(order, func(x, y candidate) int { return cmp.Compare(x.hash, y.hash) })
	found := make([][]DuplicateGroup, len(out))
	for run := order; len(run) > 0; {
		n := 1
		for n < len(run) && run[n].hash == run[0].hash {
			n++
		}
		same := run[:n]
		run = run[n:]
		if len(same) == 1 {
			continue // a lone subject has no duplicate
		}
		groups := map[groupKey][]int{} // one key, most likely; rarely more
		for _, c := range same {
			s := &subjects[c.subject]
			k := groupKey{s.month, s.keyService, s.dupKey}
			groups[k] = append(groups[k], c.subject)
		}
		for k, members := range groups {
			if len(members) < 2 || !slices.ContainsFunc(members, func(i int) bool { return subjects[i].identity }) {
				continue
			}
			g := DuplicateGroup{Key: k.dupKey, ServiceSID: subjects[members[0]].service, ExtraUsers: len(members) - 1}
			for _, i := range members {
				s := &subjects[i]
				s.duplicate = true
				g.ServiceSID = min(g.ServiceSID, s.service)
				g.Members = append(g.Members, DuplicateMember{Kind: s.kind(), Subject: s.subject})
			}
			found[k.month] = append(found[k.month], g)
		}
	}
	for month, groups := range found {
		slices.SortFunc(groups, func(x, y DuplicateGroup) int {
			return cmp.Or(cmp.Compare(y.ExtraUsers, x.ExtraUsers), strings.Compare(x.Key, y.Key),
				strings.Compare(x.ServiceSID, y.ServiceSID))
		})
		d := &out[month].Duplicates
		d.GroupCount = len(groups)
		for i, g := range groups {
			d.ExtraUsers += g.ExtraUsers
			if i < maxDuplicateGroups {
				slices.SortFunc(g.Members, func(x, y DuplicateMember) int {
					return cmp.Or(strings.Compare(x.Kind, y.Kind), strings.Compare(x.Subject, y.Subject))
				})
				d.Groups = append(d.Groups, g)
			}
		}
	}
}

// kind is the subject's subject_kind.
func (s *hygieneSubject) kind() string {
	if s.identity {
		return "identity"
	}
	return "address"
}

// countFindings counts each month's subjects by verdict into out: the
// totals, the churn, the avoidable activity, the most common identity
// shapes and the identities with each lint finding.
func countFindings(subjects []hygieneSubject, out []Hygiene) {
	shapes := make([]map[string]*ShapeFigures, len(out))
	lint := make([]map[lintCount]*LintFigures, len(out))
	for i := range out {
		shapes[i], lint[i] = map[string]*ShapeFigures{}, map[lintCount]*LintFigures{}
	}
	for i := range subjects {
		s := &subjects[i]
		h := &out[s.month]
		h.ActiveUsers++
		switch s.status {
		case "new":
			h.Churn.New++
		case "returning":
			h.Churn.Returning++
		default:
			h.Churn.Reactivated++
		}
		if !s.identity {
			if s.avoidable == avoidableSilent {
				h.Avoidable.SilentAddresses.Subjects++
			}
			continue
		}
		h.Identities++
		if s.Random {
			h.RandomIdentities++
			if s.status == "new" {
				h.Churn.NewRandom++
			}
		}
		if s.oneShot {
			h.OneShot++
			if s.Random {
				h.OneShotRandom++
			}
		}
		switch s.avoidable {
		case avoidableConnect:
			h.Avoidable.ConnectOnly.Subjects++
		case avoidableRESTWrite:
			h.Avoidable.RESTWriteOnly.Subjects++
		}
		shape := shapes[s.month][s.Pattern]
		if shape == nil {
			shape = &ShapeFigures{Shape: s.Shape, Example: s.subject}
			shapes[s.month][s.Pattern] = shape
		}
		shape.Subjects++
		shape.Example = min(shape.Example, s.subject)
		if s.status == "new" {
			shape.New++
		}
		for _, f := range s.lint {
			k := lintCount{f.Code, f.Severity}
			c := lint[s.month][k]
			if c == nil {
				c = &LintFigures{Code: f.Code, Severity: f.Severity, Example: s.subject, Fix: f.Fix}
				lint[s.month][k] = c
			}
			c.Identities++
			c.Example = min(c.Example, s.subject)
		}
	}
	for i := range out {
		h := &out[i]
		for _, s := range shapes[i] {
			s.Share, s.ChurnRate = share(s.Subjects, h.ActiveUsers), share(s.New, h.ActiveUsers)
			h.Shapes = append(h.Shapes, *s)
		}
		slices.SortFunc(h.Shapes, func(x, y ShapeFigures) int {
			return cmp.Or(cmp.Compare(y.Subjects, x.Subjects), strings.Compare(x.Pattern, y.Pattern))
		})
		h.Shapes = h.Shapes[:min(len(h.Shapes), maxShapes)]
		for _, c := range lint[i] {
			h.Lint = append(h.Lint, *c)
		}
		slices.SortFunc(h.Lint, func(x, y LintFigures) int {
			return cmp.Or(cmp.Compare(slices.Index(LintCodes, x.Code), slices.Index(LintCodes, y.Code)),
				cmp.Compare(y.Severity, x.Severity)) // warning before note
		})
	}
}

// lintCount is one line of a month's lint: a code of one severity.
type lintCount struct{ code, severity string }

// priceFindings prices the findings and works out the what-if, from the
// account's MAU of each month. Each figure is what the bill would really
// drop by without its subjects, Cost(MAU) − Cost(MAU − subjects) through
// the graduated bands (PriceTable.Saving), not subjects × marginal rate:
// the marginal rate is reported for information only.
func (a *Analyzer) priceFindings(mau []int, out []Hygiene) {
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
}

// share is part over whole, rounded to four decimals; 0 when whole is 0.
func share(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return math.Round(float64(part)/float64(whole)*10_000) / 10_000
}

// sharedKey is an identity of a month as hygiene_shared keys it: with its
// service under service scope, alone ("") under account scope.
type sharedKey struct {
	month                int // index in the range's months
	keyService, identity string
}

// sharedSignals works out hygiene_shared (hygiene_shared.sql), the few
// identities of r's months whose month is unlike one person's, and reads it.
func (a *Analyzer) sharedSignals(ctx context.Context, r MonthRange) (map[sharedKey]SharedSignals, error) {
	if _, err := a.conn.ExecContext(ctx, hygieneSharedSQL,
		sql.Named("from", r.From.String()), sql.Named("to", r.To.String()),
		sql.Named("account", a.settings.Scope == ScopeAccount),
		sql.Named("min_conversations", SharedMinConversations), sql.Named("factor", SharedPercentileFactor),
		sql.Named("overlap_conversations", OverlapConversations)); err != nil {
		return nil, fmt.Errorf("shared identities: %w", err)
	}
	index := map[string]int{}
	for i, m := range r.Months() {
		index[m.String()] = i
	}
	signals := map[sharedKey]SharedSignals{}
	err := a.eachRow(ctx, "read shared identities", `SELECT month, key_service, subject, conversations, p999,
		       at_once, at_once_from, at_once_to
		FROM hygiene_shared`, func(rows *sql.Rows) error {
		var (
			month    string
			k        sharedKey
			s        SharedSignals
			from, to sql.NullTime
		)
		if err := rows.Scan(&month, &k.keyService, &k.identity, &s.Conversations, &s.Percentile999, &s.AtOnce, &from, &to); err != nil {
			return err
		}
		k.month = index[month]
		s.AtOnceFrom, s.AtOnceTo = from.Time, to.Time
		signals[k] = s
		return nil
	})
	return signals, err
}
