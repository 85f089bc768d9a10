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

// UnknownAuthors says whether a message's author that nobody knows (no
// ParticipantSid, not a known identity, not a participant address) is billed.
type UnknownAuthors string

const (
	// UnknownAuthorsIgnore bills nobody for such a message: the author is a
	// data-quality finding. The default: Twilio documents no user behind it.
	UnknownAuthorsIgnore UnknownAuthors = "ignore"
	// UnknownAuthorsBill bills each such author, as an identity or, when it
	// has the form of a channel address, as an address.
	UnknownAuthorsBill UnknownAuthors = "bill"
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
	// ByFirstFamily counts each subject once, by the family of its first
	// qualifying activity of the month: these add up to ActiveUsers.
	ByFirstFamily map[string]int `json:"by_first_family"`
	// ByRule counts the subjects with at least one activity under each rule.
	ByRule map[string]int `json:"by_rule"`
}

// ServiceFigures are one Conversation Service's figures for a month.
type ServiceFigures struct {
	ServiceSID string `json:"service_sid"`
	Figures
}

// ServiceUnknown are the figures of the subjects of a month whose service is
// unknown, with what would tell it.
type ServiceUnknown struct {
	Figures
	Fix string `json:"fix"`
}

// BandCost is the part of a month's bill that falls into one price band.
// Amount is Units × Rate rounded once to the cent, half-up (a band amount
// of exactly half a cent rounds up).
type BandCost struct {
	From int `json:"from"`
	// To is the last user of the band; nil for the open-ended last band.
	To     *int    `json:"to"`
	Units  int     `json:"units"`
	Rate   float64 `json:"rate"`
	Amount float64 `json:"amount"`
}

// Cost is a month's bill for its active users under a price table. Total
// is the sum of the band amounts, each already rounded to the cent, so it
// always equals the bands shown.
type Cost struct {
	Currency string     `json:"currency"`
	Total    float64    `json:"total"`
	Bands    []BandCost `json:"bands"`
	// Contract is true when users fell into a band the price table marks
	// as contract pricing: the rate is an estimate, not a list price.
	Contract bool `json:"contract"`
}

// DataQuality counts what the rules saw but may not bill: messages whose
// author is Twilio's default "system", and messages by an unknown author
// (no ParticipantSid, neither a known identity nor a participant address
// of the conversation), which bill only with --unknown-authors bill and are
// counted here whatever the setting.
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
	// Services are the months' Conversation Services; never one without a
	// SID: subjects whose service no evidence tells are ServiceUnknown.
	Services []ServiceFigures `json:"services"`
	// ServiceUnknown counts the subjects whose activities no evidence ties
	// to a Conversation Service (Event Streams name none; the conversation,
	// the user and a REST snapshot usually do), nil when there are none.
	// A subject that also has a known service in the month counts there
	// only.
	ServiceUnknown *ServiceUnknown `json:"service_unknown"`
	Cost           Cost            `json:"cost"`
	// Complete is true when Coverage finds no reason against it: live
	// capture (webhooks and Event Streams) covers the whole month with no
	// gap longer than 4 hours, and a REST snapshot was taken after the
	// month ended. Otherwise the figures are a lower bound: snapshots
	// cannot see SDK connections or removed participants, and live capture
	// that was down saw nothing meanwhile.
	Complete bool `json:"complete"`
	// Status is "final" once the month is complete and the settings' grace
	// period (FinalAfter) has passed since it ended, else "preliminary":
	// late data may still change a preliminary month.
	Status string `json:"status"`
	// Coverage is what evidence covers the month, per source, the gaps in
	// live capture, and why the month is not complete.
	Coverage    Coverage    `json:"coverage"`
	DataQuality DataQuality `json:"data_quality"`
	// Hygiene is the month's identity hygiene summary (random shapes,
	// one-shot identities, duplicates, churn, avoidable activity).
	Hygiene Hygiene `json:"hygiene"`
	// Billed lists every billed subject with its first qualifying activity
	// of the month. The XLSX shows it; the JSON and CSV reports leave it out
	// to stay small (explain gives one subject's full story). Empty unless
	// the report was asked for it (ReportOptions.Billed).
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
	// UnknownAuthor marks a message by an author nobody knows, billed only
	// with --unknown-authors bill.
	UnknownAuthor bool `json:"unknown_author"`
	// TimedBy names the time At is: "time" (the CloudEvent time),
	// "received_at" (when serve received it), "date_created" or
	// "date_updated" (the resource's dates, when the event had no other
	// time), "issued_at" (a token log line).
	TimedBy string `json:"timed_by"`
}

