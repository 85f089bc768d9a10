package analysis

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// ReconcileSchema names the JSON form of a Reconciliation.
const ReconcileSchema = "mauledger.reconcile/v1"

// TwilioMAUCategory is the usage category whose monthly count Twilio bills
// Conversations users by; the other conversations* categories are shown
// beside it.
const TwilioMAUCategory = "conversations"

// Reconciliation sets mauledger's MAU for a month beside Twilio's own usage
// records, with the likely causes of any difference.
type Reconciliation struct {
	Schema string `json:"schema"`
	Month  string `json:"month"`
	// MAU is mauledger's billed count under the report's scope.
	MAU int `json:"mau"`
	// ServiceScopeMAU and AccountScopeMAU are the count under each scope.
	ServiceScopeMAU int `json:"service_scope_mau"`
	AccountScopeMAU int `json:"account_scope_mau"`
	// Complete and Coverage are the month's, as the report states them.
	Complete bool     `json:"complete"`
	Coverage Coverage `json:"coverage"`
	// TwilioMAU is the count of the TwilioMAUCategory usage record, nil
	// when there is none for the month.
	TwilioMAU *int `json:"twilio_mau"`
	// Difference is TwilioMAU - MAU, nil without a Twilio count.
	Difference *int          `json:"difference"`
	Usage      []UsageRecord `json:"usage_records"`
	// Causes are the likely reasons for the difference, most likely first.
	Causes []string `json:"likely_causes"`
	About  About    `json:"about"`
}

// UsageRecord is one of Twilio's monthly usage records.
type UsageRecord struct {
	Category  string  `json:"category"`
	Count     int     `json:"count"`
	CountUnit string  `json:"count_unit"`
	Price     float64 `json:"price"`
	PriceUnit string  `json:"price_unit"`
}

// reconcileSQL counts the month's billed subjects under both scopes (from
// subject_months, as the report does: a subject of the unknown service
// that has a known one counts once), the subjects billed only on inferred
// evidence, the unbillable message authors, and the activities known from
// REST snapshots.
const reconcileSQL = `
SELECT
    (SELECT count(*) FROM subject_months WHERE month = $1),
    (SELECT count(DISTINCT (subject_kind, subject)) FROM subject_months WHERE month = $1),
    (SELECT count(*) FROM (SELECT 1 FROM range_all WHERE family <> 'quality'
                           GROUP BY service_sid, subject_kind, subject HAVING bool_and(inferred))),
    (SELECT count(*) FROM range_all WHERE unknown_author),
    (SELECT count(*) FROM range_all WHERE source = 'rest_snapshot')
`

// Reconcile compares mauledger's MAU for month m with Twilio's usage
// records stored by ingest twilio.
func (a *Analyzer) Reconcile(ctx context.Context, m Month) (*Reconciliation, error) {
	if err := a.selectRange(ctx, MonthRange{m, m}); err != nil {
		return nil, err
	}
	r := &Reconciliation{Schema: ReconcileSchema, Month: m.String(), Usage: []UsageRecord{}, Causes: []string{}, About: a.About()}
	var inferredOnly, unknownAuthored, snapshotRows int
	err := a.conn.QueryRowContext(ctx, reconcileSQL, m.String()).
		Scan(&r.ServiceScopeMAU, &r.AccountScopeMAU, &inferredOnly, &unknownAuthored, &snapshotRows)
	if err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", m, err)
	}
	cov, err := a.coverage(ctx, MonthRange{m, m}, time.Now())
	if err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", m, err)
	}
	r.Coverage = *cov[m.String()]
	r.Complete = r.Coverage.complete()
	r.MAU = r.ServiceScopeMAU
	if a.settings.Scope == ScopeAccount {
		r.MAU = r.AccountScopeMAU
	}
	err = a.eachRow(ctx, fmt.Sprintf("reconcile %s: read usage records", m), `SELECT category, coalesce(count, 0), coalesce(count_unit, ''),
		coalesce(price, 0), coalesce(price_unit, '') FROM twilio_usage_records
		WHERE start_date = ?::DATE ORDER BY category`, func(rows *sql.Rows) error {
		var u UsageRecord
		if err := rows.Scan(&u.Category, &u.Count, &u.CountUnit, &u.Price, &u.PriceUnit); err != nil {
			return err
		}
		r.Usage = append(r.Usage, u)
		if u.Category == TwilioMAUCategory {
			r.TwilioMAU = ptr(u.Count)
			r.Difference = ptr(u.Count - r.MAU)
		}
		return nil
	}, m.Start())
	if err != nil {
		return nil, err
	}
	r.Causes = r.causes(a.settings, inferredOnly, unknownAuthored, snapshotRows)
	return r, nil
}

