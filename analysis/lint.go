package analysis

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/runenames"
)

// Identity lint: what Twilio's identity advice and everyday bugs say about
// one identity string. Lint looks at the string alone; the shared finding
// needs the identity's activity in a month (hygiene_shared.sql) and is
// worded by SharedFinding. A reason names what was found (characters as
// code points, lengths, kinds of bug) but never copies text from the
// identity, so that a redacted output does not leak it.

// The lint codes, in the order findings are listed.
const (
	LintReservedCharacters = "reserved-characters"
	LintTooLong            = "too-long"
	LintWhitespace         = "whitespace"
	LintControlCharacters  = "control-characters"
	LintNonASCII           = "non-ascii"
	LintPlaceholderBug     = "placeholder-bug"
	LintGeneric            = "generic"
	LintShared             = "shared"
)

// LintCodes lists every lint code in the order reports show them.
var LintCodes = []string{
	LintReservedCharacters, LintTooLong, LintWhitespace, LintControlCharacters,
	LintNonASCII, LintPlaceholderBug, LintGeneric, LintShared,
}

// Severities of a lint finding: a warning is worth fixing; a note is
// allowed but worth knowing (an @ in an email identity).
const (
	SeverityWarning = "warning"
	SeverityNote    = "note"
)

// LintFinding is one thing lint found about an identity.
type LintFinding struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	// Reason says what was found, in one line, without quoting the identity.
	Reason string `json:"reason"`
	// Fix says what to do about it; it depends on the code and severity only.
	Fix string `json:"fix"`
}

// MaxIdentityLength is the longest identity Twilio accepts for a
// participant, in characters.
const MaxIdentityLength = 256

// reservedCharacters are the characters Twilio's identity advice says to
// avoid: the reserved characters of URIs (RFC 3986) and %.
const reservedCharacters = "!*'();:@&=+$,/?%#[]"

// byteSet tells the bytes of a set, for quick looks at a million identities.
type byteSet [256]bool

func newByteSet(bytes string) (set byteSet) {
	for i := range len(bytes) {
		set[bytes[i]] = true
	}
	return set
}

// in: s holds a byte of the set.
func (set *byteSet) in(s string) bool {
	for i := 0; i < len(s); i++ {
		if set[s[i]] {
			return true
		}
	}
	return false
}

var (
	reservedBytes = newByteSet(reservedCharacters)
	// templateBytes start every template syntax unfilledTemplate knows.
	templateBytes = newByteSet("{<$%#")
	// nBytes: every one of missingParts has an n or an N.
	nBytes = newByteSet("nN")
)

// lintChecks are the checks of Lint, in the order of LintCodes. A million
// identities go through them in a report, nearly all without a finding:
// each check settles those with a quick look before looking closer.
var lintChecks = []func(string) (LintFinding, bool){
	lintReserved, lintTooLong, lintWhitespace, lintControl, lintNonASCII, lintPlaceholder, lintGeneric,
}

// Lint returns the findings about identity, in the order of LintCodes, or
// nil when there are none. It never returns the shared finding.
func Lint(identity string) []LintFinding {
	var out []LintFinding
	for _, check := range lintChecks {
		if f, ok := check(identity); ok {
			out = append(out, f)
		}
	}
	return out
}

// lintFix is what to do about a finding of code with severity.
func lintFix(code, severity string) string {
	switch code {
	case LintReservedCharacters:
		if severity == SeverityNote {
			return "Nothing to change: percent-encode the @ (%40) wherever the identity goes into a URL."
		}
		return "Give new users identities of letters, digits and - . _ ~ only; percent-encode this one in every URL (REST paths, query strings, webhooks)."
	case LintTooLong:
		return "Use a short stable key (a user id) as the identity and keep the rest in the User's attributes."
	case LintWhitespace:
		return "Trim and collapse whitespace where identities are made, before creating the User or the token: otherwise one person can become two billed users."
	case LintControlCharacters:
		return "Strip control characters where identities are made: they come from unvalidated input and break URLs, logs and CSV files."
	case LintNonASCII:
		return "Normalise identities where they are made (NFC, no invisible characters, one script per identity): this one can look exactly like another user's."
	case LintPlaceholderBug:
		return "Fix the code that makes the identity: it is a bug's output, so every user it hits shares this one billed identity."
	case LintGeneric:
		return "Give each person an identity of their own (a stable user id); keep test and demo users in a separate Conversation Service or account."
	case LintShared:
		return "Give each person an identity of their own: a shared identity bills many people as one user (the bill understates real users: a compliance risk, not a saving) and their sessions conflict (read horizons, typing, notifications). A bot or integration is one user: then nothing to do."
	}
	return ""
}

