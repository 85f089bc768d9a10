package analysis

import (
	"strconv"
	"strings"
)

// Shape is an identity reduced to its pattern: the parts an application
// generates become placeholders, the parts it writes literally stay, so
// "guest-0f8fad5b-d9cb-469f-a165-70867728950e" has the shape "guest-{uuid}"
// and "user_1042" the shape "user_{int}". Random is the verdict: the
// identity carries a generated random part (a UUID, a ULID, a hex, base64
// or other high-entropy token), so each session or install is likely to be
// a new user. An email, a phone number, a number or a plain name is never
// random.
type Shape struct {
	Pattern string `json:"shape"`
	Random  bool   `json:"random"`
	Reason  string `json:"reason"`
}

// The placeholders a shape can hold, and what each says about an identity.
const (
	phUUID  = "{uuid}"
	phULID  = "{ulid}"
	phB64   = "{base64}"
	phToken = "{token}"
	phInt   = "{int}"
	phEmail = "{email}"
	phE164  = "{e164}"
	phName  = "{name}"
	// phHexPrefix starts a hex token's placeholder, which ends with its
	// length: {hex32}.
	phHexPrefix = "{hex"
)

// Thresholds of the random verdict. A generated token shorter than these
// cannot be told from a short handle ("x7kp2") and is taken as stable.
const (
	minHex   = 8  // hex digits, letters and digits alternating at least twice
	minToken = 12 // characters of a base62/base36 token within one segment
	minRun   = 20 // characters of a base64/base64url token spanning - _ + / =
)

// ShapeOf reduces an identity (or an address) to its shape and verdict.
func ShapeOf(identity string) Shape {
	pattern := patternOf(identity)
	random, reason := verdict(pattern)
	return Shape{pattern, random, reason}
}

// patternOf is an identity's shape pattern, e.g. guest-{uuid}.
func patternOf(identity string) string {
	s := strings.TrimSpace(identity)
	if channel, _, ok := phoneNumber(s); ok {
		if channel != "" {
			return channel + ":" + phE164
		}
		return phE164
	}
	if isEmail(s) {
		return phEmail
	}
	var b strings.Builder
	for _, part := range splitUUIDs(s) {
		if part.placeholder != "" {
			b.WriteString(part.placeholder)
			continue
		}
		b.WriteString(shapeRuns(part.text))
	}
	pattern := b.String()
	if _, reason := verdict(pattern); reason == reasonName {
		return phName // no placeholder: only words, which are the person's
	}
	return pattern
}

const reasonName = "plain name"

// verdict says whether a shape pattern is random, and why: it depends on the
// pattern alone, so the analysis can judge a few distinct patterns rather
// than every identity.
func verdict(pattern string) (random bool, reason string) {
	for _, r := range randomReasons {
		if strings.Contains(pattern, r.placeholder) {
			return true, r.reason
		}
	}
	switch {
	case strings.Contains(pattern, phE164):
		return false, "phone number"
	case pattern == phEmail:
		return false, "email address"
	case strings.Contains(pattern, phInt):
		return false, "numeric id"
	}
	return false, reasonName
}

// randomReasons names each random placeholder, in the order a verdict
// reports them when an identity holds several.
var randomReasons = []struct{ placeholder, reason string }{
	{phUUID, "UUID"},
	{phULID, "ULID"},
	{phHexPrefix, "hex token"},
	{phB64, "base64 token"},
	{phToken, "high-entropy token"},
}

// phoneNumber reports whether s is a phone number in E.164 (a leading + or
// 00, 8 to 15 digits, spaces, dots, dashes and brackets allowed), optionally
// after a channel prefix (whatsapp:, messenger:...); with the channel and
// the digits.
func phoneNumber(s string) (channel, digits string, ok bool) {
	number := s
	if i := strings.IndexByte(s, ':'); i > 0 {
		for j := 0; j < i; j++ {
			if !isLower(s[j]) {
				return "", "", false
			}
		}
		channel, number = s[:i], s[i+1:]
	}
	switch {
	case strings.HasPrefix(number, "+"):
		number = number[1:]
	case strings.HasPrefix(number, "00"):
		number = number[2:]
	default:
		return "", "", false
	}
	var b strings.Builder
	for i := 0; i < len(number); i++ {
		c := number[i]
		switch {
		case isDigit(c):
			b.WriteByte(c)
		case strings.IndexByte(" ().-", c) < 0:
			return "", "", false
		}
	}
	return channel, b.String(), b.Len() >= 8 && b.Len() <= 15
}

