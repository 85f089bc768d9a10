// Package analysis holds the billing rules and the queries over them: it
// builds the activity ledger from the stored evidence (ledger.sql) and
// derives monthly MAU, cost and explanations from it.
package analysis

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"strings"
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
	Scope          Scope
	Evidence       Evidence
	UnknownAuthors UnknownAuthors
	Prices         PriceTable
	// FinalAfter is how long after its end a complete month stays
	// preliminary: late data can still arrive (Event Streams queues events
	// for up to 4 hours; a webhook file can come a day late).
	FinalAfter time.Duration
}

// DefaultFinalAfter is the grace period after a month's end unless the
// settings say otherwise.
const DefaultFinalAfter = 48 * time.Hour

// DefaultSettings are service scope, strict evidence, unknown authors
// ignored, list prices and a 48-hour grace period.
func DefaultSettings() Settings {
	return Settings{Scope: ScopeService, Evidence: EvidenceStrict, UnknownAuthors: UnknownAuthorsIgnore, Prices: DefaultPrices(),
		FinalAfter: DefaultFinalAfter}
}

// Analyzer runs the analysis queries on one connection of a store. Apart
// from bringing the stored ledger up to date (Refresh), it only creates
// temporary views and tables: it never changes stored data.
type Analyzer struct {
	conn          *sql.Conn
	settings      Settings
	restoreMemory func()
	// closeDB closes the database the analyzer opened itself (an export
	// folder's, see OpenLedgerDir); nil for a store's.
	closeDB func() error
	// judge tells the hygiene findings about an identity's string.
	judge identityJudge
}

// New prepares the ledger views on a dedicated connection of db.
func New(ctx context.Context, db *sql.DB, s Settings) (*Analyzer, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	// A report after an interrupted ingest finds the ledger out of date.
	if _, err := Refresh(ctx, db); err != nil {
		return nil, err
	}
	return open(ctx, db, s, coverageInputsSQL, judgeIdentities)
}

// check refuses settings the analyzer does not know.
func (s Settings) check() error {
	if s.Scope != ScopeService && s.Scope != ScopeAccount {
		return fmt.Errorf("unknown scope %q: want service or account", s.Scope)
	}
	if s.Evidence != EvidenceStrict && s.Evidence != EvidenceInferred {
		return fmt.Errorf("unknown evidence level %q: want strict or inferred", s.Evidence)
	}
	if s.UnknownAuthors != UnknownAuthorsIgnore && s.UnknownAuthors != UnknownAuthorsBill {
		return fmt.Errorf("unknown setting for unknown authors %q: want ignore or bill", s.UnknownAuthors)
	}
	return nil
}

// open prepares the analyzer on a dedicated connection of db, which has
// the tables activity_ledger and ledger_subject_months; inputs defines the
// coverage inputs (coverage_hours, coverage_dated, coverage_runs) on the
// connection: over the evidence of a store, or over an export's files.
// judge tells the identity-hygiene findings what an identity's string says.
func open(ctx context.Context, db *sql.DB, s Settings, inputs string, judge identityJudge) (*Analyzer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	restore, err := duckmem.Limit(ctx, conn, duckmem.ReportBudget)
	if err != nil {
		conn.Close()
		return nil, err
	}
	a := &Analyzer{conn: conn, settings: s, restoreMemory: restore, judge: judge}
	if err := defineRuleMacros(ctx, conn); err != nil {
		a.Close()
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, inputs); err != nil {
		a.Close()
		return nil, fmt.Errorf("prepare the coverage inputs: %w", err)
	}
	stmts := []string{
		// The billable ledger; "quality" rows record unbillable authors.
		`CREATE OR REPLACE TEMP VIEW ledger AS
		 SELECT * FROM activity_ledger WHERE family <> 'quality' AND ` + a.billedFilter(),
		a.subjectMonthsSQL(),
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			a.Close()
			return nil, fmt.Errorf("prepare ledger: %w", err)
		}
	}
	return a, nil
}

