package monthclose

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/reports"
)

// Names in a month's folder.
const (
	manifestName = "manifest.json"
	billedName   = "billed.csv"
	latestName   = "latest"
)

// outputs are the files each format writes, in the order of config.Formats.
var outputs = []struct{ format, file string }{
	{"xlsx", "report.xlsx"}, {"json", "report.json"}, {"csv", "report.csv"}, {"html", "report.html"},
	{"identities-csv", "identities.csv"}, {"identities-json", "identities.json"}, {"identities-html", "identities.html"},
}

// publish writes the month as a new version, unless the latest version
// says the same with the same status.
func (c *closer) publish(ctx context.Context, v *computed) (Result, error) {
	monthDir := filepath.Join(c.job.OutDir, c.job.Month.String())
	if err := os.MkdirAll(monthDir, 0o755); err != nil {
		return Result{}, fail.Input(fmt.Errorf("month folder: %w", err))
	}
	c.removePartials(monthDir)
	prev, err := latestVersion(monthDir)
	if err != nil {
		return Result{}, err
	}
	fp, err := c.fingerprint(v)
	if err != nil {
		return Result{}, err
	}
	res := Result{Month: c.job.Month.String(), Status: v.status, ActiveUsers: v.month.ActiveUsers, Cost: v.month.Cost}
	if prev != nil && prev.Fingerprint == fp && prev.Status == v.status {
		res.Version, res.Dir = prev.Version, versionDir(monthDir, prev.Version)
		c.log.Info("unchanged", "version", prev.Version, "status", prev.Status)
		return res, pointLatest(monthDir, prev.Version)
	}

	res.Written, res.Version = true, 1
	if prev != nil {
		res.Version = prev.Version + 1
	}
	res.Dir = versionDir(monthDir, res.Version)
	partial := filepath.Join(monthDir, fmt.Sprintf(".v%d.partial-%s", res.Version, c.runID))
	if err := os.Mkdir(partial, 0o755); err != nil {
		return res, fail.Input(fmt.Errorf("version folder: %w", err))
	}
	defer os.RemoveAll(partial) // nothing left once renamed into place
	m := c.manifest(v, res.Version, fp)
	if err := c.writeOutputs(partial, v, m); err != nil {
		return res, err
	}
	if prev != nil {
		r, err := c.restate(ctx, monthDir, partial, prev, v, m)
		if err != nil {
			return res, err
		}
		res.Restates = m.Restates
		c.log.Info("restatement", "restates", prev.Version, "was", prev.Status, "changed", strings.Join(r.Changed, ","),
			"added", r.Added, "removed", r.Removed, "active_users_before", r.From.ActiveUsers, "active_users_after", r.To.ActiveUsers)
		if res.RestatesFinal() {
			c.log.Warn("a final month is restated", "version", res.Version, "restates", prev.Version)
		}
	}
	m.Run.FinishedAt = time.Now().UTC()
	if _, err := writeFile(partial, manifestName, func(w io.Writer) error { return writeJSON(w, m) }); err != nil {
		return res, err
	}
	if err := os.Rename(partial, res.Dir); err != nil {
		return res, fmt.Errorf("publish %s: %w", res.Dir, err)
	}
	c.log.Info("written", "version", res.Version, "status", v.status, "dir", res.Dir, "files", len(m.Files)+1)
	return res, pointLatest(monthDir, res.Version)
}

func versionDir(monthDir string, n int) string { return filepath.Join(monthDir, "v"+strconv.Itoa(n)) }

var versionName = regexp.MustCompile(`^v([1-9][0-9]*)$`)

