package ingest

import (
	"bufio"
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// TokensResult tells what one token-server log's load did.
type TokensResult struct {
	Name string
	// Tokens counts the token issues read (CSV records or NDJSON lines).
	Tokens int64
	// Loaded counts those stored for the first time; Duplicates those
	// already stored or repeated (same identity, service and time).
	Loaded, Duplicates int64
	Rejected           []Rejection
}

// ErrTokenLog means the file cannot be read as a token log at all.
var ErrTokenLog = errors.New("not a token log")

// tokenIssue is one line of a token-server log.
type tokenIssue struct {
	line       int64
	identity   string
	issuedAt   time.Time
	serviceSID string // empty when the log does not say
}

// LoadTokens loads a token-server log: CSV with a header, or NDJSON, with
// the fields identity, issued_at (RFC 3339) and optionally service_sid.
// Each access token issued is likely, not certain, evidence of an SDK
// connection: the ledger bills it only with inferred evidence. Lines are
// staged in DuckDB as they are read, so memory stays flat however long the
// log; the file's good lines are then stored in one transaction, so a
// failed load stores nothing and loading a file twice changes nothing.
func (s *Store) LoadTokens(ctx context.Context, name string, r io.Reader) (TokensResult, error) {
	res := TokensResult{Name: name}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE stage_tokens
		(line BIGINT, service_sid VARCHAR, identity VARCHAR, issued_at TIMESTAMP)`); err != nil {
		return res, fmt.Errorf("stage tokens of %s: %w", name, err)
	}
	var staged int64
	err = conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "stage_tokens")
		if err != nil {
			return err
		}
		stage := func(t tokenIssue) error {
			staged++
			var svc any // NULL when the log does not say
			if t.serviceSID != "" {
				svc = t.serviceSID
			}
			return a.AppendRow(t.line, svc, t.identity, t.issuedAt)
		}
		br := bufio.NewReader(r)
		head, _ := br.Peek(1 << 10)
		if t := bytes.TrimLeft(head, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
			err = readTokenLines(br, &res, stage)
		} else {
			err = readTokenCSV(br, &res, stage)
		}
		if cerr := a.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	if staged == 0 {
		return res, nil
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	// The first of each (service, identity, time), unless already stored.
	inserted, err := execCount(ctx, tx, `INSERT INTO token_issues
		SELECT service_sid, identity, issued_at, now()::TIMESTAMP, ?, line
		FROM stage_tokens s
		WHERE NOT EXISTS (SELECT 1 FROM token_issues t WHERE t.identity = s.identity
		                  AND t.issued_at = s.issued_at AND t.service_sid IS NOT DISTINCT FROM s.service_sid)
		QUALIFY row_number() OVER (PARTITION BY service_sid, identity, issued_at ORDER BY line) = 1`, name)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return res, fmt.Errorf("store tokens of %s: %w", name, err)
	}
	res.Loaded = inserted
	res.Duplicates = staged - inserted
	return res, nil
}

// check validates one line's fields, returning the issue or why not.
func checkToken(line int64, identity, issuedAt, serviceSID string) (tokenIssue, string) {
	switch {
	case identity == "":
		return tokenIssue{}, "no identity"
	case issuedAt == "":
		return tokenIssue{}, "no issued_at"
	case serviceSID != "" && !strings.HasPrefix(serviceSID, "IS"):
		return tokenIssue{}, fmt.Sprintf("service_sid %q is not a Conversation Service SID (IS...)", serviceSID)
	}
	at, err := time.Parse(time.RFC3339Nano, issuedAt)
	if err != nil {
		return tokenIssue{}, fmt.Sprintf("issued_at %q is not an RFC 3339 time (e.g. 2026-11-01T09:30:00Z)", issuedAt)
	}
	return tokenIssue{line: line, identity: identity, issuedAt: at.UTC(), serviceSID: serviceSID}, ""
}

func readTokenCSV(r io.Reader, res *TokensResult, stage func(tokenIssue) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: CSV header: %w", ErrTokenLog, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	idCol, ok1 := col["identity"]
	atCol, ok2 := col["issued_at"]
	svcCol, hasSvc := col["service_sid"]
	if !ok1 || !ok2 {
		return fmt.Errorf("%w: the CSV header must name the columns identity and issued_at (service_sid optional)", ErrTokenLog)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := cr.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			res.Tokens++
			res.Rejected = append(res.Rejected, Rejection{int64(pe.StartLine), "not valid CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			return err
		}
		res.Tokens++
		field := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		svc := ""
		if hasSvc {
			svc = field(svcCol)
		}
		issue, reason := checkToken(int64(line), field(idCol), field(atCol), svc)
		if reason != "" {
			res.Rejected = append(res.Rejected, Rejection{int64(line), reason})
			continue
		}
		if err := stage(issue); err != nil {
			return err
		}
	}
}

func readTokenLines(r *bufio.Reader, res *TokensResult, stage func(tokenIssue) error) error {
	return readLines(r, func(line int64, body []byte, reason string) error {
		if reason == "" && len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		res.Tokens++
		if reason != "" {
			res.Rejected = append(res.Rejected, Rejection{line, reason})
			return nil
		}
		var f struct {
			Identity   string `json:"identity"`
			IssuedAt   string `json:"issued_at"`
			ServiceSID string `json:"service_sid"`
		}
		if err := json.Unmarshal(body, &f); err != nil {
			res.Rejected = append(res.Rejected, Rejection{line, "not a JSON object of strings: " + err.Error()})
			return nil
		}
		issue, reason := checkToken(line, f.Identity, f.IssuedAt, f.ServiceSID)
		if reason != "" {
			res.Rejected = append(res.Rejected, Rejection{line, reason})
			return nil
		}
		return stage(issue)
	})
}
