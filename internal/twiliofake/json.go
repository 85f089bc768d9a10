package twiliofake

import (
	"strconv"
	"strings"
	"time"
)

// The resources as Twilio's OpenAPI description shows them
// (twilio_conversations_v1.json, twilio_api_v2010.json).

func stamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) serviceJSON(svc *Service) map[string]any {
	url := ConversationsHost + "/v1/Services/" + svc.SID
	return map[string]any{
		"sid":           svc.SID,
		"account_sid":   s.account.SID,
		"friendly_name": svc.FriendlyName,
		"date_created":  stamp(svc.DateCreated),
		"date_updated":  stamp(svc.DateCreated),
		"url":           url,
		"links": map[string]any{
			"conversations": url + "/Conversations",
			"users":         url + "/Users",
		},
	}
}

func (s *Server) userJSON(svc *Service, u *User) map[string]any {
	url := ConversationsHost + "/v1/Services/" + svc.SID + "/Users/" + u.SID
	return map[string]any{
		"sid":              u.SID,
		"account_sid":      s.account.SID,
		"chat_service_sid": svc.SID,
		"role_sid":         "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"identity":         u.Identity,
		"friendly_name":    nil,
		"attributes":       "{}",
		"is_online":        nil,
		"is_notifiable":    nil,
		"date_created":     stamp(u.DateCreated),
		"date_updated":     stamp(u.DateUpdated),
		"url":              url,
		"links":            map[string]any{"user_conversations": url + "/Conversations"},
	}
}

func (s *Server) conversationJSON(svc *Service, c *Conversation) map[string]any {
	url := ConversationsHost + "/v1/Services/" + svc.SID + "/Conversations/" + c.SID
	return map[string]any{
		"sid":                   c.SID,
		"account_sid":           s.account.SID,
		"chat_service_sid":      svc.SID,
		"messaging_service_sid": "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"friendly_name":         c.FriendlyName,
		"unique_name":           nil,
		"attributes":            "{}",
		"state":                 c.State,
		"date_created":          stamp(c.DateCreated),
		"date_updated":          stamp(c.DateUpdated),
		"timers":                map[string]any{},
		"url":                   url,
		"links": map[string]any{
			"participants": url + "/Participants",
			"messages":     url + "/Messages",
			"webhooks":     url + "/Webhooks",
		},
		"bindings": nil,
	}
}

func (s *Server) participantJSON(svc *Service, c *Conversation, p *Participant) map[string]any {
	var identity, binding any
	if p.Address != "" {
		kind := "sms"
		if strings.HasPrefix(p.Address, "whatsapp:") {
			kind = "whatsapp"
		}
		binding = map[string]any{"type": kind, "address": p.Address, "proxy_address": p.ProxyAddress}
	} else {
		identity = p.Identity
	}
	return map[string]any{
		"sid":                     p.SID,
		"account_sid":             s.account.SID,
		"chat_service_sid":        svc.SID,
		"conversation_sid":        c.SID,
		"identity":                identity,
		"attributes":              "{}",
		"messaging_binding":       binding,
		"role_sid":                "RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"date_created":            stamp(p.DateCreated),
		"date_updated":            stamp(p.DateUpdated),
		"url":                     ConversationsHost + "/v1/Services/" + svc.SID + "/Conversations/" + c.SID + "/Participants/" + p.SID,
		"last_read_message_index": nil,
		"last_read_timestamp":     nil,
	}
}

func (s *Server) messageJSON(svc *Service, c *Conversation, m *Message) map[string]any {
	url := ConversationsHost + "/v1/Services/" + svc.SID + "/Conversations/" + c.SID + "/Messages/" + m.SID
	var participant any
	if m.ParticipantSID != "" {
		participant = m.ParticipantSID
	}
	return map[string]any{
		"sid":              m.SID,
		"account_sid":      s.account.SID,
		"chat_service_sid": svc.SID,
		"conversation_sid": c.SID,
		"index":            m.Index,
		"author":           m.Author,
		"body":             m.Body,
		"media":            nil,
		"attributes":       "{}",
		"participant_sid":  participant,
		"date_created":     stamp(m.DateCreated),
		"date_updated":     stamp(m.DateUpdated),
		"delivery":         nil,
		"content_sid":      nil,
		"url":              url,
		"links": map[string]any{
			"delivery_receipts": url + "/Receipts",
			"channel_metadata":  url + "/ChannelMetadata",
		},
	}
}

func (s *Server) usageJSON(u UsageRecord) map[string]any {
	base := "/2010-04-01/Accounts/" + s.account.SID + "/Usage/Records/"
	start := u.Month.UTC()
	return map[string]any{
		"account_sid": s.account.SID,
		"api_version": "2010-04-01",
		"as_of":       start.AddDate(0, 1, 0).Format("2006-01-02T15:04:05+00:00"),
		"category":    u.Category,
		"count":       strconv.Itoa(u.Count),
		"count_unit":  u.CountUnit,
		"description": u.Description,
		"start_date":  start.Format(time.DateOnly),
		"end_date":    start.AddDate(0, 1, -1).Format(time.DateOnly),
		"price":       strconv.FormatFloat(u.Price, 'f', 2, 64),
		"price_unit":  "usd",
		"usage":       strconv.Itoa(u.Count),
		"usage_unit":  u.CountUnit,
		"uri":         base + "Monthly.json?Category=" + u.Category + "&StartDate=" + start.Format(time.DateOnly),
		"subresource_uris": map[string]any{
			"daily":   base + "Daily.json?Category=" + u.Category,
			"monthly": base + "Monthly.json?Category=" + u.Category,
		},
	}
}
