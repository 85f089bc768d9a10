//go:build ignore

// lint_gen writes lint.tsv, the labelled identity set the lint test
// measures precision and recall on, per finding. Each line is
// "labels<TAB>category<TAB>identity": labels are the finding codes the
// identity was made to carry, comma-separated ("-" for none; a note is
// "code:note"), and the identity is a Go string literal, since some hold
// tabs, control and invisible characters. The labels come from how each
// identity was made (a clean identity, then the defects added to it),
// never from the linter. It is deterministic: rerunning it rewrites the
// same file.
//
//	go run analysis/testdata/lint_gen.go > analysis/testdata/lint.tsv
package main

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var rng = rand.New(rand.NewPCG(13, 2026))

const (
	reserved = "reserved-characters"
	note     = "reserved-characters:note"
	tooLong  = "too-long"
	space    = "whitespace"
	control  = "control-characters"
	nonASCII = "non-ascii"
	bug      = "placeholder-bug"
	generic  = "generic"
)

type labelled struct {
	id     string
	labels []string
}

func main() {
	seen := map[string]bool{}
	fmt.Println("labels\tcategory\tidentity")
	w := func(category string, n int, make func(i int) labelled) {
		for i := range n {
			l := make(i)
			if seen[l.id] {
				continue
			}
			seen[l.id] = true
			slices.Sort(l.labels)
			labels := strings.Join(slices.Compact(l.labels), ",")
			if labels == "" {
				labels = "-"
			}
			fmt.Printf("%s\t%s\t%s\n", labels, category, strconv.Quote(l.id))
		}
	}

	// Clean: what applications write, and the near misses of each rule.
	w("hard-negative", len(hardNegatives), func(i int) labelled { return labelled{id: hardNegatives[i]} })
	w("name", 120, func(i int) labelled { return labelled{id: name(i)} })
	w("numbered", 100, func(i int) labelled { return labelled{id: numbered(i)} })
	w("random", 60, func(i int) labelled { return labelled{id: randomID(i)} })
	w("accented", len(accented)*3, func(i int) labelled { return labelled{id: variant(accented[i%len(accented)], i/len(accented))} })
	w("one-script", len(oneScript), func(i int) labelled { return labelled{id: oneScript[i]} })
	w("generic-near-miss", 80, func(i int) labelled { return labelled{id: genericNearMiss(i)} })
	w("template-near-miss", len(templateNearMisses), func(i int) labelled { return templateNearMisses[i] })
	w("length-256", 10, func(i int) labelled { return labelled{id: longToken(256)} })
	w("single-inner-space", 30, func(i int) labelled {
		return labelled{id: title(first[i%len(first)]) + " " + title(last[(i*5)%len(last)])}
	})

	// Notes: an email's one @.
	w("email", 120, func(i int) labelled { return labelled{id: email(i), labels: []string{note}} })

	// One defect each.
	w("reserved", 140, func(i int) labelled { return labelled{id: withReserved(i), labels: []string{reserved}} })
	w("reserved-in-email", 30, func(i int) labelled {
		local, domain, _ := strings.Cut(email(i+7), "@")
		return labelled{id: local + string("!*'&=+$,"[i%8]) + pick("x", "news", "o", "1")[i%4] + "@" + domain, labels: []string{reserved}}
	})
	w("at-not-email", 30, func(i int) labelled {
		return labelled{id: first[i%len(first)] + "@" + pick("internal", "localhost", "crm", "host-7")[i%4], labels: []string{reserved}}
	})
	w("too-long", 60, func(i int) labelled {
		if i%2 == 0 {
			return labelled{id: longToken(257 + rng.IntN(400)), labels: []string{tooLong}}
		}
		return labelled{id: longWords(257 + rng.IntN(200)), labels: []string{tooLong}}
	})
	w("whitespace", 140, func(i int) labelled { return labelled{id: withWhitespace(i), labels: []string{space}} })
	w("control", 120, func(i int) labelled { return labelled{id: withControl(i), labels: []string{control}} })
	w("control-and-whitespace", 30, func(i int) labelled {
		return labelled{id: name(i) + pick("\r\n", "\n", "\r", "\t")[i%4], labels: []string{control, space}}
	})
	w("confusable", 120, func(i int) labelled { return labelled{id: withLookalike(i), labels: []string{nonASCII}} })
	w("invisible", 80, func(i int) labelled { return labelled{id: withInvisible(i), labels: []string{nonASCII}} })
	w("compatibility", 60, func(i int) labelled { return labelled{id: withCompatibility(i), labels: []string{nonASCII}} })
	w("decomposed", 30, func(i int) labelled {
		return labelled{id: norm.NFD.String(variant(decomposable[i%len(decomposable)], i/len(decomposable))), labels: []string{nonASCII}}
	})
	w("placeholder-value", 15, func(i int) labelled { return placeholderValue(i) })
	w("placeholder-part", 100, func(i int) labelled {
		return labelled{id: pick("user_", "guest-", "customer.", "acct_", "u-")[i%5] + missingParts[i/5%len(missingParts)] + pick("", "_web", "-2", ".x")[i/25%4], labels: []string{bug}}
	})
	w("template", 120, func(i int) labelled { return template(i) })
	w("generic", 160, func(i int) labelled { return labelled{id: genericID(i), labels: []string{generic}} })

	// Two defects.
	w("generic-and-whitespace", 30, func(i int) labelled {
		return labelled{id: pick(" ", "", "  ")[i%3] + genericID(i+3) + pick("", " ", " ")[i%3], labels: []string{generic, space}}
	})
	w("email-with-lookalike", 30, func(i int) labelled {
		local, domain, _ := strings.Cut(email(i+40), "@")
		return labelled{id: lookalike(local, i) + "@" + domain, labels: []string{note, nonASCII}}
	})
	w("email-with-whitespace", 30, func(i int) labelled {
		return labelled{id: pick(" ", "", " ")[i%3] + email(i+60) + pick("", " ", " ")[i%3], labels: []string{note, space}}
	})
}