// About states the settings and assumptions behind a report, which every
// output repeats so that a number never travels without its caveats.
type About struct {
	Scope          Scope          `json:"scope"`
	Evidence       Evidence       `json:"evidence"`
	UnknownAuthors UnknownAuthors `json:"unknown_authors"`
	PriceTable     string         `json:"price_table"`
	// FinalAfter is the grace period after a month's end before a
	// complete month is final (Go's duration syntax, e.g. 48h0m0s).
	FinalAfter  string   `json:"final_after"`
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
	// EachBilled, when the report was asked to stream them
	// (ReportOptions.StreamBilled), calls fn for every billed subject of
	// its months in order, reading them from the database while the
	// Analyzer is open; nil otherwise.
	EachBilled func(fn func(month string, b BilledSubject) error) error `json:"-"`
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

// IdentitiesSchema names the JSON format of `mauledger identities`.
const IdentitiesSchema = "mauledger.identities/v1"

// Identities is the result of `mauledger identities`: per month, the
// identity hygiene findings and every billed identity with its shape.
type Identities struct {
	Schema      string    `json:"schema"`
	GeneratedAt time.Time `json:"generated_at"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	// ServiceSID is the service the findings are limited to; "" for all.
	ServiceSID string `json:"service_sid"`
	// OneShotWindow is the span all of a one-shot identity's activity fits in.
	OneShotWindow string `json:"one_shot_window"`
	// LintOnly is true when the months list only the identities with lint
	// findings (identities --lint-only); their summaries are whole.
	LintOnly bool            `json:"lint_only"`
	About    About           `json:"about"`
	Months   []IdentityMonth `json:"months"`
}

// IdentityMonth is one month of the identities report.
type IdentityMonth struct {
	Month    string            `json:"month"`
	Summary  Hygiene           `json:"summary"`
	Subjects []IdentitySubject `json:"subjects"`
}

// IdentitySubject is one billed identity of a month and what hygiene says of it.
type IdentitySubject struct {
	ServiceSID string `json:"service_sid"`
	Identity   string `json:"identity"`
	Shape
	// OneShot: billed in exactly one month of the data, all its activity
	// within the one-shot window, never the author of a message.
	OneShot bool `json:"one_shot"`
	// DuplicateGroup is the key this identity shares with other billed
	// subjects of the month (see DuplicateKey), or nil.
	DuplicateGroup *string `json:"duplicate_group"`
	// Status is new (never billed before), returning (billed last month)
	// or reactivated (billed before, but not last month).
	Status string `json:"status"`
	// Avoidable is connect_only or rest_write_only when the identity is
	// billable only through that activity, else "".
	Avoidable string `json:"avoidable"`
	// Lint is what identity lint found (see Lint and SharedFinding), in
	// the order of LintCodes; empty when nothing.
	Lint []LintFinding `json:"lint"`
}

// Hygiene is a month's identity hygiene findings, with what they cost.
// Counts are over the billed subjects in the findings' scope (the account,
// or the service asked for); rates and costs use the account's month.
type Hygiene struct {
	ActiveUsers      int `json:"active_users"`
	Identities       int `json:"identities"`
	RandomIdentities int `json:"random_identities"`
	OneShot          int `json:"one_shot"`
	OneShotRandom    int `json:"one_shot_random"`
	// Shapes are the most common identity shapes, most subjects first.
	Shapes     []ShapeFigures `json:"shapes"`
	Churn      Churn          `json:"churn"`
	Duplicates Duplicates     `json:"duplicates"`
	// Lint counts the billed identities with each lint finding.
	Lint      []LintFigures `json:"lint"`
	Avoidable Avoidable     `json:"avoidable"`
	WhatIf    WhatIf        `json:"what_if"`
}

// LintFigures count the billed identities of a month with one lint finding
// of one severity.
type LintFigures struct {
	Code       string `json:"code"`
	Severity   string `json:"severity"`
	Identities int    `json:"identities"`
	// Example is one of them, the first in byte order.
	Example string `json:"example"`
	// Fix says what to do about the finding.
	Fix string `json:"fix"`
}

// ShapeFigures are the billed identities of one shape in a month.
type ShapeFigures struct {
	Shape
	Subjects int `json:"subjects"`
	// Share is Subjects over the month's active users.
	Share   float64 `json:"share"`
	Example string  `json:"example"`
	// New counts the identities of the shape billed for the first time;
	// ChurnRate is New over the month's active users.
	New       int     `json:"new"`
	ChurnRate float64 `json:"churn_rate"`
}

// Churn says where a month's billed subjects come from and who left.
type Churn struct {
	New         int `json:"new"`
	Returning   int `json:"returning"`
	Reactivated int `json:"reactivated"`
	// Churned were billed the month before and not in this one.
	Churned int `json:"churned"`
	// NewRandom counts new identities of a random shape; RandomChurnRate
	// is NewRandom over the month's active users.
	NewRandom       int     `json:"new_random"`
	RandomChurnRate float64 `json:"random_churn_rate"`
}

// Duplicates are billed subjects that are one person written two ways.
// Cost is what the account's bill would drop by without the extra users:
// Cost(MAU) − Cost(MAU − ExtraUsers) through the graduated bands.
type Duplicates struct {
	GroupCount int `json:"group_count"`
	// ExtraUsers is what the groups add to the bill: members minus one each.
	ExtraUsers int     `json:"extra_users"`
	Cost       float64 `json:"cost"`
	// Groups lists up to 100 groups, largest first.
	Groups []DuplicateGroup `json:"groups"`
}

// DuplicateGroup is the subjects of a month sharing one DuplicateKey.
type DuplicateGroup struct {
	Key        string            `json:"key"`
	ServiceSID string            `json:"service_sid"`
	Members    []DuplicateMember `json:"members"`
	ExtraUsers int               `json:"extra_users"`
}

// DuplicateMember is one subject of a duplicate group.
type DuplicateMember struct {
	Kind    string `json:"subject_kind"`
	Subject string `json:"subject"`
}

// Avoidable is activity that makes subjects billable without giving them
// anything, priced as what the account's bill would really drop by without
// those subjects: Cost(MAU) − Cost(MAU − subjects) through the graduated
// bands, in whole cents. Each figure is priced alone; Cost prices the three
// together, so it may be less than their sum when the removed users would
// reach a cheaper or free band.
type Avoidable struct {
	Currency string `json:"currency"`
	// MarginalRate is the rate of the band the account's MAU ends in. It
	// is informative only (the costs are not MarginalRate × subjects) and
	// kept so that the JSON schema loses no field.
	MarginalRate float64 `json:"marginal_rate"`
	// ConnectOnly identities only connected a client.
	ConnectOnly AvoidableFigure `json:"connect_only"`
	// RESTWriteOnly identities are billed only because the backend
	// created or updated their User record.
	RESTWriteOnly AvoidableFigure `json:"rest_write_only"`
	// SilentAddresses were added to a conversation and sent nothing.
	SilentAddresses AvoidableFigure `json:"silent_addresses"`
	Cost            float64         `json:"cost"`
}

// AvoidableFigure counts subjects and prices them alone: Cost(MAU) −
// Cost(MAU − Subjects) through the graduated bands.
type AvoidableFigure struct {
	Subjects int     `json:"subjects"`
	Cost     float64 `json:"cost"`
}

// WhatIf is the account's month had no one-shot random identity been created.
// Cost and CostWithout are the bills for ActiveUsers and ActiveUsersWithout;
// Saving is their difference, in whole cents.
type WhatIf struct {
	OneShotRandom      int     `json:"one_shot_random"`
	ActiveUsers        int     `json:"active_users"`
	Cost               float64 `json:"cost"`
	ActiveUsersWithout int     `json:"active_users_without"`
	CostWithout        float64 `json:"cost_without"`
	Saving             float64 `json:"saving"`
}

// Coverage is what evidence covers a month, per source, and why the month
// is not complete. A month is complete when live capture (webhooks and
// Event Streams together) covers it with no gap longer than MaxLiveGap,
// counting the stretches from the month's start to the first live event
// and from the last one to the month's end, and a REST snapshot (a
// finished `ingest twilio` run) was started after the month ended.
type Coverage struct {
	// Sources has one entry per evidence source, always all four in the
	// order webhook, event_stream, rest_snapshot, token_log.
	Sources []SourceCoverage `json:"sources"`
	// Snapshots are the finished `ingest twilio` runs started in the month,
	// and the first one started after it ended, oldest first.
	Snapshots []Snapshot `json:"snapshots"`
	// GapCount counts the stretches of the month longer than MaxLiveGap
	// without a live event; Gaps lists up to 20 of them, longest first.
	GapCount int   `json:"gap_count"`
	Gaps     []Gap `json:"gaps"`
	// Reasons says in words why the month is not complete; empty when it is.
	Reasons []string `json:"reasons"`
}

// SourceCoverage is the evidence of one source dated in a month.
type SourceCoverage struct {
	// Source is webhook, event_stream, rest_snapshot or token_log, as in
	// the activity ledger.
	Source string `json:"source"`
	// Events counts the source's items dated in the month: live events
	// (at their occurred_at), snapshot dates (each created and each later
	// updated date of a user, participant or message row) or token issues.
	Events int `json:"events"`
	// First and Last are the earliest and latest of those times, nil when
	// there are none.
	First *time.Time `json:"first"`
	Last  *time.Time `json:"last"`
}

// Snapshot is one finished `ingest twilio` run. It saw what had happened
// before it started: StartedAt is the time that decides what it covers.
type Snapshot struct {
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// Gap is a stretch of a month without any live event, from the last live
// event before it (or the month's start) to the next one (or the month's
// end; the report's time for the month under way).
type Gap struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Hours is To - From in hours, rounded to two decimals.
	Hours float64 `json:"hours"`
}
