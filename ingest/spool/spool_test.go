package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)) }

func readAll(t *testing.T, dir string) (lines []string, segs []Segment) {
	t.Helper()
	segs, err := Segments(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		b, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s does not end with a newline", s.Name)
		}
		lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	return lines, segs
}

func TestConcurrentAppendsAreAllWrittenWhole(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{MaxSegmentBytes: 4 << 10, MaxSegmentAge: time.Hour}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// A batch's two lines must land together.
				a := fmt.Appendf(nil, `{"w":%d,"i":%d,"part":1}`, g, i)
				b := fmt.Appendf(nil, `{"w":%d,"i":%d,"part":2}`, g, i)
				if err := w.Append(context.Background(), a, b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines, segs := readAll(t, dir)
	if len(lines) != 2*workers*each {
		t.Fatalf("%d lines, want %d", len(lines), 2*workers*each)
	}
	seen := map[string]bool{}
	for i, l := range lines {
		if strings.HasSuffix(l, `"part":1}`) {
			if want := strings.Replace(l, `"part":1}`, `"part":2}`, 1); i+1 >= len(lines) || lines[i+1] != want {
				t.Fatalf("line %d %s is not followed by its batch partner", i, l)
			}
		}
		if seen[l] {
			t.Fatalf("duplicate line %s", l)
		}
		seen[l] = true
	}
	if len(segs) < 2 {
		t.Errorf("4 KiB segments did not rotate: %d segment(s)", len(segs))
	}
	for i, s := range segs {
		if !strings.HasPrefix(s.Name, fmt.Sprintf("%010d-", i+1)) {
			t.Errorf("segment %d is named %s", i+1, s.Name)
		}
		if s.Size > 4<<10 || !s.Sealed {
			t.Errorf("segment %s: %d bytes, sealed %v", s.Name, s.Size, s.Sealed)
		}
	}
}

func TestOneWriterAtATimeAndTheOpenSegmentIsNotSealed(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, DefaultOptions, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, DefaultOptions, quiet()); !errors.Is(err, ErrInUse) {
		t.Errorf("second writer: %v, want ErrInUse", err)
	}
	if err := w.Append(context.Background(), []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	segs, err := Segments(dir)
	if err != nil || len(segs) != 1 || segs[0].Sealed || segs[0].Size != int64(len(`{"a":1}`)+1) {
		t.Fatalf("while writing: %+v %v", segs, err)
	}
	w.Close()
	os.WriteFile(filepath.Join(dir, "webhooks.ndjson"), []byte("{\"not\":\"a segment\"}"), 0o600)
	if err := w.Append(context.Background(), []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	segs, _ = Segments(dir)
	if !segs[0].Sealed {
		t.Errorf("closed segment not sealed")
	}
	// A restarted writer never appends to an old segment, and numbers its
	// own after the newest, whatever the clock says.
	os.Rename(segs[0].Path, filepath.Join(dir, "0000000041-29991231T235959.000000Z-00000000.ndjson"))
	w, err = Open(dir, DefaultOptions, quiet())
	if err != nil {
		t.Fatal(err)
	}
	w.Append(context.Background()) // nothing to write: no segment
	w.Append(context.Background(), []byte(`{"b":2}`))
	segs, _ = Segments(dir)
	if len(segs) != 2 || !segs[0].Sealed || segs[1].Sealed || segs[0].Size != int64(len(`{"a":1}`)+1) ||
		!strings.HasPrefix(segs[1].Name, "0000000042-") {
		t.Errorf("after restart: %+v", segs)
	}
	w.Close()
}

func TestTornTailIsReportedAtStartAndLeftOutOfTheCompleteLines(t *testing.T) {
	dir := t.TempDir()
	w, _ := Open(dir, DefaultOptions, quiet())
	long := `{"x":"` + strings.Repeat("y", 200<<10) + `"}` // longer than CompleteEnd's chunk
	w.Append(context.Background(), []byte(`{"a":1}`), []byte(long))
	w.Close()
	segs, _ := Segments(dir)
	whole := segs[0].Size
	f, _ := os.OpenFile(segs[0].Path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"torn":"by a power cut`)
	f.Close()

	var logs bytes.Buffer
	w, err := Open(dir, DefaultOptions, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if !strings.Contains(logs.String(), "torn line") || !strings.Contains(logs.String(), segs[0].Name) ||
		!strings.Contains(logs.String(), "bytes=23") {
		t.Errorf("start-up log %q", logs.String())
	}
	f, _ = os.Open(segs[0].Path)
	defer f.Close()
	size := whole + 23
	for _, from := range []int64{0, 8, whole} {
		end, err := CompleteEnd(f, from, size)
		if err != nil || end != whole {
			t.Errorf("CompleteEnd from %d = %d, %v; want %d", from, end, err, whole)
		}
	}
	if end, _ := CompleteEnd(f, 0, 5); end != 0 {
		t.Errorf("no newline in range: %d", end)
	}
}

func TestSegmentsRollOverByAge(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{MaxSegmentBytes: 64 << 20, MaxSegmentAge: 20 * time.Millisecond}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.Append(context.Background(), fmt.Appendf(nil, `{"i":%d}`, i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // older than MaxSegmentAge by the next append
	}
	w.Close()
	if lines, segs := readAll(t, dir); len(segs) != 3 || len(lines) != 3 {
		t.Errorf("%d segments for 3 appends spaced past the age limit: %v", len(segs), lines)
	}
}