func pick(s ...string) []string { return s }

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

var (
	first = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
		"mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "amir",
		"fatima", "kofi", "mei", "sven", "zoe", "ana", "li", "ngozi", "priya", "yusuf", "oscar", "pavel"}
	last = []string{"smith", "patel", "garcia", "nguyen", "fischer", "okafor", "kowalski", "tanaka",
		"mcallister", "obrien", "schmidt", "dubois", "rossi", "haddad", "johansson", "silva", "kim", "cooper"}
	domains = []string{"example.com", "mail.example.org", "corp.example.co.uk", "gmail.com", "example.de"}
	// hardNegatives look like findings and are not.
	hardNegatives = []string{"josé", "user_2024", "test-automation-42", "guestbook-admin", "customer-10442",
		"zoë", "françois", "müller", "łukasz", "søren", "núñez", "testing", "users", "username", "demolition",
		"anonymously", "admiral", "guesthouse-7", "user_10000", "test12345", "demo-day-2026", "admin-panel-sync",
		"support", "sales-team", "nullable-field", "none-of-the-above", "nancy", "Nan", "nil.smith", "undefinedness",
		"crm-sync", "agent-07", "x86_64-linux-gnu", "v2.3.1-beta", "2026-10-31", "alice🚀", "🦄", "tanaka_田中",
		"kim_김민수", "li_wei_李伟", "{0f8fad5b-d9cb-469f-a165-70867728950e}", "ORD-2024-000042", "team_emea~west",
		"ios.app.user.12345", "50-percent", "cash-only", "hash-tag", "ampersand", "equals", "plus-one"}
	accented  = []string{"josé", "zoë", "françois", "müller", "łukasz", "søren", "núñez", "renée", "çelik", "dvořák", "åsa", "gökhan"}
	oneScript = []string{"Иван", "Сергей", "наталья", "Ольга.Петрова", "Αλέξανδρος", "ελένη", "محمد", "فاطمة", "דוד", "山田太郎",
		"たなか", "タナカ", "김민수", "สมชาย", "राहुल", "Գագիկ", "ნინო", "иван_2024", "мария-88", "Ἀθηνᾶ"}
	// Braces, dollars and percents that are no template.
	templateNearMisses = []labelled{{id: "a{b"}, {id: "price}"}, {id: "{-1-}"}, {id: "<3"}, {id: "set{1-2}"},
		{id: "50%off", labels: []string{reserved}}, {id: "100%", labels: []string{reserved}},
		{id: "cash$", labels: []string{reserved}}, {id: "us$5", labels: []string{reserved}},
		{id: "x%y", labels: []string{reserved}}, {id: "40%-discount", labels: []string{reserved}}}
	// decomposable are the accented names NFD writes another way.
	decomposable = []string{"josé", "zoë", "françois", "müller", "núñez", "renée", "çelik", "dvořák", "åsa", "gökhan"}
)

