package ingest

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/mauledger/mauledger/internal/duckmem"
)

//go:embed events_parse.sql
var eventsParseSQL string

const createStageLines = `CREATE OR REPLACE TEMP TABLE stage_lines (line BIGINT, body VARCHAR)`

// stageDB holds a batch's parsed rows, stageParsed: an in-memory database
// that every connection of the load sees, as a temporary table is seen by
// one only.
const (
	stageDB     = "mauledger_stage"
	stageParsed = stageDB + ".parsed"
)

// MaxLineBytes bounds one input line (one event); longer lines are rejected.
const MaxLineBytes = 16 << 20

// batchLines is how many lines are staged before they are parsed and stored:
// large enough for DuckDB's parallel JSON parsing to pay, small enough to
// keep memory flat whatever the file size. It is storeParts parts of two of
// DuckDB's row groups (122,880 rows each), stored at once (see store).
var (
	partLines  = 2 * 122_880 // a test lowers both
	batchLines = storeParts * partLines
)

const storeParts = 2

// Rejection is one input line (or value) that could not be loaded.
type Rejection struct {
	Line   int64 // the byte offset of the value when EventsResult.Offsets
	Reason string
}

// EventsResult tells what one input's load did.
type EventsResult struct {
	Name string // the file name, or "stdin"
	// Events counts the non-blank lines (NDJSON), array elements or
	// concatenated JSON values read.
	Events int64
	// Offsets says that the input was concatenated JSON: its records, and
	// Rejected, are numbered by the byte offset where they start in the
	// (uncompressed) input, from 0, not by line.
	Offsets bool
	// Loaded counts the events stored for the first time.
	Loaded int64
	// Duplicates counts events already stored, or repeated in this input
	// (webhook retries, redeliveries, a file loaded twice).
	Duplicates int64
	// Ignored counts well-formed CloudEvents of other Twilio products.
	Ignored  int64
	Rejected []Rejection
}

