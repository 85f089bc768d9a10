package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

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

func (c *checkpoint) save(ctx context.Context, tx *sql.Tx) error {
	if c == nil {
		return nil
	}
	var state any
	if c.state != "" {
		state = c.state
	}
	_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO twilio_checkpoints VALUES (?, ?, ?, ?, ?, ?)`,
		c.kind, c.key, c.run, state, c.lastIndex, time.Now().UTC())
	return err
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

// unit is work for the snapshot writer: rows to upsert, with the
// checkpoint that says they are complete, all in one transaction.
type unit func(ctx context.Context, tx *sql.Tx, stats *counters) error

// snapshotWriter is the one goroutine that writes a pull to DuckDB. It
// commits several units per transaction when they queue up.
type snapshotWriter struct {
	store *Store
	stats *counters
	in    chan unit
}

const unitsPerCommit = 64

func newSnapshotWriter(s *Store, stats *counters) *snapshotWriter {
	return &snapshotWriter{store: s, stats: stats, in: make(chan unit, unitsPerCommit)}
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

// run writes units until in is closed. It commits what is queued even when
// the pull is cancelled (finished work is cheap to keep and costly to
// refetch), and after a failure keeps draining so that senders never block.
func (w *snapshotWriter) run() error {
	ctx := context.Background()
	var failed error
	for u := range w.in {
		if failed != nil {
			continue
		}
		batch := []unit{u}
	more:
		for len(batch) < unitsPerCommit {
			select {
			case next, ok := <-w.in:
				if !ok {
					break more
				}
				batch = append(batch, next)
			default:
				break more
			}
		}
		failed = w.commit(ctx, batch)
	}
	return failed
}

func (w *snapshotWriter) commit(ctx context.Context, batch []unit) error {
	tx, err := w.store.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store twilio snapshot: %w", err)
	}
	for _, u := range batch {
		if err := u(ctx, tx, w.stats); err != nil {
			tx.Rollback()
			return fmt.Errorf("store twilio snapshot: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store twilio snapshot: %w", err)
	}
	return nil
}

// upsert inserts rows into table, replacing rows of the same key, a few
// hundred rows per statement.
func upsert(ctx context.Context, tx *sql.Tx, table string, rows [][]any) error {
	const perStatement = 200
	for len(rows) > 0 {
		n := min(len(rows), perStatement)
		var b strings.Builder
		b.WriteString("INSERT OR REPLACE INTO " + table + " VALUES ")
		args := make([]any, 0, n*len(rows[0]))
		row := "(" + placeholders(len(rows[0])) + ")"
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
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
	return func(ctx context.Context, tx *sql.Tx, _ *counters) error {
		rows := make([][]any, 0, len(services))
		for _, s := range services {
			rows = append(rows, []any{deref(s.Sid), nullable(s.FriendlyName), utc(s.DateCreated), now, raw(s)})
		}
		return upsert(ctx, tx, "twilio_services", rows)
	}
}

func usersUnit(service string, users []conversations.ConversationsV1ServiceUser, cp *checkpoint) unit {
	now := time.Now().UTC()
	return func(ctx context.Context, tx *sql.Tx, stats *counters) error {
		rows := make([][]any, 0, len(users))
		for _, u := range users {
			rows = append(rows, []any{deref(u.Sid), service, deref(u.Identity), utc(u.DateCreated), utc(u.DateUpdated), now, raw(u)})
		}
		if err := upsert(ctx, tx, "twilio_users", rows); err != nil {
			return err
		}
		stats.users.Add(int64(len(users)))
		return cp.save(ctx, tx)
	}
}

func conversationsUnit(service string, convs []conversations.ConversationsV1ServiceConversation) unit {
	now := time.Now().UTC()
	return func(ctx context.Context, tx *sql.Tx, stats *counters) error {
		rows := make([][]any, 0, len(convs))
		for _, c := range convs {
			rows = append(rows, []any{deref(c.Sid), service, nullable(c.State), utc(c.DateCreated), utc(c.DateUpdated), now, raw(c)})
		}
		stats.conversations.Add(int64(len(convs)))
		return upsert(ctx, tx, "twilio_conversations", rows)
	}
}

// conversationUnit stores one conversation's participants and new messages
// with its checkpoint: after a crash a conversation is either complete or
// pulled again.
func conversationUnit(job conversationJob, participants []conversations.ConversationsV1ServiceConversationParticipant,
	messages []conversations.ConversationsV1ServiceConversationMessage, cp *checkpoint) unit {
	now := time.Now().UTC()
	return func(ctx context.Context, tx *sql.Tx, stats *counters) error {
		rows := make([][]any, 0, len(participants))
		for _, p := range participants {
			rows = append(rows, []any{deref(p.Sid), job.service, job.sid, nullable(p.Identity), bindingAddress(p.MessagingBinding),
				utc(p.DateCreated), utc(p.DateUpdated), now, raw(p)})
		}
		if err := upsert(ctx, tx, "twilio_participants", rows); err != nil {
			return err
		}
		rows = make([][]any, 0, len(messages))
		for _, m := range messages {
			rows = append(rows, []any{deref(m.Sid), job.service, job.sid, m.Index, nullable(m.Author), nullable(m.ParticipantSid),
				utc(m.DateCreated), utc(m.DateUpdated), now, raw(m)})
		}
		if err := upsert(ctx, tx, "twilio_messages", rows); err != nil {
			return err
		}
		stats.participants.Add(int64(len(participants)))
		stats.messages.Add(int64(len(messages)))
		stats.done.Add(1)
		return cp.save(ctx, tx)
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

func usageUnit(account string, records []usageRecord, cp *checkpoint) unit {
	now := time.Now().UTC()
	return func(ctx context.Context, tx *sql.Tx, stats *counters) error {
		rows := make([][]any, 0, len(records))
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
			rows = append(rows, []any{account, deref(r.Category), start, end, count, nullable(r.CountUnit),
				price, nullable(r.PriceUnit), now, raw(r)})
		}
		if err := upsert(ctx, tx, "twilio_usage_records", rows); err != nil {
			return err
		}
		stats.usage.Add(int64(len(records)))
		return cp.save(ctx, tx)
	}
}