// billedFilter is the condition on ledger rows that the settings bill:
// inferred rows only with --evidence inferred, unknown authors only with
// --unknown-authors bill.
func (a *Analyzer) billedFilter() string {
	cond := []string{"true"}
	if a.settings.Evidence == EvidenceStrict {
		cond = append(cond, "NOT inferred")
	}
	if a.settings.UnknownAuthors == UnknownAuthorsIgnore {
		cond = append(cond, "NOT unknown_author")
	}
	return strings.Join(cond, " AND ")
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

// Close puts DuckDB's memory limit back and releases the connection (and
// the database, if the analyzer opened it).
func (a *Analyzer) Close() error {
	a.restoreMemory()
	err := a.conn.Close()
	if a.closeDB != nil {
		err = errors.Join(err, a.closeDB())
	}
	return err
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
	unknown := "ignore: a message whose author is neither a participant (no ParticipantSid) nor a known identity nor a participant address bills nobody; it is counted under data quality"
	if s.UnknownAuthors == UnknownAuthorsBill {
		unknown = "bill: a message whose author is neither a participant (no ParticipantSid) nor a known identity nor a participant address bills its author, as an address when it has the form of one"
	}
	return About{
		Scope:          s.Scope,
		Evidence:       s.Evidence,
		UnknownAuthors: s.UnknownAuthors,
		PriceTable:     s.Prices.Name,
		FinalAfter:     s.FinalAfter.String(),
		Assumptions: []string{
			"Months are calendar months in UTC.",
			"Scope " + scope + ".",
			"Evidence " + evidence + ".",
			"Unknown authors " + unknown + ".",
			"An activity happens at the CloudEvent time, else when serve received the event, else (files with no other time) at the resource's DateCreated or DateUpdated, which an import can set.",
			"Every activity belongs to the Conversation Service its event names, else its conversation's, else its user's (from other events or a REST snapshot), else the account's only service; what is still unknown is reported as \"service unknown\" until `ingest twilio` tells it.",
			"A webhook, an Event Streams copy and a REST snapshot row of the same action are one activity, keeping the webhook's Source.",
			"Any event from an SDK proves its client identity was connected at that moment (sdk.connect).",
			"Messages with the default author \"system\" bill nobody. A message with a ParticipantSid bills its author, a participant.",
			"Event Streams events and REST snapshots carry no Source: they are taken as API actions, except messages from a participant's channel address (inbound from that channel).",
			fmt.Sprintf("A month's figures are preliminary until it is complete and %g hours have passed since it ended, then final: late data (Event Streams queues up to 4 hours; a file can come a day late) may still change a preliminary month.", s.FinalAfter.Hours()),
			"A month is complete only when live capture (webhooks, Event Streams) covers it with no gap longer than 4 hours and a REST snapshot (ingest twilio) was taken after it ended; otherwise its figures are a lower bound: snapshots cannot see SDK connections or removed participants, and see only each User's last update.",
			"A User update is a write (rest.user_write) when its DateUpdated is the event's own time, within a minute, whatever IsOnline says; IsOnline true with an older DateUpdated is a connection, IsOnline false a user going offline.",
			"Cost is graduated over the account's total MAU for the month; bands marked contract are estimated at the last published rate.",
			"Each price band's amount is its users × rate rounded once to the cent, half-up, and a month's cost is the sum of those amounts; what avoidable activity, duplicates or the what-if cost is the real drop in that bill, Cost(MAU) − Cost(MAU − those users), not those users × the marginal rate.",
		},
	}
}

// subjectMonthsSQL defines subject_months, the billed subjects of every
// month under the settings, one row per month, service and subject. A
// subject whose service is unknown (an empty SID) in a month where it has a
// known one counts there only, so it never counts twice. With the default
// settings it is the stored proven rows, whose build marked those
// (shadowed). Otherwise the inferred and unknown-author rows the settings
// bill are merged in, and the unknown service folded here: a table then,
// as every report query reads it. The merged conversations add up: token
// issues have none, and an unknown author is no known identity of the
// service, so its messages are in no conversation its other rows count.
func (a *Analyzer) subjectMonthsSQL() string {
	if a.settings.Evidence == EvidenceStrict && a.settings.UnknownAuthors == UnknownAuthorsIgnore {
		return `CREATE OR REPLACE TEMP VIEW subject_months AS
		 SELECT * EXCLUDE (inferred, unknown_author, shadowed) FROM ledger_subject_months
		 WHERE NOT inferred AND NOT unknown_author AND NOT shadowed`
	}
	return `CREATE OR REPLACE TEMP TABLE subject_months AS
	 SELECT month, service_sid, subject_kind, subject, sum(activities) AS activities,
	        min(first) AS first, max(last_at) AS last_at, bit_or(rule_bits) AS rule_bits,
	        sum(conversations) AS conversations, max(at_once) AS at_once,
	        arg_max(at_once_from, at_once) AS at_once_from, arg_max(at_once_to, at_once) AS at_once_to
	 FROM ledger_subject_months
	 WHERE ` + a.billedFilter() + `
	 GROUP BY month, service_sid, subject_kind, subject
	 QUALIFY service_sid <> '' OR NOT bool_or(service_sid <> '') OVER (PARTITION BY month, subject_kind, subject)`
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
		 SELECT * FROM range_all WHERE family <> 'quality' AND ` + a.billedFilter(),
	}
	for _, q := range stmts {
		if _, err := a.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("select months %s..%s of the activity ledger: %w", r.From, r.To, err)
		}
	}
	return nil
}
