// Package config reads mauledger.yaml, the file that tells an unattended
// `mauledger close` which database, sources, settings and outputs to use.
// It checks every key and value, so that a typo fails before anything runs.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mauledger/mauledger/analysis"
)

// DefaultFile is the config file used when neither --config nor
// $MAULEDGER_CONFIG names one.
const DefaultFile = "mauledger.yaml"

// ErrInvalid marks every problem with a config file's content.
var ErrInvalid = errors.New("invalid config")

// Formats are the outputs a close can write, in the order it writes them.
var Formats = []string{"xlsx", "json", "csv", "html", "identities-csv", "identities-json", "identities-html"}

// Config is a checked mauledger.yaml. Relative paths in the file are
// relative to the file's own folder and are made absolute by Load.
type Config struct {
	// Path is the file the config was read from.
	Path string `yaml:"-"`
	// Month pins the month to close (YYYY-MM); empty means the last full
	// month. --month wins over it.
	Month string `yaml:"month"`
	// Database is the DuckDB file; empty means the command's default.
	Database    string   `yaml:"database"`
	Sources     Sources  `yaml:"sources"`
	Settings    Settings `yaml:"settings"`
	Output      Output   `yaml:"output"`
	FinalAfter  Duration `yaml:"final_after"`
	Healthcheck string   `yaml:"healthcheck"`
}

// Sources are the evidence a close loads before it reports, in the order
// it loads them.
type Sources struct {
	Twilio Twilio `yaml:"twilio"`
	// Spool is the folder `mauledger serve` writes.
	Spool string `yaml:"spool"`
	// Events and Tokens are file patterns (filepath.Match syntax).
	Events []string `yaml:"events"`
	Tokens []string `yaml:"tokens"`
}

// Twilio says whether and how to pull the REST API (ingest twilio). The
// credentials come from the environment, never from the file.
type Twilio struct {
	Enabled     bool     `yaml:"enabled"`
	Services    []string `yaml:"services"`
	Concurrency int      `yaml:"concurrency"`
	// BaseURL sends every request to a proxy or test server.
	BaseURL string `yaml:"base_url"`
}

// Settings are what the reports count and price, as the flags of the
// same names say.
type Settings struct {
	Scope          string `yaml:"scope"`
	Evidence       string `yaml:"evidence"`
	UnknownAuthors string `yaml:"unknown_authors"`
	Prices         string `yaml:"prices"`
}

// Output says where and what a close writes.
type Output struct {
	Dir     string   `yaml:"dir"`
	Formats []string `yaml:"formats"`
	Redact  bool     `yaml:"redact"`
}

// Duration is a Go duration in the file ("48h", "90m").
type Duration struct{ time.Duration }

// UnmarshalYAML reads a duration written as Go writes one.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: final_after %q: want a duration such as 48h", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// Default is the config of a file that sets nothing.
func Default() Config {
	return Config{
		Sources:    Sources{Twilio: Twilio{Concurrency: 8}},
		Settings:   Settings{Scope: "service", Evidence: "strict", UnknownAuthors: "ignore"},
		Output:     Output{Dir: "mauledger-reports", Formats: []string{"xlsx", "json", "csv"}},
		FinalAfter: Duration{analysis.DefaultFinalAfter},
	}
}

// Find names the config file: flag, else $MAULEDGER_CONFIG, else
// ./mauledger.yaml.
func Find(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv("MAULEDGER_CONFIG"); env != "" {
		return env
	}
	return DefaultFile
}

// Load reads and checks the config file at path. A missing or unreadable
// file is an *os.PathError; a bad key or value wraps ErrInvalid and names
// the file, the line where it can, and the key.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	c, err := Parse(f, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse reads a config from r; relative paths are made relative to dir.
func Parse(r io.Reader, dir string) (*Config, error) {
	c := Default()
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, yamlError(err))
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	c.resolve(dir)
	return &c, nil
}

var monthPattern = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type \S+`)

// yamlError makes the decoder's error one line that names the key.
func yamlError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	msg = unknownField.ReplaceAllString(msg, `line $1: unknown key "$2"`)
	first, _, _ := strings.Cut(msg, "\n")
	return strings.TrimSpace(first)
}

// check refuses every value a close could not use, naming its key.
func (c *Config) check() error {
	if c.Month != "" && !monthPattern.MatchString(c.Month) {
		return fmt.Errorf("month %q: want YYYY-MM", c.Month)
	}
	for _, s := range []struct {
		key, value string
		want       []string
	}{
		{"settings.scope", c.Settings.Scope, []string{"service", "account"}},
		{"settings.evidence", c.Settings.Evidence, []string{"strict", "inferred"}},
		{"settings.unknown_authors", c.Settings.UnknownAuthors, []string{"ignore", "bill"}},
	} {
		if !slices.Contains(s.want, s.value) {
			return fmt.Errorf("%s %q: want %s", s.key, s.value, strings.Join(s.want, " or "))
		}
	}
	if t := c.Sources.Twilio; t.Concurrency < 1 || t.Concurrency > 64 {
		return fmt.Errorf("sources.twilio.concurrency %d: want 1 to 64", t.Concurrency)
	}
	for _, sid := range c.Sources.Twilio.Services {
		if !strings.HasPrefix(sid, "IS") {
			return fmt.Errorf("sources.twilio.services %q: want a Conversation Service SID (IS...)", sid)
		}
	}
	if u := c.Sources.Twilio.BaseURL; u != "" && !isHTTPURL(u) {
		return fmt.Errorf("sources.twilio.base_url %q: want an http or https URL", u)
	}
	for key, patterns := range map[string][]string{"sources.events": c.Sources.Events, "sources.tokens": c.Sources.Tokens} {
		for _, p := range patterns {
			if _, err := filepath.Match(p, ""); err != nil || p == "" {
				return fmt.Errorf("%s %q: not a file pattern", key, p)
			}
		}
	}
	if c.Output.Dir == "" {
		return errors.New("output.dir is empty: name the folder the versions go to")
	}
	if len(c.Output.Formats) == 0 {
		return fmt.Errorf("output.formats is empty: want some of %s", strings.Join(Formats, ", "))
	}
	for _, f := range c.Output.Formats {
		if !slices.Contains(Formats, f) {
			return fmt.Errorf("output.formats %q: want some of %s", f, strings.Join(Formats, ", "))
		}
	}
	if c.Healthcheck != "" && !isHTTPURL(c.Healthcheck) {
		return fmt.Errorf("healthcheck %q: want an http or https URL, such as https://hc-ping.com/UUID", c.Healthcheck)
	}
	return nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// resolve makes the file's relative paths relative to dir, its folder.
func (c *Config) resolve(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.Database = abs(c.Database)
	c.Sources.Spool = abs(c.Sources.Spool)
	for i := range c.Sources.Events {
		c.Sources.Events[i] = abs(c.Sources.Events[i])
	}
	for i := range c.Sources.Tokens {
		c.Sources.Tokens[i] = abs(c.Sources.Tokens[i])
	}
	c.Settings.Prices = abs(c.Settings.Prices)
	c.Output.Dir = abs(c.Output.Dir)
	// Keep the order of Formats whatever the file's, once each.
	c.Output.Formats = slices.DeleteFunc(slices.Clone(Formats), func(f string) bool {
		return !slices.Contains(c.Output.Formats, f)
	})
}

//go:embed example.yaml
var example string

// Example is a commented config naming every key, with its default.
func Example() string { return example }
