package reports

import (
	"encoding/json"
	"io"

	"github.com/mauledger/mauledger/analysis"
)

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// normaliseReport returns a copy of r shaped for JSON consumers: lists are
// [] rather than null, every family and rule has its key in by_family and
// by_rule, and the schema is named. A family or rule missing from the
// analysis's map had no active subject, so its key is written with 0; keys
// the analysis added are kept.
func normaliseReport(r *analysis.Report) *analysis.Report {
	c := *r
	if c.Schema == "" {
		c.Schema = analysis.ReportSchema
	}
	c.About.Assumptions = nonNil(c.About.Assumptions)
	c.Months = make([]analysis.MonthReport, len(r.Months))
	for i, m := range r.Months {
		m.Figures = normaliseFigures(m.Figures)
		services := make([]analysis.ServiceFigures, len(m.Services))
		for j, s := range m.Services {
			s.Figures = normaliseFigures(s.Figures)
			services[j] = s
		}
		m.Services = services
		m.Cost.Bands = nonNil(m.Cost.Bands)
		m.DataQuality.UnknownAuthors = nonNil(m.DataQuality.UnknownAuthors)
		m.Hygiene = normaliseHygiene(m.Hygiene)
		c.Months[i] = m
	}
	return &c
}

func normaliseFigures(f analysis.Figures) analysis.Figures {
	f.ByFamily = withKeys(f.ByFamily, analysis.Families)
	f.ByFirstFamily = withKeys(f.ByFirstFamily, analysis.Families)
	f.ByRule = withKeys(f.ByRule, analysis.Rules)
	return f
}

// withKeys copies counts, adding each of keys it lacks with a zero count.
func withKeys(counts map[string]int, keys []string) map[string]int {
	out := make(map[string]int, len(keys)+len(counts))
	for _, k := range keys {
		out[k] = 0
	}
	for k, n := range counts {
		out[k] = n
	}
	return out
}

// normaliseExplanation is normaliseReport for an explanation.
func normaliseExplanation(e *analysis.Explanation) *analysis.Explanation {
	c := *e
	c.About.Assumptions = nonNil(c.About.Assumptions)
	c.Services = make([]analysis.SubjectInService, len(e.Services))
	for i, s := range e.Services {
		s.Activities = nonNil(s.Activities)
		c.Services[i] = s
	}
	return &c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
