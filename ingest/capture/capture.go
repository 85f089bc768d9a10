// Package capture receives Twilio's live events over HTTP: Conversations
// post-event webhooks and Event Streams webhook-sink deliveries. It checks
// each request's X-Twilio-Signature, appends the events to the spool as
// lines the events loader reads, and acknowledges only once they are on disk.
package capture

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/mauledger/mauledger/ingest/spool"
)

// The paths Twilio is pointed at.
const (
	ConversationsPath = "/twilio/conversations" // Conversations post-event webhooks (form posts)
	EventsPath        = "/twilio/events"        // Event Streams webhook sink (CloudEvents JSON)
	HealthPath        = "/healthz"
)

// MaxBodyBytes bounds a request body: a Conversations message body is at
// most 32 KiB of text, which leaves room for Event Streams batches of many
// events.
const MaxBodyBytes = 4 << 20

// spoolTimeout bounds the wait for the disk, so that Twilio, which gives up
// after 5 s, gets an answer (503: not stored) before then.
const spoolTimeout = 3 * time.Second

// Config is what a Handler needs.
type Config struct {
	Spool *spool.Writer
	// AuthToken is the account's auth token, which signs every request.
	AuthToken string
	// PublicURL is the scheme, host and any path prefix Twilio calls, e.g.
	// https://hooks.example.com: behind a proxy the listen address differs
	// from the URL Twilio signed.
	PublicURL string
	// SkipSignature accepts unsigned requests: for local testing only.
	SkipSignature bool
	Log           *slog.Logger
	// Now is the clock that stamps each event's _received_at; nil means
	// time.Now. Tests set it to replay events at the times they arrived.
	Now func() time.Time
}

type handler struct {
	Config
	validator client.RequestValidator
}

// Handler serves the two event paths and /healthz, which answers 503
// while the spool's last write failed.
func Handler(cfg Config) http.Handler {
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	h := &handler{Config: cfg, validator: client.NewRequestValidator(cfg.AuthToken)}
	mux := http.NewServeMux()
	mux.HandleFunc(ConversationsPath, h.receive("application/x-www-form-urlencoded", h.webhook))
	mux.HandleFunc(EventsPath, h.receive("application/json", h.cloudEvents))
	mux.HandleFunc(HealthPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.reject(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed", "GET, HEAD")
			return
		}
		if err := h.Spool.Err(); err != nil {
			http.Error(w, "spool failing: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.reject(w, r, http.StatusNotFound, "no such path", "")
	})
	return mux
}

// envelope is what mauledger adds to each event it spools.
type envelope struct {
	receivedAt string // RFC 3339, UTC, microseconds
	token      string // I-Twilio-Idempotency-Token, if any
}

// accepter checks a body's signature and turns it into spool lines, or
// gives the status and reason of its refusal.
type accepter func(r *http.Request, body []byte, env envelope) (lines [][]byte, status int, reason string)

func (h *handler) receive(contentType string, accept accepter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := time.Now
		if h.Now != nil {
			now = h.Now
		}
		env := envelope{
			receivedAt: now().UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
			token:      r.Header.Get("I-Twilio-Idempotency-Token"),
		}
		if r.Method != http.MethodPost {
			h.reject(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed", http.MethodPost)
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != contentType {
			h.reject(w, r, http.StatusUnsupportedMediaType, "content type "+strconv.Quote(r.Header.Get("Content-Type"))+", want "+contentType, "")
			return
		}
		body, err := readBody(w, r)
		if err != nil {
			status := http.StatusBadRequest
			if errors.As(err, new(*http.MaxBytesError)) {
				status = http.StatusRequestEntityTooLarge
			}
			h.reject(w, r, status, "reading body: "+err.Error(), "")
			return
		}
		lines, status, reason := accept(r, body, env)
		if reason != "" {
			h.reject(w, r, status, reason, "")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), spoolTimeout)
		defer cancel()
		if err := h.Spool.Append(ctx, lines...); err != nil {
			h.Log.Error("request not stored: spool write failed", "path", r.URL.Path, "err", err)
			http.Error(w, "not stored, retry", http.StatusServiceUnavailable)
			return
		}
		h.Log.Debug("stored", "path", r.URL.Path, "events", len(lines), "idempotency_token", env.token)
		w.WriteHeader(http.StatusOK)
	}
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	return buf.Bytes(), err
}

// webhook accepts a Conversations webhook: a form post, signed over the
// URL and the sorted form parameters (twilio-go's Validate). A field given
// twice counts with its first value, as twilio-go reads it.
func (h *handler) webhook(r *http.Request, body []byte, env envelope) ([][]byte, int, string) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, http.StatusBadRequest, "not a valid form body: " + err.Error()
	}
	fields := make(map[string]string, len(form))
	for k, v := range form {
		fields[k] = v[0]
	}
	refusal := h.verify(r, func(fullURL, sig string) string {
		if !h.validator.Validate(fullURL, fields, sig) {
			return signatureMismatch
		}
		return ""
	})
	if refusal != "" {
		return nil, http.StatusForbidden, refusal
	}
	return webhookLines(fields, env), 0, ""
}

