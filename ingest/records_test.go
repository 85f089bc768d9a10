package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"testing"
)

// record is what readRecords passed on: a body or a rejection.
type record struct {
	n      int64
	body   string
	reason string
}

func readAll(t *testing.T, input []byte) ([]record, bool) {
	t.Helper()
	var got []record
	offsets, err := readRecords(bytes.NewReader(input), func(n int64, body []byte, reason string) error {
		if reason != "" || len(bytes.TrimSpace(body)) > 0 {
			got = append(got, record{n, string(body), reason})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, offsets
}

func gzipped(t testing.TB, members ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, m := range members { // each its own gzip member, as cat a.gz b.gz makes
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

const (
	recA = `{"id":"a","s":"} {\"x\":[1]"}`
	recB = `{"id":"b","n":[{"k":2}]}`
)

// TestReadRecordsFindsEachLayout: the layout is told from the first
// record, concatenated records are numbered by byte offset, lines by line.
func TestReadRecordsFindsEachLayout(t *testing.T) {
	pretty := "{\n  \"id\": \"a\"\n}\n{\n  \"id\": \"b\"\n}\n"
	for _, tc := range []struct {
		name    string
		input   string
		offsets bool
		want    []record
	}{
		{"concatenated with no separator, braces inside strings", recA + recB, true,
			[]record{{0, recA, ""}, {int64(len(recA)), recB, ""}}},
		{"concatenated with spaces between", recA + "  " + recB + " ", true,
			[]record{{0, recA, ""}, {int64(len(recA)) + 2, recB, ""}}},
		{"concatenated pretty-printed objects", pretty, true,
			[]record{{0, "{\n  \"id\": \"a\"\n}", ""}, {16, "{\n  \"id\": \"b\"\n}", ""}}},
		{"concatenated after a byte order mark", "\xEF\xBB\xBF" + recA + recB, true,
			[]record{{3, recA, ""}, {3 + int64(len(recA)), recB, ""}}},
		{"NDJSON", recA + "\n\n" + recB + "\r\n", false,
			[]record{{1, recA, ""}, {3, recB, ""}}},
		{"NDJSON whose first line is broken stays NDJSON", `{"id":"a"` + "\n" + recB + "\n", false,
			[]record{{1, `{"id":"a"`, ""}, {2, recB, ""}}},
		{"NDJSON with concatenated records on a later line", recB + "\n" + recA + recB + "\n", false,
			[]record{{1, recB, ""}, {2, recA + recB, ""}}},
		{"JSON array", "[\n" + recA + ",\n" + recB + "\n]", false,
			[]record{{2, recA, ""}, {3, recB, ""}}},
		{"truncated last object keeps those before it", recA + recB + `{"id":"c","s":"}{`, true,
			[]record{{0, recA, ""}, {int64(len(recA)), recB, ""},
				{int64(len(recA + recB)), "", "truncated JSON object: the input ends inside it"}}},
		{"stray bytes between objects are values of their own", recA + `42 ]` + recB, true,
			[]record{{0, recA, ""}, {int64(len(recA)), "42", ""}, {int64(len(recA)) + 3, "]", ""}, {int64(len(recA)) + 4, recB, ""}}},
		{"empty", "", false, nil},
		{"only whitespace", " \n\n ", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, gz := range []bool{false, true} {
				input := []byte(tc.input)
				if gz {
					input = gzipped(t, tc.input)
				}
				got, offsets := readAll(t, input)
				if offsets != tc.offsets || fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("gzip %v: offsets %v, records\n%+v\nwant %v\n%+v", gz, offsets, got, tc.offsets, tc.want)
				}
			}
		})
	}
}

func TestReadRecordsGzipMembersAreOneStream(t *testing.T) {
	got, offsets := readAll(t, gzipped(t, recA, recB, ""))
	if !offsets || fmt.Sprint(got) != fmt.Sprint([]record{{0, recA, ""}, {int64(len(recA)), recB, ""}}) {
		t.Errorf("offsets %v, records %+v", offsets, got)
	}
}

// TestReadRecordsReportsABrokenGzipStream: a gzip file cut short (an
// interrupted download) or corrupt is one rejection, after the records
// that could be read; it does not fail the load.
func TestReadRecordsReportsABrokenGzipStream(t *testing.T) {
	var ndjsonLines strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&ndjsonLines, `{"id":"%d","pad":"%x"}`+"\n", i, i*7919)
	}
	for _, tc := range []struct {
		name, input string
		offsets     bool
	}{
		{"NDJSON", ndjsonLines.String(), false},
		{"concatenated", strings.ReplaceAll(ndjsonLines.String(), "\n", ""), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := gzipped(t, tc.input)
			got, offsets := readAll(t, full[:len(full)*2/3])
			if offsets != tc.offsets || len(got) < 2 {
				t.Fatalf("offsets %v, %d records", offsets, len(got))
			}
			last := got[len(got)-1]
			if !strings.HasPrefix(last.reason, "gzip stream ends early (the file is truncated)") {
				t.Errorf("last record %+v, want the truncation", last)
			}
			if got[0].body != strings.SplitAfter(tc.input, "}")[0] {
				t.Errorf("first record %+v", got[0])
			}
			corrupt := bytes.Clone(full)
			corrupt[len(corrupt)/2] ^= 0xff
			got, _ = readAll(t, corrupt)
			if last := got[len(got)-1]; !strings.HasPrefix(last.reason, "gzip stream is corrupt") {
				t.Errorf("corrupt: last record %+v", last)
			}
		})
	}
	got, _ := readAll(t, []byte{0x1f, 0x8b, 0, 0})
	if fmt.Sprint(got) != fmt.Sprint([]record{{1, "", "not a readable gzip stream: unexpected EOF"}}) {
		t.Errorf("a gzip header cut short: %+v", got)
	}
}