func finding(code, severity, reason string) (LintFinding, bool) {
	return LintFinding{Code: code, Severity: severity, Reason: reason, Fix: lintFix(code, severity)}, true
}

// lintReserved: the reserved characters the identity holds. The one @ of
// an email address is a note: Twilio's own examples use email identities.
func lintReserved(identity string) (LintFinding, bool) {
	if !reservedBytes.in(identity) {
		return LintFinding{}, false
	}
	var found []string
	for i := 0; i < len(reservedCharacters); i++ {
		if strings.IndexByte(identity, reservedCharacters[i]) >= 0 {
			found = append(found, reservedCharacters[i:i+1])
		}
	}
	if isEmail(strings.TrimSpace(identity)) {
		if len(found) == 1 { // found is only "@": an email has one
			return finding(LintReservedCharacters, SeverityNote, "an @ in an email address, as in Twilio's own examples")
		}
		found = slices.DeleteFunc(found, func(c string) bool { return c == "@" })
		return finding(LintReservedCharacters, SeverityWarning,
			fmt.Sprintf("contains the URI-reserved %s %s besides the @ of an email address", plural(len(found), "character", "characters"), prose(found)))
	}
	return finding(LintReservedCharacters, SeverityWarning,
		fmt.Sprintf("contains the URI-reserved %s %s", plural(len(found), "character", "characters"), prose(found)))
}

func lintTooLong(identity string) (LintFinding, bool) {
	if len(identity) <= MaxIdentityLength { // bytes: never fewer than characters
		return LintFinding{}, false
	}
	n := utf8.RuneCountInString(identity)
	if n <= MaxIdentityLength {
		return LintFinding{}, false
	}
	return finding(LintTooLong, SeverityWarning,
		fmt.Sprintf("is %d characters long; Twilio allows %d for a participant identity", n, MaxIdentityLength))
}

// lintWhitespace: whitespace before or after the identity, or two
// whitespace characters in a row inside it.
func lintWhitespace(identity string) (LintFinding, bool) {
	if visibleASCII(identity) {
		return LintFinding{}, false
	}
	first, _ := utf8.DecodeRuneInString(identity)
	last, _ := utf8.DecodeLastRuneInString(identity)
	var where []string
	if unicode.IsSpace(first) {
		where = append(where, "leading")
	}
	if unicode.IsSpace(last) {
		where = append(where, "trailing")
	}
	inner := strings.TrimFunc(identity, unicode.IsSpace)
	previous := false
	for _, r := range inner {
		space := unicode.IsSpace(r)
		if space && previous {
			where = append(where, "doubled")
			break
		}
		previous = space
	}
	if where == nil {
		return LintFinding{}, false
	}
	return finding(LintWhitespace, SeverityWarning, "has "+prose(where)+" whitespace")
}

// lintControl: control characters (Unicode category Cc: C0, DEL, C1).
func lintControl(identity string) (LintFinding, bool) {
	if visibleASCII(identity) {
		return LintFinding{}, false
	}
	var found []string
	n := 0
	for _, r := range identity {
		if unicode.IsControl(r) {
			n++
			if code := codePoint(r); !slices.Contains(found, code) {
				found = append(found, code)
			}
		}
	}
	if n == 0 {
		return LintFinding{}, false
	}
	return finding(LintControlCharacters, SeverityWarning,
		fmt.Sprintf("contains %d control %s (%s)", n, plural(n, "character", "characters"), prose(firstFew(found))))
}

