package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mauledger/mauledger/internal/twiliofake"
)

const (
	testAccount = "AC00000000000000000000000000000001"
	testToken   = "token0123456789"
)

// testSize is small but pages everything: 3 user pages in one service,
// 2 conversation pages, conversations of 1 and 2 message pages.
var testSize = twiliofake.Size{Services: 2, Users: 230, Conversations: 240, Messages: 4000, ClosedEvery: 4}

func newFake(t *testing.T, size twiliofake.Size) *twiliofake.Server {
	t.Helper()
	f := twiliofake.New(twiliofake.Synthetic(testAccount, size), testToken)
	t.Cleanup(f.Close)
	return f
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "m.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testOptions(f *twiliofake.Server) TwilioOptions {
	return TwilioOptions{
		Credentials: TwilioCredentials{AccountSID: testAccount, AuthToken: testToken},
		BaseURL:     f.URL,
		Concurrency: 4,
		Retry:       Retry{Attempts: 4, Base: time.Millisecond, Cap: 50 * time.Millisecond},
	}
}

func pull(t *testing.T, s *Store, opts TwilioOptions) TwilioResult {
	t.Helper()
	res, err := NewTwilioPull(s, opts).Run(context.Background())
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	return res
}

// tables dumps what a pull stored, without the times it was fetched at.
func tables(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT * EXCLUDE (fetched_at) FROM twilio_services ORDER BY sid`,
		`SELECT * EXCLUDE (fetched_at) FROM twilio_users ORDER BY sid`,
		`SELECT * EXCLUDE (fetched_at) FROM twilio_conversations ORDER BY sid`,
		`SELECT * EXCLUDE (fetched_at) FROM twilio_participants ORDER BY sid`,
		`SELECT * EXCLUDE (fetched_at) FROM twilio_messages ORDER BY sid`,
		`SELECT * EXCLUDE (fetched_at) FROM twilio_usage_records ORDER BY category, start_date`,
		`SELECT kind, key, state, last_message_index FROM twilio_checkpoints ORDER BY kind, key`,
	} {
		rows, err := s.DB.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
			n++
		}
		rows.Close()
		fmt.Fprintf(&b, "-- %d rows: %s\n", n, q)
	}
	return b.String()
}

// requestsFor counts the requests whose path contains part.
func requestsFor(reqs []string, part string) int {
	n := 0
	for _, r := range reqs {
		if strings.Contains(r, part) {
			n++
		}
	}
	return n
}

func TestTwilioPullStoresEveryResourceAtMaximumPageSizes(t *testing.T) {
	f := newFake(t, testSize)
	s := newStore(t)
	res := pull(t, s, testOptions(f))
	reqs := f.Requests()

	for table, want := range map[string]int{
		"twilio_services": 2, "twilio_users": 230, "twilio_conversations": 240,
		"twilio_participants": 720, "twilio_messages": 4000,
		// the two conversations* categories, not sms-inbound
		"twilio_usage_records": 2,
	} {
		if got := count(t, s, "SELECT count(*) FROM "+table); got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
	if res.Users != 230 || res.Conversations != 240 || res.Messages != 4000 || res.Done != 240 || res.Skipped != 0 {
		t.Errorf("result %+v", res.TwilioProgress)
	}
	// 115 users per service: 3 pages of 50; 120 conversations: 2 pages of 100.
	if n := requestsFor(reqs, "/Users?"); n != 6 {
		t.Errorf("%d user page requests, want 6", n)
	}
	if n := requestsFor(reqs, "/Conversations?"); n != 4 {
		t.Errorf("%d conversation page requests, want 4", n)
	}
	// Every conversation has at most 17 messages and 3 participants: one page each.
	if n := requestsFor(reqs, "/Messages?"); n != 240 {
		t.Errorf("%d message page requests, want 240", n)
	}
	for _, r := range reqs {
		if strings.Contains(r, "/Messages?") && !strings.Contains(r, "Order=desc") {
			t.Errorf("messages not listed newest first: %s", r)
		}
		if strings.Contains(r, "PageSize=") && !strings.Contains(r, "PageSize=50") && !strings.Contains(r, "PageSize=100") &&
			!strings.Contains(r, "PageSize=1000") {
			t.Errorf("page size below Twilio's maximum: %s", r)
		}
	}
	if res.Requests != int64(len(reqs)) {
		t.Errorf("counted %d requests, the fake saw %d", res.Requests, len(reqs))
	}
	// An address participant keeps its address; an identity one its identity.
	if n := count(t, s, `SELECT count(*) FROM twilio_participants WHERE address LIKE '+1555%' AND identity IS NULL`); n != 240 {
		t.Errorf("%d address participants, want 240", n)
	}
	if n := count(t, s, `SELECT count(*) FROM twilio_usage_records WHERE category = 'conversations' AND count = 470 AND start_date = DATE '2026-09-01'`); n != 1 {
		t.Errorf("the conversations usage record is missing or wrong")
	}
}

func TestTwilioPullFollowsLongMessageHistoriesPageByPage(t *testing.T) {
	f := newFake(t, twiliofake.Size{Services: 1, Users: 10, Conversations: 2, Messages: 2 * 4550})
	s := newStore(t)
	res := pull(t, s, testOptions(f))
	// 4,550 messages each: 46 pages of 100, the later ones through
	// next_page_url, handed to the writer in parts of 2,000.
	if n := requestsFor(f.Requests(), "/Messages?"); n != 92 {
		t.Errorf("%d message page requests, want 92", n)
	}
	if n := count(t, s, `SELECT count(DISTINCT "index") FROM twilio_messages`); n != 4550 {
		t.Errorf("%d distinct message indexes, want 4550", n)
	}
	if res.Messages != 9100 || res.Done != 2 {
		t.Errorf("pulled %d messages, %d conversations", res.Messages, res.Done)
	}
	if n := count(t, s, `SELECT count(*) FROM twilio_checkpoints WHERE kind = 'conversation' AND last_message_index = 4549`); n != 2 {
		t.Errorf("%d conversations checkpointed at their newest message", n)
	}
}

func TestTwilioPullRetriesRateLimitsServerErrorsAndDroppedConnections(t *testing.T) {
	want := func() string {
		f := newFake(t, testSize)
		s := newStore(t)
		pull(t, s, testOptions(f))
		return tables(t, s)
	}()

	f := newFake(t, testSize)
	f.SetRetryAfter("0")
	f.Inject(twiliofake.RateLimited, 3, "/Users")
	f.Inject(twiliofake.RateLimitedNoRetryAfter, 3, "/Participants")
	f.Inject(twiliofake.ServerError, 3, "/Messages")
	f.Inject(twiliofake.DropConnection, 3, "/Conversations")
	f.Inject(twiliofake.CutBody, 2, "/Participants")
	f.Inject(twiliofake.ServerError, 2, "/Usage")
	s := newStore(t)
	res := pull(t, s, testOptions(f))
	// Go's transport may itself retry a GET on a reused connection that
	// drops before answering, so the drops add between 0 and 3 to the 13
	// answers retried (two of them cut in the middle of the body).
	if res.Retries < 13 || res.Retries > 16 {
		t.Errorf("%d retries, want 13 to 16", res.Retries)
	}
	if got := tables(t, s); got != want {
		t.Errorf("tables after retries differ from a clean pull")
	}
}

func TestTwilioRetryHonoursRetryAfterUpToTheCap(t *testing.T) {
	r := Retry{Attempts: 5, Base: 100 * time.Millisecond, Cap: 3 * time.Second}
	if d := r.delay(1, 2*time.Second); d != 2*time.Second {
		t.Errorf("Retry-After 2s: waited %s", d)
	}
	if d := r.delay(1, time.Minute); d != 3*time.Second {
		t.Errorf("Retry-After 1m: waited %s, want the 3s cap", d)
	}
	for n, hi := range map[int]time.Duration{1: 100 * time.Millisecond, 3: 400 * time.Millisecond, 10: 3 * time.Second} {
		for range 20 {
			if d := r.delay(n, 0); d < hi/2 || d > hi {
				t.Errorf("retry %d: backoff %s outside [%s, %s]", n, d, hi/2, hi)
			}
		}
	}
	if retryAfter("2") != 2*time.Second || retryAfter("soon") != 0 {
		t.Error("Retry-After not read as seconds")
	}
}

func TestTwilioPullGivesUpAfterTheLastAttempt(t *testing.T) {
	f := newFake(t, testSize)
	f.Inject(twiliofake.ServerError, 100, "/Users")
	_, err := NewTwilioPull(newStore(t), testOptions(f)).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "list users of IS") || !strings.Contains(err.Error(), "500") {
		t.Fatalf("err = %v, want the users listing failing with 500", err)
	}
	if n := requestsFor(f.Requests(), "/Users"); n != 4*2 && n != 4 {
		t.Errorf("%d users requests, want 4 attempts per service that got that far", n)
	}
}

func TestTwilioPullStopsAtOnceOnRejectedCredentials(t *testing.T) {
	f := newFake(t, testSize)
	opts := testOptions(f)
	opts.Credentials.AuthToken = "revoked"
	s := newStore(t)
	_, err := NewTwilioPull(s, opts).Run(context.Background())
	if !errors.Is(err, ErrTwilioAuth) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want ErrTwilioAuth with 401", err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("%d requests, want 1: a 401 is not retried", n)
	}
	if strings.Contains(err.Error(), "revoked") {
		t.Errorf("the error shows the secret: %v", err)
	}
	if n := count(t, s, `SELECT count(*) FROM twilio_runs`); n != 0 {
		t.Errorf("a rejected pull recorded %d runs: the next would call itself a resume", n)
	}

	// An API key pair authenticates as well, and a 403 midway stops the run.
	f.AddAPIKey("SK00000000000000000000000000000001", "keysecret")
	opts.Credentials = TwilioCredentials{AccountSID: testAccount, APIKey: "SK00000000000000000000000000000001", APISecret: "keysecret"}
	f.Inject(twiliofake.Forbidden, 1, "/Participants")
	_, err = NewTwilioPull(s, opts).Run(context.Background())
	if !errors.Is(err, ErrTwilioAuth) || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err = %v, want ErrTwilioAuth with 403", err)
	}
}

func TestTwilioCredentialsNameTheMissingVariables(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "set TWILIO_ACCOUNT_SID"},
		{map[string]string{"TWILIO_ACCOUNT_SID": "AC1"}, "set TWILIO_AUTH_TOKEN, or TWILIO_API_KEY with TWILIO_API_SECRET"},
		{map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_API_KEY": "SK1"}, "TWILIO_API_KEY and TWILIO_API_SECRET go together"},
		{map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, ""},
		{map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_API_KEY": "SK1", "TWILIO_API_SECRET": "s"}, ""},
	} {
		for _, v := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"} {
			t.Setenv(v, c.env[v])
		}
		_, err := TwilioCredentialsFromEnv()
		if c.want == "" && err != nil || c.want != "" && (!errors.Is(err, ErrTwilioCredentials) || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%v: err = %v, want %q", c.env, err, c.want)
		}
	}
}

func TestTwilioPullSkipsAndCountsAConversationDeletedMidRun(t *testing.T) {
	f := newFake(t, testSize)
	gone := "CH" + fmt.Sprintf("%032x", 7)
	f.DeleteWhenListed(gone)
	s := newStore(t)
	res := pull(t, s, testOptions(f))
	if res.Deleted != 1 || res.Done != 239 {
		t.Errorf("deleted %d, done %d; want 1 and 239", res.Deleted, res.Done)
	}
	if n := count(t, s, `SELECT count(*) FROM twilio_messages WHERE conversation_sid = ?`, gone); n != 0 {
		t.Errorf("%d messages stored for the deleted conversation", n)
	}
	if n := count(t, s, `SELECT count(*) FROM twilio_checkpoints WHERE key = ?`, gone); n != 0 {
		t.Errorf("the deleted conversation was checkpointed")
	}
}

func TestTwilioPullRefusesAnUnknownService(t *testing.T) {
	f := newFake(t, testSize)
	opts := testOptions(f)
	opts.Services = []string{"IS" + fmt.Sprintf("%032x", 0), "ISffffffffffffffffffffffffffffffff"}
	s := newStore(t)
	_, err := NewTwilioPull(s, opts).Run(context.Background())
	if !errors.Is(err, ErrUnknownService) || !strings.Contains(err.Error(), "ISffffffffffffffffffffffffffffffff") {
		t.Fatalf("err = %v, want ErrUnknownService naming it", err)
	}
	if n := count(t, s, `SELECT count(*) FROM twilio_users`); n != 0 {
		t.Errorf("%d users pulled before the service check", n)
	}

	opts.Services = opts.Services[:1]
	pull(t, s, opts)
	if n := count(t, s, `SELECT count(DISTINCT service_sid) FROM twilio_messages`); n != 1 {
		t.Errorf("messages of %d services, want only the one asked for", n)
	}
}

func TestTwilioPullResumesAnInterruptedRunWithoutRefetchingOrDuplicates(t *testing.T) {
	want := func() string {
		f := newFake(t, testSize)
		s := newStore(t)
		pull(t, s, testOptions(f))
		return tables(t, s)
	}()

	f := newFake(t, testSize)
	f.SetLatency(10 * time.Millisecond) // slow enough that a loaded machine still cancels it midway
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	p := NewTwilioPull(s, testOptions(f))
	go func() {
		for p.Progress().Done < 60 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := p.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v", err)
	}
	done := map[string]bool{}
	rows, err := s.DB.Query(`SELECT key FROM twilio_checkpoints WHERE kind = 'conversation'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var sid string
		rows.Scan(&sid)
		done[sid] = true
	}
	rows.Close()
	if len(done) < 60 || len(done) >= 240 {
		t.Fatalf("%d conversations checkpointed by the interrupted run", len(done))
	}
	f.Requests()

	res := pull(t, s, testOptions(f))
	if !res.Resumed || res.Skipped != int64(len(done)) {
		t.Errorf("resumed %v, skipped %d; want a resume skipping the %d done", res.Resumed, res.Skipped, len(done))
	}
	for _, r := range f.Requests() {
		for sid := range done {
			if strings.Contains(r, "/Conversations/"+sid) {
				t.Errorf("refetched a conversation the interrupted run completed: %s", r)
			}
		}
	}
	if got := tables(t, s); got != want {
		t.Errorf("tables after interrupt and resume differ from an uninterrupted pull")
	}
}

