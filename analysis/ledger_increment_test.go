package analysis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

// The stored ledger is maintained incrementally: an ingest builds again
// only what its new evidence can change. These tests hold that to its one
// promise: after any sequence of ingests, the maintained ledger is the one
// a whole build makes of the same evidence.

// twinStores loads every ingest into two databases: inc refreshes its
// ledger as every ingest does, whole builds it whole each time.
type twinStores struct {
	t          *testing.T
	inc, whole *ingest.Store
	redone     int // incremental refreshes that built something
}

func newTwinStores(t *testing.T) *twinStores {
	open := func(name string) *ingest.Store {
		s, err := ingest.Open(context.Background(), t.TempDir()+"/"+name+".duckdb")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return &twinStores{t: t, inc: open("incremental"), whole: open("whole")}
}

func (tw *twinStores) events(name string, lines []string) {
	tw.t.Helper()
	for _, s := range []*ingest.Store{tw.inc, tw.whole} {
		res, err := s.LoadEvents(context.Background(), name, strings.NewReader(strings.Join(lines, "\n")))
		if err != nil || len(res.Rejected) > 0 {
			tw.t.Fatalf("load %s: %v %v", name, err, res.Rejected)
		}
	}
}

func (tw *twinStores) tokens(name, csv string) {
	tw.t.Helper()
	for _, s := range []*ingest.Store{tw.inc, tw.whole} {
		res, err := s.LoadTokens(context.Background(), name, strings.NewReader(csv))
		if err != nil || len(res.Rejected) > 0 {
			tw.t.Fatalf("load %s: %v %v", name, err, res.Rejected)
		}
	}
}

func (tw *twinStores) snapshot(account *twiliofake.Account) {
	tw.t.Helper()
	pullSnapshot(tw.t, tw.inc, account)
	pullSnapshot(tw.t, tw.whole, account)
}

// refresh refreshes both ledgers, inc's as an ingest would, and requires
// every stored table of the two to be equal. wantWhole says whether inc's
// refresh must build the whole ledger.
func (tw *twinStores) refresh(step string, wantWhole bool) {
	tw.t.Helper()
	ctx := context.Background()
	st, err := analysis.Refresh(ctx, tw.inc.DB)
	if err != nil {
		tw.t.Fatalf("%s: incremental refresh: %v", step, err)
	}
	if st.Rebuilt && st.Whole != wantWhole {
		tw.t.Fatalf("%s: refresh built the whole ledger: %v, want %v", step, st.Whole, wantWhole)
	}
	if st.Rebuilt && !st.Whole {
		tw.redone++
	}
	if _, err := analysis.RefreshWhole(ctx, tw.whole.DB); err != nil {
		tw.t.Fatalf("%s: whole refresh: %v", step, err)
	}
	var rows int64
	if err := tw.whole.DB.QueryRow(`SELECT count(*) FROM activity_ledger`).Scan(&rows); err != nil {
		tw.t.Fatal(err)
	}
	if st.Rows != rows {
		tw.t.Errorf("%s: incremental refresh counts %d rows, the whole build %d", step, st.Rows, rows)
	}
	for _, table := range []string{"activity_ledger", "ledger_subject_months", "ledger_conversation_services",
		"ledger_user_services", "ledger_known_identities", "ledger_participant_addresses"} {
		got, want := tableRows(tw.t, tw.inc, table), tableRows(tw.t, tw.whole, table)
		if !slices.Equal(got, want) {
			tw.t.Fatalf("%s: %s maintained incrementally differs from a whole build:\n%s", step, table, ledgerDiff(got, want))
		}
	}
}

// tableRows is every row of table as text, sorted.
func tableRows(t *testing.T, s *ingest.Store, table string) []string {
	t.Helper()
	rows, err := s.DB.Query(`SELECT CAST(r AS VARCHAR) AS line FROM ` + table + ` r ORDER BY line`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestIncrementalLedgerEqualsAWholeBuild(t *testing.T) {
	seeds := 12 // about half a second a step
	if testing.Short() {
		seeds = 3
	}
	incremental := 0
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			tw := newTwinStores(t)
			acct := newRandomAccount(seed)
			snapshotAt := -1
			if seed%2 == 1 {
				snapshotAt = 2 + acct.rng.IntN(5)
			}
			for step := range 9 {
				name := fmt.Sprintf("step %d", step)
				wantWhole := step == 0
				if step == snapshotAt {
					tw.snapshot(acct.snapshot())
					wantWhole = true
				}
				tw.events(name, acct.batch(1+acct.rng.IntN(6)))
				if acct.rng.IntN(4) == 0 {
					tw.tokens(name+".csv", acct.tokenLog())
				}
				tw.refresh(name, wantWhole)
			}
			incremental += tw.redone
		})
	}
	// The comparison proves something only if the incremental path ran.
	if min := seeds * 6; incremental < min {
		t.Errorf("only %d refreshes were incremental, want at least %d", incremental, min)
	}
}

