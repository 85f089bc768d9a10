package twiliofake

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Signature is the X-Twilio-Signature Twilio sends with a webhook, computed
// as Twilio documents it and apart from twilio-go's validator: base64 of
// HMAC-SHA1, keyed by the auth token, over the full URL followed by each
// POST parameter's name and value, sorted by name (none for a JSON body,
// whose bodySHA256 query parameter is part of the URL).
func Signature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var s strings.Builder
	s.WriteString(fullURL)
	for _, k := range keys {
		s.WriteString(k + params.Get(k))
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(s.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
