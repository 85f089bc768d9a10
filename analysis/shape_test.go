package analysis

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestRandomVerdictOnTheLabelledSet measures the random verdict against
// testdata/identities.tsv, whose labels come from how each identity was
// made (see identities_gen.go): precision and recall must be at least 0.98.
func TestRandomVerdictOnTheLabelledSet(t *testing.T) {
	f, err := os.Open("testdata/identities.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tp, fp, fn, tn int
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		label, rest, _ := strings.Cut(sc.Text(), "\t")
		category, identity, _ := strings.Cut(rest, "\t")
		if seen[identity] {
			t.Fatalf("%q is in the set twice", identity)
		}
		seen[identity] = true
		got := ShapeOf(identity)
		switch want := label == "random"; {
		case want && got.Random:
			tp++
		case want && !got.Random:
			fn++
			t.Logf("missed %s %q: %s (%s)", category, identity, got.Pattern, got.Reason)
		case !want && got.Random:
			fp++
			t.Logf("false alarm %s %q: %s (%s)", category, identity, got.Pattern, got.Reason)
		default:
			tn++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) < 1000 {
		t.Fatalf("the labelled set has %d distinct identities, want at least 1000", len(seen))
	}
	precision := float64(tp) / float64(tp+fp)
	recall := float64(tp) / float64(tp+fn)
	t.Logf("%d identities (%d random, %d stable): precision %.4f, recall %.4f (tp %d, fp %d, fn %d, tn %d)",
		len(seen), tp+fn, fp+tn, precision, recall, tp, fp, fn, tn)
	if precision < 0.98 || recall < 0.98 {
		t.Errorf("precision %.4f, recall %.4f: want both at least 0.98", precision, recall)
	}
}

func TestShapeOf(t *testing.T) {
	for _, tt := range []struct {
		identity, shape string
		random          bool
		reason          string
	}{
		{"guest-0f8fad5b-d9cb-469f-a165-70867728950e", "guest-{uuid}", true, "UUID"},
		{"0F8FAD5B-D9CB-169F-A165-70867728950E", "{uuid}", true, "UUID"},
		{"anon:3f2a9c1b7e4d5f60a1b2c3d4e5f60718", "anon:{hex32}", true, "hex token"},
		{"01HF3Z5K8Q9W2E4R6T7Y8V9X0P", "{ulid}", true, "ULID"},
		{"tok_pooVadmIHRc+ud7OwxZqdw==", "tok_{base64}", true, "base64 token"},
		{"session_Xk9aB3dQ7pLm2Zq1Rt5w", "session_{token}", true, "high-entropy token"},
		{"aN4xC5SP_kWL4BRb_wsfg-web", "{base64}-web", true, "base64 token"},
		{"cus_Xk9aB3dQ7pLm2Z", "cus_{token}", true, "high-entropy token"},
		{"user_1042", "user_{int}", false, "numeric id"},
		{"crm-customer-00042", "crm-customer-{int}", false, "numeric id"},
		{"1234567890123456789", "{int}", false, "numeric id"},
		{"alice+3f9a2c7b1e@example.com", "{email}", false, "email address"},
		{"3f9a2c7b1e4d5a6b@gmail.com", "{email}", false, "email address"},
		{"+15551234567", "{e164}", false, "phone number"},
		{"whatsapp:+447700900123", "whatsapp:{e164}", false, "phone number"},
		{"+1 (555) 010-1234", "{e164}", false, "phone number"},
		{"alice", "{name}", false, "plain name"},
		{"Alice Smith", "{name}", false, "plain name"},
		{"deadbeef", "{name}", false, "plain name"},
		{"deadbeef2024", "{name}", false, "plain name"}, // one letter-digit switch: a word and a year
		{"JohnSmith1985London", "{name}", false, "plain name"},
		{"donaudampfschiffahrt", "{name}", false, "plain name"},
		{"  ", "{name}", false, "plain name"},
	} {
		got := ShapeOf(tt.identity)
		if got != (Shape{tt.shape, tt.random, tt.reason}) {
			t.Errorf("ShapeOf(%q) = %+v, want %s %v %s", tt.identity, got, tt.shape, tt.random, tt.reason)
		}
	}
}

func TestDuplicateKey(t *testing.T) {
	for _, group := range [][]string{
		{"Alice@Example.com", " alice@example.com", "alice+news@example.com", "ALICE+x@EXAMPLE.COM"},
		{"+15551234567", "whatsapp:+15551234567", "+1 (555) 123-4567", "001 555 123 4567"},
		{"Bob", "bob", " BOB "},
	} {
		for _, s := range group[1:] {
			if DuplicateKey(s) != DuplicateKey(group[0]) {
				t.Errorf("DuplicateKey(%q) = %q, want %q as for %q", s, DuplicateKey(s), DuplicateKey(group[0]), group[0])
			}
		}
	}
	for _, pair := range [][2]string{
		{"alice@example.com", "alice@example.org"},
		{"alice.smith@example.com", "alicesmith@example.com"}, // dots are kept: only Gmail ignores them
		{"15551234567", "+15551234567"},                       // without + a number may be an id
		{"user_1", "user_2"},
	} {
		if DuplicateKey(pair[0]) == DuplicateKey(pair[1]) {
			t.Errorf("%q and %q share the key %q", pair[0], pair[1], DuplicateKey(pair[0]))
		}
	}
}

func TestMapShapeLiterals(t *testing.T) {
	got := MapShapeLiterals("john.smith.{int}-{hex32}", strings.ToUpper)
	if got != "JOHN.SMITH.{int}-{hex32}" {
		t.Errorf("got %q", got)
	}
}
