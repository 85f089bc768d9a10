package analysis

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/mauledger/mauledger/internal/parquet"
)

// An export of the ledger (`export ledger --out DIR`) is a folder a report
// can be made from without the database:
//
//	DIR/month=M/service=S/*.parquet   the activity ledger (what warehouses read)
//	DIR/_subject_months/month=M/      ledger_subject_months, the stored summary
//	DIR/_coverage/hours.parquet       coverage inputs (coverage_inputs.sql):
//	DIR/_coverage/dated.parquet         counts per hour, month and run,
//	DIR/_coverage/runs.parquet          never payloads
//	DIR/_schema/*.parquet             no rows: the columns of the two tables,
//	                                    for months without activity
//	DIR/_identities.parquet           only with --redact: what the hygiene
//	                                    findings learn from each subject's
//	                                    string, worked out before redaction
//	DIR/_manifest.json                LedgerManifest
//
// Hive readers (Spark, Trino) skip names that start with "_", so DIR reads
// as the ledger alone. OpenLedgerDir gives these files the names the
// analyzer reads, and the report is the same code over them.

// LedgerExportSchema names the layout of an export of the ledger.
const LedgerExportSchema = "mauledger.ledger-export/v1"

// ledgerManifestName is the manifest's file in an export.
const ledgerManifestName = "_manifest.json"

// LedgerManifest says what an export of the ledger holds.
type LedgerManifest struct {
	Schema           string    `json:"schema"`
	MauledgerVersion string    `json:"mauledger_version"`
	DatabaseSchema   int       `json:"database_schema"`
	RulesVersion     string    `json:"rules_version"`
	ExportedAt       time.Time `json:"exported_at"`
	From             string    `json:"from"`
	To               string    `json:"to"`
	Months           []string  `json:"months"`
	// LedgerFrom and LedgerTo are the first and last month of the whole
	// stored ledger when it was exported: the identity-hygiene findings of
	// a report (churn, one-shot identities) look at a subject's other
	// months, and an export of part of the ledger holds only its own.
	LedgerFrom string `json:"ledger_from,omitempty"`
	LedgerTo   string `json:"ledger_to,omitempty"`
	// Redacted: subjects are the pseudonyms of --redact, and so is every
	// subject a report of the export lists.
	Redacted bool `json:"redacted"`
	// Rows counts the rows of each table: ledger, subject_months,
	// coverage_hours, coverage_dated, coverage_runs.
	Rows map[string]int64 `json:"rows"`
}

// RulesVersion is the version of the billing rules this build applies: an
// export made by other rules cannot be reported by these.
func RulesVersion() string { return rulesVersion }

// The ways a folder cannot be reported from.
var (
	ErrNotLedgerExport = errors.New("not an export of the ledger")
	ErrOtherRules      = errors.New("exported under other billing rules")
	ErrMonthNotInDir   = errors.New("month not in the export")
)

