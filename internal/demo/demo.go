// Package demo generates a synthetic Twilio Conversations account as a stream
// of live events, one JSON object per line (NDJSON): Conversations post-event
// webhooks (form fields as a flat object of strings) and Event Streams
// CloudEvents, each shaped as Twilio sends it (../shared/twilio-events/).
// `mauledger demo` loads it with `ingest events`; the load benchmark uses it
// at ten million lines.
//
// The account exercises every billing rule of DESIGN.md and the traps around
// them: random-identity guests who exist for one month, addresses that only
// receive messages, back-office users billed only because the backend updates
// their User record, "system" and unknown message authors, messages whose
// author is a participant (ParticipantSid set, also when written through
// REST) and messages by agents who are not, webhook retries, identities that
// differ only in case, CloudEvents that, like all of Twilio's, name neither
// the Conversation Service nor the Source nor the SDK client (the service
// must come from the conversation or the user), user.updated CloudEvents
// that all carry IsOnline, whether the user came online (DateUpdated
// unchanged) or the backend updated it (DateUpdated moved, IsOnline mostly
// false), events on the last and first second of a month, and identities
// that identity lint finds fault with, among them two logins many people
// share (Config.IdentityMistakes).
//
// Every webhook line ends with the envelope `mauledger serve` adds to what
// it receives: _received_at, a few hundred ms after the event (a retry's
// later), and _idempotency_token, one per event and repeated by its retry.
// Two webhooks of distinct events can carry the same payload (a user coming
// online twice); only the token tells them apart.
//
// The output depends only on the Config: the same Config gives the same bytes.
// Memory is bounded by one month's population, however many months are
// generated.
package demo

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// Config describes the account to generate.
type Config struct {
	// Seed fixes every random choice: SIDs, identities, behaviour, times.
	Seed int64
	// Start is the first month: midnight UTC on the first of a month.
	Start time.Time
	// Months is how many calendar months of events to generate.
	Months int
	// Services is the number of Conversation Services. When there are two or
	// more, the last delivers by Event Streams (CloudEvents) and carries about
	// a fifth of the traffic; the others deliver webhooks. A CloudEvent does
	// not say its service: see EventStreamsService.
	Services int
	// StableUsers are named identities ("alice.smith@example.com",
	// "user_1234", "agent-07") that are active most months.
	StableUsers int
	// GuestsPerMonth are new "guest-<uuid>" identities each month, created
	// through REST and never seen again after their month.
	GuestsPerMonth int
	// SMSAddresses are "+1555xxxxxxx" phone numbers taking part by SMS.
	SMSAddresses int
	// WhatsAppAddresses are "whatsapp:+447xxxxxxxxx" addresses.
	WhatsAppAddresses int
	// BackOfficeUsers are identities that never act themselves but whose User
	// record the backend updates through REST every month.
	BackOfficeUsers int
	// IdentityMistakes adds a few users whose identities break Twilio's
	// identity advice or come out of a bug (reserved characters, an access
	// token as identity, whitespace, control characters, a lookalike
	// letter, undefined, an unfilled template, generic names), and two
	// logins many people share: a web widget's "guest", in a few hundred
	// chats a month, and a support team's "support", writing in a dozen
	// of them within minutes. They draw from their own random stream: the
	// rest of the account stays as it was.
	IdentityMistakes bool
}

// Stats counts what Generate wrote. Lines = Webhooks + CloudEvents; Retries
// are the webhook lines that repeat an earlier one with RetryCount "1", and
// are included in Webhooks.
type Stats struct {
	Lines, Webhooks, CloudEvents, Retries int64
}

// DefaultConfig is the demo account: six months from May 2026, three services
// and about fifty thousand identities and addresses in all, small enough for
// `mauledger demo` to generate, load and report in well under a minute.
func DefaultConfig() Config {
	return Config{
		Seed:              20260501,
		Start:             time.Date(2026, time.May, 1, 0, 0, 0, 0, time.UTC),
		Months:            6,
		Services:          3,
		StableUsers:       4000,
		GuestsPerMonth:    6000,
		SMSAddresses:      3000,
		WhatsAppAddresses: 1500,
		BackOfficeUsers:   1500,
		IdentityMistakes:  true,
	}
}

