package demo

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mauledger/mauledger/internal/twiliofake"
)

// restSQL derives, from the loaded events of the demo account, what
// Twilio's REST API would list at the end: every User with its creation and
// last REST update, every conversation with its state, the participants
// still in it, and its messages. Fields the events table does not keep
// (State, Index, a resource's own dates) come from the payloads, flat in a
// webhook and under "data" in a CloudEvent.
//
// A CloudEvent names no service: event_service gives it the demo's Event
// Streams service, which delivers all of them.
//
// A user's last REST update is the latest DateUpdated its events carry: a
// REST write moves DateUpdated, coming online does not (the event repeats
// the DateUpdated of the last write), and IsOnline, on every user.updated
// CloudEvent, does not tell the two apart.
var restSQL = map[string]string{
	"users": `
SELECT max(event_service(service_sid, format)), user_sid, arg_max(identity, occurred_at),
       coalesce(min(occurred_at) FILTER (action = 'added'), min(payload_field(payload, 'DateCreated')::TIMESTAMP), min(occurred_at)),
       max(payload_field(payload, 'DateUpdated')::TIMESTAMP)
FROM events WHERE resource = 'user' AND user_sid IS NOT NULL AND identity IS NOT NULL
GROUP BY user_sid HAVING max(event_service(service_sid, format)) IS NOT NULL
ORDER BY user_sid`,
	"conversations": `
SELECT max(event_service(service_sid, format)), conversation_sid,
       coalesce(min(occurred_at) FILTER (resource = 'conversation' AND action = 'added'),
                min(payload_field(payload, 'DateCreated')::TIMESTAMP) FILTER (resource = 'conversation'), min(occurred_at)),
       coalesce(arg_max(payload_field(payload, 'State'), occurred_at) FILTER (resource = 'conversation'), 'active')
FROM events WHERE conversation_sid IS NOT NULL
GROUP BY conversation_sid HAVING max(event_service(service_sid, format)) IS NOT NULL
ORDER BY conversation_sid`,
	"participants": `
SELECT conversation_sid, participant_sid, max(identity), max(address),
       min(coalesce(payload_field(payload, 'DateCreated')::TIMESTAMP, occurred_at))
FROM events WHERE resource = 'participant' AND participant_sid IS NOT NULL AND conversation_sid IS NOT NULL
GROUP BY conversation_sid, participant_sid
-- never removed, or added again since (one added before the events began
-- and removed since is gone)
HAVING max(occurred_at) FILTER (action = 'removed') IS NULL
    OR max(occurred_at) FILTER (action = 'removed') < max(occurred_at) FILTER (action = 'added')
ORDER BY conversation_sid, participant_sid`,
	"messages": `
SELECT conversation_sid, message_sid, payload_field(arg_min(payload, occurred_at), 'Index')::INTEGER,
       arg_min(author, occurred_at), max(participant_sid),
       min(occurred_at) FILTER (action = 'added'), max(occurred_at) FILTER (action = 'updated')
FROM events WHERE resource = 'message' AND message_sid IS NOT NULL AND conversation_sid IS NOT NULL
GROUP BY conversation_sid, message_sid HAVING min(occurred_at) FILTER (action = 'added') IS NOT NULL
ORDER BY conversation_sid, 3`,
}

// fieldMacro reads a payload field, flat (webhook) or under data (CloudEvent).
const fieldMacro = `CREATE OR REPLACE TEMP MACRO payload_field(p, name) AS coalesce(json_extract_string(p, '$.' || name), json_extract_string(p, '$.data.' || name))`

// serviceMacro gives an event its service: a webhook's ChatServiceSid, and
// for a CloudEvent the Event Streams service (%s, a SQL literal).
const serviceMacro = `CREATE OR REPLACE TEMP MACRO event_service(service_sid, format) AS coalesce(service_sid, CASE WHEN format = 'cloudevent' THEN %s END)`

// RESTAccount is the demo account as the REST API would serve it at the
// end of the loaded events, for the fake Twilio API behind `demo`.
// eventStreamsService is the service the CloudEvents belong to
// (Config.EventStreamsService): they do not say it, and without it their
// conversations and users would be listed under no service. With "" they
// are left out.
func RESTAccount(ctx context.Context, db *sql.DB, accountSID, eventStreamsService string) (*twiliofake.Account, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	esLiteral := "NULL"
	if eventStreamsService != "" {
		esLiteral = "'" + strings.ReplaceAll(eventStreamsService, "'", "''") + "'"
	}
	for _, macro := range []string{fieldMacro, fmt.Sprintf(serviceMacro, esLiteral)} {
		if _, err := conn.ExecContext(ctx, macro); err != nil {
			return nil, fmt.Errorf("demo REST account: %w", err)
		}
	}
	a := &twiliofake.Account{SID: accountSID}
	services := map[string]*twiliofake.Service{}
	service := func(sid string) *twiliofake.Service {
		if services[sid] == nil {
			services[sid] = &twiliofake.Service{SID: sid, FriendlyName: "demo " + sid[len(sid)-4:]}
			a.Services = append(a.Services, services[sid])
		}
		return services[sid]
	}
	convs := map[string]*twiliofake.Conversation{}
	steps := []struct {
		query string
		scan  func(rows *sql.Rows) error
	}{
		{"users", func(rows *sql.Rows) error {
			var (
				svc     string
				u       twiliofake.User
				updated sql.NullTime
			)
			if err := rows.Scan(&svc, &u.SID, &u.Identity, &u.DateCreated, &updated); err != nil {
				return err
			}
			u.DateUpdated = orZero(updated)
			s := service(svc)
			s.Users = append(s.Users, u)
			return nil
		}},
		{"conversations", func(rows *sql.Rows) error {
			var (
				svc string
				c   = &twiliofake.Conversation{}
			)
			if err := rows.Scan(&svc, &c.SID, &c.DateCreated, &c.State); err != nil {
				return err
			}
			c.DateUpdated = c.DateCreated
			s := service(svc)
			s.Conversations = append(s.Conversations, c)
			convs[c.SID] = c
			return nil
		}},
		{"participants", func(rows *sql.Rows) error {
			var (
				conv              string
				p                 twiliofake.Participant
				identity, address sql.NullString
			)
			if err := rows.Scan(&conv, &p.SID, &identity, &address, &p.DateCreated); err != nil {
				return err
			}
			p.Identity, p.Address = identity.String, address.String
			if c := convs[conv]; c != nil {
				c.Participants = append(c.Participants, p)
			}
			return nil
		}},
		{"messages", func(rows *sql.Rows) error {
			var (
				conv    string
				m       twiliofake.Message
				author  sql.NullString
				part    sql.NullString
				index   sql.NullInt64
				updated sql.NullTime
			)
			if err := rows.Scan(&conv, &m.SID, &index, &author, &part, &m.DateCreated, &updated); err != nil {
				return err
			}
			m.Index, m.Author, m.ParticipantSID, m.DateUpdated = int(index.Int64), author.String, part.String, orZero(updated)
			if c := convs[conv]; c != nil {
				c.Messages = append(c.Messages, m)
			}
			return nil
		}},
	}
	for _, step := range steps {
		if err := scanAll(ctx, conn, restSQL[step.query], step.scan); err != nil {
			return nil, fmt.Errorf("demo REST account: %s: %w", step.query, err)
		}
	}
	return a, nil
}

func scanAll(ctx context.Context, conn *sql.Conn, query string, scan func(*sql.Rows) error) error {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func orZero(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