// causes lists what can explain the difference, most likely first.
func (r *Reconciliation) causes(set Settings, inferredOnly, unknownAuthored, snapshotRows int) []string {
	causes := []string{}
	if r.TwilioMAU == nil {
		return append(causes, fmt.Sprintf("no Twilio usage record %q for %s: run `mauledger ingest twilio` "+
			"(it pulls usage records), or Twilio has not closed the month yet", TwilioMAUCategory, r.Month))
	}
	diff := *r.Difference
	if !r.Complete && diff > 0 {
		causes = append(causes, r.coverageCause(snapshotRows))
	}
	if r.ServiceScopeMAU != r.AccountScopeMAU {
		other, otherScope := r.AccountScopeMAU, ScopeAccount
		if set.Scope == ScopeAccount {
			other, otherScope = r.ServiceScopeMAU, ScopeService
		}
		note := ""
		if other == *r.TwilioMAU {
			note = fmt.Sprintf("; Twilio's count matches --scope %s", otherScope)
		}
		causes = append(causes, fmt.Sprintf("service vs account scope: %d subjects are active in more than one service; "+
			"--scope service counts %d, --scope account %d%s", r.ServiceScopeMAU-r.AccountScopeMAU,
			r.ServiceScopeMAU, r.AccountScopeMAU, note))
	}
	if inferredOnly > 0 {
		counted := "counted under --evidence inferred"
		if set.Evidence == EvidenceStrict {
			counted = "not counted under --evidence strict; if Twilio's count is higher, try --evidence inferred"
		}
		causes = append(causes, fmt.Sprintf("%d subjects have only inferred evidence (an access token issued, not a proven connection), %s", inferredOnly, counted))
	}
	if unknownAuthored > 0 && diff > 0 && set.UnknownAuthors == UnknownAuthorsIgnore {
		causes = append(causes, fmt.Sprintf("%d messages name an author that is neither a participant nor a known identity nor a participant address; "+
			"--unknown-authors ignore bills nobody for them, Twilio may count their authors: try --unknown-authors bill", unknownAuthored))
	}
	if diff == 0 && len(causes) == 0 {
		causes = append(causes, "none: the figures agree")
	} else if len(causes) == 0 {
		causes = append(causes, fmt.Sprintf("no known cause: compare `mauledger report --month %s` with Twilio's usage details", r.Month))
	}
	return causes
}

// coverageCause is the cause an incomplete month gives: what its coverage
// lacks, in the words of its Reasons, and why that lowers mauledger's count.
func (r *Reconciliation) coverageCause(snapshotRows int) string {
	if r.Coverage.liveEvents() > 0 {
		return fmt.Sprintf("incomplete coverage of %s: %s; activity there may be missing, so mauledger's figure "+
			"is a lower bound", r.Month, strings.Join(r.Coverage.Reasons, "; "))
	}
	source := "no evidence at all"
	if snapshotRows > 0 {
		source = "REST snapshots only"
	}
	cause := fmt.Sprintf("no live events for %s: mauledger's figure comes from %s, which cannot see "+
		"SDK connections or removed participants, so it is a lower bound (capture webhooks or Event Streams and ingest events)", r.Month, source)
	// The first reason is the missing live events, just said.
	if others := r.Coverage.Reasons[min(1, len(r.Coverage.Reasons)):]; len(others) > 0 {
		cause += "; also " + strings.Join(others, "; ")
	}
	return cause
}

// DifferenceText is the difference in words: "Twilio counts 3 more".
func (r *Reconciliation) DifferenceText() string {
	if r.Difference == nil {
		return "unknown (no Twilio usage record)"
	}
	switch d := *r.Difference; {
	case d > 0:
		return fmt.Sprintf("Twilio counts %d more", d)
	case d < 0:
		return fmt.Sprintf("Twilio counts %d fewer", -d)
	}
	return "none"
}

func ptr[T any](v T) *T { return &v }
