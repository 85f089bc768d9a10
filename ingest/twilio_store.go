package ingest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	api "github.com/twilio/twilio-go/rest/api/v2010"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"
)

type (
	usageParams = api.ListUsageRecordMonthlyParams
	usageRecord = api.ApiV2010UsageRecordMonthly
)

// run is one `ingest twilio` run as twilio_runs records it.
type run struct {
	id      int
	full    bool
	resumed bool
}

// startRun resumes the last run if it was interrupted and had the same
// options, else starts a new one.
func (s *Store) startRun(ctx context.Context, full bool, services []string) (run, error) {
	filter := strings.Join(services, ",")
	var (
		id         int
		finished   sql.NullTime
		wasFull    bool
		wasFilter  string
		resumeable bool
	)
	err := s.DB.QueryRowContext(ctx, `SELECT id, finished_at, full_pull, services FROM twilio_runs ORDER BY id DESC LIMIT 1`).
		Scan(&id, &finished, &wasFull, &wasFilter)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return run{}, fmt.Errorf("read the last twilio run: %w", err)
	default:
		resumeable = !finished.Valid && wasFull == full && wasFilter == filter
	}
	if resumeable {
		return run{id: id, full: full, resumed: true}, nil
	}
	_, err = s.DB.ExecContext(ctx, `INSERT INTO twilio_runs VALUES (?, ?, NULL, ?, ?)`, id+1, time.Now().UTC(), full, filter)
	if err != nil {
		return run{}, fmt.Errorf("start a twilio run: %w", err)
	}
	return run{id: id + 1, full: full}, nil
}

func (s *Store) finishRun(ctx context.Context, id int) error {
	if _, err := s.DB.ExecContext(ctx, `UPDATE twilio_runs SET finished_at = ? WHERE id = ?`, time.Now().UTC(), id); err != nil {
		return fmt.Errorf("finish twilio run %d: %w", id, err)
	}
	return nil
}

// done says whether this run already finished a listing (when resuming).
func (r run) done(ctx context.Context, s *Store, kind, key string) bool {
	var n int
	err := s.DB.QueryRowContext(ctx, `SELECT count(*) FROM twilio_checkpoints WHERE kind = ? AND key = ? AND run_id = ?`,
		kind, key, r.id).Scan(&n)
	return err == nil && n > 0
}

// checkpoint records finished work, in the transaction that stores it.
type checkpoint struct {
	kind, key string
	run       int
	state     string
	lastIndex *int
}

func (c *checkpoint) stage(st *stager) error {
	if c == nil {
		return nil
	}
	var state, last any
	if c.state != "" {
		state = c.state
	}
	if c.lastIndex != nil {
		last = int32(*c.lastIndex)
	}
	return st.add("twilio_checkpoints", c.kind, c.key, int32(c.run), state, last, time.Now().UTC())
}