// latestVersion reads the manifest of the highest version in monthDir; nil
// when there is none.
func latestVersion(monthDir string) (*Manifest, error) {
	entries, err := os.ReadDir(monthDir)
	if err != nil {
		return nil, fail.Input(err)
	}
	latest := 0
	for _, e := range entries {
		if m := versionName.FindStringSubmatch(e.Name()); m != nil && e.IsDir() {
			n, _ := strconv.Atoi(m[1])
			latest = max(latest, n)
		}
	}
	if latest == 0 {
		return nil, nil
	}
	path := filepath.Join(versionDir(monthDir, latest), manifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fail.Input(fmt.Errorf("the latest version has no readable manifest: %w", err))
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Schema != ManifestSchema || m.Version != latest {
		return nil, fail.Input(fmt.Errorf("%s: not a %s manifest of v%d; a version folder must not be edited", path, ManifestSchema, latest))
	}
	return &m, nil
}

// removePartials deletes what a close that was killed while writing a
// version left; the lock says no other close is writing one.
func (c *closer) removePartials(monthDir string) {
	partials, _ := filepath.Glob(filepath.Join(monthDir, ".v*.partial-*"))
	for _, p := range partials {
		c.log.Warn("removing an unfinished version left by an interrupted close", "dir", p)
		os.RemoveAll(p)
	}
}

// pointLatest makes monthDir/latest a symbolic link to version n, replacing
// the old link in one rename.
func pointLatest(monthDir string, n int) error {
	link := filepath.Join(monthDir, latestName)
	if target, err := os.Readlink(link); err == nil && target == "v"+strconv.Itoa(n) {
		return nil
	}
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink("v"+strconv.Itoa(n), tmp); err != nil {
		return fmt.Errorf("point latest at v%d: %w", n, err)
	}
	return os.Rename(tmp, link)
}

func (c *closer) manifest(v *computed, version int, fp Fingerprint) *Manifest {
	mr := v.month
	return &Manifest{
		Schema:     ManifestSchema,
		Month:      c.job.Month.String(),
		Version:    version,
		Status:     v.status,
		FinalAfter: c.job.Settings.FinalAfter.String(),
		FinalFrom:  c.job.Month.End().Add(c.job.Settings.FinalAfter),
		Run: RunInfo{ID: c.runID, StartedAt: c.started, Mauledger: c.job.Version,
			DatabaseSchema: ingest.SchemaVersion(), Database: c.store.Path},
		Settings: c.settings(v.report.About),
		Sources:  Sources{Loaded: nonNil(c.loaded), Stored: v.state},
		Figures: Figures{ActiveUsers: mr.ActiveUsers, Identities: mr.Identities, Addresses: mr.Addresses,
			Cost: mr.Cost, Complete: mr.Complete, Coverage: mr.Coverage},
		Fingerprint: fp,
	}
}

func (c *closer) settings(about analysis.About) Settings {
	return Settings{Scope: about.Scope, Evidence: about.Evidence, UnknownAuthors: about.UnknownAuthors,
		PriceTable: about.PriceTable, Formats: nonNil(c.job.Formats), Redact: c.job.Redact}
}

// fingerprint hashes each part of what the version would say, leaving out
// the time it is generated.
func (c *closer) fingerprint(v *computed) (Fingerprint, error) {
	var fp Fingerprint
	rep := *v.report
	rep.GeneratedAt = time.Time{}
	var err error
	if fp.Report, err = hash(func(w io.Writer) error {
		return reports.WriteReport(w, &rep, reports.Options{Format: reports.JSON, Redact: v.redact})
	}); err != nil {
		return fp, err
	}
	if fp.Billed, err = hash(func(w io.Writer) error { return reports.WriteBilledCSV(w, v.report, v.redact) }); err != nil {
		return fp, err
	}
	if v.identities != nil {
		ids := *v.identities
		ids.GeneratedAt = time.Time{}
		if fp.Identities, err = hash(func(w io.Writer) error {
			return reports.WriteIdentities(w, &ids, reports.Options{Format: reports.JSON, Redact: v.redact})
		}); err != nil {
			return fp, err
		}
	}
	fp.Settings, err = hash(func(w io.Writer) error { return json.NewEncoder(w).Encode(c.settings(v.report.About)) })
	return fp, err
}

func hash(write func(io.Writer) error) (string, error) {
	h := sha256.New()
	if err := write(h); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeOutputs writes the formats the job asks for and billed.csv into
// dir, and lists them in m.
func (c *closer) writeOutputs(dir string, v *computed, m *Manifest) error {
	opts := func(f reports.Format) reports.Options {
		return reports.Options{Format: f, Redact: v.redact, Database: c.store.Path}
	}
	for _, o := range outputs {
		if !c.wants(o.format) {
			continue
		}
		var write func(io.Writer) error
		switch o.format {
		case "identities-csv":
			write = func(w io.Writer) error { return reports.WriteIdentities(w, v.identities, opts(reports.CSV)) }
		case "identities-json":
			write = func(w io.Writer) error { return reports.WriteIdentities(w, v.identities, opts(reports.JSON)) }
		case "identities-html":
			write = func(w io.Writer) error { return reports.WriteIdentities(w, v.identities, opts(reports.HTML)) }
		default:
			write = func(w io.Writer) error { return reports.WriteReport(w, v.report, opts(reports.Format(o.format))) }
		}
		f, err := writeFile(dir, o.file, write)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, f)
	}
	f, err := writeFile(dir, billedName, func(w io.Writer) error { return reports.WriteBilledCSV(w, v.report, v.redact) })
	if err != nil {
		return err
	}
	m.Files = append(m.Files, f)
	return nil
}

// writeFile writes dir/name, synced to disk, and returns its size and
// SHA-256.
func writeFile(dir, name string, write func(io.Writer) error) (File, error) {
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return File{}, fail.Input(err)
	}
	h := sha256.New()
	counter := &countingWriter{w: io.MultiWriter(f, h)}
	err = write(counter)
	err = errors.Join(err, f.Sync(), f.Close())
	if err != nil {
		return File{}, fmt.Errorf("write %s: %w", path, err)
	}
	return File{Name: name, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: counter.n}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// restate compares the new version, written in dir, with prev, the version
// it replaces, and writes restatement.json and restatement.csv into dir.
func (c *closer) restate(ctx context.Context, monthDir, dir string, prev *Manifest, v *computed, m *Manifest) (*Restatement, error) {
	r := &Restatement{
		Schema:           RestatementSchema,
		Month:            m.Month,
		From:             VersionFigures{prev.Version, prev.Status, prev.Figures.ActiveUsers, prev.Figures.Identities, prev.Figures.Addresses, prev.Figures.Cost},
		To:               VersionFigures{m.Version, m.Status, m.Figures.ActiveUsers, m.Figures.Identities, m.Figures.Addresses, m.Figures.Cost},
		Changed:          m.Fingerprint.changes(prev.Fingerprint),
		SubjectsCompared: prev.Settings.Redact == m.Settings.Redact,
		Subjects:         []SubjectChange{},
	}
	if prev.Status != m.Status {
		r.Changed = append(r.Changed, "status")
	}
	if r.SubjectsCompared {
		var err error
		r.Subjects, err = diffBilled(ctx, c.store, filepath.Join(versionDir(monthDir, prev.Version), billedName), filepath.Join(dir, billedName))
		if err != nil {
			return nil, err
		}
	}
	for _, s := range r.Subjects {
		if s.Change == "added" {
			r.Added++
		} else {
			r.Removed++
		}
	}
	m.Restates = &Restated{Version: prev.Version, Status: prev.Status, ActiveUsers: prev.Figures.ActiveUsers, Added: r.Added, Removed: r.Removed}
	f, err := writeFile(dir, "restatement.json", func(w io.Writer) error { return writeJSON(w, r) })
	if err != nil {
		return nil, err
	}
	m.Files = append(m.Files, f)
	f, err = writeFile(dir, "restatement.csv", func(w io.Writer) error { return writeRestatementCSV(w, r.Subjects) })
	if err != nil {
		return nil, err
	}
	m.Files = append(m.Files, f)
	return r, nil
}

// diffBilled lists the subjects of newer that older lacks (added) and those
// of older that newer lacks (removed), both billed.csv files, with the
// activity each row gives. A subject is its service, kind and name.
func diffBilled(ctx context.Context, store *ingest.Store, older, newer string) ([]SubjectChange, error) {
	rows, err := store.DB.QueryContext(ctx, `
		WITH o AS (SELECT * FROM read_csv($older, header = true, columns = `+billedColumns()+`)),
		     n AS (SELECT * FROM read_csv($newer, header = true, columns = `+billedColumns()+`)),
		     changes AS (
		         SELECT 'added' AS change, * FROM n WHERE NOT EXISTS (
		             SELECT 1 FROM o WHERE o.service_sid = n.service_sid AND o.subject_kind = n.subject_kind AND o.subject = n.subject)
		         UNION ALL
		         SELECT 'removed', * FROM o WHERE NOT EXISTS (
		             SELECT 1 FROM n WHERE o.service_sid = n.service_sid AND o.subject_kind = n.subject_kind AND o.subject = n.subject))
		SELECT change, service_sid, subject_kind, subject, activities, "at", rule, source, origin, evidence
		FROM changes ORDER BY change, service_sid, subject_kind, subject`,
		sql.Named("older", older), sql.Named("newer", newer))
	if err != nil {
		return nil, fmt.Errorf("compare the billed lists: %w", err)
	}
	defer rows.Close()
	changes := []SubjectChange{}
	for rows.Next() {
		var s SubjectChange
		if err := rows.Scan(&s.Change, &s.ServiceSID, &s.Kind, &s.Subject, &s.Activities,
			&s.At, &s.Rule, &s.Source, &s.Origin, &s.Evidence); err != nil {
			return nil, fmt.Errorf("compare the billed lists: %w", err)
		}
		changes = append(changes, s)
	}
	return changes, rows.Err()
}

// billedColumns types every column of billed.csv as text: the comparison
// is of what the files say.
func billedColumns() string {
	cols := make([]string, len(reports.BilledCSVHeader))
	for i, c := range reports.BilledCSVHeader {
		cols[i] = "'" + c + "': 'VARCHAR'"
	}
	return "{" + strings.Join(cols, ", ") + "}"
}

func writeRestatementCSV(w io.Writer, subjects []SubjectChange) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"change", "service_sid", "subject_kind", "subject", "activities", "at", "rule", "source", "origin", "evidence"})
	for _, s := range subjects {
		cw.Write([]string{s.Change, s.ServiceSID, s.Kind, s.Subject, s.Activities, s.At, s.Rule, s.Source, s.Origin, s.Evidence})
	}
	cw.Flush()
	return cw.Error()
}
