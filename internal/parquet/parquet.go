// Package parquet writes tables as DuckDB's Parquet (zstd), Hive-partitioned
// (DIR/month=2026-10/...), the layout a warehouse, Spark, Trino or
// ClickHouse reads. A folder is written whole or not at all: into a hidden
// folder beside it, renamed into place at the end.
package parquet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrExists refuses to write into a folder that already holds files: an
// export never mixes with an older one.
var ErrExists = errors.New("folder exists and is not empty")

// Copy writes the rows of query (a SELECT run on conn) to dir, partitioned
// by the named columns, and returns how many rows it wrote.
func Copy(ctx context.Context, conn *sql.Conn, query, dir string, partitionBy ...string) (int64, error) {
	n, err := CopyParts(ctx, conn, dir, []Part{{Query: query, PartitionBy: partitionBy}}, nil)
	if err != nil {
		return 0, err
	}
	return n[0], nil
}

// A Part is one table of a folder that CopyParts writes: the rows of
// Query, in the folder's subfolder Path ("" for the folder itself)
// partitioned by the columns PartitionBy, or without them in the single
// file Path (a name ending in .parquet).
type Part struct {
	Path        string
	Query       string
	PartitionBy []string
}

// CopyParts writes each part into dir, then the files that files returns
// (a name in dir and its content) given how many rows each part wrote,
// whole or not at all; it returns how many rows each part wrote. A part
// with the Path "" must come first: DuckDB makes its folder. files may be
// nil.
func CopyParts(ctx context.Context, conn *sql.Conn, dir string, parts []Part,
	files func(rows []int64) (map[string][]byte, error)) ([]int64, error) {
	rows := make([]int64, len(parts))
	err := intoFolder(dir, func(tmp string) error {
		for i, p := range parts {
			to := filepath.Join(tmp, p.Path)
			options := "FORMAT parquet, COMPRESSION zstd"
			if len(p.PartitionBy) > 0 {
				options += ", PARTITION_BY (" + strings.Join(p.PartitionBy, ", ") + ")"
			}
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				return err
			}
			res, err := conn.ExecContext(ctx, fmt.Sprintf(`COPY (%s) TO %s (%s)`, p.Query, quote(to), options))
			if err != nil {
				return err
			}
			if rows[i], err = res.RowsAffected(); err != nil {
				return err
			}
		}
		if files == nil {
			return nil
		}
		contents, err := files(rows)
		if err != nil {
			return err
		}
		for name, content := range contents {
			if err := os.MkdirAll(tmp, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(tmp, name), content, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	return rows, err
}

// Column is a column of a table written from Go values.
type Column struct {
	Name string
	Type string // a DuckDB type: VARCHAR, BIGINT, DOUBLE, BOOLEAN
}

// Write writes rows, each a value per column, to dir through a temporary
// table of conn, partitioned by the named columns.
func Write(ctx context.Context, conn *sql.Conn, dir string, columns []Column, rows [][]any, partitionBy ...string) error {
	const table = "parquet_export"
	defs := make([]string, len(columns))
	for i, c := range columns {
		defs[i] = quoteIdent(c.Name) + " " + c.Type
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+table+` (`+strings.Join(defs, ", ")+`)`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS `+table)
	insert := `INSERT INTO ` + table + ` VALUES (` + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + `)`
	for _, row := range rows {
		if _, err := conn.ExecContext(ctx, insert, row...); err != nil {
			return err
		}
	}
	_, err := Copy(ctx, conn, `SELECT * FROM `+table, dir, partitionBy...)
	return err
}

// intoFolder has write fill a hidden folder beside dir, then renames it to
// dir; dir must not exist, or be empty.
func intoFolder(dir string, write func(tmp string) error) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s: %w", dir, ErrExists)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".partial-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// DuckDB writes the partitions into a folder it may create itself.
	out := filepath.Join(tmp, "out")
	if err := write(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil { // no rows, no partition
		return err
	}
	os.Remove(dir) // an empty folder the rename would fail on
	return os.Rename(out, dir)
}

func quote(s string) string      { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