// ExportLedgerDir writes the months of r of the ledger to dir, with what a
// report of them needs (see above), subjects through redact when it is not
// nil. m gives the manifest's versions; the rest of it is filled here.
func (a *Analyzer) ExportLedgerDir(ctx context.Context, r MonthRange, dir string, redact func(string) string, m LedgerManifest) (LedgerManifest, error) {
	if err := a.defineRedact(ctx, redact); err != nil {
		return m, err
	}
	ledger := fmt.Sprintf(exportQueries[ExportLedger], r.From, r.To)
	subjectMonths := fmt.Sprintf(`SELECT * REPLACE (redact(subject) AS subject) FROM ledger_subject_months
		WHERE month BETWEEN '%s' AND '%s'`, r.From, r.To)
	start, end := r.From.Start().Format(time.DateTime), r.To.End().Format(time.DateTime)
	span := fmt.Sprintf(`TIMESTAMP '%s', TIMESTAMP '%s'`, start, end)
	parts := []parquet.Part{ // the ledger first: DuckDB makes the folder
		{Query: ledger, PartitionBy: exportPartitions[ExportLedger]},
		{Path: "_subject_months", Query: subjectMonths, PartitionBy: []string{"month"}},
		{Path: "_coverage/hours.parquet", Query: `SELECT * FROM coverage_hours(` + span + `)`},
		{Path: "_coverage/dated.parquet", Query: `SELECT * FROM coverage_dated(` + span + `)`},
		// coverage.sql reads the runs started in or after a month.
		{Path: "_coverage/runs.parquet", Query: `SELECT * FROM coverage_runs WHERE started_at >= TIMESTAMP '` + start + `'`},
		{Path: "_schema/ledger.parquet", Query: ledger + ` LIMIT 0`},
		{Path: "_schema/subject_months.parquet", Query: subjectMonths + ` LIMIT 0`},
	}
	if redact != nil {
		if err := a.judgeSubjects(ctx, r, redact); err != nil {
			return m, err
		}
		parts = append(parts, parquet.Part{Path: identitiesFile, Query: `SELECT * FROM export_identities`})
	}
	m.Schema, m.RulesVersion = LedgerExportSchema, rulesVersion
	m.ExportedAt = time.Now().UTC().Truncate(time.Second)
	m.From, m.To, m.Redacted, m.Months = r.From.String(), r.To.String(), redact != nil, nil
	for _, month := range r.Months() {
		m.Months = append(m.Months, month.String())
	}
	switch whole, err := a.LedgerMonths(ctx); {
	case err == nil:
		m.LedgerFrom, m.LedgerTo = whole.From.String(), whole.To.String()
	case !errors.Is(err, ErrEmptyLedger):
		return m, err
	}
	// The manifest's counts are only known once the files are written; the
	// manifest goes in last, through the same whole-or-nothing rename.
	_, err := parquet.CopyParts(ctx, a.conn, dir, parts, func(rows []int64) (map[string][]byte, error) {
		m.Rows = map[string]int64{"ledger": rows[0], "subject_months": rows[1],
			"coverage_hours": rows[2], "coverage_dated": rows[3], "coverage_runs": rows[4]}
		if redact != nil {
			m.Rows["identities"] = rows[len(rows)-1]
		}
		manifest, err := json.MarshalIndent(m, "", "  ")
		return map[string][]byte{ledgerManifestName: append(manifest, '\n')}, err
	})
	if err != nil {
		return m, fmt.Errorf("export ledger: %w", err)
	}
	return m, nil
}

// ReadLedgerManifest reads the manifest of the export in dir and checks
// that these rules can report it.
func ReadLedgerManifest(dir string) (LedgerManifest, error) {
	var m LedgerManifest
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return m, fmt.Errorf("%s: %w: no such folder", dir, ErrNotLedgerExport)
	}
	data, err := os.ReadFile(filepath.Join(dir, ledgerManifestName))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return m, fmt.Errorf("%s: %w (no %s): write one with `mauledger export ledger --out %s`", dir, ErrNotLedgerExport, ledgerManifestName, dir)
		}
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Schema != LedgerExportSchema {
		return m, fmt.Errorf("%s: %w (%s is not a %s manifest)", dir, ErrNotLedgerExport, ledgerManifestName, LedgerExportSchema)
	}
	if m.RulesVersion != rulesVersion {
		return m, fmt.Errorf("%s: %w (rules %s, written by mauledger %s; this mauledger applies rules %s): export it again with this mauledger",
			dir, ErrOtherRules, m.RulesVersion, m.MauledgerVersion, rulesVersion)
	}
	return m, nil
}

// Covers refuses a range with a month the export does not hold.
func (m LedgerManifest) Covers(r MonthRange) error {
	if r.From.String() < m.From || r.To.String() > m.To {
		asked := r.From.String()
		if r.To != r.From {
			asked += " to " + r.To.String()
		}
		return fmt.Errorf("%w: it holds %s to %s, not %s", ErrMonthNotInDir, m.From, m.To, asked)
	}
	return nil
}

