package analysis

import "time"

// ReportSchema names the JSON report format; it changes only when a field's
// meaning changes or a field is removed.
const ReportSchema = "mauledger.report/v1"

// Scope says what one billed user is.
type Scope string

const (
	// ScopeService counts each (service, subject) pair: an identity active in
	// two Conversation Services is two users. Twilio's User records live in a
	// service, so this is the default.
	ScopeService Scope = "service"
	// ScopeAccount counts each subject once across the account's services.
	ScopeAccount Scope = "account"
)

// Evidence says which ledger rows may make a subject billable.
type Evidence string

const (
	// EvidenceStrict counts only activity Twilio's events or records prove.
	EvidenceStrict Evidence = "strict"
	// EvidenceInferred also counts likely activity, such as an access token
	// issued to an identity (a connection is likely, not certain).
	EvidenceInferred Evidence = "inferred"
)

// Families and rules in the order reports show them.
var (
	Families = []string{"sdk", "rest", "channel"}
	Rules    = []string{
		"sdk.connect", "sdk.message", "sdk.join_leave",
		"rest.user_write", "rest.message_author", "rest.participant_write",
		"channel.inbound_message", "channel.address_added",
	}
)

// Figures are the MAU counts of one month, for the account or one service.
type Figures struct {
	// ActiveUsers is the billed count: Identities + Addresses.
	ActiveUsers int `json:"active_users"`
	Identities  int `json:"identities"`
	Addresses   int `json:"addresses"`
	// ByFamily counts the subjects with at least one activity of each family;
	// a subject active in two families counts in both.
	ByFamily map[string]int `json:"by_family"`
	// ByRule counts the subjects with at least one activity under each rule.
	ByRule map[string]int `json:"by_rule"`
}

// ServiceFigures are one Conversation Service's figures for a month.
type ServiceFigures struct {
	ServiceSID string `json:"service_sid"`
	Figures
}

// BandCost is the part of a month's bill that falls into one price band.
type BandCost struct {
	From int `json:"from"`
	// To is the last user of the band; nil for the open-ended last band.
	To     *int    `json:"to"`
	Units  int     `json:"units"`
	Rate   float64 `json:"rate"`
	Amount float64 `json:"amount"`
}

// Cost is a month's bill for its active users under a price table.
type Cost struct {
	Currency string     `json:"currency"`
	Total    float64    `json:"total"`
	Bands    []BandCost `json:"bands"`
	// Contract is true when users fell into a band the price table marks
	// as contract pricing: the rate is an estimate, not a list price.
	Contract bool `json:"contract"`
}

// DataQuality counts what the rules saw but could not bill: messages whose
// author is Twilio's default "system", or an author that is neither a known
// identity nor a participant address of the conversation.
type DataQuality struct {
	SystemMessages        int `json:"system_messages"`
	UnknownAuthorMessages int `json:"unknown_author_messages"`
	// UnknownAuthors lists up to 100 such authors, most frequent first.
	UnknownAuthors []string `json:"unknown_authors"`
}

// MonthReport is everything the report says about one month.
type MonthReport struct {
	Month string `json:"month"`
	Figures
	Services []ServiceFigures `json:"services"`
	Cost     Cost             `json:"cost"`
	// Complete is false when no live events (webhooks or Event Streams)
	// cover the month: snapshot evidence cannot see SDK connections or
	// removed participants, so the figures are a lower bound.
	Complete    bool        `json:"complete"`
	DataQuality DataQuality `json:"data_quality"`
	// Billed lists every billed subject with its first qualifying activity
	// of the month. The XLSX shows it; the JSON and CSV reports leave it out
	// to stay small (explain gives one subject's full story).
	Billed []BilledSubject `json:"-"`
}

// BilledSubject is one billed user of a month and why it is billed.
type BilledSubject struct {
	ServiceSID string `json:"service_sid"`
	Kind       string `json:"subject_kind"` // "identity" or "address"
	Subject    string `json:"subject"`
	// First is the subject's first qualifying activity in the month.
	First Activity `json:"first"`
	// Activities counts the subject's qualifying activities in the month.
	Activities int `json:"activities"`
}

// Activity is one row of the activity ledger: one qualifying thing a subject did.
type Activity struct {
	At         time.Time `json:"at"`
	ServiceSID string    `json:"service_sid"`
	Kind       string    `json:"subject_kind"`
	Subject    string    `json:"subject"`
	Rule       string    `json:"rule"`
	Family     string    `json:"family"`
	// Source is where the evidence came from: webhook, event_stream or
	// rest_snapshot (ingest twilio).
	Source string `json:"source"`
	// Origin is who acted, as Twilio names it: SDK, API, SMS, WHATSAPP...
	Origin string `json:"origin"`
	// Evidence is the Twilio SID of the resource the activity is about
	// (message, participant, user), or the event id where there is none.
	Evidence string `json:"evidence"`
	// Inferred marks likely but unproven activity (a token issue).
	Inferred bool `json:"inferred"`
}

// About states the settings and assumptions behind a report, which every
// output repeats so that a number never travels without its caveats.
type About struct {
	Scope       Scope    `json:"scope"`
	Evidence    Evidence `json:"evidence"`
	PriceTable  string   `json:"price_table"`
	Assumptions []string `json:"assumptions"`
}

// Report is the result of `mauledger report`.
type Report struct {
	Schema      string        `json:"schema"`
	GeneratedAt time.Time     `json:"generated_at"`
	From        string        `json:"from"`
	To          string        `json:"to"`
	About       About         `json:"about"`
	Months      []MonthReport `json:"months"`
}

// Explanation answers "why is this subject billed (or not) in this month?".
type Explanation struct {
	Subject string `json:"subject"`
	Month   string `json:"month"`
	// Services lists each service the subject appears in, billed or not.
	Services []SubjectInService `json:"services"`
	About    About              `json:"about"`
}

// SubjectInService is a subject's month in one service.
type SubjectInService struct {
	ServiceSID string `json:"service_sid"`
	Kind       string `json:"subject_kind"`
	Billed     bool   `json:"billed"`
	// Activities are the qualifying activities, oldest first.
	Activities []Activity `json:"activities"`
	// NotBilled says, for a subject seen but not billed, what was seen
	// instead (e.g. "only received 3 outbound messages").
	NotBilled []string `json:"not_billed,omitempty"`
}