// BenchConfig is a twelve-month account whose output has about events lines.
// It measures the lines of a small account of the same mix and scales the
// population to match, so it stays right when behaviours change.
func BenchConfig(events int) Config {
	const probeScale = 25 // the probe has 25/1000 of the default population per month
	probe := benchAccount(probeScale, 1000)
	st, err := Generate(io.Discard, probe)
	if err != nil || st.Lines == 0 {
		return probe // unreachable: the probe config is valid and never empty
	}
	return benchAccount(probeScale*int64(events), 1000*st.Lines)
}

// benchAccount is the default mix over twelve months, with every population
// multiplied by num/den.
func benchAccount(num, den int64) Config {
	d := DefaultConfig()
	scale := func(n int) int { return int((int64(n)*num + den/2) / den) }
	return Config{
		Seed:              d.Seed,
		Start:             time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC),
		Months:            12,
		Services:          d.Services,
		StableUsers:       max(1, scale(d.StableUsers)),
		GuestsPerMonth:    scale(d.GuestsPerMonth),
		SMSAddresses:      scale(d.SMSAddresses),
		WhatsAppAddresses: scale(d.WhatsAppAddresses),
		BackOfficeUsers:   scale(d.BackOfficeUsers),
	}
}

// GenerateFile writes the account's events to a new NDJSON file at path, as
// the benchmarks load it.
func GenerateFile(path string, cfg Config) (Stats, error) {
	f, err := os.Create(path)
	if err != nil {
		return Stats{}, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	st, err := Generate(w, cfg)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return st, err
}

// Generate writes the account's events to w, month after month. Within a
// month the lines come in time order, as a live capture would, except that a
// webhook retry comes a little after its original, possibly in the next month.
func Generate(w io.Writer, cfg Config) (Stats, error) {
	if err := cfg.validate(); err != nil {
		return Stats{}, err
	}
	g := newGenerator(w, cfg)
	for m := 0; m < cfg.Months && g.err == nil; m++ {
		g.runMonth(m)
	}
	g.writeRetriesDue(math.MaxInt64)
	g.flush()
	if g.err != nil {
		return g.stats, fmt.Errorf("demo: write events: %w", g.err)
	}
	return g.stats, nil
}

// EventStreamsService is the SID of the Conversation Service whose events
// Generate writes as CloudEvents, the last one, or "" when Services is
// below two and every service delivers webhooks. The CloudEvents do not
// name it, as Twilio's do not: a REST snapshot of the account (RESTAccount)
// needs it to list their conversations and users under their service.
func (c Config) EventStreamsService() string {
	if c.Services < 2 {
		return ""
	}
	// The SIDs buildServices issues: the n-th of its namespace.
	g := generator{sidSeed: newSIDSeed(c.Seed)}
	g.sids[nsService] = uint64(c.Services - 1)
	return g.sidString("IS", g.newSID(nsService))
}

const (
	maxSMS      = 10_000_000    // "+1555" leaves seven digits
	maxWhatsApp = 1_000_000_000 // "+447" leaves nine
)

func (c Config) validate() error {
	s := c.Start.UTC()
	switch {
	case s.Day() != 1 || s.Hour() != 0 || s.Minute() != 0 || s.Second() != 0 || s.Nanosecond() != 0:
		return fmt.Errorf("demo: Start %s is not midnight UTC on the first of a month", c.Start.Format(time.RFC3339))
	case s.Year() < 2000 || s.Year() > 9000:
		return fmt.Errorf("demo: Start year %d is outside 2000-9000", s.Year())
	case c.Months < 1 || c.Months > 1200:
		return fmt.Errorf("demo: Months is %d, want 1 to 1200", c.Months)
	case c.Services < 1 || c.Services > 1000:
		return fmt.Errorf("demo: Services is %d, want 1 to 1000", c.Services)
	case c.StableUsers < 0 || c.GuestsPerMonth < 0 || c.BackOfficeUsers < 0:
		return fmt.Errorf("demo: negative number of users")
	case c.SMSAddresses < 0 || c.SMSAddresses > maxSMS:
		return fmt.Errorf("demo: SMSAddresses is %d, want 0 to %d", c.SMSAddresses, maxSMS)
	case c.WhatsAppAddresses < 0 || c.WhatsAppAddresses > maxWhatsApp:
		return fmt.Errorf("demo: WhatsAppAddresses is %d, want 0 to %d", c.WhatsAppAddresses, maxWhatsApp)
	}
	return nil
}