// A knowledge chain in order: a CloudEvent message whose conversation's
// service is not known yet, then the webhook that tells it, then a message
// by an author no one knows yet, then the participant that makes it known,
// and a token line that takes its service from it.
func TestIncrementalLedgerFollowsWhatNewEvidenceTeaches(t *testing.T) {
	tw := newTwinStores(t)
	const (
		svc  = "IS00000000000000000000000000000001"
		conv = "CH00000000000000000000000000000001"
	)
	tw.events("first", []string{ce("message.added", "EV1", "2026-10-02T10:00:00Z", map[string]any{
		"ConversationSid": conv, "MessageSid": "IM00000000000000000000000000000001", "Author": "dora",
		"Index": 0, "MessageBody": "hi", "DateCreated": "2026-10-02T10:00:00Z"})})
	tw.refresh("first", true)
	steps := []struct {
		name   string
		lines  []string
		tokens string
	}{
		{"the conversation's service", []string{ev("EventType", "onConversationUpdated", "ChatServiceSid", svc,
			"ConversationSid", conv, "Source", "SDK", "ClientIdentity", "erin", "DateCreated", "2026-09-30T10:00:00Z",
			"DateUpdated", "2026-10-03T10:00:00Z", "State", "active")}, ""},
		{"dora joins", []string{ce("participant.added", "EV2", "2026-10-04T10:00:00Z", map[string]any{
			"ConversationSid": conv, "ParticipantSid": "MB00000000000000000000000000000001", "Identity": "dora",
			"DateCreated": "2026-10-04T10:00:00Z"})}, "identity,issued_at\ndora,2026-10-05T10:00:00Z\n"},
		{"an address joins", []string{ev("EventType", "onParticipantAdded", "ChatServiceSid", svc, "ConversationSid", conv,
			"Source", "API", "ParticipantSid", "MB00000000000000000000000000000002", "MessagingBinding.Address", "+15550001",
			"MessagingBinding.ProxyAddress", "+18885550100", "DateCreated", "2026-11-01T00:00:00Z")}, ""},
	}
	// The address wrote before it was known to take part: a late file.
	steps[2].lines = append(steps[2].lines, ce("message.added", "EV3", "2026-10-31T23:59:59Z", map[string]any{
		"ConversationSid": conv, "MessageSid": "IM00000000000000000000000000000002", "Author": "+15550001",
		"Index": 1, "MessageBody": "STOP", "DateCreated": "2026-10-31T23:59:59Z"}))
	for _, s := range steps {
		tw.events(s.name, s.lines)
		if s.tokens != "" {
			tw.tokens(s.name+".csv", s.tokens)
		}
		tw.refresh(s.name, false)
	}
	// What the chain must have changed, seen in the maintained ledger.
	got := tableRows(t, tw.inc, "(SELECT service_sid, subject, rule, unknown_author FROM activity_ledger)")
	want := []string{
		"{'service_sid': " + svc + ", 'subject': +15550001, 'rule': channel.address_added, 'unknown_author': false}",
		"{'service_sid': " + svc + ", 'subject': +15550001, 'rule': channel.inbound_message, 'unknown_author': false}",
		"{'service_sid': " + svc + ", 'subject': dora, 'rule': rest.message_author, 'unknown_author': false}",
		"{'service_sid': " + svc + ", 'subject': dora, 'rule': rest.participant_write, 'unknown_author': false}",
		"{'service_sid': " + svc + ", 'subject': dora, 'rule': sdk.connect, 'unknown_author': false}",
		"{'service_sid': " + svc + ", 'subject': erin, 'rule': sdk.connect, 'unknown_author': false}",
	}
	if !slices.Equal(got, want) {
		t.Errorf("maintained ledger:\n%s", ledgerDiff(got, want))
	}
}