// lintNonASCII: characters that make an identity look like another one.
// Unicode's data decides, through Go's tables and golang.org/x/text: an
// invisible character (format characters such as zero-width spaces, joiners
// and direction marks; other default-ignorable code points; variation
// selectors), a compatibility form that NFKC folds into another character
// (fullwidth and mathematical letters, ligatures, a no-break space), letters
// of scripts that UTS #39 does not allow to mix (a Cyrillic а among Latin
// letters), or text not in NFC (the same letters encoded another way).
// Accented letters of one script (josé) are none of these.
func lintNonASCII(identity string) (LintFinding, bool) {
	if visibleASCII(identity) {
		return LintFinding{}, false
	}
	var reasons, invisible, compat []string
	scripts := map[string][]rune{} // the letters and digits of each script
	var order []string
	for _, r := range identity {
		if r < utf8.RuneSelf {
			if unicode.IsLetter(r) {
				scripts["Latin"] = appendNew(scripts["Latin"], r)
				order = appendNew(order, "Latin")
			}
			continue
		}
		switch {
		case isInvisible(r):
			invisible = appendNew(invisible, describe(r))
		case isCompatibilityForm(r):
			compat = appendNew(compat, describe(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if s := scriptOf(r); s != "" {
				scripts[s] = appendNew(scripts[s], r)
				order = appendNew(order, s)
			}
		}
	}
	if invisible != nil {
		reasons = append(reasons, "invisible "+prose(firstFew(invisible)))
	}
	if compat != nil {
		reasons = append(reasons, "compatibility "+plural(len(compat), "form", "forms")+" of other characters: "+prose(firstFew(compat)))
	}
	if !scriptsMayMix(order) {
		// Name the letters of the scripts other than the most used one.
		main := order[0]
		for _, s := range order {
			if len(scripts[s]) > len(scripts[main]) {
				main = s
			}
		}
		var odd []string
		for _, s := range order {
			if s != main {
				for _, r := range scripts[s] {
					odd = append(odd, describe(r))
				}
			}
		}
		reasons = append(reasons, "mixes "+prose(order)+" letters that can look alike: "+prose(firstFew(odd)))
	}
	if !norm.NFC.IsNormalString(identity) {
		reasons = append(reasons, "not in Unicode NFC: it looks the same as the identity written with composed characters")
	}
	if reasons == nil {
		return LintFinding{}, false
	}
	return finding(LintNonASCII, SeverityWarning, strings.Join(reasons, "; "))
}

// visibleASCII: s is only printable ASCII characters other than the space,
// as most identities are: then it has no whitespace, no control and no
// non-ASCII character.
func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// isInvisible: a character that renders as nothing.
func isInvisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// isCompatibilityForm: NFKC folds r into other characters, and NFC does
// not: a fullwidth or mathematical letter, a ligature, a no-break space.
func isCompatibilityForm(r rune) bool {
	var b [utf8.UTFMax]byte
	c := b[:utf8.EncodeRune(b[:], r)]
	return !norm.NFKC.IsNormal(c) && norm.NFC.IsNormal(c)
}

// commonScripts are looked up first: the scripts most identities are in.
var commonScripts = []string{"Latin", "Cyrillic", "Greek", "Han", "Arabic", "Hebrew", "Hiragana", "Katakana", "Hangul", "Devanagari", "Thai", "Armenian", "Georgian"}

// scriptOf names the Unicode script of r; "" for Common and Inherited,
// which every script uses.
func scriptOf(r rune) string {
	for _, s := range commonScripts {
		if unicode.Is(unicode.Scripts[s], r) {
			return s
		}
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			if name == "Common" || name == "Inherited" {
				return ""
			}
			return name
		}
	}
	return ""
}

// scriptsMayMix: the scripts of one identity's letters are one script, or
// one of the mixes UTS #39 allows at its "highly restrictive" level, which
// writing Japanese, Chinese or Korean next to Latin needs.
func scriptsMayMix(scripts []string) bool {
	if len(scripts) <= 1 {
		return true
	}
	for _, allowed := range [][]string{
		{"Latin", "Han", "Hiragana", "Katakana"},
		{"Latin", "Han", "Bopomofo"},
		{"Latin", "Han", "Hangul"},
	} {
		if !slices.ContainsFunc(scripts, func(s string) bool { return !slices.Contains(allowed, s) }) {
			return true
		}
	}
	return false
}

// The placeholder bugs: a missing value or an object turned into text,
// an empty identity, an unfilled template.
var (
	missingValues = []string{"undefined", "null", "none", "nil", "<nil>", "(null)"}
	// missingParts are the missing values that, as one part of an identity
	// ("user_undefined"), are still a bug; as they are written, since
	// "None" and "NaN" are words or names in other cases.
	missingParts = []string{"undefined", "null", "NULL", "None", "NaN"}
)

func lintPlaceholder(identity string) (LintFinding, bool) {
	s := strings.TrimSpace(identity)
	switch {
	case identity == "":
		return finding(LintPlaceholderBug, SeverityWarning, "is empty")
	case s == "":
		return finding(LintPlaceholderBug, SeverityWarning, "is blank: only whitespace")
	case s == "NaN" || slices.ContainsFunc(missingValues, func(v string) bool { return strings.EqualFold(s, v) }):
		return finding(LintPlaceholderBug, SeverityWarning, "is a missing value turned into text (undefined, null, None, NaN or nil)")
	case hasObjectText(s):
		return finding(LintPlaceholderBug, SeverityWarning, "holds a JavaScript object turned into text ([object Object])")
	}
	if syntax := unfilledTemplate(s); syntax != "" {
		return finding(LintPlaceholderBug, SeverityWarning, "holds an unfilled template placeholder ("+syntax+")")
	}
	if nBytes.in(s) && slices.ContainsFunc(missingParts, func(part string) bool { return hasPart(s, part) }) {
		return finding(LintPlaceholderBug, SeverityWarning, "has a missing value turned into text (undefined, null, None or NaN) as one of its parts")
	}
	return LintFinding{}, false
}

// hasObjectText: s holds "[object " in any case.
func hasObjectText(s string) bool {
	const object = "[object "
	i := strings.IndexByte(s, '[')
	return i >= 0 && len(s)-i >= len(object) && strings.EqualFold(s[i:i+len(object)], object)
}

// hasPart: part is one of the parts of s, between characters that are not
// letters or digits.
func hasPart(s, part string) bool {
	for from := 0; ; {
		i := strings.Index(s[from:], part)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(part)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		from = end
	}
}

// isWordRune: a letter or a digit (utf8.RuneError, at either end, is not).
func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// unfilledTemplate names the template syntax s holds unfilled, or "".
func unfilledTemplate(s string) string {
	if !templateBytes.in(s) {
		return ""
	}
	for _, t := range []struct{ open, close, syntax string }{
		{"{{", "}}", "{{...}}"},
		{"${", "}", "${...}"},
		{"#{", "}", "#{...}"},
		{"<%", "%>", "<%...%>"},
	} {
		if i := strings.Index(s, t.open); i >= 0 && strings.Contains(s[i+len(t.open):], t.close) {
			return t.syntax
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '{' || c == '<':
			closing := byte('}')
			if c == '<' {
				closing = '>'
			}
			end := strings.IndexByte(s[i+1:], closing)
			if end >= 0 && isTemplateName(s[i+1:i+1+end], c == '{') {
				return string(c) + "name" + string(closing)
			}
		case c == '$' && (i == 0 || !isAlnum(s[i-1])) && nameLength(s[i+1:]) > 0:
			return "$name"
		case c == '%' && i+1 < len(s):
			if n := printfVerb(s[i+1:]); n > 0 && (i+1+n == len(s) || !isAlnum(s[i+1+n])) {
				return "%" + string(s[i+n]) + " of printf"
			}
		}
	}
	return ""
}

// isTemplateName: the inside of {name}, {0}, {} (when braced) or <name>.
func isTemplateName(t string, braced bool) bool {
	if t == "" || allDigits(t) {
		return braced
	}
	return nameLength(t) == len(t)
}

// nameLength is the length of the name (a letter or _, then letters, digits,
// _ . -) at the start of s, or 0.
func nameLength(s string) int {
	if s == "" || !(isUpper(s[0]) || isLower(s[0]) || s[0] == '_') {
		return 0
	}
	n := 1
	for n < len(s) && (isAlnum(s[n]) || strings.IndexByte("_.-", s[n]) >= 0) {
		n++
	}
	return n
}

// printfVerb is the length of a printf verb after a %: flags, an argument
// index, a width and precision, then one of s d v i u f q x @; 0 if none.
func printfVerb(s string) int {
	n := 0
	for n < len(s) && (isDigit(s[n]) || strings.IndexByte("-+ #.$", s[n]) >= 0) {
		n++
	}
	if n < len(s) && strings.IndexByte("sdviufqx@", s[n]) >= 0 {
		return n + 1
	}
	return 0
}

// genericWords are names that many people, or test runs, end up sharing.
var genericWords = []string{"guest", "anonymous", "anon", "visitor", "test", "user", "admin", "demo"}

// lintGeneric: one generic word or two ("test_user"), in any case, with or
// without a short number (up to three digits) after them.
func lintGeneric(identity string) (LintFinding, bool) {
	s := strings.TrimSpace(identity)
	if len(s) > 24 {
		return LintFinding{}, false
	}
	digits := len(s)
	for digits > 0 && isDigit(s[digits-1]) {
		digits--
	}
	number := len(s) - digits
	if number > 3 {
		return LintFinding{}, false
	}
	words := strings.TrimRight(s[:digits], "-_. ")
	if number == 0 && len(words) != len(s) {
		return LintFinding{}, false
	}
	if !genericName(words, 2) {
		return LintFinding{}, false
	}
	reason := "is a generic name (guest, anonymous, test, user, admin, demo...) that many people share"
	if number > 0 {
		reason = "is a generic name (guest, anonymous, test, user, admin, demo...) with a short number, which many people share"
	}
	return finding(LintGeneric, SeverityWarning, reason)
}

// genericName: s is up to n generic words, in any case, run together or
// separated by one - _ . or space.
func genericName(s string, n int) bool {
	if n == 0 {
		return false
	}
	for _, w := range genericWords {
		if len(s) < len(w) || !strings.EqualFold(s[:len(w)], w) {
			continue
		}
		rest := s[len(w):]
		if rest == "" {
			return true
		}
		if strings.IndexByte("-_. ", rest[0]) >= 0 {
			rest = rest[1:]
		}
		if genericName(rest, n-1) {
			return true
		}
	}
	return false
}

// SharedSignals are the numbers that make an identity's month unlike one
// person's (hygiene_shared.sql).
type SharedSignals struct {
	// Conversations the identity took part in during the month, and the
	// account's 99.9th percentile of that count; 0 when this signal did
	// not fire.
	Conversations, Percentile999 int
	// AtOnce is the most conversations it wrote messages in within one
	// window, from AtOnceFrom to AtOnceTo; 0 when this signal did not fire.
	AtOnce               int
	AtOnceFrom, AtOnceTo time.Time
}

// The thresholds of the shared finding (see hygiene_shared.sql).
const (
	// SharedMinConversations is the fewest conversations in a month that
	// can make an identity shared, however small the account.
	SharedMinConversations = 50
	// SharedPercentileFactor: a shared identity takes part in at least this
	// many times as many conversations as the account's 99.9th percentile.
	SharedPercentileFactor = 3
	// OverlapConversations is how many conversations an identity writes
	// in within one five-minute window (subject_months.sql) that no one
	// person does.
	OverlapConversations = 10
)

// SharedFinding words the shared finding of an identity's signals.
func SharedFinding(s SharedSignals) LintFinding {
	var reasons []string
	if s.Conversations > 0 {
		reasons = append(reasons, fmt.Sprintf("took part in %d conversations this month, more than %d times the account's 99.9th percentile (%d)",
			s.Conversations, SharedPercentileFactor, s.Percentile999))
	}
	if s.AtOnce > 0 {
		reasons = append(reasons, fmt.Sprintf("wrote in %d conversations between %s and %s UTC",
			s.AtOnce, s.AtOnceFrom.UTC().Format("2006-01-02 15:04"), s.AtOnceTo.UTC().Format("15:04")))
	}
	f, _ := finding(LintShared, SeverityWarning, strings.Join(reasons, "; "))
	return f
}

// describe writes a character as its code point and Unicode name:
// "U+0430 CYRILLIC SMALL LETTER A".
func describe(r rune) string {
	return codePoint(r) + " " + runenames.Name(r)
}

func codePoint(r rune) string { return fmt.Sprintf("U+%04X", r) }

// prose joins items as prose: "a", "a and b", "a, b and c".
func prose(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// firstFew keeps three items and says how many more there were.
func firstFew(items []string) []string {
	if len(items) <= 3 {
		return items
	}
	return append(items[:3:3], strconv.Itoa(len(items)-3)+" more")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// appendNew appends v to list unless list holds it.
func appendNew[T comparable](list []T, v T) []T {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
