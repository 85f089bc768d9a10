package twiliofake

import (
	"strconv"
	"strings"
	"time"
)

// The resources as Twilio's OpenAPI description shows them
// (twilio_conversations_v1.json, twilio_api_v2010.json). Structs rather than
// maps: a large account is served in hundreds of thousands of items.

// stamp is a Twilio time, or null for a zero time.
func stamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type serviceJSON struct {
	SID          string            `json:"sid"`
	AccountSID   string            `json:"account_sid"`
	FriendlyName string            `json:"friendly_name"`
	DateCreated  *string           `json:"date_created"`
	DateUpdated  *string           `json:"date_updated"`
	URL          string            `json:"url"`
	Links        map[string]string `json:"links"`
}

func (s *Server) serviceJSON(svc *Service) any {
	url := ConversationsHost + "/v1/Services/" + svc.SID
	return serviceJSON{
		SID: svc.SID, AccountSID: s.account.SID, FriendlyName: svc.FriendlyName,
		DateCreated: stamp(svc.DateCreated), DateUpdated: stamp(svc.DateCreated), URL: url,
		Links: map[string]string{"conversations": url + "/Conversations", "users": url + "/Users"},
	}
}

type userJSON struct {
	SID            string            `json:"sid"`
	AccountSID     string            `json:"account_sid"`
	ChatServiceSID string            `json:"chat_service_sid"`
	RoleSID        string            `json:"role_sid"`
	Identity       string            `json:"identity"`
	FriendlyName   *string           `json:"friendly_name"`
	Attributes     string            `json:"attributes"`
	IsOnline       *bool             `json:"is_online"`
	IsNotifiable   *bool             `json:"is_notifiable"`
	DateCreated    *string           `json:"date_created"`
	DateUpdated    *string           `json:"date_updated"`
	URL            string            `json:"url"`
	Links          map[string]string `json:"links"`
}

func (s *Server) userJSON(svc *Service, u *User) any {
	url := ConversationsHost + "/v1/Services/" + svc.SID + "/Users/" + u.SID
	return userJSON{
		SID: u.SID, AccountSID: s.account.SID, ChatServiceSID: svc.SID, RoleSID: "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		Identity: u.Identity, Attributes: "{}", DateCreated: stamp(u.DateCreated), DateUpdated: stamp(u.DateUpdated),
		URL: url, Links: map[string]string{"user_conversations": url + "/Conversations"},
	}
}

type conversationJSON struct {
	SID                 string            `json:"sid"`
	AccountSID          string            `json:"account_sid"`
	ChatServiceSID      string            `json:"chat_service_sid"`
	MessagingServiceSID string            `json:"messaging_service_sid"`
	FriendlyName        *string           `json:"friendly_name"`
	UniqueName          *string           `json:"unique_name"`
	Attributes          string            `json:"attributes"`
	State               string            `json:"state"`
	DateCreated         *string           `json:"date_created"`
	DateUpdated         *string           `json:"date_updated"`
	Timers              struct{}          `json:"timers"`
	URL                 string            `json:"url"`
	Links               map[string]string `json:"links"`
	Bindings            *struct{}         `json:"bindings"`
}

func (s *Server) conversationJSON(svc *Service, c *Conversation) any {
	url := ConversationsHost + "/v1/Services/" + svc.SID + "/Conversations/" + c.SID
	return conversationJSON{
		SID: c.SID, AccountSID: s.account.SID, ChatServiceSID: svc.SID, MessagingServiceSID: "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		FriendlyName: orNull(c.FriendlyName), Attributes: "{}", State: c.State,
		DateCreated: stamp(c.DateCreated), DateUpdated: stamp(c.DateUpdated), URL: url,
		Links: map[string]string{"participants": url + "/Participants", "messages": url + "/Messages", "webhooks": url + "/Webhooks"},
	}
}

type bindingJSON struct {
	Type         string `json:"type"`
	Address      string `json:"address"`
	ProxyAddress string `json:"proxy_address"`
}

type participantJSON struct {
	SID                  string       `json:"sid"`
	AccountSID           string       `json:"account_sid"`
	ChatServiceSID       string       `json:"chat_service_sid"`
	ConversationSID      string       `json:"conversation_sid"`
	Identity             *string      `json:"identity"`
	Attributes           string       `json:"attributes"`
	MessagingBinding     *bindingJSON `json:"messaging_binding"`
	RoleSID              string       `json:"role_sid"`
	DateCreated          *string      `json:"date_created"`
	DateUpdated          *string      `json:"date_updated"`
	URL                  string       `json:"url"`
	LastReadMessageIndex *int         `json:"last_read_message_index"`
	LastReadTimestamp    *string      `json:"last_read_timestamp"`
}