// randomAccount makes up a small account's activity, a batch at a time,
// so that later batches keep changing what earlier ones mean: copies of
// actions already reported (webhook and Event Streams), messages by
// authors not yet known, conversations and users whose service a later
// webhook tells, late events of the month before.
type randomAccount struct {
	rng      *rand.Rand
	services []string
	convs    []string // conversation i is in service i % len(services)
	users    []string // user i has identity identities[i]
	reported []action // every action sent, to be sent again
	next     int      // the next SID number and event id
}

var (
	randomIdentities = []string{"alice", "bob", "carol", "dave", "erin", "guest-7f3a"}
	randomAddresses  = []string{"+15550001", "+15550002", "whatsapp:+15550003"}
)

func newRandomAccount(seed uint64) *randomAccount {
	a := &randomAccount{rng: rand.New(rand.NewPCG(seed, 14))}
	for i := range 1 + a.rng.IntN(2) {
		a.services = append(a.services, fmt.Sprintf("IS%032x", i+1))
	}
	for i := range 4 {
		a.convs = append(a.convs, fmt.Sprintf("CH%032x", i+1))
	}
	for i := range randomIdentities {
		a.users = append(a.users, fmt.Sprintf("US%032x", i+1))
	}
	return a
}

// action is one action of the account, as Twilio reports it by webhook or
// by Event Streams.
type action struct {
	resource, verb string // message, participant, user, conversation; added, updated, removed
	conv, sid      string
	svc            string
	identity       string // a participant's or user's identity
	address        string // a channel participant's address
	author         string
	participant    string // a message's ParticipantSid
	source, client string // webhook only: Source, ClientIdentity
	online         string // a user update's IsOnline
	created        time.Time
	updated        time.Time // zero unless updated or removed
	at             time.Time // when it happened
}

func (a *randomAccount) sid(prefix string) string {
	a.next++
	return fmt.Sprintf("%s%032x", prefix, 1000+a.next)
}

func (a *randomAccount) pick(list []string) string { return list[a.rng.IntN(len(list))] }

// when is a time around the October/November boundary, to the millisecond.
func (a *randomAccount) when() time.Time {
	from := time.Date(2026, time.September, 28, 0, 0, 0, 0, time.UTC)
	return from.Add(time.Duration(a.rng.Int64N(int64(40*24*time.Hour))) / time.Millisecond * time.Millisecond)
}

