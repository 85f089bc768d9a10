package ingest

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// Migrations are numbered when written and may be merged out of order: a
// database that has a later migration but lacks an earlier one gets the
// earlier one when opened.
func TestAMigrationMissingBelowTheNewestIsApplied(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.duckdb")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// Undo migration 1 only, as if the database came from a build without it.
	for _, q := range []string{`DROP TABLE events`, `DROP TABLE settings`, `DELETE FROM schema_migrations WHERE version = 1`} {
		if _, err := s.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Counted, not compared with SchemaVersion: numbers can have gaps
	// (one reserved for a change not merged yet).
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM schema_migrations`); n != len(ms) || count(t, s, `SELECT count(*) FROM events`) != 0 {
		t.Errorf("%d migrations recorded", n)
	}
}

// A database file Open creates is in storageVersion's format, in which
// the raw payloads are compressed with ZSTD (migration 0001).
func TestNewDatabasesCompressPayloadsWithZSTD(t *testing.T) {
	s := openTestStore(t)
	load(t, s, webhookMsg+"\n"+cloudEvent+"\n")
	if _, err := s.DB.Exec(`CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	if v := storageFormat(t, s); v != storageVersion+"+" {
		t.Errorf("storage format %s, want %s+", v, storageVersion)
	}
	var compression string
	if err := s.DB.QueryRow(`SELECT string_agg(DISTINCT compression, ',') FROM pragma_storage_info('events')
		WHERE column_name = 'payload' AND segment_type <> 'VALIDITY'`).Scan(&compression); err != nil {
		t.Fatal(err)
	}
	if compression != "ZSTD" {
		t.Errorf("payloads compressed with %s, want ZSTD", compression)
	}
}

// A file created in DuckDB's default (older) format keeps it: Open brings
// its schema up to date and loads into it.
func TestOlderFormatDatabasesStillOpenAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE other (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if res := load(t, s, webhookMsg+"\n"+cloudEvent+"\n"); res.Loaded != 2 {
		t.Fatalf("loaded %d, want 2", res.Loaded)
	}
	if v := storageFormat(t, s); v != "v1.0.0+" {
		t.Errorf("storage format %s, want the file's own v1.0.0+", v)
	}
}

func storageFormat(t *testing.T, s *Store) string {
	t.Helper()
	var v string
	if err := s.DB.QueryRow(`SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
