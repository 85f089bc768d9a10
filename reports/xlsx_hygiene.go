package reports

import (
	"strings"

	"github.com/mauledger/mauledger/analysis"
)

// The identity hygiene sheets of the XLSX report: the findings of each
// month, its most common identity shapes, its duplicate groups and its
// identity lint.

func writeHygieneSheet(s *sheet, r *analysis.Report) error {
	if err := s.header(
		column{"Month", 10}, column{"Active users", 13}, column{"Identities", 12},
		column{"Random identities", 12}, column{"One-shot", 10}, column{"One-shot random", 12},
		column{"New", 10}, column{"Returning", 11}, column{"Reactivated", 12}, column{"Churned", 10},
		column{"New random", 11}, column{"Random churn rate", 12},
		column{"Duplicate groups", 11}, column{"Duplicate extra users", 12}, column{"Duplicates cost", 14},
		column{"Marginal rate", 11}, column{"Connect-only", 12}, column{"Connect-only cost", 14},
		column{"REST-write-only", 12}, column{"REST-write-only cost", 14},
		column{"Silent addresses", 12}, column{"Silent addresses cost", 14}, column{"Avoidable cost", 14},
		column{"Users without one-shot random", 14}, column{"Cost without one-shot random", 16}, column{"Saving", 14},
	); err != nil {
		return err
	}
	for _, m := range r.Months {
		h := m.Hygiene
		cur := h.Avoidable.Currency
		var costs []any
		for _, v := range []float64{h.Duplicates.Cost, h.Avoidable.ConnectOnly.Cost,
			h.Avoidable.RESTWriteOnly.Cost, h.Avoidable.SilentAddresses.Cost, h.Avoidable.Cost,
			h.WhatIf.CostWithout, h.WhatIf.Saving} {
			c, err := s.money(v, cur)
			if err != nil {
				return err
			}
			costs = append(costs, c)
		}
		if err := s.row(m.Month, s.count(h.ActiveUsers), s.count(h.Identities),
			s.count(h.RandomIdentities), s.count(h.OneShot), s.count(h.OneShotRandom),
			s.count(h.Churn.New), s.count(h.Churn.Returning), s.count(h.Churn.Reactivated), s.count(h.Churn.Churned),
			s.count(h.Churn.NewRandom), s.share(h.Churn.RandomChurnRate),
			s.count(h.Duplicates.GroupCount), s.count(h.Duplicates.ExtraUsers), costs[0],
			h.Avoidable.MarginalRate, s.count(h.Avoidable.ConnectOnly.Subjects), costs[1],
			s.count(h.Avoidable.RESTWriteOnly.Subjects), costs[2],
			s.count(h.Avoidable.SilentAddresses.Subjects), costs[3], costs[4],
			s.count(h.WhatIf.ActiveUsersWithout), costs[5], costs[6],
		); err != nil {
			return err
		}
	}
	return nil
}

func writeShapesSheet(s *sheet, r *analysis.Report) error {
	if err := s.header(
		column{"Month", 10}, column{"Shape", 28}, column{"Identities", 12}, column{"Share", 9},
		column{"New", 10}, column{"Churn rate", 10}, column{"Verdict", 9}, column{"Reason", 20},
		column{"Example", 44},
	); err != nil {
		return err
	}
	for _, m := range r.Months {
		for _, sh := range m.Hygiene.Shapes {
			verdict := "stable"
			if sh.Random {
				verdict = "random"
			}
			if err := s.row(m.Month, sh.Pattern, s.count(sh.Subjects), s.share(sh.Share),
				s.count(sh.New), s.share(sh.ChurnRate), verdict, sh.Reason, sh.Example); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeDuplicatesSheet(s *sheet, r *analysis.Report) error {
	if err := s.header(
		column{"Month", 10}, column{"Duplicate key", 32}, column{"Service SID", 36},
		column{"Extra users", 11}, column{"Members", 60},
	); err != nil {
		return err
	}
	for _, m := range r.Months {
		for _, g := range m.Hygiene.Duplicates.Groups {
			members := make([]string, len(g.Members))
			for i, mem := range g.Members {
				members[i] = mem.Kind + ":" + mem.Subject
			}
			if err := s.row(m.Month, g.Key, g.ServiceSID, s.count(g.ExtraUsers), strings.Join(members, ", ")); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeLintSheet(s *sheet, r *analysis.Report) error {
	if err := s.header(
		column{"Month", 10}, column{"Finding", 20}, column{"Severity", 10}, column{"Identities", 12},
		column{"Example", 44}, column{"What to do", 100},
	); err != nil {
		return err
	}
	for _, m := range r.Months {
		for _, l := range m.Hygiene.Lint {
			if err := s.row(m.Month, l.Code, l.Severity, s.count(l.Identities), l.Example, l.Fix); err != nil {
				return err
			}
		}
	}
	return nil
}
