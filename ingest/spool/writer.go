package spool

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrClosed means the writer was closed.
var ErrClosed = errors.New("spool is closed")

// Options bound a writer's segments.
type Options struct {
	// MaxSegmentBytes starts a new segment once the open one would grow past it.
	MaxSegmentBytes int64
	// MaxSegmentAge starts a new segment for a write arriving later than
	// this after the open one was created.
	MaxSegmentAge time.Duration
}

// DefaultOptions keep segments small enough to load in one go and let a
// quiet spool roll over daily.
var DefaultOptions = Options{MaxSegmentBytes: 64 << 20, MaxSegmentAge: time.Hour}

// Writer appends lines to a spool with group commit: the appends that
// arrive while one fsync runs are written and synced together by the next,
// so the disk's sync rate bounds batches per second, not events.
type Writer struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File

	mu     sync.RWMutex // guards closed against sends on reqs
	closed bool
	reqs   chan *appendReq
	done   chan struct{}

	errMu   sync.Mutex
	lastErr error // of the last commit

	// Owned by the loop goroutine.
	seq    int64 // number of the newest segment
	seg    *os.File
	segLen int64
	segAt  time.Time
	buf    []byte
}

type appendReq struct {
	lines [][]byte
	done  chan error
}

// Open takes dir (creating it) for writing and opens a new segment at the
// first append. A torn last line left by a crash is reported, not touched:
// the loader skips it with a warning.
func Open(dir string, opts Options, log *slog.Logger) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	lk, err := lock(dir)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	newest, torn, err := tornTail(dir)
	if err != nil {
		lk.Close()
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	if torn > 0 {
		log.Warn("spool segment ends with a torn line from an interrupted write; the loader skips it",
			"segment", newest, "bytes", torn)
	}
	w := &Writer{dir: dir, opts: opts, log: log, lock: lk, seq: segmentNumber(newest),
		reqs: make(chan *appendReq, 1024), done: make(chan struct{})}
	go w.loop()
	return w, nil
}

// Append writes lines (each one JSON object without its newline) to the
// spool and returns once they are on disk. The lines of one call stay
// together in one segment.
func (w *Writer) Append(ctx context.Context, lines ...[]byte) error {
	if len(lines) == 0 {
		return nil
	}
	req := &appendReq{lines: lines, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.reqs <- req:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// It may still reach the disk unacknowledged: should Twilio send
		// it again, the loader loads the event once.
		return ctx.Err()
	}
}

// Err is the error of the last write, nil if it succeeded: whether the
// spool is taking events right now.
func (w *Writer) Err() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.lastErr
}

// Close waits for the appends under way, syncs and closes the segment and
// releases the spool.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	close(w.reqs)
	w.mu.Unlock()
	<-w.done
	err := w.closeSegment()
	if lerr := w.lock.Close(); err == nil {
		err = lerr
	}
	return err
}

func (w *Writer) loop() {
	defer close(w.done)
	for req := range w.reqs {
		batch := []*appendReq{req}
	gather: // everything already waiting joins this commit
		for {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		err := w.commit(batch)
		w.errMu.Lock()
		w.lastErr = err
		w.errMu.Unlock()
		for _, r := range batch {
			r.done <- err
		}
	}
}

// commit writes a batch in one write and syncs it. On failure it cuts the
// segment back to its last good length, so no partial batch stays to be
// loaded, and the next batch starts a new segment.
func (w *Writer) commit(batch []*appendReq) error {
	w.buf = w.buf[:0]
	for _, r := range batch {
		for _, line := range r.lines {
			w.buf = append(w.buf, line...)
			w.buf = append(w.buf, '\n')
		}
	}
	if w.seg != nil && (w.segLen > 0 && w.segLen+int64(len(w.buf)) > w.opts.MaxSegmentBytes ||
		time.Since(w.segAt) > w.opts.MaxSegmentAge) {
		if err := w.closeSegment(); err != nil {
			w.log.Error("closing spool segment", "err", err)
		}
	}
	if w.seg == nil {
		if err := w.newSegment(); err != nil {
			return err
		}
	}
	n, err := w.seg.Write(w.buf)
	if err == nil {
		err = w.seg.Sync()
	}
	if err != nil {
		name := w.seg.Name()
		if terr := w.seg.Truncate(w.segLen); terr != nil {
			w.log.Error("cutting a failed write from the spool segment", "segment", name, "err", terr)
		}
		w.seg.Close()
		w.seg = nil
		return fmt.Errorf("write spool segment %s: %w", name, err)
	}
	w.segLen += int64(n)
	return nil
}

// newSegment opens the next segment. Its name starts with a sequence
// number, so that names sort in writing order even if the clock steps
// back; the time and a random suffix tell spools of two machines apart.
func (w *Writer) newSegment() error {
	now := time.Now().UTC()
	var suffix [4]byte
	rand.Read(suffix[:])
	name := fmt.Sprintf("%010d-%s-%s%s", w.seq+1, now.Format("20060102T150405.000000Z"), hex.EncodeToString(suffix[:]), Ext)
	f, err := os.OpenFile(filepath.Join(w.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create spool segment: %w", err)
	}
	// The new name must survive a crash too, not only the file's data.
	if err := syncDir(w.dir); err != nil {
		f.Close()
		return fmt.Errorf("create spool segment %s: %w", name, err)
	}
	w.seq, w.seg, w.segLen, w.segAt = w.seq+1, f, 0, now
	w.log.Debug("spool segment opened", "segment", name)
	return nil
}

func (w *Writer) closeSegment() error {
	if w.seg == nil {
		return nil
	}
	err := w.seg.Sync()
	if cerr := w.seg.Close(); err == nil {
		err = cerr
	}
	w.seg = nil
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