// isEmail: one @, a local part without spaces, and a domain of dotted
// labels (letters, digits, dashes) ending in a label of two letters or more.
func isEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.ContainsAny(local, " \t") || strings.IndexByte(domain, '.') < 0 {
		return false
	}
	labels := strings.Split(domain, ".")
	for _, l := range labels {
		if l == "" {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !isUpper(tld[i]) && !isLower(tld[i]) {
			return false
		}
	}
	return true
}

type shapePart struct{ text, placeholder string }

// splitUUIDs cuts s around its UUIDs (8-4-4-4-12 hex digits, any
// version), which are placeholders already.
func splitUUIDs(s string) []shapePart {
	var parts []shapePart
	last := 0
	for i := 0; i+36 <= len(s); i++ {
		if isUUID(s[i : i+36]) {
			parts = append(parts, shapePart{s[last:i], ""}, shapePart{"", phUUID})
			i += 35
			last = i + 1
		}
	}
	return append(parts, shapePart{s[last:], ""})
}

func isUUID(t string) bool {
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if t[i] != '-' {
				return false
			}
		default:
			if !isHexDigit(t[i]) {
				return false
			}
		}
	}
	return true
}

func isHexDigit(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// isRunByte: the base64 and base64url alphabets with padding.
func isRunByte(c byte) bool { return isAlnum(c) || strings.IndexByte("+/_=-", c) >= 0 }

// shapeRuns replaces the runs of base64-alphabet characters (minRun or
// longer) of s that are random tokens, then shapes the segments between
// delimiters.
func shapeRuns(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isRunByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isRunByte(s[j]) {
			j++
		}
		if j-i >= minRun {
			b.WriteString(shapeSegments(s[last:i]))
			b.WriteString(shapeRun(s[i:j]))
			last = j
		}
		i = j
	}
	b.WriteString(shapeSegments(s[last:]))
	return b.String()
}

// wordPrefix is the length of a leading word and its - or _ ("session_"),
// or 0; wordSuffix the same at the end ("-web").
func wordPrefix(s string) int {
	i := 0
	for i < len(s) && (isUpper(s[i]) || isLower(s[i])) {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '-' || s[i] == '_') {
		return i + 1
	}
	return 0
}

func wordSuffix(s string) int {
	i := len(s)
	for i > 0 && (isUpper(s[i-1]) || isLower(s[i-1])) {
		i--
	}
	if i < len(s) && i > 0 && (s[i-1] == '-' || s[i-1] == '_') {
		return len(s) - i + 1
	}
	return 0
}

// shapeRun shapes one run of base64-alphabet characters: a literal word
// with - or _ at either end is kept when the rest is a token.
func shapeRun(run string) string {
	prefix, core, suffix := "", run, ""
	for {
		if n := wordPrefix(core); n > 0 && len(core)-n >= minRun && tokenPlaceholder(core[n:], true) != "" {
			prefix, core = prefix+core[:n], core[n:]
			continue
		}
		if n := wordSuffix(core); n > 0 && len(core)-n >= minRun && tokenPlaceholder(core[:len(core)-n], true) != "" {
			core, suffix = core[:len(core)-n], core[len(core)-n:]+suffix
			continue
		}
		break
	}
	if ph := tokenPlaceholder(core, true); ph != "" {
		return shapeSegments(prefix) + ph + shapeSegments(suffix)
	}
	return shapeSegments(run)
}

// shapeSegments shapes the alphanumeric segments of s, keeping delimiters.
func shapeSegments(s string) string {
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start >= 0 {
			seg := s[start:end]
			if ph := tokenPlaceholder(seg, false); ph != "" {
				b.WriteString(ph)
			} else if allDigits(seg) {
				b.WriteString(phInt)
			} else {
				b.WriteString(seg)
			}
			start = -1
		}
	}
	for i := 0; i < len(s); i++ {
		if isAlnum(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		b.WriteByte(s[i])
	}
	flush(len(s))
	return b.String()
}

// tokenPlaceholder is the placeholder of a random token, or "" if t is not
// one. A run may hold base64 symbols (+ / _ - =); a segment is alphanumeric.
func tokenPlaceholder(t string, run bool) string {
	switch {
	case isHex(t):
		return phHexPrefix + strconv.Itoa(len(t)) + "}"
	case isULID(t):
		return phULID
	case run && len(t) >= minRun && highEntropy(t):
		if strings.ContainsAny(t, "+/=_-") {
			return phB64
		}
		return phToken
	case !run && len(t) >= minToken && highEntropy(t):
		return phToken
	}
	return ""
}

