package ingest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/mauledger/mauledger/ingest/spool"
)

func TestLoadSpoolTakesWhatIsNewAndOnlyWholeLines(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	dir := t.TempDir()
	w, err := spool.Open(dir, spool.DefaultOptions, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendLines := func(lines ...string) {
		t.Helper()
		for _, l := range lines {
			if err := w.Append(ctx, []byte(l)); err != nil {
				t.Fatal(err)
			}
		}
	}
	loadSpool := func() []SegmentLoad {
		t.Helper()
		loads, err := s.LoadSpool(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		return loads
	}

	appendLines(webhookMsg, `{"not":"an event"}`)
	loads := loadSpool()
	if len(loads) != 1 || loads[0].Loaded != 1 || len(loads[0].Rejected) != 1 || loads[0].Rejected[0].Line != 2 {
		t.Fatalf("first load: %+v", loads)
	}
	if loads := loadSpool(); len(loads) != 0 {
		t.Errorf("nothing new, but loaded %+v", loads)
	}

	// serve is still writing: a line without its newline yet stays pending.
	appendLines(cloudEvent, webhookRetry, `{broken`)
	segs, _ := spool.Segments(dir)
	partial := `{"EventType":"onMessageAdded","Sou`
	f, err := os.OpenFile(segs[0].Path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(partial)
	f.Close()
	loads = loadSpool()
	if len(loads) != 1 || loads[0].Loaded != 1 || loads[0].Duplicates != 1 || loads[0].PendingBytes != int64(len(partial)) ||
		loads[0].TornBytes != 0 || len(loads[0].Rejected) != 1 || loads[0].Rejected[0].Line != 5 {
		t.Fatalf("second load: %+v", loads)
	}
	var line int
	if err := s.DB.QueryRow(`SELECT input_line FROM events WHERE event_id = 'EV1'`).Scan(&line); err != nil || line != 3 {
		t.Errorf("the CloudEvent is stored as line %d (%v), want 3 of the segment", line, err)
	}

	// serve stopped: the segment is sealed and its torn line is skipped, once.
	w.Close()
	loads = loadSpool()
	if len(loads) != 1 || loads[0].TornBytes != int64(len(partial)) || loads[0].Events != 0 {
		t.Fatalf("after serve stopped: %+v", loads)
	}
	if loads := loadSpool(); len(loads) != 0 {
		t.Errorf("the torn line came back: %+v", loads)
	}
	if n := count(t, s, `SELECT count(*) FROM events`); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
}

func TestLoadSpoolRefusesAnEditedSegment(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	dir := t.TempDir()
	w, _ := spool.Open(dir, spool.DefaultOptions, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	w.Append(ctx, []byte(webhookMsg))
	w.Close()
	if _, err := s.LoadSpool(ctx, dir); err != nil {
		t.Fatal(err)
	}
	segs, _ := spool.Segments(dir)
	os.Truncate(segs[0].Path, 10)
	if _, err := s.LoadSpool(ctx, dir); !errors.Is(err, ErrSegmentEdited) {
		t.Errorf("a segment shorter than what was loaded from it: %v", err)
	}
	if _, err := s.LoadSpool(ctx, dir+"/missing"); err == nil {
		t.Errorf("a missing spool was accepted")
	}
}