// Partial says, when the export holds only part of the stored ledger,
// which findings of its reports can differ from the database's; "" when it
// holds all of it.
func (m LedgerManifest) Partial() string {
	if m.LedgerFrom == "" || m.LedgerFrom >= m.From && m.LedgerTo <= m.To {
		return ""
	}
	return fmt.Sprintf("the export holds %s to %s of a ledger from %s to %s: churn and one-shot identities see only its months",
		m.From, m.To, m.LedgerFrom, m.LedgerTo)
}

// OpenLedgerDir opens an analyzer over the export of the ledger in dir,
// in a DuckDB of its own in memory: the same queries as over a store, with
// the export's files under the names of the tables they were written from.
// It refuses a folder that is no export (ErrNotLedgerExport) and one of
// other rules (ErrOtherRules).
func OpenLedgerDir(ctx context.Context, dir string, s Settings) (*Analyzer, LedgerManifest, error) {
	if err := s.check(); err != nil {
		return nil, LedgerManifest{}, err
	}
	m, err := ReadLedgerManifest(dir)
	if err != nil {
		return nil, m, err
	}
	inputs := strings.Join([]string{
		`CREATE OR REPLACE TEMP VIEW activity_ledger AS SELECT * EXCLUDE (service) FROM ` +
			partitions(dir, "month=*/service=*/*.parquet", "_schema/ledger.parquet", "month", "service"),
		`CREATE OR REPLACE TEMP VIEW ledger_subject_months AS SELECT * FROM ` +
			partitions(dir, "_subject_months/month=*/*.parquet", "_schema/subject_months.parquet", "month"),
		`CREATE OR REPLACE TEMP MACRO coverage_hours(start_at, end_at) AS TABLE
		 SELECT * FROM read_parquet(` + quoteSQL(filepath.Join(dir, "_coverage", "hours.parquet")) + `)
		 WHERE hour >= start_at AND hour < end_at`,
		`CREATE OR REPLACE TEMP MACRO coverage_dated(start_at, end_at) AS TABLE
		 SELECT * FROM read_parquet(` + quoteSQL(filepath.Join(dir, "_coverage", "dated.parquet")) + `)
		 WHERE starts >= start_at AND starts < end_at`,
		`CREATE OR REPLACE TEMP VIEW coverage_runs AS
		 SELECT * FROM read_parquet(` + quoteSQL(filepath.Join(dir, "_coverage", "runs.parquet")) + `)`,
	}, ";\n")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, m, err
	}
	judge := judgeIdentities
	if m.Redacted {
		if judge, err = judgedSubjects(ctx, db, dir); err != nil {
			db.Close()
			return nil, m, err
		}
	}
	a, err := open(ctx, db, s, inputs, judge)
	if err != nil {
		db.Close()
		return nil, m, fmt.Errorf("%s: %w", dir, err)
	}
	a.closeDB = db.Close
	return a, m, nil
}

// partitions is the SQL that reads the Hive-partitioned files of glob in
// dir, partition columns as text; with no such file (no activity in the
// months) the empty schema file instead, for the columns.
func partitions(dir, glob, schema string, columns ...string) string {
	files, _ := filepath.Glob(filepath.Join(dir, glob))
	if len(files) == 0 {
		return `read_parquet(` + quoteSQL(filepath.Join(dir, schema)) + `)`
	}
	types := make([]string, len(columns))
	for i, c := range columns {
		types[i] = quoteSQL(c) + `: 'VARCHAR'`
	}
	return `read_parquet(` + quoteSQL(filepath.Join(dir, glob)) + `, hive_partitioning = true, hive_types = {` + strings.Join(types, ", ") + `})`
}