func isHex(t string) bool {
	if len(t) < minHex {
		return false
	}
	lower, upper, digits, switches := 0, 0, 0, 0
	for i := 0; i < len(t); i++ {
		if i > 0 && isDigit(t[i]) != isDigit(t[i-1]) {
			switches++
		}
		switch c := t[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'f':
			lower++
		case c >= 'A' && c <= 'F':
			upper++
		default:
			return false
		}
	}
	// One case only ("DeadBeef2" is no hex dump), and digits among the
	// letters, not only after them ("deadbeef2024" is a word and a year).
	return digits > 0 && (lower > 0) != (upper > 0) && switches >= 2
}

// isULID: 26 characters of Crockford's base32 (no I, L, O, U), the first
// 0-7 (a 48-bit timestamp), one letter case, with letters and digits.
func isULID(t string) bool {
	if len(t) != 26 || t[0] < '0' || t[0] > '7' {
		return false
	}
	lower, upper, digits := 0, 0, 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'A' && c <= 'Z' && !strings.ContainsRune("ILOU", rune(c)):
			upper++
		case c >= 'a' && c <= 'z' && !strings.ContainsRune("ilou", rune(c)):
			lower++
		default:
			return false
		}
	}
	return digits > 0 && (lower > 0) != (upper > 0)
}

// highEntropy tells a generated token from words and numbers by how its
// characters alternate. Over its letters and digits (symbols are skipped),
// any of:
//   - letters and digits interleave: at least 3 switches between a letter
//     and a digit, and one every 8 characters ("k3j9x0q2m7v1" yes,
//     "alice2024smith" and "JohnSmith1985London" no);
//   - capitals come in pairs and the case switches every third character
//     ("iRYFylBwZmaTzMvV" yes; camel case "JohnMcAllister" has single
//     capitals, "OReillyMedia" switches too rarely);
//   - 16 characters or more with 7 consonants in a row, a word starting
//     at each capital after a small letter ("vjmxcqbr60ptsbmvr" yes,
//     "donaudampfschiffahrt" has at most 6).
func highEntropy(t string) bool {
	n, letterDigit, caseSwitch, upperUpper, consonants, maxConsonants := 0, 0, 0, 0, 0, 0
	var prev byte
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !isAlnum(c) {
			consonants = 0
			continue
		}
		if n > 0 {
			switch {
			case isDigit(c) != isDigit(prev):
				letterDigit++
			case isUpper(c) && isUpper(prev):
				upperUpper++
			case isUpper(c) != isUpper(prev):
				caseSwitch++
			}
		}
		switch {
		case isDigit(c) || strings.IndexByte("aeiouyAEIOUY", c) >= 0:
			consonants = 0
		case isUpper(c) && isLower(prev):
			consonants = 1
		default:
			consonants++
		}
		maxConsonants = max(maxConsonants, consonants)
		prev = c
		n++
	}
	return letterDigit >= 3 && letterDigit*8 >= n ||
		upperUpper >= 1 && caseSwitch*3 >= n ||
		n >= 16 && maxConsonants >= 7
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlnum(c byte) bool { return isDigit(c) || isUpper(c) || isLower(c) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// DuplicateKey is what two subjects share when they are the same person
// written two ways: surrounding spaces and letter case are dropped, an
// email loses its +tag, and a phone number (identity or address, with or
// without a channel prefix and formatting) becomes + and its digits. The
// key is personal data: outputs redact it.
func DuplicateKey(subject string) string {
	s := strings.TrimSpace(subject)
	if _, digits, ok := phoneNumber(s); ok {
		return "+" + digits
	}
	s = strings.ToLower(s)
	if isEmail(s) {
		local, domain, _ := strings.Cut(s, "@")
		local, _, _ = strings.Cut(local, "+")
		return local + "@" + domain
	}
	return s
}

// MapShapeLiterals applies f to every literal word of a shape, leaving
// placeholders and delimiters: redaction uses it, since an application's
// prefix can be a person's name ("john.smith.{int}").
func MapShapeLiterals(pattern string, f func(string) string) string {
	var b strings.Builder
	for pattern != "" {
		if pattern[0] == '{' {
			if end := strings.IndexByte(pattern, '}'); end > 0 {
				b.WriteString(pattern[:end+1])
				pattern = pattern[end+1:]
				continue
			}
		}
		end := 0
		for end < len(pattern) && isAlnum(pattern[end]) {
			end++
		}
		if end == 0 {
			b.WriteByte(pattern[0])
			pattern = pattern[1:]
			continue
		}
		b.WriteString(f(pattern[:end]))
		pattern = pattern[end:]
	}
	return b.String()
}