func name(i int) string {
	f, l := first[i%len(first)], last[(i*7)%len(last)]
	return pick(f, f+"."+l, f+"_"+l, title(f)+title(l), f+"-"+l, f+fmt.Sprint(1950+i%70))[i%6]
}

func email(i int) string {
	f, l := first[i%len(first)], last[(i*11)%len(last)]
	local := pick(f+"."+l, f, f[:1]+l, f+"_"+l+fmt.Sprint(i%90+10), l+"."+f)[i%5]
	return local + "@" + domains[(i*3)%len(domains)]
}

func numbered(i int) string {
	n := 1000 + rng.IntN(1_000_000)
	return pick(fmt.Sprintf("user_%d", n), fmt.Sprintf("customer-%d", n), fmt.Sprintf("crm-customer-%05d", n%100_000),
		fmt.Sprintf("acct.%d", n), fmt.Sprintf("emp-%d", n), fmt.Sprint(n))[i%6]
}

func randomID(i int) string {
	b := make([]byte, 16)
	for j := range b {
		b[j] = byte(rng.UintN(256))
	}
	h := fmt.Sprintf("%x", b)
	uuid := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	return pick("guest-"+uuid, uuid, "visitor_"+h, base64.RawURLEncoding.EncodeToString(b))[i%4]
}

// variant writes s as it is, capitalised or with a suffix.
func variant(s string, v int) string {
	switch v % 3 {
	case 1:
		r, n := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(r)) + s[n:]
	case 2:
		return s + "." + last[v%len(last)]
	}
	return s
}

