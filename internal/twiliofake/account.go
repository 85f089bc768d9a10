// Package twiliofake is a local stand-in for the parts of the Twilio REST API
// that `ingest twilio` reads: Conversation Services, their Users,
// Conversations, Participants and Messages (conversations.twilio.com/v1) and
// monthly Usage Records (api.twilio.com/2010-04-01). It answers with Twilio's
// JSON shapes and paging (absolute next_page_url links on Twilio's own hosts,
// PageToken, page-size caps), checks credentials, and can be told to be slow,
// to rate-limit, to fail, to drop connections, or to lose a conversation
// between listing and fetching. The tests and `mauledger demo` use it.
package twiliofake

import "time"

// Account is everything the fake serves. Build it, hand it to New, and
// change it afterwards only through Server.Update.
type Account struct {
	SID      string
	Services []*Service
	Usage    []UsageRecord
}

// Service is a Conversation Service.
type Service struct {
	SID           string
	FriendlyName  string
	DateCreated   time.Time
	Users         []User
	Conversations []*Conversation
}

// User is a Conversations User record. A zero DateUpdated is served as null.
type User struct {
	SID         string
	Identity    string
	DateCreated time.Time
	DateUpdated time.Time
}

// Conversation states.
const (
	Active   = "active"
	Inactive = "inactive"
	Closed   = "closed"
)

// Conversation is a conversation with its current participants and its
// messages in Index order.
type Conversation struct {
	SID          string
	FriendlyName string
	State        string
	DateCreated  time.Time
	DateUpdated  time.Time
	Participants []Participant
	Messages     []Message
}

// Participant is an identity (chat) participant, or an address (SMS,
// WhatsApp) participant when Address is set.
type Participant struct {
	SID          string
	Identity     string
	Address      string
	ProxyAddress string
	DateCreated  time.Time
	DateUpdated  time.Time
}

// Message is one message; Index is its position in the conversation.
type Message struct {
	SID            string
	Index          int
	Author         string
	ParticipantSID string
	Body           string
	DateCreated    time.Time
	DateUpdated    time.Time
}

// UsageRecord is one monthly usage record: Count in CountUnit for Category
// during the calendar month starting at Month.
type UsageRecord struct {
	Category    string
	Description string
	Month       time.Time
	Count       int
	CountUnit   string
	Price       float64
}
