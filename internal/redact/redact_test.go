package redact

import (
	"strings"
	"testing"
)

func TestPseudonymsAreStablePerKeyAndHideTheSubject(t *testing.T) {
	a, b := New("key-a"), New("key-b")
	phone := "+15551234567"
	if a(phone) != a(phone) {
		t.Error("same key, same subject: pseudonyms differ")
	}
	if a(phone) == b(phone) {
		t.Error("different keys give the same pseudonym: it could be reversed by hashing guesses")
	}
	if a(phone) == a("+15551234568") {
		t.Error("two subjects share a pseudonym")
	}
	if p := a(phone); strings.Contains(p, "5551234567") || !strings.HasPrefix(p, "redacted-") {
		t.Errorf("pseudonym %q", p)
	}
	if a("") != "" {
		t.Error("an empty subject should stay empty")
	}
}