// newAction makes up one action.
func (a *randomAccount) newAction() action {
	ci := a.rng.IntN(len(a.convs))
	act := action{conv: a.convs[ci], svc: a.services[ci%len(a.services)], at: a.when()}
	act.created = act.at
	who := a.pick(randomIdentities)
	switch a.rng.IntN(6) {
	case 0, 1: // a message
		act.resource, act.verb, act.sid = "message", "added", a.sid("IM")
		switch a.rng.IntN(4) {
		case 0:
			act.author, act.source, act.client = who, "SDK", who
		case 1:
			act.author, act.source = who, "API"
		case 2:
			act.author, act.source = a.pick(randomAddresses), "SMS"
		default:
			act.author, act.source = a.pick(append([]string{"system", "ghost"}, randomAddresses...)), "API"
		}
		if act.author != "system" && a.rng.IntN(2) == 0 {
			act.participant = a.sid("MB")
		}
	case 2: // a participant added or removed
		act.resource, act.verb, act.sid = "participant", "added", a.sid("MB")
		if a.rng.IntN(3) == 0 {
			act.address, act.source = a.pick(randomAddresses), "API"
		} else {
			act.identity, act.source = who, a.pick([]string{"API", "SDK"})
			if act.source == "SDK" {
				act.client = a.pick([]string{who, "alice"})
			}
		}
		if a.rng.IntN(4) == 0 {
			act.verb, act.updated = "removed", act.at.Add(-time.Hour)
		}
	case 3, 4: // a user written or going online
		ui := a.rng.IntN(len(a.users))
		act.resource, act.verb, act.sid, act.identity = "user", "updated", a.users[ui], randomIdentities[ui]
		act.svc, act.conv = a.services[ui%len(a.services)], ""
		act.created = act.at.Add(-90 * 24 * time.Hour)
		act.source = a.pick([]string{"API", "SDK"})
		if act.source == "SDK" {
			act.client = act.identity
		}
		act.online, act.updated = a.pick([]string{"true", "false"}), act.at
		if a.rng.IntN(2) == 0 { // a reachability change: DateUpdated stays old
			act.updated = act.created
		}
		if a.rng.IntN(5) == 0 {
			act.verb, act.online, act.updated, act.created = "added", "", time.Time{}, act.at
		}
	default: // a conversation updated from an SDK (proves a connection)
		act.resource, act.verb, act.sid = "conversation", "updated", act.conv
		act.source, act.client = "SDK", who
		act.created, act.updated = act.at.Add(-48*time.Hour), act.at
	}
	return act
}

// batch is n events: new actions, reported by webhook or Event Streams,
// and now and then a copy of an action reported before.
func (a *randomAccount) batch(n int) []string {
	var lines []string
	for range n {
		if len(a.reported) > 0 && a.rng.IntN(4) == 0 {
			old := a.reported[a.rng.IntN(len(a.reported))]
			lines = append(lines, a.report(old))
			continue
		}
		act := a.newAction()
		a.reported = append(a.reported, act)
		lines = append(lines, a.report(act))
	}
	return lines
}

// report renders an action as a webhook or, two times in five, as the
// CloudEvent Event Streams sends for it, a few milliseconds apart.
func (a *randomAccount) report(act action) string {
	a.next++
	if a.rng.IntN(5) < 2 {
		return act.cloudEvent(fmt.Sprintf("EV%032x", a.next), act.at.Add(time.Duration(a.rng.IntN(900))*time.Millisecond))
	}
	return act.webhook(a.rng.IntN(2))
}

func stamp(t time.Time) string { return t.Format("2006-01-02T15:04:05.000Z") }

