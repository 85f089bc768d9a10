package ingest

import (
	"context"
	"fmt"
	"time"
)

// State is what the database holds of each source and up to when: what a
// month close records beside its reports, so that a version says which
// evidence it was made from.
type State struct {
	// Events are the stored live events per source (webhook,
	// event_stream), and TokenLog the stored token issues.
	Events   []SourceState `json:"events"`
	TokenLog SourceState   `json:"token_log"`
	// Twilio is the REST snapshot: its runs and what it holds.
	Twilio SnapshotState `json:"rest_snapshot"`
	// Spool is how far each segment of serve's spool is loaded.
	Spool []SpoolSegment `json:"spool"`
}

// SourceState counts one source's stored items: Last is the latest time
// one of them happened, LoadedAt the latest time one was loaded.
type SourceState struct {
	Source   string     `json:"source"`
	Items    int64      `json:"items"`
	Last     *time.Time `json:"last"`
	LoadedAt *time.Time `json:"loaded_at"`
}

// SnapshotState describes the `ingest twilio` runs and the rows they left.
type SnapshotState struct {
	Runs int `json:"runs"`
	// LastStartedAt and LastFinishedAt are the newest finished run's:
	// it saw what had happened before it started.
	LastStartedAt  *time.Time `json:"last_started_at"`
	LastFinishedAt *time.Time `json:"last_finished_at"`
	// Unfinished is true when the newest run was interrupted.
	Unfinished    bool  `json:"unfinished"`
	Users         int64 `json:"users"`
	Conversations int64 `json:"conversations"`
	Participants  int64 `json:"participants"`
	Messages      int64 `json:"messages"`
}

// SpoolSegment is spool_progress's row for one segment.
type SpoolSegment struct {
	Segment     string    `json:"segment"`
	LoadedBytes int64     `json:"loaded_bytes"`
	LoadedLines int64     `json:"loaded_lines"`
	TornBytes   int64     `json:"torn_bytes"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// State reads what the database holds of each source.
func (s *Store) State(ctx context.Context) (State, error) {
	st := State{Events: []SourceState{{Source: "webhook"}, {Source: "event_stream"}}, TokenLog: SourceState{Source: "token_log"}, Spool: []SpoolSegment{}}
	rows, err := s.DB.QueryContext(ctx, `SELECT format = 'webhook', count(*), max(occurred_at), max(loaded_at) FROM events GROUP BY ALL`)
	if err != nil {
		return st, fmt.Errorf("read the stored events: %w", err)
	}
	for rows.Next() {
		var webhook bool
		var src SourceState
		if err := rows.Scan(&webhook, &src.Items, &src.Last, &src.LoadedAt); err != nil {
			rows.Close()
			return st, err
		}
		i := 1
		if webhook {
			i = 0
		}
		src.Source = st.Events[i].Source
		st.Events[i] = src
	}
	if err := rows.Close(); err != nil {
		return st, err
	}
	t := &st.TokenLog
	if err := s.DB.QueryRowContext(ctx, `SELECT count(*), max(issued_at), max(loaded_at) FROM token_issues`).
		Scan(&t.Items, &t.Last, &t.LoadedAt); err != nil {
		return st, fmt.Errorf("read the stored token issues: %w", err)
	}
	tw := &st.Twilio
	err = s.DB.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM twilio_runs),
		       (SELECT max(started_at) FROM twilio_runs WHERE finished_at IS NOT NULL),
		       (SELECT max(finished_at) FROM twilio_runs),
		       coalesce((SELECT finished_at IS NULL FROM twilio_runs ORDER BY id DESC LIMIT 1), false),
		       (SELECT count(*) FROM twilio_users), (SELECT count(*) FROM twilio_conversations),
		       (SELECT count(*) FROM twilio_participants), (SELECT count(*) FROM twilio_messages)`).
		Scan(&tw.Runs, &tw.LastStartedAt, &tw.LastFinishedAt, &tw.Unfinished, &tw.Users, &tw.Conversations, &tw.Participants, &tw.Messages)
	if err != nil {
		return st, fmt.Errorf("read the REST snapshot: %w", err)
	}
	rows, err = s.DB.QueryContext(ctx, `SELECT segment, loaded_bytes, loaded_lines, torn_bytes, updated_at FROM spool_progress ORDER BY segment`)
	if err != nil {
		return st, fmt.Errorf("read the spool progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seg SpoolSegment
		if err := rows.Scan(&seg.Segment, &seg.LoadedBytes, &seg.LoadedLines, &seg.TornBytes, &seg.UpdatedAt); err != nil {
			return st, err
		}
		st.Spool = append(st.Spool, seg)
	}
	return st, rows.Err()
}