func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// identityJudge is what the identity-hygiene findings learn from a
// subject's string: its shape, its duplicate key, the verdict on a shape
// (random or not, and why) and an identity's lint.
type identityJudge struct {
	shape, duplicateKey func(subject string) string
	verdict             func(pattern string) (random bool, reason string)
	lint                func(identity string) []LintFinding
}

// judgeIdentities works them out from the string: for a store, and an
// export that kept the subjects.
var judgeIdentities = identityJudge{shape: patternOf, duplicateKey: DuplicateKey, verdict: verdict, lint: Lint}

// identitiesFile holds, in a redacted export, each subject's judgement made
// before redaction: a pseudonym has the shape of a random token, and no
// duplicate or lint of the identity it stands for.
const identitiesFile = "_identities.parquet"

// judgeSubjects fills export_identities with every subject of the months
// of r, judged on its string and then redacted as a report --redact
// redacts the findings: the subject, its duplicate key and the literal
// words of its shape. Lint reasons never quote the identity.
func (a *Analyzer) judgeSubjects(ctx context.Context, r MonthRange, redact func(string) string) error {
	var subjects []string
	if err := a.eachRow(ctx, "list subjects", `SELECT DISTINCT subject FROM ledger_subject_months
		WHERE month BETWEEN ? AND ?`, func(rows *sql.Rows) error {
		var s string
		subjects = append(subjects, s)
		return rows.Scan(&subjects[len(subjects)-1])
	}, r.From.String(), r.To.String()); err != nil {
		return err
	}
	if _, err := a.conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE export_identities (
		subject VARCHAR, shape VARCHAR, duplicate_key VARCHAR, random BOOLEAN, reason VARCHAR, lint VARCHAR)`); err != nil {
		return fmt.Errorf("judge subjects: %w", err)
	}
	return a.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "export_identities")
		if err != nil {
			return fmt.Errorf("judge subjects: %w", err)
		}
		for _, s := range subjects {
			pattern := patternOf(s)
			random, reason := verdict(pattern)
			lint, err := json.Marshal(Lint(s))
			if err == nil {
				err = app.AppendRow(redact(s), MapShapeLiterals(pattern, redact), redact(DuplicateKey(s)), random, reason, string(lint))
			}
			if err != nil {
				app.Close()
				return fmt.Errorf("judge subjects: %w", err)
			}
		}
		return app.Close()
	})
}

// judgedSubjects is the judge of a redacted export: it looks up what
// judgeSubjects worked out.
func judgedSubjects(ctx context.Context, db *sql.DB, dir string) (identityJudge, error) {
	type judged struct {
		shape, duplicateKey string
		lint                []LintFinding
	}
	subjects := map[string]judged{}
	type verdictOf struct {
		random bool
		reason string
	}
	verdicts := map[string]verdictOf{}
	rows, err := db.QueryContext(ctx, `SELECT subject, shape, duplicate_key, random, reason, lint FROM read_parquet(?)`,
		filepath.Join(dir, identitiesFile))
	if err != nil {
		return identityJudge{}, fmt.Errorf("%s: %w", dir, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			subject, lint string
			j             judged
			v             verdictOf
		)
		if err := rows.Scan(&subject, &j.shape, &j.duplicateKey, &v.random, &v.reason, &lint); err != nil {
			return identityJudge{}, err
		}
		if err := json.Unmarshal([]byte(lint), &j.lint); err != nil {
			return identityJudge{}, fmt.Errorf("%s: lint of %s: %w", dir, subject, err)
		}
		subjects[subject], verdicts[j.shape] = j, v
	}
	if err := rows.Err(); err != nil {
		return identityJudge{}, fmt.Errorf("%s: %w", dir, err)
	}
	return identityJudge{
		shape:        func(s string) string { return subjects[s].shape },
		duplicateKey: func(s string) string { return subjects[s].duplicateKey },
		verdict:      func(p string) (bool, string) { return verdicts[p].random, verdicts[p].reason },
		lint:         func(s string) []LintFinding { return subjects[s].lint },
	}, nil
}