func (act action) webhook(retry int) string {
	m := map[string]string{
		"AccountSid": "AC00000000000000000000000000000001", "ChatServiceSid": act.svc,
		"EventType": "on" + strings.ToUpper(act.resource[:1]) + act.resource[1:] + strings.ToUpper(act.verb[:1]) + act.verb[1:],
		"Source":    act.source, "RetryCount": fmt.Sprint(retry),
		"WebhookSid": "WH00000000000000000000000000000001", "WebhookType": "webhook",
		"DateCreated": stamp(act.created),
	}
	if act.client != "" {
		m["ClientIdentity"] = act.client
	}
	if !act.updated.IsZero() {
		m["DateUpdated"] = stamp(act.updated)
	}
	switch act.resource {
	case "message":
		m["ConversationSid"], m["MessageSid"], m["Author"], m["Body"], m["Index"] = act.conv, act.sid, act.author, "hello", "0"
		if act.participant != "" {
			m["ParticipantSid"] = act.participant
		}
	case "participant":
		m["ConversationSid"], m["ParticipantSid"] = act.conv, act.sid
		if act.address != "" {
			m["MessagingBinding.Address"], m["MessagingBinding.ProxyAddress"] = act.address, "+18885550100"
		} else {
			m["Identity"] = act.identity
		}
	case "user":
		m["UserSid"], m["Identity"] = act.sid, act.identity
		if act.online != "" {
			m["IsOnline"], m["IsNotifiable"] = act.online, "true"
		}
	case "conversation":
		m["ConversationSid"], m["State"] = act.conv, "active"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (act action) cloudEvent(id string, at time.Time) string {
	data := map[string]any{"DateCreated": stamp(act.created)}
	if !act.updated.IsZero() {
		data["DateUpdated"] = stamp(act.updated)
	}
	typ := act.resource
	switch act.resource {
	case "message":
		data["ConversationSid"], data["MessageSid"], data["Author"], data["MessageBody"], data["Index"] = act.conv, act.sid, act.author, "hello", 0
		if act.participant != "" {
			data["ParticipantSid"] = act.participant
		} else {
			data["ParticipantSid"] = nil
		}
	case "participant":
		data["ConversationSid"], data["ParticipantSid"] = act.conv, act.sid
		if act.address != "" {
			data["Identity"] = nil
			data["MessagingBinding"] = map[string]any{"Address": act.address, "ProxyAddress": "+18885550100", "Type": "sms"}
		} else {
			data["Identity"] = act.identity
		}
	case "user":
		data["UserSid"], data["Identity"] = act.sid, act.identity
		if act.verb == "updated" {
			data["IsOnline"], data["IsNotifiable"] = act.online == "true", true
		}
	case "conversation":
		data["ConversationSid"], data["State"] = act.conv, "active"
	}
	return ce(typ+"."+act.verb, id, stamp(at), data)
}

// tokenLog is a token-server log of a few tokens issued.
func (a *randomAccount) tokenLog() string {
	var b strings.Builder
	b.WriteString("identity,issued_at\n")
	for range 1 + a.rng.IntN(3) {
		fmt.Fprintf(&b, "%s,%s\n", a.pick(randomIdentities), a.when().Format(time.RFC3339))
	}
	return b.String()
}

// snapshot is what `ingest twilio` would list of the account now: its
// services, conversations, the users, participants and messages reported
// so far (removed participants are gone).
func (a *randomAccount) snapshot() *twiliofake.Account {
	jan := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
	acct := &twiliofake.Account{SID: "AC00000000000000000000000000000001"}
	convs := map[string]*twiliofake.Conversation{}
	for i, sid := range a.services {
		svc := &twiliofake.Service{SID: sid, FriendlyName: fmt.Sprint("service ", i), DateCreated: jan}
		for ci, conv := range a.convs {
			if ci%len(a.services) == i {
				c := &twiliofake.Conversation{SID: conv, State: twiliofake.Active, DateCreated: jan}
				convs[conv] = c
				svc.Conversations = append(svc.Conversations, c)
			}
		}
		for ui, user := range a.users {
			if ui%len(a.services) == i {
				svc.Users = append(svc.Users, twiliofake.User{SID: user, Identity: randomIdentities[ui], DateCreated: jan})
			}
		}
		acct.Services = append(acct.Services, svc)
	}
	seen := map[string]bool{}
	for _, act := range a.reported {
		if seen[act.sid] {
			continue
		}
		seen[act.sid] = true
		c := convs[act.conv]
		switch {
		case act.resource == "participant" && act.verb == "added":
			c.Participants = append(c.Participants, twiliofake.Participant{SID: act.sid, Identity: act.identity,
				Address: act.address, ProxyAddress: map[bool]string{true: "+18885550100"}[act.address != ""],
				DateCreated: act.created.Truncate(time.Second)})
		case act.resource == "message":
			c.Messages = append(c.Messages, twiliofake.Message{SID: act.sid, Index: len(c.Messages), Author: act.author,
				ParticipantSID: act.participant, Body: "hello", DateCreated: act.created.Truncate(time.Second)})
		}
	}
	return acct
}