func TestReadRecordsRejectsOverlongValuesAndGoesOn(t *testing.T) {
	huge := `{"s":"` + strings.Repeat("x", MaxLineBytes) + `"}`
	got, _ := readAll(t, []byte(recA+huge+recB))
	want := []record{{0, recA, ""}, {int64(len(recA)), "", "JSON value longer than 16 MiB"}, {int64(len(recA + huge)), recB, ""}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records %.300v", got)
	}
}

// TestLoadEventsReadsGzipConcatenatedByMagic: a Firehose object named
// without .gz loads, and its broken record is named by byte offset.
func TestLoadEventsReadsGzipConcatenatedByMagic(t *testing.T) {
	s := openTestStore(t)
	input := gzipped(t, cloudEvent+webhookMsg+`{"specversion":"1.0","type":"com.twilio.conv`)
	res, err := s.LoadEvents(context.Background(), "object.json", bytes.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Offsets || res.Events != 3 || res.Loaded != 2 || len(res.Rejected) != 1 ||
		res.Rejected[0] != (Rejection{int64(len(cloudEvent + webhookMsg)), "truncated JSON object: the input ends inside it"}) {
		t.Fatalf("%+v", res)
	}
	if n := count(t, s, `SELECT count(*) FROM events WHERE input_line = ?`, len(cloudEvent)); n != 1 {
		t.Errorf("the second event is not stored at its offset")
	}
}

// BenchmarkReadRecords measures how fast records are found, without the
// database: NDJSON (the hot path, cut by bufio), concatenated JSON (the
// bracket scanner), and the same gzip.
//
//	go test ./ingest -run '^$' -bench ReadRecords
func BenchmarkReadRecords(b *testing.B) {
	var lines bytes.Buffer
	for i := 0; lines.Len() < 64<<20; i++ {
		fmt.Fprintf(&lines, `{"specversion":"1.0","type":"com.twilio.conversations.message.added","id":"NO%032x","time":"2026-10-07T10:00:00.131Z","data":{"MessageSid":"IM%032x","Author":"user-%d","MessageBody":"hello \"there\""}}`+"\n", i, i, i)
	}
	concat := bytes.ReplaceAll(lines.Bytes(), []byte("\n"), nil)
	for _, tc := range []struct {
		name  string
		input []byte
	}{
		{"ndjson", lines.Bytes()}, {"concatenated", concat},
		{"ndjson-gzip", gzipped(b, lines.String())}, {"concatenated-gzip", gzipped(b, string(concat))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(concat)))
			for b.Loop() {
				if _, err := readRecords(bytes.NewReader(tc.input), func(int64, []byte, string) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
