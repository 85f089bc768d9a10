package analysis

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// lintLabels is what Lint finds, as the labelled set writes it: the codes,
// a note as "code:note".
func lintLabels(identity string) []string {
	var labels []string
	for _, f := range Lint(identity) {
		if f.Severity == SeverityNote {
			labels = append(labels, f.Code+":"+SeverityNote)
		} else {
			labels = append(labels, f.Code)
		}
	}
	return labels
}

// TestLintOnTheLabelledSet measures lint against testdata/lint.tsv, whose
// labels come from how each identity was made (see lint_gen.go): precision
// and recall must be at least 0.98 for every finding, and the hard
// negatives of issue 13 must have none.
func TestLintOnTheLabelledSet(t *testing.T) {
	f, err := os.Open("testdata/lint.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type counts struct{ tp, fp, fn int }
	per := map[string]*counts{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			t.Fatalf("line %q: want three fields", sc.Text())
		}
		identity, err := strconv.Unquote(fields[2])
		if err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if seen[identity] {
			t.Fatalf("%q is in the set twice", identity)
		}
		seen[identity] = true
		var want []string
		if fields[0] != "-" {
			want = strings.Split(fields[0], ",")
		}
		got := lintLabels(identity)
		for _, l := range append(slices.Clone(want), got...) {
			if per[l] == nil {
				per[l] = &counts{}
			}
		}
		for _, l := range want {
			if slices.Contains(got, l) {
				per[l].tp++
			} else {
				per[l].fn++
				t.Logf("missed %s in %s %q", l, fields[1], identity)
			}
		}
		for _, l := range got {
			if !slices.Contains(want, l) {
				per[l].fp++
				t.Logf("false %s in %s %q", l, fields[1], identity)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) < 1000 {
		t.Fatalf("the labelled set has %d identities, want at least 1000", len(seen))
	}
	for _, code := range append(slices.Clone(LintCodes[:len(LintCodes)-1]), LintReservedCharacters+":"+SeverityNote) {
		c := per[code]
		if c == nil || c.tp+c.fn < 50 {
			t.Errorf("%s: fewer than 50 labelled identities", code)
			continue
		}
		precision := float64(c.tp) / float64(c.tp+c.fp)
		recall := float64(c.tp) / float64(c.tp+c.fn)
		t.Logf("%-28s %4d labelled: precision %.4f, recall %.4f (tp %d, fp %d, fn %d)", code, c.tp+c.fn, precision, recall, c.tp, c.fp, c.fn)
		if precision < 0.98 || recall < 0.98 {
			t.Errorf("%s: precision %.4f, recall %.4f: want both at least 0.98", code, precision, recall)
		}
	}
	for _, hard := range []string{"josé", "user_2024", "test-automation-42", "guestbook-admin", "customer-10442"} {
		if !seen[hard] {
			t.Errorf("hard negative %q is not in the set", hard)
		}
		if got := Lint(hard); got != nil {
			t.Errorf("Lint(%q) = %+v, want nothing", hard, got)
		}
	}
}

func TestLintFindings(t *testing.T) {
	for _, tt := range []struct {
		identity string
		want     []LintFinding
	}{
		{"alice@example.com", []LintFinding{{LintReservedCharacters, SeverityNote, "an @ in an email address, as in Twilio's own examples", ""}}},
		{"alice+news@example.com", []LintFinding{{LintReservedCharacters, SeverityWarning, "contains the URI-reserved character + besides the @ of an email address", ""}}},
		{"crm-sync@internal", []LintFinding{{LintReservedCharacters, SeverityWarning, "contains the URI-reserved character @", ""}}},
		{"o'brien/sales", []LintFinding{{LintReservedCharacters, SeverityWarning, "contains the URI-reserved characters ' and /", ""}}},
		{strings.Repeat("a", 256), nil},
		{strings.Repeat("é", 257), []LintFinding{{LintTooLong, SeverityWarning, "is 257 characters long; Twilio allows 256 for a participant identity", ""}}},
		{" bob", []LintFinding{{LintWhitespace, SeverityWarning, "has leading whitespace", ""}}},
		{"  Bob  Smith ", []LintFinding{{LintWhitespace, SeverityWarning, "has leading, trailing and doubled whitespace", ""}}},
		{"Bob Smith", nil},
		{"bob\x1b\x1b[31m", []LintFinding{
			{LintReservedCharacters, SeverityWarning, "contains the URI-reserved character [", ""},
			{LintControlCharacters, SeverityWarning, "contains 2 control characters (U+001B)", ""},
		}},
		{"bob\r\n", []LintFinding{
			{LintWhitespace, SeverityWarning, "has trailing whitespace", ""},
			{LintControlCharacters, SeverityWarning, "contains 2 control characters (U+000D and U+000A)", ""},
		}},
		{"p\u0430ypal", []LintFinding{{LintNonASCII, SeverityWarning, "mixes Latin and Cyrillic letters that can look alike: U+0430 CYRILLIC SMALL LETTER A", ""}}},
		{"an\u200bna", []LintFinding{{LintNonASCII, SeverityWarning, "invisible U+200B ZERO WIDTH SPACE", ""}}},
		{"ｂob", []LintFinding{{LintNonASCII, SeverityWarning, "compatibility form of other characters: U+FF42 FULLWIDTH LATIN SMALL LETTER B", ""}}},
		{"jose\u0301", []LintFinding{{LintNonASCII, SeverityWarning, "not in Unicode NFC: it looks the same as the identity written with composed characters", ""}}},
		{"josé", nil},
		{"Сергей", nil},
		{"tanaka_田中", nil},
		{"", []LintFinding{{LintPlaceholderBug, SeverityWarning, "is empty", ""}}},
		{"undefined", []LintFinding{{LintPlaceholderBug, SeverityWarning, "is a missing value turned into text (undefined, null, None, NaN or nil)", ""}}},
		{"Nan", nil}, // a name; JavaScript writes NaN
		{"user_undefined", []LintFinding{{LintPlaceholderBug, SeverityWarning, "has a missing value turned into text (undefined, null, None or NaN) as one of its parts", ""}}},
		{"user_{{id}}", []LintFinding{{LintPlaceholderBug, SeverityWarning, "holds an unfilled template placeholder ({{...}})", ""}}},
		{"{userId}", []LintFinding{{LintPlaceholderBug, SeverityWarning, "holds an unfilled template placeholder ({name})", ""}}},
		{"{0f8fad5b-d9cb-469f-a165-70867728950e}", nil},
		{"GUEST", []LintFinding{{LintGeneric, SeverityWarning, "is a generic name (guest, anonymous, test, user, admin, demo...) that many people share", ""}}},
		{"test_user 42", []LintFinding{{LintGeneric, SeverityWarning, "is a generic name (guest, anonymous, test, user, admin, demo...) with a short number, which many people share", ""}}},
		{"user_2024", nil},
		{"guestbook-admin", nil},
	} {
		got := Lint(tt.identity)
		for i := range tt.want {
			tt.want[i].Fix = lintFix(tt.want[i].Code, tt.want[i].Severity)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Lint(%q) =\n  %+v\nwant\n  %+v", tt.identity, got, tt.want)
		}
	}
}

// A reason names what was found, never the identity's text: a redacted
// output shows it beside the redacted identity. So an identity whose ASCII
// letters are all changed, and whose findings stay the same, has the same
// reasons, over the whole labelled set; where the change makes it another
// bug of the same code, the reason holds no word of the identity.
func TestLintReasonsDoNotQuoteTheIdentity(t *testing.T) {
	shift := func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return 'a' + (r-'a'+7)%26
		case r >= 'A' && r <= 'Z':
			return 'A' + (r-'A'+7)%26
		}
		return r
	}
	compared := 0
	for _, id := range labelledIdentities(t) {
		got, other := Lint(id), Lint(strings.Map(shift, id))
		if len(got) == 0 || !slices.EqualFunc(got, other, func(x, y LintFinding) bool { return x.Code == y.Code }) {
			continue
		}
		compared++
		for i := range got {
			if got[i] == other[i] {
				continue
			}
			for _, word := range strings.FieldsFunc(id, func(r rune) bool { return !unicode.IsLetter(r) }) {
				if len(word) >= 4 && strings.Contains(got[i].Reason, word) {
					t.Errorf("Lint(%q) %s quotes %q: %s", id, got[i].Code, word, got[i].Reason)
				}
			}
		}
	}
	if compared < 500 {
		t.Errorf("compared %d identities, want at least 500", compared)
	}
}

