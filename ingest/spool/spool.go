// Package spool is serve's durable inbox: a directory of NDJSON segment
// files. serve appends every accepted event to the open segment and has it
// on disk (fsync) before Twilio gets its 2xx; `ingest events --spool` reads
// the segments back, complete lines only, while serve keeps writing.
//
// A segment is named by a sequence number, then the UTC time it was opened,
// so names sort in writing order. A writer only ever appends to the segment it opened
// itself: after a crash it starts a new one, so an older segment never
// changes again (it is sealed) and a torn last line there is final.
package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Ext is the extension of segment files.
const Ext = ".ndjson"

// lockName is the file a writer holds an exclusive lock on while it runs.
const lockName = ".lock"

// ErrInUse means another process is writing to the spool.
var ErrInUse = errors.New("spool is in use by another mauledger serve")

// Segment is one segment file of a spool.
type Segment struct {
	Name string // the file name, e.g. 0000000001-20261125T030000.000000Z-1a2b3c4d.ndjson
	Path string
	Size int64
	// Sealed is true when no writer will append to the segment again: a
	// newer segment exists, or no serve holds the spool.
	Sealed bool
}

// Segments lists the segments of dir, oldest first. Other files are not
// segments and are ignored.
func Segments(dir string) ([]Segment, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []Segment
	for _, e := range entries {
		if e.IsDir() || segmentNumber(e.Name()) == 0 || !strings.HasSuffix(e.Name(), Ext) {
			continue // not a segment: left alone
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		segs = append(segs, Segment{Name: e.Name(), Path: filepath.Join(dir, e.Name()), Size: info.Size(), Sealed: true})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].Name < segs[j].Name })
	// Listed before the probe: a writer that starts after it opens a new
	// segment, which this list does not hold.
	if len(segs) > 0 {
		active, err := writerActive(dir)
		if err != nil {
			return nil, err
		}
		segs[len(segs)-1].Sealed = !active
	}
	return segs, nil
}

// CompleteEnd is the offset just past the last newline of the segment in
// [from, size): the lines before it are whole. Anything after it is a line
// being written, or, in a sealed segment, one torn by a crash.
func CompleteEnd(f io.ReaderAt, from, size int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for end := size; end > from; {
		start := max(from, end-chunk)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !(errors.Is(err, io.EOF) && int64(n) == end-start) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return from, nil
}

// segmentNumber is the sequence number a segment name starts with (ten
// digits and a dash); 0 for a name not of this form.
func segmentNumber(name string) int64 {
	num, _, ok := strings.Cut(name, "-")
	if !ok || len(num) != 10 {
		return 0
	}
	n, _ := strconv.ParseInt(num, 10, 64)
	return n
}

// tornTail returns the name of the newest segment of dir and how many
// bytes follow its last complete line, for a writer to warn about when it
// starts.
func tornTail(dir string) (name string, torn int64, err error) {
	segs, err := Segments(dir)
	if err != nil || len(segs) == 0 {
		return "", 0, err
	}
	last := segs[len(segs)-1]
	f, err := os.Open(last.Path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	end, err := CompleteEnd(f, 0, last.Size)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", last.Path, err)
	}
	return last.Name, last.Size - end, nil
}
