package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkDemoReports makes the demo account once (untimed), then times
// the report of its six months as `report --out FILE` writes it: HTML
// (html-s; target under 2 s) and the XLSX workbook (xlsx-s).
//
//	go test ./cmd/mauledger -run '^$' -bench DemoReports -benchtime 3x
func BenchmarkDemoReports(b *testing.B) {
	dir := b.TempDir()
	if code := runQuiet("demo", "--out-dir", dir); code != 0 {
		b.Fatalf("demo exited %d", code)
	}
	db := filepath.Join(dir, "demo.duckdb")
	var html, xlsx time.Duration
	b.ResetTimer()
	for range b.N {
		for _, f := range []struct {
			ext string
			d   *time.Duration
		}{{"html", &html}, {"xlsx", &xlsx}} {
			start := time.Now()
			if code := runQuiet("report", "--db", db, "--from", "2026-05", "--to", "2026-10", "--out", filepath.Join(dir, "r."+f.ext)); code != 0 {
				b.Fatalf("report %s exited %d", f.ext, code)
			}
			*f.d += time.Since(start)
		}
	}
	b.ReportMetric(html.Seconds()/float64(b.N), "html-s")
	b.ReportMetric(xlsx.Seconds()/float64(b.N), "xlsx-s")
}

func runQuiet(args ...string) int {
	var out bytes.Buffer
	return run(context.Background(), args, &streams{Out: &out, Err: &out})
}
