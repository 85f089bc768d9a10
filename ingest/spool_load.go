package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mauledger/mauledger/ingest/spool"
)

// ErrSegmentEdited means a spool segment is shorter than what was loaded
// from it: someone cut or replaced it.
var ErrSegmentEdited = errors.New("spool segment was edited")

// SegmentLoad tells what one load of a spool segment did.
type SegmentLoad struct {
	EventsResult // Name is the segment's path
	// TornBytes is a torn last line skipped in a segment no one writes to
	// any more: a crash cut its write short, before serve acknowledged it.
	TornBytes int64
	// PendingBytes is the start of a line serve is still writing, left
	// for the next load.
	PendingBytes int64
}

// LoadSpool loads what is new in serve's spool at dir: from each segment,
// the complete lines after those an earlier load took. It is safe while
// serve writes, and loading is idempotent: progress is recorded after the
// events are stored, so an interrupted load repeats a piece whose events
// are then found to be duplicates.
func (s *Store) LoadSpool(ctx context.Context, dir string) ([]SegmentLoad, error) {
	segs, err := spool.Segments(dir)
	if err != nil {
		return nil, fmt.Errorf("read spool: %w", err) // names dir
	}
	type progress struct{ bytes, lines int64 }
	done := map[string]progress{}
	rows, err := s.DB.QueryContext(ctx, `SELECT segment, loaded_bytes, loaded_lines FROM spool_progress`)
	if err != nil {
		return nil, fmt.Errorf("read spool progress: %w", err)
	}
	for rows.Next() {
		var name string
		var p progress
		if err := rows.Scan(&name, &p.bytes, &p.lines); err != nil {
			rows.Close()
			return nil, err
		}
		done[name] = p
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	var loads []SegmentLoad
	for _, seg := range segs {
		p := done[seg.Name]
		if seg.Size < p.bytes {
			return loads, fmt.Errorf("%w: %s is %d bytes, shorter than the %d already loaded from it",
				ErrSegmentEdited, seg.Path, seg.Size, p.bytes)
		}
		if seg.Size == p.bytes {
			continue
		}
		load, err := s.loadSegment(ctx, seg, p.bytes, p.lines)
		if err != nil {
			return loads, err
		}
		loads = append(loads, load)
	}
	return loads, nil
}

func (s *Store) loadSegment(ctx context.Context, seg spool.Segment, from, lines int64) (SegmentLoad, error) {
	load := SegmentLoad{EventsResult: EventsResult{Name: seg.Path}}
	f, err := os.Open(seg.Path)
	if err != nil {
		return load, fmt.Errorf("read spool segment: %w", err) // names the segment
	}
	defer f.Close()
	end, err := spool.CompleteEnd(f, from, seg.Size)
	if err != nil {
		return load, fmt.Errorf("read spool segment %s: %w", seg.Path, err)
	}
	if end > from {
		// The blank lines stand for those already loaded, so the loader
		// numbers the new ones as lines of the whole file.
		counted := &newlineCounter{r: io.NewSectionReader(f, from, end-from)}
		in := io.MultiReader(strings.NewReader(strings.Repeat("\n", int(lines))), counted)
		res, err := s.LoadEvents(ctx, seg.Path, in)
		load.EventsResult = res
		if err != nil {
			return load, fmt.Errorf("load spool segment %s: %w", seg.Path, err)
		}
		lines += counted.newlines
	}
	loaded := end
	if end < seg.Size {
		if seg.Sealed {
			load.TornBytes = seg.Size - end
			loaded = seg.Size
		} else {
			load.PendingBytes = seg.Size - end
		}
	}
	if _, err := s.DB.ExecContext(ctx, `INSERT OR REPLACE INTO spool_progress VALUES (?, ?, ?, ?, now()::TIMESTAMP)`,
		seg.Name, loaded, lines, load.TornBytes); err != nil {
		return load, fmt.Errorf("record spool progress of %s: %w", seg.Path, err)
	}
	return load, nil
}

type newlineCounter struct {
	r        io.Reader
	newlines int64
}

func (c *newlineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.newlines += int64(bytes.Count(p[:n], []byte{'\n'}))
	return n, err
}