// LoadEvents loads one input of Conversations webhook payloads and Event
// Streams CloudEvents, NDJSON, a JSON array or concatenated JSON, plain or
// gzip (see readRecords), into the events table. Good
// events load even when others are rejected; each part of a batch commits on
// its own (see store), and loading is idempotent, so an interrupted load is
// finished by running it again.
func (s *Store) LoadEvents(ctx context.Context, name string, r io.Reader) (EventsResult, error) {
	res := EventsResult{Name: name}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	restore, err := duckmem.Limit(ctx, conn, duckmem.Budget)
	if err != nil {
		return res, err
	}
	defer restore()
	// The parsed rows are stored by storeParts connections of their own at
	// once (see store), so they are staged in a database that all
	// connections see.
	conns := []*sql.Conn{conn}
	for range storeParts {
		c, err := s.DB.Conn(ctx)
		if err != nil {
			return res, err
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for _, q := range []string{`ATTACH IF NOT EXISTS ':memory:' AS ` + stageDB, createStageLines, eventsParseSQL} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return res, fmt.Errorf("stage %s: %w", name, err)
		}
	}
	// The connection goes back to the pool: its temporary tables would stay.
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS stage_lines; DETACH DATABASE IF EXISTS `+stageDB)
	st := &eventStager{ctx: ctx, conns: conns, name: name, res: &res}
	defer st.closeAppender()
	defer st.settle() // before the stage is detached and the connections close

	offsets, err := readRecords(r, st.add)
	res.Offsets = offsets
	if err != nil {
		return res, err
	}
	if err := st.flush(); err != nil {
		return res, err
	}
	if err := st.settle(); err != nil {
		return res, fmt.Errorf("store events of %s: %w", name, err)
	}
	// The batches are stored as compressed row groups already (flush): the
	// checkpoint writes the last, smaller batch and the table's metadata.
	// Done here, it runs under the load's memory limit, and its time is the
	// load's.
	if _, err := conn.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return res, fmt.Errorf("store events of %s: %w", name, err)
	}
	sort.Slice(res.Rejected, func(i, j int) bool { return res.Rejected[i].Line < res.Rejected[j].Line })
	return res, nil
}

// eventStager appends lines to the stage table and stores them a batch at a time.
type eventStager struct {
	ctx      context.Context
	conns    []*sql.Conn // the first stages and parses; conns[1+i] stores part i
	name     string
	res      *EventsResult
	appender *duckdb.Appender
	staged   int
	// The last batch's parts, still committing (see store and settle).
	commits    sync.WaitGroup
	commitErrs []error
}

// add stages one event; a nil body with a reason records a rejection found
// while reading (bad UTF-8, a line too long, broken array syntax).
func (st *eventStager) add(line int64, body []byte, reason string) error {
	if reason != "" {
		st.res.Events++
		st.res.Rejected = append(st.res.Rejected, Rejection{line, reason})
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	st.res.Events++
	if !utf8.Valid(body) {
		st.res.Rejected = append(st.res.Rejected, Rejection{line, "not valid UTF-8"})
		return nil
	}
	if st.appender == nil {
		err := st.conns[0].Raw(func(dc any) error {
			a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "stage_lines")
			st.appender = a
			return err
		})
		if err != nil {
			return fmt.Errorf("stage %s: %w", st.name, err)
		}
	}
	// The bytes as they are: DuckDB copies them into its vector at once
	// (the reader reuses its buffer); string(body) cost a copy and garbage
	// of every line (a 1M-event load: 2.7 -> 1.7 CPU-s for staging).
	if err := st.appender.AppendRow(line, body); err != nil {
		return fmt.Errorf("stage %s line %d: %w", st.name, line, err)
	}
	st.staged++
	if st.staged >= batchLines {
		return st.flush()
	}
	return nil
}

func (st *eventStager) closeAppender() error {
	if st.appender == nil {
		return nil
	}
	err := st.appender.Close()
	st.appender = nil
	return err
}

// flush parses the staged lines and stores the good ones (see store).
func (st *eventStager) flush() error {
	if err := st.closeAppender(); err != nil {
		return fmt.Errorf("stage %s: %w", st.name, err)
	}
	if st.staged == 0 {
		return nil
	}
	parts := (st.staged + partLines - 1) / partLines
	st.staged = 0
	ctx, conn := st.ctx, st.conns[0]
	if err := ctx.Err(); err != nil { // interrupted: the batches stored so far stay
		return err
	}
	// Parsed once, the queries below read it several times. It keeps the
	// body, so that storing needs no join back to the staged lines, which
	// are emptied at once (replacing the table frees their memory; the rows a
	// DELETE removes from a temporary table would keep it, and the bodies
	// of a 10M-event load piled up in DuckDB's temp files).
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TABLE `+stageParsed+` AS SELECT * FROM stage_view`); err != nil {
		return fmt.Errorf("parse %s: %w", st.name, err)
	}
	if _, err := conn.ExecContext(ctx, createStageLines); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, `SELECT line, rejected FROM `+stageParsed+` WHERE rejected IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("parse %s: %w", st.name, err)
	}
	for rows.Next() {
		var rej Rejection
		if err := rows.Scan(&rej.Line, &rej.Reason); err != nil {
			rows.Close()
			return err
		}
		st.res.Rejected = append(st.res.Rejected, rej)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	var good, ignored int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE NOT foreign_type), count(*) FILTER (WHERE foreign_type)
		FROM `+stageParsed+` WHERE rejected IS NULL`).Scan(&good, &ignored); err != nil {
		return err
	}
	// What stays in the stage is stored: the first good event of each key
	// in the batch, unless an earlier load or batch stored it (committed:
	// settle).
	if err := st.settle(); err != nil {
		return fmt.Errorf("store events of %s: %w", st.name, err)
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM `+stageParsed+` WHERE line NOT IN (
		SELECT min(line) FROM `+stageParsed+` s
		WHERE rejected IS NULL AND NOT foreign_type
		  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_key = s.event_key)
		GROUP BY event_key)`); err != nil {
		return fmt.Errorf("store events of %s: %w", st.name, err)
	}
	inserted, err := st.store(parts)
	if err != nil {
		return fmt.Errorf("store events of %s: %w", st.name, err)
	}
	// Its memory is the next batch's, once the parts have committed.
	if _, err := conn.ExecContext(ctx, `DROP TABLE `+stageParsed); err != nil {
		return err
	}
	st.res.Loaded += inserted
	st.res.Duplicates += good - inserted
	st.res.Ignored += ignored
	return nil
}

// store inserts the staged rows into events, part by part: part i is the
// rows of its two row groups of the stage (rowids from i*partLines), and
// each part is inserted and committed by a connection of its own, all at
// once, each on one thread. A thread that stores two row groups writes
// them as they are, a full one and a nearly full one. Stored in their
// order, or by threads that DuckDB hands the row groups to as they come,
// DuckDB copies every row once more: it keeps in memory a source row group
// that the dedupe left short of a full 122,880 rows, or a thread's share
// that is, and merges it with others before writing. The order of the
// rows in the table means nothing: the ledger finds an event by its rowid,
// reports sort. A part stored without the others is no harm: the load is
// idempotent, and an interrupted one is finished by running it again.
//
// store returns once the parts are inserted, and they commit while the
// next batch is staged (settle waits for them). A commit writes its part's
// last row group, and DuckDB lets one commit run at a time: waited for
// here, they left a core idle for about half of the store (1.2 to 1.3 s of
// the 2.4 to 3.0 s that a batch of 983,040 lines took to store).
func (st *eventStager) store(parts int) (int64, error) {
	ctx, conn := st.ctx, st.conns[0]
	var threads int
	var ordered bool
	if err := conn.QueryRowContext(ctx, `SELECT current_setting('threads'), current_setting('preserve_insertion_order')`).Scan(&threads, &ordered); err != nil {
		return 0, err
	}
	// Both settings belong to the whole database instance, as the memory
	// limit does (duckmem.Limit): each query then runs on the thread of its
	// connection alone.
	set := func(ctx context.Context, threads int, ordered bool) error {
		_, err := conn.ExecContext(ctx, fmt.Sprintf(`SET threads = %d; SET preserve_insertion_order = %t`, threads, ordered))
		return err
	}
	if err := set(ctx, 1, false); err != nil {
		return 0, err
	}
	defer set(context.WithoutCancel(ctx), threads, ordered)
	inserted := make([]int64, parts)
	errs := make([]error, parts)
	commitErrs := make([]error, parts)
	st.commitErrs = commitErrs
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		st.commits.Go(func() {
			var tx *sql.Tx
			tx, inserted[i], errs[i] = st.insertPart(st.conns[1+i], i)
			wg.Done()
			if errs[i] == nil {
				if testHookBeforeCommit != nil {
					testHookBeforeCommit()
				}
				commitErrs[i] = tx.Commit()
			}
		})
	}
	wg.Wait()
	var sum int64
	for _, n := range inserted {
		sum += n
	}
	return sum, errors.Join(errs...)
}

// insertPart inserts part i of the stage in a transaction of its own,
// returned open unless the insert failed (see store).
func (st *eventStager) insertPart(conn *sql.Conn, i int) (*sql.Tx, int64, error) {
	tx, err := conn.BeginTx(st.ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	n, err := execCount(st.ctx, tx, `INSERT INTO events (event_key, dedupe, format, event_type, resource, action,
		       origin, client_identity, service_sid, conversation_sid, message_sid, participant_sid, user_sid,
		       identity, author, address, is_online, event_id, idempotency_token, occurred_at, received_at,
		       event_time, date_created, date_updated, loaded_at, input_name, input_line, payload)
		SELECT event_key, dedupe, format, event_type, resource, action, origin, client_identity,
		       service_sid, conversation_sid, message_sid, participant_sid, user_sid, identity,
		       author, address, is_online, event_id, idempotency_token, occurred_at, received_at,
		       event_time, date_created, date_updated, now()::TIMESTAMP, ?, line, body
		FROM `+stageParsed+` WHERE rowid >= ? AND rowid < ?`, st.name, i*partLines, (i+1)*partLines)
	if err != nil {
		tx.Rollback()
		return nil, 0, err
	}
	return tx, n, nil
}

// testHookBeforeCommit, when a test sets it, runs before each part commits.
var testHookBeforeCommit func()

// settle waits for the commits of the last batch stored (see store).
func (st *eventStager) settle() error {
	st.commits.Wait()
	err := errors.Join(st.commitErrs...)
	st.commitErrs = nil
	return err
}

func execCount(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	r, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// readLines calls add for each line of NDJSON input.
func readLines(br *bufio.Reader, add func(line int64, body []byte, reason string) error) error {
	var (
		line    int64
		long    []byte // the start of a line longer than the reader's buffer
		tooLong bool   // the line passed MaxLineBytes: skip the rest of it
	)
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !tooLong && len(long)+len(chunk) <= MaxLineBytes {
				long = append(long, chunk...)
			} else {
				tooLong, long = true, nil
			}
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		if len(chunk) == 0 && err == io.EOF && long == nil && !tooLong {
			return nil
		}
		line++
		var addErr error
		switch {
		case tooLong:
			addErr = add(line, nil, fmt.Sprintf("line longer than %d MiB", MaxLineBytes>>20))
		case long != nil:
			addErr = add(line, bytes.TrimRight(append(long, chunk...), "\r\n"), "")
		default:
			addErr = add(line, bytes.TrimRight(chunk, "\r\n"), "")
		}
		if addErr != nil {
			return addErr
		}
		long, tooLong = nil, false
		if err == io.EOF {
			return nil
		}
	}
}

// readArray calls add for each element of a JSON array, numbered by the
// line its element starts on. Broken array syntax stops the input: the
// elements before it load, the break is one rejection.
func readArray(br *bufio.Reader, add func(line int64, body []byte, reason string) error) error {
	lines := &lineCounter{r: br}
	dec := json.NewDecoder(lines)
	if _, err := dec.Token(); err != nil { // the opening [
		return add(1, nil, "not valid JSON: "+err.Error())
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// The decoder cannot say where the broken element starts, only
			// where the last good one ended: name that line.
			return add(lines.lineAt(dec.InputOffset()), nil, "not valid JSON after this point of the array: "+err.Error())
		}
		start := dec.InputOffset() - int64(len(raw))
		if err := add(lines.lineAt(start), raw, ""); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return add(lines.lineAt(dec.InputOffset()), nil, "not valid JSON: "+err.Error())
	}
	return nil
}

// lineCounter remembers where each newline of the input is, so that a byte
// offset can be turned into a line number for error messages.
type lineCounter struct {
	r        io.Reader
	read     int64
	newlines []int64
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			c.newlines = append(c.newlines, c.read+int64(i))
		}
	}
	c.read += int64(n)
	return n, err
}

// lineAt is the 1-based line of the byte at offset.
func (c *lineCounter) lineAt(offset int64) int64 {
	return int64(sort.Search(len(c.newlines), func(i int) bool { return c.newlines[i] >= offset })) + 1
}
