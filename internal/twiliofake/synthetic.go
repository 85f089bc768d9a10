package twiliofake

import (
	"fmt"
	"time"
)

// Size says how large a Synthetic account is.
type Size struct {
	Services      int
	Users         int // in all, spread over the services
	Conversations int // in all
	Messages      int // in all, spread over the conversations
	// ClosedEvery closes one conversation in ClosedEvery (0: none closed).
	ClosedEvery int
}

// Synthetic builds a deterministic account of the given size for tests and
// benchmarks: every conversation has two identity participants and one SMS
// address, and its messages alternate between them.
func Synthetic(accountSID string, size Size) *Account {
	start := time.Date(2026, time.September, 1, 0, 0, 0, 0, time.UTC)
	a := &Account{SID: accountSID}
	for s := range max(1, size.Services) {
		a.Services = append(a.Services, &Service{
			SID: SID("IS", s), FriendlyName: fmt.Sprintf("service %d", s+1), DateCreated: start.AddDate(-1, 0, 0),
		})
	}
	n := len(a.Services)
	identity := func(u int) string { return fmt.Sprintf("user-%06d", u) }
	for u := range size.Users {
		svc := a.Services[u%n]
		created := start.Add(time.Duration(u) * time.Minute)
		svc.Users = append(svc.Users, User{SID: SID("US", u), Identity: identity(u), DateCreated: created, DateUpdated: created.Add(24 * time.Hour)})
	}
	messages := 0
	for c := range size.Conversations {
		svc := a.Services[c%n]
		created := start.Add(time.Duration(c) * time.Minute)
		conv := &Conversation{SID: SID("CH", c), FriendlyName: fmt.Sprintf("chat %d", c+1), State: Active,
			DateCreated: created, DateUpdated: created}
		if size.ClosedEvery > 0 && c%size.ClosedEvery == size.ClosedEvery-1 {
			conv.State = Closed
		}
		// Users of this conversation's service: u ≡ c (mod n).
		users := max(1, size.Users/n)
		for p := range 2 {
			u := (c/n+p*7)%users*n + c%n
			conv.Participants = append(conv.Participants, Participant{SID: SID("MB", 3*c+p), Identity: identity(u),
				DateCreated: created.Add(time.Duration(p) * time.Second)})
		}
		conv.Participants = append(conv.Participants, Participant{SID: SID("MB", 3*c+2),
			Address: fmt.Sprintf("+1555%07d", c), ProxyAddress: "+18885550100", DateCreated: created.Add(2 * time.Second)})
		want := size.Messages * (c + 1) / max(1, size.Conversations)
		for i := 0; messages < want; i++ {
			p := conv.Participants[i%3]
			author := p.Identity
			if p.Address != "" {
				author = p.Address
			}
			conv.Messages = append(conv.Messages, Message{SID: SID("IM", messages), Index: i, Author: author,
				ParticipantSID: p.SID, Body: "hello", DateCreated: created.Add(time.Duration(i+3) * time.Second)})
			messages++
		}
		svc.Conversations = append(svc.Conversations, conv)
	}
	month := start
	a.Usage = []UsageRecord{
		// every user and every conversation's SMS address is active in the month
		{Category: "conversations", Description: "Conversations", Month: month, Count: size.Users + size.Conversations, CountUnit: "users"},
		{Category: "conversations-api-requests", Description: "Conversations API Requests", Month: month, Count: size.Messages, CountUnit: "requests"},
		{Category: "sms-inbound", Description: "Inbound SMS", Month: month, Count: 7, CountUnit: "messages"},
	}
	return a
}

// SID is a SID of the given prefix made from n: 34 characters like Twilio's.
func SID(prefix string, n int) string { return fmt.Sprintf("%s%032x", prefix, n) }
