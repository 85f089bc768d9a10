package analysis

import (
	"errors"
	"fmt"
	"time"
)

// Month is a calendar month in UTC, the unit Twilio bills Conversations in.
type Month struct {
	Year  int
	Month time.Month
}

// ErrBadMonth is returned for a month string that is not a real YYYY-MM month
// or a range whose end comes before its start.
var ErrBadMonth = errors.New("bad month")

// ParseMonth reads a YYYY-MM month such as 2026-10.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return Month{}, fmt.Errorf("%w %q: want YYYY-MM, e.g. 2026-10", ErrBadMonth, s)
	}
	return Month{Year: t.Year(), Month: t.Month()}, nil
}

// MonthOf is the UTC month an instant falls in.
func MonthOf(t time.Time) Month {
	t = t.UTC()
	return Month{Year: t.Year(), Month: t.Month()}
}

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Start is the first instant of the month, UTC.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC) }

// End is the first instant of the next month, UTC (exclusive bound).
func (m Month) End() time.Time { return m.Start().AddDate(0, 1, 0) }

// Next is the following month.
func (m Month) Next() Month { return MonthOf(m.End()) }

// Before reports whether m is earlier than o.
func (m Month) Before(o Month) bool { return m.Start().Before(o.Start()) }

// MonthRange is an inclusive range of months.
type MonthRange struct{ From, To Month }

// ParseRange reads either a single month (from == to) or a from/to pair.
// Exactly one of month or both from and to must be set.
func ParseRange(month, from, to string) (MonthRange, error) {
	switch {
	case month != "" && (from != "" || to != ""):
		return MonthRange{}, fmt.Errorf("%w: give --month or --from/--to, not both", ErrBadMonth)
	case month != "":
		m, err := ParseMonth(month)
		return MonthRange{m, m}, err
	case from == "" || to == "":
		return MonthRange{}, fmt.Errorf("%w: give --month YYYY-MM, or both --from and --to", ErrBadMonth)
	}
	f, err := ParseMonth(from)
	if err != nil {
		return MonthRange{}, err
	}
	t, err := ParseMonth(to)
	if err != nil {
		return MonthRange{}, err
	}
	if t.Before(f) {
		return MonthRange{}, fmt.Errorf("%w: --to %s is before --from %s", ErrBadMonth, t, f)
	}
	return MonthRange{f, t}, nil
}

// Months lists every month of the range in order.
func (r MonthRange) Months() []Month {
	var ms []Month
	for m := r.From; !r.To.Before(m); m = m.Next() {
		ms = append(ms, m)
	}
	return ms
}
