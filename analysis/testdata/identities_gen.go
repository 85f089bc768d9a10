//go:build ignore

// identities_gen writes identities.tsv, the labelled identity set the
// random-verdict test measures precision and recall on. Each line is
// "label<TAB>category<TAB>identity"; the label comes from how the identity
// was made (a random generator, or a name, email, phone number, number or
// word written the way applications write them), never from the classifier.
// It is deterministic: rerunning it rewrites the same file.
//
//	go run analysis/testdata/identities_gen.go > analysis/testdata/identities.tsv
package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
)

var rng = rand.New(rand.NewPCG(5, 2026))

func main() {
	seen := map[string]bool{}
	w := func(label, category string, n int, make func(i int) string) {
		for i := range n {
			if id := make(i); !seen[id] { // names and words repeat: keep each identity once
				seen[id] = true
				fmt.Fprintf(os.Stdout, "%s\t%s\t%s\n", label, category, id)
			}
		}
	}
	fmt.Println("label\tcategory\tidentity")

	// Random: what SDK samples and session code generate.
	w("random", "uuid4", 60, func(int) string { return uuid(4, false) })
	w("random", "uuid4-prefixed", 80, func(i int) string {
		return pick("guest-", "anon:", "visitor_", "device-", "tmp/", "web-guest-", "chat.")[i%7:][0] + uuid(4, false)
	})
	w("random", "uuid-upper", 20, func(int) string { return strings.ToUpper(uuid(4, false)) })
	w("random", "uuid1", 20, func(int) string { return uuid(1, false) })
	w("random", "uuid7", 20, func(i int) string { return pick("", "session-")[i%2] + uuid(7, false) })
	w("random", "uuid-braced", 10, func(int) string { return "{" + uuid(4, false) + "}" })
	w("random", "hex32", 40, func(i int) string { return pick("", "anon:", "u_")[i%3] + hexToken(16) })
	w("random", "hex16", 30, func(i int) string { return pick("", "sess_", "visitor-")[i%3] + hexToken(8) })
	w("random", "hex24", 20, func(i int) string { return pick("", "oid:")[i%2] + hexToken(12) })
	w("random", "hex40", 20, func(int) string { return hexToken(20) })
	w("random", "hex64", 20, func(i int) string { return pick("", "sha256:")[i%2] + hexToken(32) })
	w("random", "hex12-prefixed", 20, func(i int) string { return pick("guest-", "tmp_")[i%2] + hexToken(6) })
	w("random", "hex-upper", 20, func(int) string { return strings.ToUpper(hexToken(16)) })
	w("random", "ulid", 40, func(i int) string {
		if i%4 == 0 {
			return strings.ToLower(ulid())
		}
		return pick("", "anon-")[i%2] + ulid()
	})
	w("random", "base64", 40, func(i int) string { return base64.StdEncoding.EncodeToString(bytes(16 + 8*(i%3))) })
	w("random", "base64url", 40, func(i int) string {
		return pick("", "tok_")[i%2] + base64.RawURLEncoding.EncodeToString(bytes(16+16*(i%2)))
	})
	w("random", "nanoid", 40, func(int) string {
		return alphabetToken("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", 21)
	})
	w("random", "base62", 50, func(i int) string {
		return pick("", "cus_", "anon.")[i%3] + alphabetToken("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 16+4*(i%5))
	})
	w("random", "base36", 40, func(i int) string { return alphabetToken("abcdefghijklmnopqrstuvwxyz0123456789", 16+i%10) })
	w("random", "base32", 20, func(int) string { return alphabetToken("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16) })

	// Stable: people, numbers and words.
	w("stable", "email", 80, func(i int) string {
		return email(i)
	})
	w("stable", "email-plus", 40, func(i int) string {
		tag := pick("news", "work", "shop", "2024", "test", "x")[i%6]
		if i%4 == 0 {
			tag = hexToken(5) // a random-looking tag is still one person's address
		}
		local, domain, _ := strings.Cut(email(i), "@")
		return local + "+" + tag + "@" + domain
	})
	w("stable", "email-hexlike", 15, func(i int) string {
		return pick("deadbeef", "cafe", "ace", "decade", "fade", "b3a7f2c9e1d0", "3f9a2c7b1e4d5a6b")[i%7] + "@" + domains[i%len(domains)]
	})
	w("stable", "email-case", 20, func(i int) string { return strings.ToUpper(email(i)[:1]) + email(i)[1:] })
	w("stable", "e164", 40, func(i int) string { return fmt.Sprintf("+1555%07d", rng.IntN(10_000_000)) })
	w("stable", "phone-formatted", 30, func(i int) string {
		n := rng.IntN(10_000)
		return pick(fmt.Sprintf("+1 (555) 010-%04d", n), fmt.Sprintf("+44 20 7946 %04d", n), fmt.Sprintf("0049 30 1234%04d", n), fmt.Sprintf("+33.6.12.34.%02d.%02d", n%100, n/100%100))[i%4]
	})
	w("stable", "whatsapp", 20, func(i int) string { return fmt.Sprintf("whatsapp:+447%09d", rng.IntN(1_000_000_000)) })
	w("stable", "numeric", 40, func(i int) string {
		return pick(fmt.Sprint(rng.IntN(100_000)), fmt.Sprintf("%08d", rng.IntN(1_000_000)),
			fmt.Sprint(1_200_000_000_000_000_000+rng.Int64N(100_000_000_000_000_000)), fmt.Sprint(rng.IntN(10_000_000)))[i%4]
	})
	w("stable", "prefixed-number", 80, func(i int) string {
		n := rng.IntN(1_000_000)
		return pick(fmt.Sprintf("user_%d", n), fmt.Sprintf("user-%d", n), fmt.Sprintf("customer:%d", n),
			fmt.Sprintf("acct.%d", n), fmt.Sprintf("ORD-2024-%06d", n), fmt.Sprintf("emp/%d", n),
			fmt.Sprintf("crm-customer-%05d", n%100_000), fmt.Sprintf("agent-%02d", n%100),
			fmt.Sprintf("user_%08d", n), fmt.Sprintf("tenant42:user:%d", n))[i%10]
	})
	w("stable", "name", 60, func(i int) string {
		f, l := first[i%len(first)], last[(i*7)%len(last)]
		return pick(f, f+"."+l, title(f)+" "+title(l), f+"_"+l, title(f)+title(l), f+"-"+l)[i%6]
	})
	w("stable", "name-with-number", 50, func(i int) string {
		f, l := first[(i*3)%len(first)], last[(i*5)%len(last)]
		return pick(f+fmt.Sprint(1950+i%70), f+fmt.Sprint(i%100), f[:1]+l+fmt.Sprint(1960+i%50), f+"."+l+"."+fmt.Sprint(i),
			title(f)+title(l)+fmt.Sprint(1970+i%40)+title(cities[i%len(cities)]))[i%5]
	})
	w("stable", "hex-word", len(hexWords), func(i int) string {
		return hexWords[i%len(hexWords)]
	})
	w("stable", "camel-and-compound", len(compounds), func(i int) string {
		return compounds[i%len(compounds)]
	})
	w("stable", "service-account", 10, func(i int) string {
		return pick("support-bot", "system-admin", "crm-sync@internal", "backoffice", "helpdesk_tier2",
			"iPhone12ProMax", "x86_64-linux-gnu", "v2.3.1-beta", "2026-10-31", "team-emea-west-03")[i%10]
	})
}

func pick(s ...string) []string { return s }

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

func hexToken(n int) string { return hex.EncodeToString(bytes(n)) }

// uuid is a UUID of the given version (1, 4 or 7) with the RFC 4122 variant.
func uuid(version int, upper bool) string {
	b := bytes(16)
	b[6] = b[6]&0x0f | byte(version<<4)
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ulid is a ULID: a millisecond timestamp in 2020-2030, then 80 random bits,
// in Crockford's base32.
func ulid() string {
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	ms := uint64(1_577_836_800_000 + rng.Int64N(315_360_000_000))
	var b [26]byte
	for i := 9; i >= 0; i-- {
		b[i] = crockford[ms&31]
		ms >>= 5
	}
	for i := 10; i < 26; i++ {
		b[i] = crockford[rng.IntN(32)]
	}
	return string(b[:])
}

func alphabetToken(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func email(i int) string {
	f, l := first[i%len(first)], last[(i*11)%len(last)]
	local := pick(f+"."+l, f, f[:1]+l, f+"_"+l+fmt.Sprint(i%90+10), l+"."+f)[i%5]
	return local + "@" + domains[(i*3)%len(domains)]
}

var (
	first = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
		"mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "amir",
		"fatima", "kofi", "mei", "sven", "zoe", "ana", "li", "ngozi", "priya", "yusuf"}
	last = []string{"smith", "patel", "garcia", "nguyen", "fischer", "okafor", "kowalski", "tanaka",
		"mcallister", "obrien", "schmidt", "dubois", "rossi", "haddad", "johansson", "silva", "kim"}
	domains = []string{"example.com", "mail.example.org", "corp.example.co.uk", "gmail.com", "example.de"}
	cities  = []string{"london", "berlin", "lagos", "osaka", "lima"}
	// Words made only of the letters a-f, and leet words too short to be a
	// token: the near-misses of a hex detector.
	hexWords = []string{"deadbeef", "cafebabe", "facade", "decade", "accede", "defaced", "bad-cafe-feed",
		"DeadBeef", "feedface", "beefcafe", "c0ffee", "f00d", "acce55", "baddad", "effaced", "faded",
		"decaf", "abba", "dabbed", "ebbed"}
	compounds = []string{"JohnMcAllister", "MaryJaneWatson", "donaudampfschiffahrt", "supercalifragilistic",
		"KarlHeinzSchmidtMueller", "AnnaLenaVanDerBerg", "rhythmandblues", "strengthsfinder",
		"ChristopherMcKnight", "OReillyMedia", "PeterPiperPickedPeppers", "internationalization",
		"TheQuickBrownFoxJumps", "BackOfficeIntegration", "SalesforceConnector"}
)