// cloudEvents accepts an Event Streams delivery: JSON, signed over the URL,
// which carries the body's SHA-256 as bodySHA256 (twilio-go's ValidateBody).
func (h *handler) cloudEvents(r *http.Request, body []byte, env envelope) ([][]byte, int, string) {
	refusal := h.verify(r, func(fullURL, sig string) string {
		if r.URL.Query().Get("bodySHA256") == "" {
			return "no bodySHA256 in the URL: Twilio signs a JSON body through it"
		}
		if !h.validator.ValidateBody(fullURL, body, sig) {
			return signatureMismatch
		}
		return ""
	})
	if refusal != "" {
		return nil, http.StatusForbidden, refusal
	}
	lines, err := cloudEventLines(body, env)
	if err != nil {
		return nil, http.StatusBadRequest, err.Error()
	}
	return lines, 0, ""
}

const signatureMismatch = "X-Twilio-Signature does not match (check TWILIO_AUTH_TOKEN and --public-url)"

// verify checks X-Twilio-Signature, unless signatures are skipped, with
// check over the URL Twilio called: PublicURL, then the request's path and
// query. It returns why the request is refused, or "".
func (h *handler) verify(r *http.Request, check func(fullURL, sig string) string) string {
	if h.SkipSignature {
		return ""
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" {
		return "no X-Twilio-Signature header"
	}
	return check(h.PublicURL+r.URL.RequestURI(), sig)
}

// reject answers a request it will not store, with one log line saying
// why; the body, which holds personal data, is never logged.
func (h *handler) reject(w http.ResponseWriter, r *http.Request, status int, reason, allow string) {
	h.Log.Warn("request rejected", "status", status, "reason", reason, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
	if allow != "" {
		w.Header().Set("Allow", allow)
	}
	http.Error(w, reason, status)
}

// webhookLines turns a Conversations webhook's fields into one line: a
// JSON object of strings, keys sorted so that a retry is the same text,
// then the envelope.
func webhookLines(fields map[string]string, env envelope) [][]byte {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if !strings.HasPrefix(k, "_") { // the envelope's namespace
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	line := make([]byte, 1, 1024)
	line[0] = '{'
	for _, k := range keys {
		line = appendField(line, k, fields[k])
	}
	line = appendEnvelope(line, env)
	line[len(line)-1] = '}'
	return [][]byte{line}
}

// cloudEventLines turns an Event Streams delivery (one CloudEvent object or
// an array of them) into one line per event: the event as sent, compacted
// onto one line, with the envelope's fields first. The loader tells a
// batch's events apart by their CloudEvent id; the token of a batch gets
// each event's position, so that an event without an id is not taken for
// its neighbour.
func cloudEventLines(body []byte, env envelope) ([][]byte, error) {
	var events []json.RawMessage
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &events); err != nil {
			return nil, errors.New("not a JSON array of CloudEvents: " + err.Error())
		}
	} else {
		events = []json.RawMessage{trimmed}
	}
	lines := make([][]byte, 0, len(events))
	for i, ev := range events {
		var compact bytes.Buffer
		if err := json.Compact(&compact, ev); err != nil {
			return nil, errors.New("not valid JSON: " + err.Error())
		}
		obj := compact.Bytes()
		if len(obj) < 2 || obj[0] != '{' {
			return nil, errors.New("event " + strconv.Itoa(i+1) + " is not a JSON object")
		}
		e := env
		if len(events) > 1 && e.token != "" {
			e.token += "#" + strconv.Itoa(i)
		}
		line := appendEnvelope([]byte{'{'}, e)
		if len(obj) == 2 { // {}
			line[len(line)-1] = '}'
		} else {
			line = append(line, obj[1:]...)
		}
		lines = append(lines, line)
	}
	return lines, nil
}

// appendEnvelope appends the envelope's fields, each followed by a comma.
func appendEnvelope(line []byte, env envelope) []byte {
	line = appendField(line, "_received_at", env.receivedAt)
	if env.token != "" {
		line = appendField(line, "_idempotency_token", env.token)
	}
	return line
}

func appendField(line []byte, key, value string) []byte {
	line = appendString(line, key)
	line = append(line, ':')
	line = appendString(line, value)
	return append(line, ',')
}

// appendString appends s as a JSON string, leaving <, > and & as they are.
func appendString(line []byte, s string) []byte {
	if plainJSON(s) { // most fields: SIDs, times, identities
		line = append(line, '"')
		line = append(line, s...)
		return append(line, '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return append(line, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
}

// plainJSON says whether s is printable ASCII that needs no escaping.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