func (s *Server) participantJSON(svc *Service, c *Conversation, p *Participant) any {
	j := participantJSON{
		SID: p.SID, AccountSID: s.account.SID, ChatServiceSID: svc.SID, ConversationSID: c.SID, Attributes: "{}",
		RoleSID: "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", DateCreated: stamp(p.DateCreated), DateUpdated: stamp(p.DateUpdated),
		URL: ConversationsHost + "/v1/Services/" + svc.SID + "/Conversations/" + c.SID + "/Participants/" + p.SID,
	}
	if p.Address != "" {
		kind := "sms"
		if strings.HasPrefix(p.Address, "whatsapp:") {
			kind = "whatsapp"
		}
		j.MessagingBinding = &bindingJSON{Type: kind, Address: p.Address, ProxyAddress: p.ProxyAddress}
	} else {
		j.Identity = orNull(p.Identity)
	}
	return j
}

type messageJSON struct {
	SID             string            `json:"sid"`
	AccountSID      string            `json:"account_sid"`
	ChatServiceSID  string            `json:"chat_service_sid"`
	ConversationSID string            `json:"conversation_sid"`
	Index           int               `json:"index"`
	Author          string            `json:"author"`
	Body            string            `json:"body"`
	Media           *[]any            `json:"media"`
	Attributes      string            `json:"attributes"`
	ParticipantSID  *string           `json:"participant_sid"`
	DateCreated     *string           `json:"date_created"`
	DateUpdated     *string           `json:"date_updated"`
	Delivery        *struct{}         `json:"delivery"`
	ContentSID      *string           `json:"content_sid"`
	URL             string            `json:"url"`
	Links           map[string]string `json:"links"`
}

func (s *Server) messageJSON(svc *Service, c *Conversation, m *Message) any {
	url := ConversationsHost + "/v1/Services/" + svc.SID + "/Conversations/" + c.SID + "/Messages/" + m.SID
	return messageJSON{
		SID: m.SID, AccountSID: s.account.SID, ChatServiceSID: svc.SID, ConversationSID: c.SID, Index: m.Index,
		Author: m.Author, Body: m.Body, Attributes: "{}", ParticipantSID: orNull(m.ParticipantSID),
		DateCreated: stamp(m.DateCreated), DateUpdated: stamp(m.DateUpdated), URL: url,
		Links: map[string]string{"delivery_receipts": url + "/Receipts", "channel_metadata": url + "/ChannelMetadata"},
	}
}

type usageJSON struct {
	AccountSID      string            `json:"account_sid"`
	APIVersion      string            `json:"api_version"`
	AsOf            string            `json:"as_of"`
	Category        string            `json:"category"`
	Count           string            `json:"count"`
	CountUnit       string            `json:"count_unit"`
	Description     string            `json:"description"`
	StartDate       string            `json:"start_date"`
	EndDate         string            `json:"end_date"`
	Price           string            `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	Usage           string            `json:"usage"`
	UsageUnit       string            `json:"usage_unit"`
	URI             string            `json:"uri"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
}

func (s *Server) usageJSON(u UsageRecord) any {
	base := "/2010-04-01/Accounts/" + s.account.SID + "/Usage/Records/"
	start := u.Month.UTC()
	return usageJSON{
		AccountSID: s.account.SID, APIVersion: "2010-04-01",
		AsOf:     start.AddDate(0, 1, 0).Format("2006-01-02T15:04:05+00:00"),
		Category: u.Category, Count: strconv.Itoa(u.Count), CountUnit: u.CountUnit, Description: u.Description,
		StartDate: start.Format(time.DateOnly), EndDate: start.AddDate(0, 1, -1).Format(time.DateOnly),
		Price: strconv.FormatFloat(u.Price, 'f', 2, 64), PriceUnit: "usd", Usage: strconv.Itoa(u.Count), UsageUnit: u.CountUnit,
		URI: base + "Monthly.json?Category=" + u.Category + "&StartDate=" + start.Format(time.DateOnly),
		SubresourceURIs: map[string]string{
			"daily":   base + "Daily.json?Category=" + u.Category,
			"monthly": base + "Monthly.json?Category=" + u.Category,
		},
	}
}