// labelledIdentities are the identities of testdata/lint.tsv.
func labelledIdentities(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/lint.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		fields := strings.Split(line, "\t")
		id, err := strconv.Unquote(fields[len(fields)-1])
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestSharedFinding(t *testing.T) {
	f := SharedFinding(SharedSignals{Conversations: 640, Percentile999: 41, AtOnce: 14,
		AtOnceFrom: time.Date(2026, 10, 14, 9, 35, 0, 0, time.UTC), AtOnceTo: time.Date(2026, 10, 14, 9, 40, 0, 0, time.UTC)})
	want := "took part in 640 conversations this month, more than 3 times the account's 99.9th percentile (41); " +
		"wrote in 14 conversations between 2026-10-14 09:35 and 09:40 UTC"
	if f.Code != LintShared || f.Severity != SeverityWarning || f.Reason != want || f.Fix == "" {
		t.Errorf("SharedFinding = %+v\nwant reason %s", f, want)
	}
}

// BenchmarkLint: a report lints every billed identity, a million in the
// 1M-identity benchmark; these are the demo's kinds.
func BenchmarkLint(b *testing.B) {
	ids := []string{"guest-0f8fad5b-d9cb-469f-a165-70867728950e", "alice.smith@example.com", "user_1042", "agent-07", "crm-customer-00042"}
	for i := range b.N {
		Lint(ids[i%len(ids)])
	}
}