func longToken(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func longWords(n int) string {
	var parts []string
	length := -1
	for length < n {
		w := last[rng.IntN(len(last))]
		parts = append(parts, w)
		length += len(w) + 1
	}
	return strings.Join(parts, "-")[:n]
}

// withReserved puts one or two reserved characters (never @) where
// applications do: in names, departments, tickets.
func withReserved(i int) string {
	f, l := first[i%len(first)], last[(i*3)%len(last)]
	n := fmt.Sprint(rng.IntN(1000))
	return pick("o'"+l, f+"&"+l, "team:"+l, "acme/"+f, f+"("+l+")", f+"="+l, "dept;"+n, "ticket#"+n,
		n+"%", f+"+"+l, "sales,"+f, "why?"+f, f+"*", "["+f+"]", f+"!", f+"!!"+l, "us$"+n, f+"/"+l+"/"+n)[i%18]
}

func withWhitespace(i int) string {
	base := name(i + 11)
	switch i % 5 {
	case 0:
		return " " + base
	case 1:
		return base + " "
	case 2:
		return "  " + base + " "
	case 3:
		return title(first[i%len(first)]) + "  " + title(last[i%len(last)])
	}
	return base + "   "
}

// controlCharacters are control characters that are not whitespace.
var controlCharacters = []rune{0x01, 0x02, 0x07, 0x08, 0x0e, 0x1b, 0x1f, 0x7f, 0x80, 0x9b, 0x9f}

func withControl(i int) string {
	base := name(i + 23)
	c := string(controlCharacters[i%len(controlCharacters)])
	switch i % 4 {
	case 0:
		return base + c
	case 1:
		return c + base
	case 2:
		return base[:1] + "\t" + base[1:]
	}
	return base[:2] + c + base[2:]
}

// lookalikes are letters of other scripts that look like Latin ones.
var lookalikes = map[byte][]rune{
	'a': {'а', 'ɑ'}, 'e': {'е'}, 'o': {'о', 'ο'}, 'p': {'р', 'ρ'}, 'c': {'с'}, 'x': {'х', 'χ'},
	'y': {'у'}, 'i': {'і', 'ι'}, 's': {'ѕ'}, 'j': {'ј'}, 'v': {'ν'},
}

// lookalike swaps one letter of s for a lookalike of another script.
func lookalike(s string, i int) string {
	var at []int
	for j := 0; j < len(s); j++ {
		if r := lookalikes[s[j]]; r != nil && r[0] != 'ɑ' {
			at = append(at, j)
		}
	}
	j := at[i%len(at)]
	subs := lookalikes[s[j]]
	sub := subs[i%len(subs)]
	if sub == 'ɑ' { // Latin alpha is Latin: no script mix
		sub = 'а'
	}
	return s[:j] + string(sub) + s[j+1:]
}

func withLookalike(i int) string {
	for {
		base := name(i)
		if strings.ContainsAny(base, "aeopcxyisjv") && strings.IndexFunc(base, unicode.IsDigit) < 0 {
			return lookalike(base, i)
		}
		i++
	}
}

var invisible = []rune{0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x00ad, 0x202e, 0x180e, 0x3164}

func withInvisible(i int) string {
	base := name(i + 5)
	z := string(invisible[i%len(invisible)])
	switch i % 3 {
	case 0:
		return base + z
	case 1:
		return z + base
	}
	return base[:2] + z + base[2:]
}

// withCompatibility writes one character or all of them as a compatibility
// form: fullwidth, mathematical bold, a ligature, a no-break space.
func withCompatibility(i int) string {
	base := first[i%len(first)]
	switch i % 4 {
	case 0:
		var b strings.Builder
		for _, r := range base {
			b.WriteRune(r - 'a' + 'ａ')
		}
		return b.String()
	case 1:
		return string('𝐚'+rune(base[0]-'a')) + base[1:]
	case 2:
		return base + "\u00a0" + title(last[i%len(last)]) // a no-break space
	}
	return "ﬁ" + base + "ld" // the fi ligature
}

var missingParts = []string{"undefined", "null", "NULL", "None", "NaN"}

func placeholderValue(i int) labelled {
	switch v := pick("undefined", "null", "None", "nil", "NaN", "NULL", "Null", "UNDEFINED", "none",
		"[object Object]", "(null)", "<nil>", "", " ", "   ")[i%15]; v {
	case "[object Object]", "(null)":
		return labelled{id: v, labels: []string{bug, reserved}}
	case " ", "   ":
		return labelled{id: v, labels: []string{bug, space}}
	default:
		return labelled{id: v, labels: []string{bug}}
	}
}

func template(i int) labelled {
	f := pick("user_id", "userId", "id", "email", "user.email", "identity", "USER_ID", "name")[i%8]
	switch i % 10 {
	case 0:
		return labelled{id: "{{" + f + "}}", labels: []string{bug}}
	case 1:
		return labelled{id: "user_{{ " + f + " }}", labels: []string{bug}}
	case 2:
		return labelled{id: "${" + f + "}", labels: []string{bug, reserved}}
	case 3:
		return labelled{id: "guest-#{" + f + "}", labels: []string{bug, reserved}}
	case 4:
		return labelled{id: "{" + f + "}", labels: []string{bug}}
	case 5:
		return labelled{id: pick("user-%s", "%d", "customer_%v", "%s@example.com")[i/10%4], labels: []string{bug, reserved}}
	case 6:
		return labelled{id: "<" + f + ">", labels: []string{bug}}
	case 7:
		return labelled{id: "<%= " + f + " %>", labels: []string{bug, reserved}}
	case 8:
		return labelled{id: "user-{" + fmt.Sprint(i%3) + "}", labels: []string{bug}}
	}
	return labelled{id: "$" + strings.ToUpper(strings.ReplaceAll(f, ".", "_")), labels: []string{bug, reserved}}
}

var genericWords = []string{"guest", "anonymous", "anon", "visitor", "test", "user", "admin", "demo"}

// genericID is one generic word or two, in some case, with or without a
// number of up to three digits.
func genericID(i int) string {
	w := genericWords[i%len(genericWords)]
	if i%3 == 0 {
		w += pick("", "_", "-", ".")[i%4] + genericWords[(i/3)%len(genericWords)]
	}
	switch i % 4 {
	case 1:
		w = title(w)
	case 2:
		w = strings.ToUpper(w)
	}
	if i%2 == 1 {
		w += pick("", "_", "-", " ")[i/2%4] + fmt.Sprint(rng.IntN([]int{10, 100, 1000}[i%3]))
	}
	return w
}

// genericNearMiss: a generic word with a long number, with another word,
// or inside a word.
func genericNearMiss(i int) string {
	w := genericWords[i%len(genericWords)]
	switch i % 4 {
	case 0:
		return w + pick("_", "-", "")[i%3] + fmt.Sprint(1000+rng.IntN(100_000))
	case 1:
		return w + "-" + pick("automation", "book", "house", "panel", "team", "sync")[i%6]
	case 2:
		return pick("my", "guestbook-", "the-", "super")[i%4] + w + pick("s", "ing", "er", "hub")[i%4]
	}
	return last[i%len(last)] + "-" + w + "-" + fmt.Sprint(1000+rng.IntN(9000))
}
