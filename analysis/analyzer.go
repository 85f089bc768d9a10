// Package analysis holds the billing rules and the queries over them: it
// builds the activity ledger from the stored evidence (ledger.sql) and
// derives monthly MAU, cost and explanations from it.
package analysis

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
)

//go:embed ledger.sql
var ledgerSQL string

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

// Analyzer runs the analysis queries on one connection of a store. It only
// creates temporary views and tables: it never changes stored data.
type Analyzer struct {
	conn     *sql.Conn
	settings Settings
}

// New prepares the ledger views on a dedicated connection of db.
func New(ctx context.Context, db *sql.DB, s Settings) (*Analyzer, error) {
	if s.Scope != ScopeService && s.Scope != ScopeAccount {
		return nil, fmt.Errorf("unknown scope %q: want service or account", s.Scope)
	}
	if s.Evidence != EvidenceStrict && s.Evidence != EvidenceInferred {
		return nil, fmt.Errorf("unknown evidence level %q: want strict or inferred", s.Evidence)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	a := &Analyzer{conn: conn, settings: s}
	stmts := []string{
		`CREATE OR REPLACE TEMP VIEW ledger_all AS ` + ledgerSQL,
		// The billable ledger; "quality" rows record unbillable authors.
		`CREATE OR REPLACE TEMP VIEW ledger AS
		 SELECT * FROM ledger_all WHERE family <> 'quality'` + a.evidenceFilter(),
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.Close()
			return nil, fmt.Errorf("prepare ledger: %w", err)
		}
	}
	if err := registerShapeFunctions(conn); err != nil {
		conn.Close()
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

// Close releases the connection.
func (a *Analyzer) Close() error { return a.conn.Close() }

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

// selectRange materialises the whole ledger once, then the rows of a range
// of months: ledger_rows and the billable ledger_history hold every month,
// range_all the range's rows with the data-quality ones, ledger_range the
// billable ones. Rows are deduplicated across all time, so a month of the
// ledger costs nearly as much to compute as all of it, and the identity
// hygiene findings need every month anyway.
func (a *Analyzer) selectRange(ctx context.Context, r MonthRange) error {
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE ledger_rows AS SELECT * FROM ledger_all`,
		`CREATE OR REPLACE TEMP VIEW ledger_history AS
		 SELECT * FROM ledger_rows WHERE family <> 'quality'` + a.evidenceFilter(),
		`CREATE OR REPLACE TEMP TABLE range_all AS
		 SELECT * FROM ledger_rows WHERE occurred_at >= $1 AND occurred_at < $2`,
		`CREATE OR REPLACE TEMP VIEW ledger_range AS
		 SELECT * FROM range_all WHERE family <> 'quality'` + a.evidenceFilter(),
	}
	for i, q := range stmts {
		var args []any
		if i == 2 {
			args = []any{r.From.Start(), r.To.End()}
		}
		if _, err := a.conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("build activity ledger %s..%s: %w", r.From, r.To, err)
		}
	}
	return nil
}
