// Package redact replaces personal data (identities, phone numbers, channel
// addresses) with stable pseudonyms before it leaves the machine.
package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// New returns a function mapping a subject to a pseudonym keyed by key: the
// same subject always gets the same pseudonym under one key, so redacted
// reports of one database can still be joined, but without the key the
// subject cannot be recovered by hashing guesses (phone numbers are few
// enough to enumerate, which rules out a plain hash).
func New(key string) func(string) string {
	return func(subject string) string {
		if subject == "" {
			return ""
		}
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(subject))
		return "redacted-" + hex.EncodeToString(mac.Sum(nil)[:8])
	}
}
