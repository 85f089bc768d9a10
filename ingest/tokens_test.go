package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestLoadTokensFromCSVAndNDJSON(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	csv := "\ufeffIssued_At,identity,extra,service_sid\n" +
		"2026-11-01T09:00:00Z,alice,x,IS1\n" +
		"2026-11-01T10:00:00+02:00,\"bob, jr\",x,\n" +
		"yesterday,carol,x,IS1\n" +
		"2026-11-01T09:00:00Z,,x,IS1\n" +
		"2026-11-01T09:00:00Z,dave,x,MG1\n" +
		"2026-11-01T09:00:00Z,alice,x,IS1\n" // logged twice
	res, err := s.LoadTokens(ctx, "t.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens != 6 || res.Loaded != 2 || res.Duplicates != 1 || fmt.Sprint(res.Rejected) !=
		`[{4 issued_at "yesterday" is not an RFC 3339 time (e.g. 2026-11-01T09:30:00Z)} {5 no identity} {6 service_sid "MG1" is not a Conversation Service SID (IS...)}]` {
		t.Fatalf("csv: %+v", res)
	}
	var svc *string
	var at string
	if err := s.DB.QueryRow(`SELECT service_sid, strftime(issued_at, '%Y-%m-%dT%H:%M:%S') FROM token_issues WHERE identity = 'bob, jr'`).Scan(&svc, &at); err != nil ||
		svc != nil || at != "2026-11-01T08:00:00" {
		t.Errorf("bob: service %v at %s (%v)", svc, at, err)
	}

	ndjson := `{"identity":"alice","issued_at":"2026-11-01T09:00:00Z","service_sid":"IS1"}` + "\n\n" +
		`{"identity":"erin","issued_at":"2026-11-02T00:00:00Z"}` + "\n" +
		`{"identity":42,"issued_at":"2026-11-02T00:00:00Z"}` + "\n" +
		`{"identity":"frank"`
	res, err = s.LoadTokens(ctx, "t.ndjson", strings.NewReader(ndjson))
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens != 4 || res.Loaded != 1 || res.Duplicates != 1 || len(res.Rejected) != 2 ||
		res.Rejected[0].Line != 4 || res.Rejected[1].Line != 5 {
		t.Fatalf("ndjson: %+v", res)
	}
	// Loading a file again changes nothing.
	res, _ = s.LoadTokens(ctx, "again.csv", strings.NewReader(csv))
	if res.Loaded != 0 || count(t, s, `SELECT count(*) FROM token_issues`) != 3 {
		t.Errorf("reload: %+v", res)
	}
}

func TestLoadTokensRefusesAFileWithoutTheColumns(t *testing.T) {
	s := openTestStore(t)
	_, err := s.LoadTokens(context.Background(), "t.csv", strings.NewReader("user,time\nalice,2026-11-01T09:00:00Z\n"))
	if !errors.Is(err, ErrTokenLog) || !strings.Contains(err.Error(), "t.csv: not a token log: the CSV header must name") {
		t.Errorf("%v", err)
	}
	if count(t, s, `SELECT count(*) FROM token_issues`) != 0 {
		t.Errorf("stored lines of a refused file")
	}
}
