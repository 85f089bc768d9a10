package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Retry is how the puller backs off from rate limits, server errors and
// dropped connections.
type Retry struct {
	// Attempts is the most tries of one request, the first included.
	Attempts int
	// Base is the first backoff; each retry doubles it, with jitter.
	Base time.Duration
	// Cap bounds any single wait, Retry-After included.
	Cap time.Duration
}

// DefaultRetry gives a request about two minutes before giving up.
func DefaultRetry() Retry {
	return Retry{Attempts: 8, Base: 500 * time.Millisecond, Cap: 30 * time.Second}
}

// delay is the wait before retry n (1 for the first): Retry-After when
// Twilio sent one, else exponential backoff with full jitter over its upper
// half, never above Cap.
func (r Retry) delay(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, r.Cap)
	}
	d := min(r.Base<<(n-1), r.Cap)
	if d <= 0 {
		d = r.Cap
	}
	return d/2 + rand.N(d/2+1)
}

// transport is the http.RoundTripper under twilio-go. It sends every
// request to the base URL when one is set (both Twilio hosts, and the
// absolute next_page_url links pages carry), bounds the requests in flight,
// retries what is worth retrying, counts requests for progress, and ties
// each request to the run's context (twilio-go makes them without one).
type transport struct {
	ctx     context.Context
	base    *url.URL // nil: Twilio itself
	next    http.RoundTripper
	slots   chan struct{}
	retry   Retry
	stats   *counters
	onRetry func(reason string, wait time.Duration)
}

func newTransport(ctx context.Context, base *url.URL, concurrency int, retry Retry, stats *counters) *transport {
	next := http.DefaultTransport.(*http.Transport).Clone()
	next.MaxIdleConnsPerHost = concurrency
	next.ResponseHeaderTimeout = time.Minute
	return &transport{ctx: ctx, base: base, next: next, slots: make(chan struct{}, concurrency), retry: retry, stats: stats}
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(t.ctx)
	if t.base != nil {
		req.URL.Scheme, req.URL.Host = t.base.Scheme, t.base.Host
		req.URL.Path = strings.TrimSuffix(t.base.Path, "/") + req.URL.Path
		req.URL.RawPath = ""
		req.Host = ""
	}
	for attempt := 1; ; attempt++ {
		resp, err := t.once(req)
		if t.ctx.Err() != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, t.ctx.Err()
		}
		reason, retryAfter := retryable(resp, err)
		if reason == "" || attempt >= t.retry.Attempts || req.Method != http.MethodGet {
			return resp, err
		}
		wait := t.retry.delay(attempt, retryAfter)
		t.stats.retries.Add(1)
		if t.onRetry != nil {
			t.onRetry(reason, wait)
		}
		select {
		case <-time.After(wait):
		case <-t.ctx.Done():
			return nil, t.ctx.Err()
		}
	}
}

// once sends one attempt, holding one of the concurrency slots while the
// request is in flight (not while it backs off). It reads the whole body,
// so that a connection dropped in the middle of a page is retried like one
// dropped before the answer; a page is at most a few hundred kilobytes.
func (t *transport) once(req *http.Request) (*http.Response, error) {
	select {
	case t.slots <- struct{}{}:
	case <-t.ctx.Done():
		return nil, t.ctx.Err()
	}
	defer func() { <-t.slots }()
	t.stats.requests.Add(1)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// retryable says why an answer is worth another try ("" if it is not) and
// how long Twilio asked to wait.
func retryable(resp *http.Response, err error) (string, time.Duration) {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return "", 0
		}
		return "connection: " + err.Error(), 0
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return resp.Status, retryAfter(resp.Header.Get("Retry-After"))
	}
	return "", 0
}

// retryAfter reads Retry-After as seconds or as an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

// counters are the puller's running totals, read by progress displays
// while it works.
type counters struct {
	requests, retries                                   atomic.Int64
	users, conversations, participants, messages, usage atomic.Int64
	listed, done, skipped, deleted                      atomic.Int64
}
