package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTheExampleIsTheDefault(t *testing.T) {
	c, err := Parse(strings.NewReader(Example()), "/etc/mauledger")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.resolve("/etc/mauledger")
	if c.Output.Dir != "/etc/mauledger/mauledger-reports" || !slices.Equal(c.Output.Formats, want.Output.Formats) ||
		c.Settings != want.Settings || c.FinalAfter != want.FinalAfter || c.Sources.Twilio.Enabled ||
		c.Sources.Twilio.Concurrency != 8 || c.Database != "" || c.Healthcheck != "" || c.Month != "" {
		t.Errorf("the example reads as %+v, want the defaults %+v", c, want)
	}
}

func TestParseReadsEveryKeyAndResolvesPathsFromTheFilesFolder(t *testing.T) {
	c, err := Parse(strings.NewReader(`
month: 2026-10
database: data/m.duckdb
sources:
  twilio: {enabled: true, services: [IS0123], concurrency: 4, base_url: "http://127.0.0.1:9"}
  spool: /var/spool/mauledger
  events: ["inbox/*.ndjson", /abs/late.json]
  tokens: [tokens/*.csv]
settings: {scope: account, evidence: inferred, unknown_authors: bill, prices: contract.yaml}
output: {dir: out, formats: [identities-json, xlsx, json], redact: true}
final_after: 72h
healthcheck: https://hc-ping.com/0b7f
`), "/srv/ml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Month != "2026-10" || c.Database != "/srv/ml/data/m.duckdb" || c.Sources.Spool != "/var/spool/mauledger" ||
		!slices.Equal(c.Sources.Events, []string{"/srv/ml/inbox/*.ndjson", "/abs/late.json"}) ||
		!slices.Equal(c.Sources.Tokens, []string{"/srv/ml/tokens/*.csv"}) || c.Settings.Prices != "/srv/ml/contract.yaml" ||
		c.Output.Dir != "/srv/ml/out" || !c.Output.Redact || c.FinalAfter.Duration != 72*time.Hour ||
		c.Healthcheck != "https://hc-ping.com/0b7f" || c.Settings.Scope != "account" || c.Settings.Evidence != "inferred" ||
		c.Settings.UnknownAuthors != "bill" || !c.Sources.Twilio.Enabled || c.Sources.Twilio.Concurrency != 4 ||
		!slices.Equal(c.Sources.Twilio.Services, []string{"IS0123"}) || c.Sources.Twilio.BaseURL != "http://127.0.0.1:9" {
		t.Errorf("parsed %+v", c)
	}
	if !slices.Equal(c.Output.Formats, []string{"xlsx", "json", "identities-json"}) {
		t.Errorf("formats %v, want them in the writers' order", c.Output.Formats)
	}
}

// TestBadKeysAndValuesNameTheKey: every mistake is one line naming the key
// (and the line, for a key the file should not have).
func TestBadKeysAndValuesNameTheKey(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"databse: x.duckdb", `line 1: unknown key "databse"`},
		{"sources:\n  twilio:\n    enable: true", `line 3: unknown key "enable"`},
		{"output:\n  dir: out\n  format: [xlsx]", `line 3: unknown key "format"`},
		{"settings: {scope: tenant}", `settings.scope "tenant": want service or account`},
		{"settings: {evidence: maybe}", `settings.evidence "maybe": want strict or inferred`},
		{"settings: {unknown_authors: yes}", `settings.unknown_authors "yes": want ignore or bill`},
		{"output: {formats: [pdf]}", `output.formats "pdf": want some of xlsx, json, csv, html, identities-csv, identities-json, identities-html`},
		{"output: {formats: []}", "output.formats is empty"},
		{"output: {dir: ''}", "output.dir is empty"},
		{"final_after: 2d", `final_after "2d": want a duration such as 48h`},
		{"final_after: -1h", `final_after "-1h"`},
		{"healthcheck: hc-ping.com/x", `healthcheck "hc-ping.com/x": want an http or https URL`},
		{"sources: {twilio: {concurrency: 0}}", "sources.twilio.concurrency 0: want 1 to 64"},
		{"sources: {twilio: {services: [CH1]}}", `sources.twilio.services "CH1": want a Conversation Service SID`},
		{"sources: {events: ['[']}", `sources.events "[": not a file pattern`},
		{"month: 2026-13", `month "2026-13": want YYYY-MM`},
		{"sources: [a]", "cannot unmarshal"},
		{"database: [", "did not find expected node content"},
	} {
		_, err := Parse(strings.NewReader(tc.yaml), "/x")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line with %q", tc.yaml, err, tc.want)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mauledger.yaml")
	os.WriteFile(path, []byte("output: {dir: out}\nbogus: 1\n"), 0o644)
	_, err := Load(path)
	if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), path+": invalid config: line 2: unknown key \"bogus\"") {
		t.Errorf("load: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "none.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("load of a missing file: %v", err)
	}
	os.WriteFile(path, nil, 0o644)
	c, err := Load(path)
	if err != nil || c.Output.Dir != filepath.Join(dir, "mauledger-reports") || c.Path != path {
		t.Errorf("an empty file: %+v, %v", c, err)
	}
}

func TestFind(t *testing.T) {
	t.Setenv("MAULEDGER_CONFIG", "")
	if got := Find(""); got != DefaultFile {
		t.Errorf("Find() = %q", got)
	}
	t.Setenv("MAULEDGER_CONFIG", "/etc/m.yaml")
	if got := Find(""); got != "/etc/m.yaml" {
		t.Errorf("Find() with the environment = %q", got)
	}
	if got := Find("flag.yaml"); got != "flag.yaml" {
		t.Errorf("Find(flag) = %q", got)
	}
}