// conversationCheckpoints returns what is stored of the conversations sids.
func (s *Store) conversationCheckpoints(ctx context.Context, sids []string) (map[string]checkpoint, error) {
	out := map[string]checkpoint{}
	if len(sids) == 0 {
		return out, nil
	}
	args := make([]any, len(sids))
	for i, sid := range sids {
		args[i] = sid
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT key, run_id, coalesce(state, ''), last_message_index FROM twilio_checkpoints
		WHERE kind = 'conversation' AND key IN (`+placeholders(len(sids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read conversation checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c    checkpoint
			last sql.NullInt64
		)
		if err := rows.Scan(&c.key, &c.run, &c.state, &last); err != nil {
			return nil, err
		}
		if last.Valid {
			c.lastIndex = ptr(int(last.Int64))
		}
		out[c.key] = c
	}
	return out, rows.Err()
}

// oldestResource is the first day of the month of the oldest stored user
// or conversation: where usage records are worth asking for.
func (s *Store) oldestResource(ctx context.Context) (time.Time, error) {
	var oldest sql.NullTime
	err := s.DB.QueryRowContext(ctx, `SELECT min(d) FROM (
		SELECT min(date_created) AS d FROM twilio_users UNION ALL SELECT min(date_created) FROM twilio_conversations)`).Scan(&oldest)
	if err != nil {
		return time.Time{}, fmt.Errorf("find the oldest resource: %w", err)
	}
	t := time.Now().UTC()
	if oldest.Valid {
		t = oldest.Time.UTC()
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), nil
}

// unit is work for the snapshot writer: rows to stage, with the
// checkpoint that says they are complete; a unit is committed whole.
type unit func(st *stager) error

// snapshotTables are the tables the writer upserts, with their keys.
var snapshotTables = []struct{ name, key string }{
	{"twilio_services", "sid"},
	{"twilio_users", "sid"},
	{"twilio_conversations", "sid"},
	{"twilio_participants", "sid"},
	{"twilio_messages", "sid"},
	{"twilio_usage_records", "account_sid, category, start_date"},
	{"twilio_checkpoints", "kind, key"},
}

// snapshotWriter is the one goroutine that writes a pull to DuckDB. Units
// append their rows to temporary stage tables; a commit then upserts each
// stage into its table in one statement. A commit has a fixed cost of tens
// of milliseconds, so the writer gathers units for up to commitEvery.
type snapshotWriter struct {
	store *Store
	in    chan unit
}

const (
	commitEvery    = 250 * time.Millisecond
	unitsPerCommit = 1000
)

func newSnapshotWriter(s *Store) *snapshotWriter {
	return &snapshotWriter{store: s, in: make(chan unit, 64)}
}

// send queues u, unless ctx ends first.
func (w *snapshotWriter) send(ctx context.Context, u unit) error {
	select {
	case w.in <- u:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sync waits until every unit sent before it is committed.
func (w *snapshotWriter) sync(ctx context.Context) error {
	committed := make(chan struct{})
	err := w.send(ctx, func(st *stager) error {
		st.onCommit(func() { close(committed) })
		return nil
	})
	if err != nil {
		return err
	}
	select {
	case <-committed:
		return nil
	case <-ctx.Done(): // the writer failed, or the pull was cancelled
		return ctx.Err()
	}
}

// run writes units until in is closed. It commits what is queued even when
// the pull is cancelled (finished work is cheap to keep and costly to
// refetch), and after a failure keeps draining so that senders never block.
func (w *snapshotWriter) run() error {
	ctx := context.Background()
	st, err := newStager(ctx, w.store)
	if err != nil {
		for range w.in {
		}
		return fmt.Errorf("store twilio snapshot: %w", err)
	}
	defer st.close()
	var failed error
	for u := range w.in {
		if failed != nil {
			continue
		}
		failed = u(st)
		deadline := time.After(commitEvery)
	gather:
		for n := 1; failed == nil && n < unitsPerCommit; n++ {
			select {
			case next, ok := <-w.in:
				if !ok {
					break gather
				}
				failed = next(st)
			case <-deadline:
				break gather
			}
		}
		if failed == nil {
			failed = st.commit(ctx)
		}
	}
	if failed != nil {
		return fmt.Errorf("store twilio snapshot: %w", failed)
	}
	return nil
}

// stager holds the writer's connection, its stage tables and appenders.
type stager struct {
	conn      *sql.Conn
	appenders map[string]*duckdb.Appender // the tables with rows staged
	after     []func()                    // run once the commit succeeded
}

func newStager(ctx context.Context, s *Store) (*stager, error) {
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	st := &stager{conn: conn, appenders: map[string]*duckdb.Appender{}}
	// A checkpoint rewrites the growing tables and their indexes: at the
	// default 16 MB of WAL, a pull checkpointed every few seconds. Once at
	// the end is enough (close resets the threshold).
	if _, err := conn.ExecContext(ctx, `SET checkpoint_threshold = '1GB'`); err != nil {
		conn.Close()
		return nil, err
	}
	for _, t := range snapshotTables {
		if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE stage_`+t.name+` AS FROM `+t.name+` LIMIT 0`); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return st, nil
}

// add appends a row to table's stage.
func (st *stager) add(table string, row ...driver.Value) error {
	a := st.appenders[table]
	if a == nil {
		err := st.conn.Raw(func(dc any) error {
			var err error
			a, err = duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "stage_"+table)
			return err
		})
		if err != nil {
			return err
		}
		st.appenders[table] = a
	}
	if err := a.AppendRow(row...); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// onCommit runs fn once what was staged so far is committed.
func (st *stager) onCommit(fn func()) { st.after = append(st.after, fn) }

// commit upserts every stage into its table, in one transaction, and
// empties the stages. Within a stage the row appended last wins.
func (st *stager) commit(ctx context.Context) error {
	staged := map[string]bool{}
	for t, a := range st.appenders {
		delete(st.appenders, t)
		staged[t] = true
		if err := a.Close(); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
	}
	tx, err := st.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range snapshotTables {
		if !staged[t.name] {
			continue
		}
		stmts := []string{
			`INSERT OR REPLACE INTO ` + t.name + ` SELECT * FROM stage_` + t.name +
				` QUALIFY row_number() OVER (PARTITION BY ` + t.key + ` ORDER BY rowid DESC) = 1`,
			`DELETE FROM stage_` + t.name,
		}
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, fn := range st.after {
		fn()
	}
	st.after = st.after[:0]
	return nil
}

func (st *stager) close() {
	for _, a := range st.appenders {
		a.Close()
	}
	st.conn.ExecContext(context.Background(), `RESET checkpoint_threshold`)
	st.conn.Close()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// raw is a resource as twilio-go decoded it, as JSON.
func raw(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// utc is a Twilio time for a TIMESTAMP column: UTC, or NULL.
func utc(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// nullable is NULL for an absent or empty string.
func nullable(s *string) any {
	if s == nil || *s == "" {
		return nil
	}
	return *s
}

func servicesUnit(services []conversations.ConversationsV1Service) unit {
	now := time.Now().UTC()
	return func(st *stager) error {
		for _, s := range services {
			if err := st.add("twilio_services", deref(s.Sid), nullable(s.FriendlyName), utc(s.DateCreated), now, raw(s)); err != nil {
				return err
			}
		}
		return nil
	}
}

func usersUnit(stats *counters, service string, users []conversations.ConversationsV1ServiceUser, cp *checkpoint) unit {
	now := time.Now().UTC()
	return func(st *stager) error {
		for _, u := range users {
			if err := st.add("twilio_users", deref(u.Sid), service, deref(u.Identity), utc(u.DateCreated), utc(u.DateUpdated), now, raw(u)); err != nil {
				return err
			}
		}
		n := int64(len(users)) // not users itself: the closure would keep them until the commit
		st.onCommit(func() { stats.users.Add(n) })
		return cp.stage(st)
	}
}

func conversationsUnit(stats *counters, service string, convs []conversations.ConversationsV1ServiceConversation) unit {
	now := time.Now().UTC()
	return func(st *stager) error {
		for _, c := range convs {
			if err := st.add("twilio_conversations", deref(c.Sid), service, nullable(c.State), utc(c.DateCreated), utc(c.DateUpdated), now, raw(c)); err != nil {
				return err
			}
		}
		n := int64(len(convs))
		st.onCommit(func() { stats.conversations.Add(n) })
		return nil
	}
}

// conversationUnit stores one conversation's participants and new messages
// with its checkpoint: after a crash a conversation is either complete or
// pulled again. A part of a long history comes without a checkpoint.
func conversationUnit(stats *counters, job conversationJob, participants []conversations.ConversationsV1ServiceConversationParticipant,
	messages []conversations.ConversationsV1ServiceConversationMessage, cp *checkpoint) unit {
	now := time.Now().UTC()
	return func(st *stager) error {
		for _, p := range participants {
			if err := st.add("twilio_participants", deref(p.Sid), job.service, job.sid, nullable(p.Identity), bindingAddress(p.MessagingBinding),
				utc(p.DateCreated), utc(p.DateUpdated), now, raw(p)); err != nil {
				return err
			}
		}
		for _, m := range messages {
			if err := st.add("twilio_messages", deref(m.Sid), job.service, job.sid, int32(m.Index), nullable(m.Author), nullable(m.ParticipantSid),
				utc(m.DateCreated), utc(m.DateUpdated), now, raw(m)); err != nil {
				return err
			}
		}
		np, nm := int64(len(participants)), int64(len(messages))
		st.onCommit(func() {
			stats.participants.Add(np)
			stats.messages.Add(nm)
			if cp != nil {
				stats.done.Add(1)
			}
		})
		return cp.stage(st)
	}
}

func usageUnit(stats *counters, account string, records []usageRecord, cp *checkpoint) unit {
	now := time.Now().UTC()
	return func(st *stager) error {
		for _, r := range records {
			start, err := time.Parse(time.DateOnly, deref(r.StartDate))
			if err != nil {
				return fmt.Errorf("usage record %s: start_date %q", deref(r.Category), deref(r.StartDate))
			}
			var end, count, price any
			if e, err := time.Parse(time.DateOnly, deref(r.EndDate)); err == nil {
				end = e
			}
			if n, err := strconv.ParseInt(deref(r.Count), 10, 64); err == nil {
				count = n
			}
			if r.Price != nil {
				price = float64(*r.Price)
			}
			if err := st.add("twilio_usage_records", account, deref(r.Category), start, end, count, nullable(r.CountUnit),
				price, nullable(r.PriceUnit), now, raw(r)); err != nil {
				return err
			}
		}
		n := int64(len(records))
		st.onCommit(func() { stats.usage.Add(n) })
		return cp.stage(st)
	}
}

// bindingAddress is a participant's messaging_binding.address, or NULL for
// an identity participant.
func bindingAddress(binding *any) any {
	if binding == nil {
		return nil
	}
	m, ok := (*binding).(map[string]any)
	if !ok {
		return nil
	}
	if a, ok := m["address"].(string); ok && a != "" {
		return a
	}
	return nil
}
