package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// How the records of one input are found: the input may be gzip (told by
// its first bytes, whatever the file is called), and what it holds is one
// of three layouts:
//
//   - NDJSON: one record per line. The hot path: lines are cut by
//     bufio, never decoded in Go; DuckDB parses them.
//   - a JSON array of records (the Event Streams webhook sink's batches).
//   - concatenated JSON: records one after another with no separator, or
//     with whitespace between, as Kinesis Data Firehose writes the records
//     of a Kinesis stream to S3 unless it is told to add a newline. Records
//     are numbered by the byte offset where they start.
//
// The layout is decided once per input, from its first record (see
// detectLayout).

// addRecord receives one record of the input: its number (a line, or a
// byte offset for concatenated JSON) and its body, or no body and the
// reason the reader could not make a record of it.
type addRecord func(n int64, body []byte, reason string) error

type layout int

const (
	ndjson layout = iota
	jsonArray
	concatenated
)

// gzipMagic starts every gzip stream (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// readBuffer is the size of the read buffer, and how much of an input
// detectLayout can look at.
const readBuffer = 1 << 20

// readRecords finds the records of r and passes each to add. offsets says
// that they were numbered by byte offset (concatenated JSON), not by line.
func readRecords(r io.Reader, add addRecord) (offsets bool, err error) {
	br := bufio.NewReaderSize(r, readBuffer)
	var unzipped *stopAtError
	if magic, _ := br.Peek(len(gzipMagic)); bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br) // reads members one after another, as gzip -d does
		if err != nil {
			return false, add(1, nil, "not a readable gzip stream: "+err.Error())
		}
		unzipped = &stopAtError{r: zr}
		br = bufio.NewReaderSize(unzipped, readBuffer)
	}
	start := int64(0)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3) // as some Windows tools write
		start = 3
	}
	head, err := br.Peek(readBuffer)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return false, err
	}
	switch detectLayout(head) {
	case jsonArray:
		err = readArray(br, add)
	case concatenated:
		offsets = true
		err = readConcatenated(br, start, add)
	default:
		err = readLines(br, add)
	}
	if err != nil || unzipped == nil || unzipped.err == nil {
		return offsets, err
	}
	// The records before the break are in; the break is one rejection,
	// numbered where the readable part ends.
	at := unzipped.newlines + 1
	if offsets {
		at = unzipped.bytes
	}
	reason := "gzip stream is corrupt, the rest of the file is unreadable: " + unzipped.err.Error()
	if errors.Is(unzipped.err, io.ErrUnexpectedEOF) {
		reason = "gzip stream ends early (the file is truncated): the rest of it is missing"
	}
	return offsets, add(at, nil, fmt.Sprintf("%s (after %d bytes uncompressed)", reason, unzipped.bytes))
}

// detectLayout tells the layout of an input from its start: an array
// starts with [. Otherwise the first JSON value decides: if it spans
// lines (pretty-printed objects), or another value follows it on its
// line (}{ or } {), the input is concatenated JSON; else it is NDJSON,
// and so is an input whose first line is broken JSON, so that the line is
// rejected alone and the rest loads.
func detectLayout(head []byte) layout {
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 {
		return ndjson
	}
	if head[0] == '[' {
		return jsonArray
	}
	dec := json.NewDecoder(bytes.NewReader(head))
	var first json.RawMessage
	switch err := dec.Decode(&first); {
	case err == nil:
		if bytes.IndexByte(first, '\n') >= 0 {
			return concatenated
		}
		rest := head[dec.InputOffset():]
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			rest = rest[:i]
		}
		if len(bytes.TrimSpace(rest)) > 0 {
			return concatenated
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The first value runs past what can be seen: a line that long
		// is NDJSON, a value already on several lines is not.
		if bytes.IndexByte(head, '\n') >= 0 {
			return concatenated
		}
	}
	return ndjson
}

// readConcatenated calls add for each JSON value of input that holds
// values one after another, numbered by the byte offset where each starts
// (start is the offset of br's first byte). It only finds where values
// begin and end (brackets, strings and their escapes), without validating
// them: the parse that follows rejects a broken one, as it does a broken
// NDJSON line. A value the input ends inside is rejected as truncated;
// the values before it load.
func readConcatenated(br *bufio.Reader, start int64, add addRecord) error {
	var (
		offset   = start // of chunk[0]
		at       int64   // where the current value starts
		body     []byte  // the current value so far
		open     byte    // the current value's first byte; 0 between values
		depth    int     // brackets open in it
		inString bool
		escaped  bool
		tooLong  bool // the value passed MaxLineBytes: skip the rest of it
	)
	keep := func(part []byte) {
		if !tooLong && len(body)+len(part) > MaxLineBytes {
			tooLong, body = true, nil
		}
		if !tooLong {
			body = append(body, part...)
		}
	}
	emit := func() error {
		var err error
		if tooLong {
			err = add(at, nil, fmt.Sprintf("JSON value longer than %d MiB", MaxLineBytes>>20))
		} else {
			err = add(at, body, "")
		}
		body, open, depth, tooLong = body[:0], 0, 0, false
		return err
	}
	for {
		chunk, readErr := br.ReadSlice('\n') // any cut will do: the state carries over
		if readErr != nil && readErr != io.EOF && !errors.Is(readErr, bufio.ErrBufferFull) {
			return readErr
		}
		from := 0 // the start of the current value's bytes in chunk
		for i := 0; i < len(chunk); i++ {
			c := chunk[i]
			if open == 0 {
				switch c {
				case ' ', '\t', '\r', '\n':
					continue
				}
				at, open, from = offset+int64(i), c, i
				switch c {
				case '{', '[':
					depth = 1
				case '"':
					inString = true
				}
				continue
			}
			switch {
			case inString:
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
					if open == '"' {
						keep(chunk[from : i+1])
						if err := emit(); err != nil {
							return err
						}
					}
				}
			case open == '{' || open == '[':
				switch c {
				case '"':
					inString = true
				case '{', '[':
					depth++
				case '}', ']':
					depth--
					if depth == 0 {
						keep(chunk[from : i+1])
						if err := emit(); err != nil {
							return err
						}
					}
				}
			default: // a bare number, true, false, null or stray byte: ends where a value could start
				switch c {
				case ' ', '\t', '\r', '\n', '{', '[', '"', '}', ']':
					keep(chunk[from:i])
					if err := emit(); err != nil {
						return err
					}
					i-- // look at c again, between values
				}
			}
		}
		if open != 0 {
			keep(chunk[from:])
		}
		offset += int64(len(chunk))
		if readErr == io.EOF {
			break
		}
	}
	switch open {
	case 0:
		return nil
	case '{', '[', '"':
		kind := map[byte]string{'{': "object", '[': "array", '"': "string"}[open]
		return add(at, nil, fmt.Sprintf("truncated JSON %s: the input ends inside it", kind))
	default:
		return emit()
	}
}

// stopAtError passes a decompressor's output through, counting it, and
// turns its first error into the end of the input, so that the records
// before a corrupt or cut-short gzip stream still load; readRecords then
// reports the error as a rejection.
type stopAtError struct {
	r        io.Reader
	bytes    int64
	newlines int64
	err      error
}

func (s *stopAtError) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, io.EOF
	}
	n, err := s.r.Read(p)
	s.bytes += int64(n)
	s.newlines += int64(bytes.Count(p[:n], []byte{'\n'}))
	if err != nil && err != io.EOF {
		s.err = err
		err = io.EOF
	}
	return n, err
}
