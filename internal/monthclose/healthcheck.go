package monthclose

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Ping kinds, as healthchecks.io names them: a suffix of the check's URL.
const (
	pingStart   = "/start"
	pingSuccess = ""
	pingFail    = "/fail"
)

// pingAttempts and pingTimeout follow healthchecks.io's advice for
// scripts (a 10 s timeout, a few retries): a ping must never hold up or
// fail a close.
const (
	pingAttempts = 3
	pingTimeout  = 10 * time.Second
)

// pingRetryWait is the pause between attempts (tests shorten it).
var pingRetryWait = time.Second

// pinger reports a close's start and end to a healthcheck URL, with the
// run id (rid) that ties the two together and the summary line as body.
type pinger struct {
	url   string
	runID string
	log   *slog.Logger
}

func newPinger(rawURL, runID string, log *slog.Logger) *pinger {
	return &pinger{url: rawURL, runID: runID, log: log}
}

// result pings success, or failure when the close failed or restated a
// final month: that must reach a person.
func (p *pinger) result(res Result, err error) {
	switch {
	case err != nil:
		p.send(context.Background(), pingFail, "close failed: "+err.Error())
	case res.RestatesFinal():
		p.send(context.Background(), pingFail, Summary(res))
	default:
		p.send(context.Background(), pingSuccess, Summary(res))
	}
}

// send pings; a failure is a warning naming the host only, as the URL's
// path is the check's secret.
func (p *pinger) send(ctx context.Context, kind, body string) {
	if p.url == "" {
		return
	}
	u, err := url.Parse(p.url)
	if err != nil {
		p.log.Warn("healthcheck ping skipped: bad URL")
		return
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + kind
	q := u.Query()
	q.Set("rid", p.runID)
	u.RawQuery = q.Encode()
	ctx = context.WithoutCancel(ctx) // an interrupted close still reports it
	var lastErr string
	for attempt := 1; attempt <= pingAttempts; attempt++ {
		if attempt > 1 {
			time.Sleep(pingRetryWait)
		}
		lastErr = p.post(ctx, u.String(), body)
		if lastErr == "" {
			return
		}
	}
	p.log.Warn("healthcheck ping failed", "host", u.Host, "ping", strings.TrimPrefix(cmp.Or(kind, "/success"), "/"), "error", lastErr)
}

func (p *pinger) post(ctx context.Context, target, body string) string {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "no response" // the error text would repeat the URL
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return resp.Status
	}
	return ""
}
