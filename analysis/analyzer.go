// Package analysis holds the billing rules and the queries over them: it
// builds the activity ledger from the stored evidence (ledger.sql) and
// derives monthly MAU, cost and explanations from it.
package analysis

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"time"

	"github.com/mauledger/mauledger/internal/duckmem"
)

var (
	//go:embed ledger.sql
	ledgerSQL string
	//go:embed subject_months.sql
	subjectMonthsSQL string
)

// Settings are the assumptions a report is computed under; every report
// states them.
type Settings struct {
	Scope    Scope
	Evidence Evidence
	Prices   PriceTable
}

// DefaultSettings are service scope, strict evidence and list prices.
func DefaultSettings() Settings {
	return Settings{Scope: ScopeService, Evidence: EvidenceStrict, Prices: DefaultPrices()}
}

// Analyzer runs the analysis queries on one connection of a store. Apart
// from bringing the stored ledger up to date (Refresh), it only creates
// temporary views and tables: it never changes stored data.
type Analyzer struct {
	conn          *sql.Conn
	settings      Settings
	restoreMemory func()
}

// New prepares the ledger views on a dedicated connection of db.
func New(ctx context.Context, db *sql.DB, s Settings) (*Analyzer, error) {
	if s.Scope != ScopeService && s.Scope != ScopeAccount {
		return nil, fmt.Errorf("unknown scope %q: want service or account", s.Scope)
	}
	if s.Evidence != EvidenceStrict && s.Evidence != EvidenceInferred {
		return nil, fmt.Errorf("unknown evidence level %q: want strict or inferred", s.Evidence)
	}
	// A report after an interrupted ingest finds the ledger out of date.
	if _, err := Refresh(ctx, db); err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	restore, err := duckmem.Limit(ctx, conn, duckmem.Budget)
	if err != nil {
		conn.Close()
		return nil, err
	}
	a := &Analyzer{conn: conn, settings: s, restoreMemory: restore}
	if err := defineRuleMacros(ctx, conn); err != nil {
		a.Close()
		return nil, err
	}
	stmts := []string{
		// The billable ledger; "quality" rows record unbillable authors.
		`CREATE OR REPLACE TEMP VIEW ledger AS
		 SELECT * FROM activity_ledger WHERE family <> 'quality'` + a.evidenceFilter(),
		a.subjectMonthsSQL(),
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			a.Close()
			return nil, fmt.Errorf("prepare ledger: %w", err)
		}
	}
	if err := registerShapeFunctions(conn); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *Analyzer) evidenceFilter() string {
	if a.settings.Evidence == EvidenceStrict {
		return ` AND NOT inferred`
	}
	return ""
}

// eachRow runs query on the analyzer's connection and calls scan once per
// row; what names the query in its error.
func (a *Analyzer) eachRow(ctx context.Context, what, query string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := a.conn.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Close puts DuckDB's memory limit back and releases the connection.
func (a *Analyzer) Close() error {
	a.restoreMemory()
	return a.conn.Close()
}

// About states the settings and the assumptions behind every figure.
func (a *Analyzer) About() About {
	s := a.settings
	scope := "service: an identity or address active in two Conversation Services counts twice (Twilio's User records live in a service)"
	if s.Scope == ScopeAccount {
		scope = "account: an identity or address counts once however many Conversation Services it is active in"
	}
	evidence := "strict: only activity that Twilio events or records prove is billed"
	if s.Evidence == EvidenceInferred {
		evidence = "inferred: also bills likely activity, such as an access token issued to an identity"
	}
	return About{
		Scope:      s.Scope,
		Evidence:   s.Evidence,
		PriceTable: s.Prices.Name,
		Assumptions: []string{
			"Months are calendar months in UTC.",
			"Scope " + scope + ".",
			"Evidence " + evidence + ".",
			"Any event from an SDK proves its client identity was connected at that moment (sdk.connect).",
			"Messages with the default author \"system\", or an author that is neither a known identity nor a participant address, bill nobody; they are counted under data quality.",
			"Event Streams events carry no Source: they are taken as API actions, except messages whose author is a participant address of the conversation (inbound from that channel).",
			"A month without live events (webhooks or Event Streams) is marked incomplete: snapshots cannot see SDK connections or removed participants, so its figures are a lower bound.",
			"Cost is graduated over the account's total MAU for the month; bands marked contract are estimated at the last published rate.",
		},
	}
}

// subjectMonthsSQL defines subject_months, the billed subjects of every
// month under the evidence setting: the stored proven ones, or those merged
// with the inferred ones (a table then: every report query reads it).
func (a *Analyzer) subjectMonthsSQL() string {
	if a.settings.Evidence == EvidenceStrict {
		return `CREATE OR REPLACE TEMP VIEW subject_months AS
		 SELECT * EXCLUDE (inferred) FROM ledger_subject_months WHERE NOT inferred`
	}
	return `CREATE OR REPLACE TEMP TABLE subject_months AS
	 SELECT month, service_sid, subject_kind, subject, sum(activities) AS activities,
	        min(first) AS first, max(last_at) AS last_at, bit_or(rule_bits) AS rule_bits
	 FROM ledger_subject_months
	 GROUP BY month, service_sid, subject_kind, subject`
}

// rangeArgs are the parameters of the queries over subject_months: the
// months of r ($from, $to as YYYY-MM) and whether the scope is the account.
func (a *Analyzer) rangeArgs(r MonthRange) []any {
	return []any{sql.Named("from", r.From.String()), sql.Named("to", r.To.String()),
		sql.Named("account", a.settings.Scope == ScopeAccount)}
}

// selectRange names the rows of a range of months of the stored ledger:
// range_all the range's rows with the data-quality ones, ledger_range the
// billable ones. They are views: nothing is copied.
func (a *Analyzer) selectRange(ctx context.Context, r MonthRange) error {
	stmts := []string{
		fmt.Sprintf(`CREATE OR REPLACE TEMP VIEW range_all AS
		 SELECT * FROM activity_ledger WHERE occurred_at >= '%s' AND occurred_at < '%s'`,
			r.From.Start().Format(time.DateTime), r.To.End().Format(time.DateTime)),
		`CREATE OR REPLACE TEMP VIEW ledger_range AS
		 SELECT * FROM range_all WHERE family <> 'quality'` + a.evidenceFilter(),
	}
	for _, q := range stmts {
		if _, err := a.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("select months %s..%s of the activity ledger: %w", r.From, r.To, err)
		}
	}
	return nil
}
