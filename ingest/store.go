// Package ingest brings evidence into mauledger's DuckDB store: it owns the
// schema (versioned by embedded migrations) and every loader that writes to it.
package ingest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// DefaultPath is the database used when neither --db nor MAULEDGER_DB says otherwise.
const DefaultPath = "mauledger.duckdb"

var (
	// ErrLocked means another process has the database open for writing.
	ErrLocked = errors.New("database is locked by another process")
	// ErrNewerSchema means the database was written by a newer mauledger.
	ErrNewerSchema = errors.New("database was written by a newer mauledger")
	// ErrNoDatabase means a command that only reads found no database.
	ErrNoDatabase = errors.New("no database")
	// ErrNotDatabase means the file is not a DuckDB database.
	ErrNotDatabase = errors.New("not a mauledger database")
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// connectionSettings apply to every connection: UTC, so that month
// boundaries never depend on the machine's time zone.
var connectionSettings = []string{
	"SET TimeZone = 'UTC'",
}

// Store is an open mauledger database at the current schema version.
type Store struct {
	DB   *sql.DB
	Path string
}

// storageVersion is the DuckDB storage format of the database files Open
// creates: v1.2.0, the oldest that compresses text with ZSTD, as
// events.payload asks (migration 0001; the raw payloads are most of the
// file, and ZSTD stores them in about half the size of DuckDB's default,
// FSST, with less CPU). A file keeps the format it was created with: one created
// before this stores its payloads with FSST, as before.
const storageVersion = "v1.2.0"

// Open opens (creating if need be) the database at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	connector, err := duckdb.NewConnector(path+"?storage_compatibility_version="+storageVersion, func(execer driver.ExecerContext) error {
		for _, setting := range connectionSettings {
			if _, err := execer.ExecContext(ctx, setting, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, classifyOpenError(path, err)
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, classifyOpenError(path, err)
	}
	s := &Store{DB: db, Path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// OpenExisting opens a database that must already exist: the commands that
// only read refuse to create an empty one on a mistyped path.
func OpenExisting(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w at %s: load data first (mauledger ingest events FILE, or mauledger demo)", ErrNoDatabase, path)
	}
	return Open(ctx, path)
}

// Close closes the database.
func (s *Store) Close() error { return s.DB.Close() }

func classifyOpenError(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Could not set lock"), strings.Contains(msg, "Conflicting lock"):
		return fmt.Errorf("open %s: %w (is another mauledger running?)", path, ErrLocked)
	case strings.Contains(msg, "not a valid DuckDB database"), strings.Contains(msg, "Unable to read"),
		strings.Contains(msg, "database file") && strings.Contains(msg, "version"):
		return fmt.Errorf("open %s: %w: %s", path, ErrNotDatabase, firstLine(msg))
	}
	return fmt.Errorf("open %s: %s", path, firstLine(msg))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", e.Name())
		}
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// SchemaVersion is the newest schema this build knows.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies, each in its own transaction and in order, the
// migrations the database has not seen, and refuses a database from a
// newer build.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.DB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return classifyOpenError(s.Path, err)
	}
	// Migrations are numbered when written, not when merged: a database
	// can hold 0003 without 0002, so each one missing is applied, not
	// only those above the highest.
	applied := map[int]bool{}
	current := 0
	rows, err := s.DB.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read schema version of %s: %w", s.Path, err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read schema version of %s: %w", s.Path, err)
		}
		applied[v], current = true, max(current, v)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read schema version of %s: %w", s.Path, err)
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	if known := SchemaVersion(); current > known {
		return fmt.Errorf("%s: %w (schema v%d; this build knows up to v%d): upgrade mauledger", s.Path, ErrNewerSchema, current, known)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		tx, err := s.DB.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s to %s: %w", s.Path, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)`, m.version, m.name); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s to %s: %w", s.Path, m.name, err)
		}
	}
	return nil
}

// Setting reads a per-database setting such as the redaction key.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.DB.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	return v, nil
}
