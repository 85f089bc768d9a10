package ingest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mauledger/mauledger/internal/demo"
	"github.com/mauledger/mauledger/internal/duckmem"
)

// The environment that makes the test binary a child of BenchmarkLoadSpeed:
// which side to time, the input, the fresh database and where to write the
// seconds taken.
const (
	loadSpeedSideEnv  = "MAULEDGER_LOAD_SPEED_SIDE" // "load" or "duckdb"
	loadSpeedInputEnv = "MAULEDGER_LOAD_SPEED_INPUT"
	loadSpeedDBEnv    = "MAULEDGER_LOAD_SPEED_DB"
	loadSpeedOutEnv   = "MAULEDGER_LOAD_SPEED_OUT"
)

// BenchmarkLoadSpeed compares `ingest events` with DuckDB's own bulk load
// on one generated NDJSON file of -bench-events events: (a) LoadEvents into
// a fresh database, dedupe, validation and the final checkpoint included,
// and (b) CREATE TABLE AS SELECT * FROM read_ndjson of the same file into
// another fresh database, then CHECKPOINT, under the same memory limit
// (duckmem.Budget). It reports the events/s of each, their ratio
// (load/duckdb; target 0.6, issue 14) and the peak RSS of each side (target
// under 2 GiB for the load at 10 million events). Each side runs in its own
// child process of the test binary, so that its peak RSS is its own: the
// Maxrss the kernel reports for the child when it exits (getrusage). The
// times are taken inside the children, opening the database excluded; the
// CPU seconds of each child (cpu-s) tell more than its time when the
// machine is busy with other work.
//
//	go test ./ingest -run '^$' -bench LoadSpeed -benchtime 1x -bench-events 10000000
func BenchmarkLoadSpeed(b *testing.B) {
	dir := b.TempDir()
	input := filepath.Join(dir, "events.ndjson")
	stats, err := demo.GenerateFile(input, demo.BenchConfig(*benchEvents))
	if err != nil {
		b.Fatal(err)
	}
	// Written to disk before either side starts: the kernel's writeback of
	// the new file (5.4 GB at 10M events) slowed whichever side ran first.
	if err := syncFile(input); err != nil {
		b.Fatal(err)
	}
	var loadSeconds, duckSeconds, loadCPU, duckCPU float64
	var loadRSS, duckRSS int64
	b.ResetTimer()
	for i := range b.N {
		for _, side := range []string{"load", "duckdb"} {
			seconds, cpu, rss := runLoadSpeedChild(b, side, input, filepath.Join(dir, fmt.Sprintf("%s%d.duckdb", side, i)))
			if side == "load" {
				loadSeconds, loadCPU, loadRSS = loadSeconds+seconds, loadCPU+cpu, max(loadRSS, rss)
			} else {
				duckSeconds, duckCPU, duckRSS = duckSeconds+seconds, duckCPU+cpu, max(duckRSS, rss)
			}
		}
	}
	events := float64(stats.Lines) * float64(b.N)
	b.ReportMetric(events/loadSeconds, "load-events/s")
	b.ReportMetric(events/duckSeconds, "duckdb-events/s")
	b.ReportMetric(duckSeconds/loadSeconds, "ratio")
	b.ReportMetric(loadCPU/float64(b.N), "load-cpu-s")
	b.ReportMetric(duckCPU/float64(b.N), "duckdb-cpu-s")
	b.ReportMetric(float64(loadRSS)/(1<<30), "load-peak-GiB")
	b.ReportMetric(float64(duckRSS)/(1<<30), "duckdb-peak-GiB")
}

// runLoadSpeedChild runs one side of BenchmarkLoadSpeed in a child process
// and returns the seconds it timed, the CPU seconds of the whole child
// (user and system, opening included) and its peak RSS in bytes. The database
// is deleted afterwards: at 10 million events each is gigabytes.
func runLoadSpeedChild(b *testing.B, side, input, db string) (seconds, cpu float64, peakRSS int64) {
	b.Helper()
	out := db + ".seconds"
	defer os.Remove(out)
	defer os.Remove(db)
	defer os.Remove(db + ".wal")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLoadSpeedChild$", "-test.bench", "^$", "-test.count", "1")
	cmd.Env = append(os.Environ(), loadSpeedSideEnv+"="+side, loadSpeedInputEnv+"="+input,
		loadSpeedDBEnv+"="+db, loadSpeedOutEnv+"="+out)
	cmd.Stderr = os.Stderr
	if output, err := cmd.Output(); err != nil {
		b.Fatalf("%s: %v\n%s", side, err, output)
	}
	text, err := os.ReadFile(out)
	if err != nil {
		b.Fatalf("%s: %v", side, err)
	}
	if seconds, err = strconv.ParseFloat(string(text), 64); err != nil {
		b.Fatalf("%s: %v", side, err)
	}
	rusage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatalf("%s: no rusage on this system", side)
	}
	cpu = time.Duration(rusage.Utime.Nano() + rusage.Stime.Nano()).Seconds()
	return seconds, cpu, rusage.Maxrss << 10 // Linux reports KiB
}

// TestLoadSpeedChild is one side of BenchmarkLoadSpeed; run alone, without
// the benchmark's environment, it does nothing.
func TestLoadSpeedChild(t *testing.T) {
	side := os.Getenv(loadSpeedSideEnv)
	if side == "" {
		t.Skip("run by BenchmarkLoadSpeed")
	}
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(loadSpeedDBEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	input := os.Getenv(loadSpeedInputEnv)
	var elapsed time.Duration
	switch side {
	case "load":
		in, err := os.Open(input)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		start := time.Now()
		res, err := s.LoadEvents(ctx, input, in)
		elapsed = time.Since(start)
		if err != nil || len(res.Rejected) > 0 || res.Loaded == 0 {
			t.Fatalf("load: %v, %d loaded, %d rejected", err, res.Loaded, len(res.Rejected))
		}
	case "duckdb":
		conn, err := s.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		restore, err := duckmem.Limit(ctx, conn, duckmem.Budget)
		if err != nil {
			t.Fatal(err)
		}
		defer restore()
		start := time.Now()
		if _, err := conn.ExecContext(ctx, `CREATE TABLE t AS SELECT * FROM read_ndjson(?)`, input); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, `CHECKPOINT`); err != nil {
			t.Fatal(err)
		}
		elapsed = time.Since(start)
	default:
		t.Fatalf("unknown side %q", side)
	}
	if err := os.WriteFile(os.Getenv(loadSpeedOutEnv), []byte(strconv.FormatFloat(elapsed.Seconds(), 'f', -1, 64)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
