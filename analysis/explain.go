package analysis

import (
	"context"
	"database/sql"
	"fmt"
)

// Explain tells whether subject (an identity or an address) is billed in
// month m, with every qualifying activity behind it, or, when it is not,
// what was seen of it instead. service, when not empty, limits the answer
// to one Conversation Service.
func (a *Analyzer) Explain(ctx context.Context, subject string, m Month, service string) (*Explanation, error) {
	if err := a.selectRange(ctx, MonthRange{m, m}); err != nil {
		return nil, err
	}
	e := &Explanation{Subject: subject, Month: m.String(), Services: []SubjectInService{}, About: a.About()}
	err := a.eachRow(ctx, "explain "+subject, `SELECT occurred_at, service_sid, subject_kind, subject, rule, family,
		       source, origin, evidence, inferred, unknown_author, timed_by
		FROM ledger_range WHERE subject = ? AND (? = '' OR service_sid = ?)
		ORDER BY service_sid, subject_kind, occurred_at, rule, evidence`, func(rows *sql.Rows) error {
		var act Activity
		if err := rows.Scan(&act.At, &act.ServiceSID, &act.Kind, &act.Subject, &act.Rule, &act.Family,
			&act.Source, &act.Origin, &act.Evidence, &act.Inferred, &act.UnknownAuthor, &act.TimedBy); err != nil {
			return err
		}
		n := len(e.Services)
		if n == 0 || e.Services[n-1].ServiceSID != act.ServiceSID || e.Services[n-1].Kind != act.Kind {
			e.Services = append(e.Services, SubjectInService{ServiceSID: act.ServiceSID, Kind: act.Kind, Billed: true})
			n++
		}
		e.Services[n-1].Activities = append(e.Services[n-1].Activities, act)
		return nil
	}, subject, service, service)
	if err != nil {
		return nil, err
	}
	if len(e.Services) > 0 {
		return e, nil
	}
	reasons, err := a.notBilledReasons(ctx, subject, m, service)
	if err != nil {
		return nil, err
	}
	e.Services = append(e.Services, SubjectInService{ServiceSID: service, Activities: []Activity{}, NotBilled: reasons})
	return e, nil
}

// notBilledSQL says what was seen of a subject in a month that billed it
// nothing: messages it only received, messages whose author it was but that
// did not count, tokens issued to it (when inferred evidence is not billed),
// and the events that named it.
const notBilledSQL = `
WITH month_events AS (
    SELECT * FROM events WHERE occurred_at >= $from AND occurred_at < $to
      AND ($service = '' OR service_sid = $service OR service_sid IS NULL)
),
its_conversations AS (
    SELECT DISTINCT conversation_sid FROM events
    WHERE resource = 'participant' AND (identity = $subject OR address = $subject)
)
SELECT 'received ' || count(*) || ' message(s) sent by others in its conversations: receiving is free', 1
FROM month_events
WHERE resource = 'message' AND action = 'added' AND author IS DISTINCT FROM $subject
  AND conversation_sid IN (SELECT conversation_sid FROM its_conversations)
HAVING count(*) > 0
UNION ALL
SELECT 'authored ' || count(*) || ' message(s) without a ParticipantSid, and is neither a known identity of the service nor a participant address of the conversation: an unknown author, billed only with --unknown-authors bill', 2
FROM range_all
WHERE unknown_author AND subject = $subject
  AND ($service = '' OR service_sid = $service)
HAVING count(*) > 0
UNION ALL
SELECT 'was issued ' || count(*) || ' access token(s): likely, not proven, connections, billed only with --evidence inferred', 2
FROM range_all
WHERE inferred AND subject = $subject AND ($service = '' OR service_sid = $service)
HAVING count(*) > 0
UNION ALL
SELECT 'named in ' || count(*) || ' ' || event_type || ' event(s)' ||
       CASE WHEN coalesce(origin, '') <> '' THEN ' from ' || origin ELSE '' END ||
       ': not a qualifying activity', 3
FROM month_events
WHERE identity = $subject OR client_identity = $subject OR address = $subject OR author = $subject
GROUP BY event_type, origin
UNION ALL
SELECT 'last billed in ' || max(month), 4
FROM ledger
WHERE subject = $subject AND occurred_at < $from AND ($service = '' OR service_sid = $service)
HAVING count(*) > 0
ORDER BY 2, 1
`

func (a *Analyzer) notBilledReasons(ctx context.Context, subject string, m Month, service string) ([]string, error) {
	var reasons []string
	err := a.eachRow(ctx, "explain "+subject, notBilledSQL, func(rows *sql.Rows) error {
		var (
			reason string
			order  int
		)
		if err := rows.Scan(&reason, &order); err != nil {
			return err
		}
		reasons = append(reasons, reason)
		return nil
	}, sql.Named("from", m.Start()), sql.Named("to", m.End()),
		sql.Named("service", service), sql.Named("subject", subject))
	if err != nil {
		return nil, err
	}
	if len(reasons) == 0 {
		reasons = []string{fmt.Sprintf("no activity recorded in %s", m)}
	}
	return reasons, nil
}
