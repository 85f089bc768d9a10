package monthclose

import (
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
)

// ManifestSchema names the format of manifest.json; it changes only when a
// field's meaning changes or a field is removed.
const ManifestSchema = "mauledger.close/v1"

// RestatementSchema names the format of restatement.json.
const RestatementSchema = "mauledger.restatement/v1"

// Manifest is a version's manifest.json: what the version is, what it was
// made from, and the files it holds.
type Manifest struct {
	Schema  string `json:"schema"`
	Month   string `json:"month"`
	Version int    `json:"version"`
	Status  Status `json:"status"`
	// FinalAfter and FinalFrom say when the month can become final: from
	// FinalFrom on, if its coverage is complete.
	FinalAfter string    `json:"final_after"`
	FinalFrom  time.Time `json:"final_from"`
	Run        RunInfo   `json:"run"`
	Settings   Settings  `json:"settings"`
	Sources    Sources   `json:"sources"`
	Figures    Figures   `json:"figures"`
	// Restates is the version this one replaces; nil for v1.
	Restates *Restated `json:"restates"`
	// Fingerprint identifies what the version says, part by part: a run
	// whose parts and status are the same writes no new version.
	Fingerprint Fingerprint `json:"fingerprint"`
	// Files are the version's files, manifest.json aside.
	Files []File `json:"files"`
}

// RunInfo is the close run that made a version.
type RunInfo struct {
	ID             string    `json:"id"`
	StartedAt      time.Time `json:"started_at"`
	FinishedAt     time.Time `json:"finished_at"`
	Mauledger      string    `json:"mauledger_version"`
	DatabaseSchema int       `json:"database_schema"`
	Database       string    `json:"database"`
}

// Settings are what the figures were counted, priced and written under.
type Settings struct {
	Scope          analysis.Scope          `json:"scope"`
	Evidence       analysis.Evidence       `json:"evidence"`
	UnknownAuthors analysis.UnknownAuthors `json:"unknown_authors"`
	PriceTable     string                  `json:"price_table"`
	Formats        []string                `json:"formats"`
	Redact         bool                    `json:"redact"`
}

// Sources are what this run loaded, step by step, and what the database
// then held of each source, up to when.
type Sources struct {
	Loaded []Load       `json:"loaded"`
	Stored ingest.State `json:"stored"`
}

// Figures are the month's MAU, cost and coverage in this version.
type Figures struct {
	ActiveUsers int               `json:"active_users"`
	Identities  int               `json:"identities"`
	Addresses   int               `json:"addresses"`
	Cost        analysis.Cost     `json:"cost"`
	Complete    bool              `json:"complete"`
	Coverage    analysis.Coverage `json:"coverage"`
}

// Fingerprint holds a SHA-256 per part of what a version says, each over
// the content apart from when it was generated: the report (figures,
// coverage, hygiene), the billed list, the identities report (when one is
// written), and the settings.
type Fingerprint struct {
	Report     string `json:"report"`
	Billed     string `json:"billed"`
	Identities string `json:"identities"`
	Settings   string `json:"settings"`
}

// changes names the parts that differ between two fingerprints.
func (f Fingerprint) changes(o Fingerprint) []string {
	var parts []string
	for _, p := range []struct {
		name string
		a, b string
	}{{"settings", f.Settings, o.Settings}, {"billed", f.Billed, o.Billed}, {"report", f.Report, o.Report}, {"identities", f.Identities, o.Identities}} {
		if p.a != p.b {
			parts = append(parts, p.name)
		}
	}
	return parts
}

// File is one file of a version.
type File struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Restatement is restatement.json: how a version differs from the one it
// replaces.
type Restatement struct {
	Schema string         `json:"schema"`
	Month  string         `json:"month"`
	From   VersionFigures `json:"from"`
	To     VersionFigures `json:"to"`
	// Changed names what differs: settings, billed (who is billed, or the
	// activity that explains it), report (figures, coverage, hygiene),
	// identities, status.
	Changed []string `json:"changed"`
	// SubjectsCompared is false when the two versions were redacted
	// differently, so that their subjects cannot be matched.
	SubjectsCompared bool `json:"subjects_compared"`
	Added            int  `json:"added"`
	Removed          int  `json:"removed"`
	// Subjects are the subjects added and removed, each with the activity
	// that bills it (added) or billed it (removed); restatement.csv has the
	// same rows.
	Subjects []SubjectChange `json:"subjects"`
}

// VersionFigures are a version's headline figures.
type VersionFigures struct {
	Version     int           `json:"version"`
	Status      Status        `json:"status"`
	ActiveUsers int           `json:"active_users"`
	Identities  int           `json:"identities"`
	Addresses   int           `json:"addresses"`
	Cost        analysis.Cost `json:"cost"`
}

// SubjectChange is a subject added to or removed from the billed list,
// with its first qualifying activity as billed.csv gives it.
type SubjectChange struct {
	Change     string `json:"change"` // added or removed
	ServiceSID string `json:"service_sid"`
	Kind       string `json:"subject_kind"`
	Subject    string `json:"subject"`
	Activities string `json:"activities"`
	At         string `json:"at"`
	Rule       string `json:"rule"`
	Source     string `json:"source"`
	Origin     string `json:"origin"`
	Evidence   string `json:"evidence"`
}
