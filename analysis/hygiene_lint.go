package analysis

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
)

// lintIdentities lints every billed identity of hygiene_subjects and counts
// each month's findings into out[index[month]].Lint: the rules of lint.go,
// and the shared finding of the identities in hygiene_shared. With list, it
// also reads each identity's verdicts and hands list the identity with its
// lint, in order of month, service and identity, and how many identities
// its month has (counted by hygieneCounts), to size the list. Linting is done here, in
// Go, as the identities come out: a listing reads every one anyway, and a
// DuckDB function would cost a million identities several times the
// linting.
func (a *Analyzer) lintIdentities(ctx context.Context, index map[string]int, out []Hygiene, list func(month string, identities int, s IdentitySubject)) error {
	shared, err := a.sharedSignals(ctx)
	if err != nil {
		return err
	}
	var (
		month    string
		isShared bool
		s        IdentitySubject
	)
	columns, dest := "month, service_sid, subject, shared", []any{&month, &s.ServiceSID, &s.Identity, &isShared}
	order := ""
	if list != nil {
		columns += `, shape, random, reason, one_shot, duplicate_group, status,
		       CASE WHEN connect_only THEN 'connect_only' WHEN rest_write_only THEN 'rest_write_only' ELSE '' END`
		dest = append(dest, &s.Pattern, &s.Random, &s.Reason, &s.OneShot, &s.DuplicateGroup, &s.Status, &s.Avoidable)
		order = "ORDER BY month, service_sid, subject"
	}
	counts := map[lintCount]*LintFigures{}
	err = a.eachRow(ctx, "lint identities", `SELECT `+columns+`
		FROM hygiene_subjects WHERE subject_kind = 'identity' `+order, func(rows *sql.Rows) error {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		s.Lint = a.judge.lint(s.Identity)
		if isShared {
			s.Lint = append(s.Lint, SharedFinding(shared[a.sharedKey(month, s.ServiceSID, s.Identity)]))
		}
		for _, f := range s.Lint {
			k := lintCount{month, f.Code, f.Severity}
			c := counts[k]
			if c == nil {
				c = &LintFigures{Code: f.Code, Severity: f.Severity, Example: s.Identity, Fix: f.Fix}
				counts[k] = c
			}
			c.Identities++
			c.Example = min(c.Example, s.Identity)
		}
		if list != nil {
			if s.Lint == nil {
				s.Lint = []LintFinding{}
			}
			list(month, out[index[month]].Identities, s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for k, c := range counts {
		h := &out[index[k.month]]
		h.Lint = append(h.Lint, *c)
	}
	for i := range out {
		slices.SortFunc(out[i].Lint, func(x, y LintFigures) int {
			if c := cmp.Compare(slices.Index(LintCodes, x.Code), slices.Index(LintCodes, y.Code)); c != 0 {
				return c
			}
			return cmp.Compare(y.Severity, x.Severity) // warning before note
		})
	}
	return nil
}

// lintCount is one line of a month's lint: a code of one severity.
type lintCount struct{ month, code, severity string }

// sharedKey is an identity of a month as hygiene_shared keys it: with its
// service under service scope, alone under account scope.
type sharedKey struct{ month, keyService, identity string }

func (a *Analyzer) sharedKey(month, service, identity string) sharedKey {
	if a.settings.Scope == ScopeAccount {
		service = ""
	}
	return sharedKey{month, service, identity}
}

// sharedSignals reads hygiene_shared: the few identities whose month is
// unlike one person's.
func (a *Analyzer) sharedSignals(ctx context.Context) (map[sharedKey]SharedSignals, error) {
	signals := map[sharedKey]SharedSignals{}
	err := a.eachRow(ctx, "read shared identities", `SELECT month, key_service, subject, conversations, p999,
		       at_once, at_once_from, at_once_to
		FROM hygiene_shared`, func(rows *sql.Rows) error {
		var (
			k        sharedKey
			s        SharedSignals
			from, to sql.NullTime
		)
		if err := rows.Scan(&k.month, &k.keyService, &k.identity, &s.Conversations, &s.Percentile999, &s.AtOnce, &from, &to); err != nil {
			return err
		}
		s.AtOnceFrom, s.AtOnceTo = from.Time, to.Time
		signals[k] = s
		return nil
	})
	return signals, err
}