func TestTwilioPullSecondRunFetchesOnlyWhatChanged(t *testing.T) {
	f := newFake(t, testSize)
	s := newStore(t)
	pull(t, s, testOptions(f))
	f.Requests()

	// No change: nothing for closed conversations, at most two requests
	// (participants, newest messages) for the others.
	res := pull(t, s, testOptions(f))
	reqs := f.Requests()
	perConversation := map[string]int{}
	for _, r := range reqs {
		if i := strings.Index(r, "/Conversations/CH"); i >= 0 {
			perConversation[r[i+len("/Conversations/"):i+len("/Conversations/")+34]]++
		}
	}
	closed := 0
	for c := range 240 {
		sid := "CH" + fmt.Sprintf("%032x", c)
		isClosed := c%testSize.ClosedEvery == testSize.ClosedEvery-1
		switch n := perConversation[sid]; {
		case isClosed && n != 0:
			t.Errorf("closed conversation %s: %d requests, want 0", sid, n)
		case !isClosed && n > 2:
			t.Errorf("open conversation %s: %d requests, want at most 2", sid, n)
		}
		if isClosed {
			closed++
		}
	}
	if res.Skipped != int64(closed) || res.Messages != 0 {
		t.Errorf("skipped %d, new messages %d; want %d and 0", res.Skipped, res.Messages, closed)
	}

	// New messages in an open conversation, one closed since: only the new
	// messages come, and the closed one is fetched one last time.
	open, closing := "CH"+fmt.Sprintf("%032x", 0), "CH"+fmt.Sprintf("%032x", 2)
	f.Update(func(a *twiliofake.Account) {
		for _, svc := range a.Services {
			for _, c := range svc.Conversations {
				switch c.SID {
				case open:
					for i := range 150 {
						n := len(c.Messages)
						c.Messages = append(c.Messages, twiliofake.Message{SID: fmt.Sprintf("IMnew%029d", i), Index: n,
							Author: c.Participants[0].Identity, DateCreated: time.Date(2026, 10, 1, 0, 0, i, 0, time.UTC)})
					}
				case closing:
					c.State = twiliofake.Closed
				}
			}
		}
	})
	res = pull(t, s, testOptions(f))
	if res.Messages != 150 {
		t.Errorf("%d messages pulled, want the 150 new ones", res.Messages)
	}
	if n := count(t, s, `SELECT count(*) FROM twilio_messages`); n != 4150 {
		t.Errorf("%d messages stored, want 4150", n)
	}
	reqs = f.Requests()
	if n := requestsFor(reqs, open+"/Messages"); n != 2 {
		t.Errorf("%d message requests for 150 new messages, want 2", n)
	}
	f.Requests()
	pull(t, s, testOptions(f))
	if n := requestsFor(f.Requests(), "/Conversations/"+closing); n != 0 {
		t.Errorf("%d requests for a conversation stored closed", n)
	}

	// --full fetches everything again and changes nothing.
	before := tables(t, s)
	opts := testOptions(f)
	opts.Full = true
	res = pull(t, s, opts)
	if res.Done != 240 || res.Messages != 4150 {
		t.Errorf("--full pulled %d conversations, %d messages", res.Done, res.Messages)
	}
	if tables(t, s) != before {
		t.Errorf("--full changed the stored snapshot of an unchanged account")
	}
}

func TestTwilioPullWaitsWhatRetryAfterAsks(t *testing.T) {
	f := newFake(t, twiliofake.Size{Services: 1, Users: 5, Conversations: 2, Messages: 4})
	f.SetRetryAfter("1")
	f.Inject(twiliofake.RateLimited, 1, "/Users")
	f.Inject(twiliofake.RateLimitedNoRetryAfter, 1, "/Participants")
	var logs strings.Builder
	opts := testOptions(f)
	opts.Retry.Cap = 5 * time.Second
	opts.Log = slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pull(t, newStore(t), opts)
	if !strings.Contains(logs.String(), `reason="429 Too Many Requests" wait=1s`) {
		t.Errorf("no 1 s wait for Retry-After: 1 in\n%s", logs.String())
	}
	// Without Retry-After: the first backoff, 1 ms with jitter.
	if !strings.Contains(logs.String(), `reason="429 Too Many Requests" wait=`) || strings.Count(logs.String(), "twilio retry") != 2 {
		t.Errorf("want two retries in\n%s", logs.String())
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the token reached the log")
	}
}

// syncWriter serialises writes from the puller's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
