package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"
	"golang.org/x/sync/errgroup"
)

var (
	// ErrTwilioCredentials means the environment lacks Twilio credentials.
	ErrTwilioCredentials = errors.New("Twilio credentials missing")
	// ErrTwilioAuth means Twilio rejected the credentials (401) or did not
	// allow them what was asked (403).
	ErrTwilioAuth = errors.New("Twilio refused the credentials")
	// ErrUnknownService means --service named a service the account lacks.
	ErrUnknownService = errors.New("unknown Conversation Service")
)

// TwilioCredentials authenticate the puller: the account SID with its auth
// token, or with an API key and its secret.
type TwilioCredentials struct {
	AccountSID, AuthToken, APIKey, APISecret string
}

// TwilioCredentialsFromEnv reads TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN,
// or with TWILIO_API_KEY and TWILIO_API_SECRET.
func TwilioCredentialsFromEnv() (TwilioCredentials, error) {
	c := TwilioCredentials{
		AccountSID: os.Getenv("TWILIO_ACCOUNT_SID"),
		AuthToken:  os.Getenv("TWILIO_AUTH_TOKEN"),
		APIKey:     os.Getenv("TWILIO_API_KEY"),
		APISecret:  os.Getenv("TWILIO_API_SECRET"),
	}
	return c, c.check()
}

func (c TwilioCredentials) check() error {
	switch {
	case c.AccountSID == "":
		return fmt.Errorf("%w: set TWILIO_ACCOUNT_SID, and TWILIO_AUTH_TOKEN or TWILIO_API_KEY with TWILIO_API_SECRET", ErrTwilioCredentials)
	case c.AuthToken == "" && c.APIKey == "" && c.APISecret == "":
		return fmt.Errorf("%w: set TWILIO_AUTH_TOKEN, or TWILIO_API_KEY with TWILIO_API_SECRET", ErrTwilioCredentials)
	case c.AuthToken == "" && (c.APIKey == "" || c.APISecret == ""):
		return fmt.Errorf("%w: TWILIO_API_KEY and TWILIO_API_SECRET go together", ErrTwilioCredentials)
	}
	return nil
}

// basicAuth is the user and password of every request: an API key pair
// when there is one, else the account SID and auth token.
func (c TwilioCredentials) basicAuth() (string, string) {
	if c.APIKey != "" {
		return c.APIKey, c.APISecret
	}
	return c.AccountSID, c.AuthToken
}

// TwilioOptions say what `ingest twilio` pulls and how.
type TwilioOptions struct {
	Credentials TwilioCredentials
	// Services limits the pull to these Conversation Services (all if empty).
	Services []string
	// Concurrency bounds the requests in flight.
	Concurrency int
	// Full refetches everything instead of only what changed.
	Full bool
	// BaseURL, when set, receives every request meant for Twilio's hosts.
	BaseURL string
	Retry   Retry
	Log     *slog.Logger
}

// Page sizes: Twilio's maxima, so that an account takes as few requests as
// it can.
const (
	usersPageSize = 50
	pageSize      = 100
	usagePageSize = 1000
	// maxHeldMessages bounds the messages a worker holds before it hands
	// them to the writer.
	maxHeldMessages = 2000
)

// TwilioProgress is a snapshot of a pull's running totals.
type TwilioProgress struct {
	Users, Conversations, Participants, Messages, UsageRecords int64
	// Listed conversations; Done of them pulled, Skipped as unchanged or
	// already pulled by this run, Deleted between listing and fetching.
	Listed, Done, Skipped, Deleted int64
	Requests, Retries              int64
}

// TwilioResult is what a finished pull did.
type TwilioResult struct {
	TwilioProgress
	RunID   int
	Resumed bool // it finished a run that had been interrupted
	Full    bool
}

// TwilioPull pulls a Twilio account's Conversations resources into the
// store. Create it with NewTwilioPull, Run it once, and read Progress while
// it works.
type TwilioPull struct {
	store *Store
	opts  TwilioOptions
	stats counters
}

// NewTwilioPull prepares a pull into s.
func NewTwilioPull(s *Store, opts TwilioOptions) *TwilioPull {
	if opts.Concurrency < 1 {
		opts.Concurrency = 8
	}
	if opts.Retry.Attempts < 1 {
		opts.Retry = DefaultRetry()
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &TwilioPull{store: s, opts: opts}
}

// Progress returns the running totals; safe to call while Run works.
func (p *TwilioPull) Progress() TwilioProgress {
	s := &p.stats
	return TwilioProgress{
		Users: s.users.Load(), Conversations: s.conversations.Load(), Participants: s.participants.Load(),
		Messages: s.messages.Load(), UsageRecords: s.usage.Load(),
		Listed: s.listed.Load(), Done: s.done.Load(), Skipped: s.skipped.Load(), Deleted: s.deleted.Load(),
		Requests: s.requests.Load(), Retries: s.retries.Load(),
	}
}

// puller is one run's state.
type puller struct {
	*TwilioPull
	api    *twilio.RestClient
	run    run
	writer *snapshotWriter
	jobs   chan conversationJob
}

// Run pulls the account. Completed work is committed as it goes, so an
// interrupted run loses nothing: the next Run with the same options resumes
// it. A 401 or 403 stops everything at once (ErrTwilioAuth).
func (p *TwilioPull) Run(ctx context.Context) (TwilioResult, error) {
	if err := p.opts.Credentials.check(); err != nil {
		return TwilioResult{}, err
	}
	var base *url.URL
	if p.opts.BaseURL != "" {
		u, err := url.Parse(p.opts.BaseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return TwilioResult{}, fmt.Errorf("--twilio-base-url %q: want an absolute URL such as http://localhost:8080", p.opts.BaseURL)
		}
		base = u
	}
	g, gctx := errgroup.WithContext(ctx)
	t := newTransport(gctx, base, p.opts.Concurrency, p.opts.Retry, &p.stats)
	t.onRetry = func(reason string, wait time.Duration) {
		p.opts.Log.Debug("twilio retry", "reason", reason, "wait", wait)
	}
	user, pass := p.opts.Credentials.basicAuth()
	c := &client.Client{
		Credentials: client.NewCredentials(user, pass),
		HTTPClient: &http.Client{
			Transport: t,
			// twilio-go's own client does not follow redirects either.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(p.opts.Credentials.AccountSID)
	pl := &puller{
		TwilioPull: p,
		api:        twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}),
		writer:     newSnapshotWriter(p.store),
		jobs:       make(chan conversationJob, 2*p.opts.Concurrency),
	}
	// The services first: rejected credentials or an unknown service stop
	// the pull before a run is recorded.
	services, all, err := pl.services()
	if err == nil {
		pl.run, err = p.store.startRun(ctx, p.opts.Full, p.opts.Services)
	}
	if err != nil {
		g.Wait() // nothing runs in g yet: this releases its context
		return TwilioResult{TwilioProgress: p.Progress()}, err
	}
	r := pl.run
	p.opts.Log.Debug("twilio run", "run", r.id, "resumed", r.resumed, "full", r.full)
	g.Go(pl.writer.run)
	g.Go(func() error {
		defer close(pl.writer.in)
		if err := pl.writer.send(gctx, servicesUnit(all)); err != nil {
			return err
		}
		return pl.pull(gctx, services)
	})
	err = g.Wait()
	if err == nil {
		err = p.store.finishRun(ctx, r.id)
	}
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	res := TwilioResult{TwilioProgress: p.Progress(), RunID: r.id, Resumed: r.resumed, Full: r.full}
	return res, err
}

// pull pulls every service's users and conversations at once (the
// conversations through the worker pool), and the usage records last.
func (pl *puller) pull(ctx context.Context, services []string) error {
	g, gctx := errgroup.WithContext(ctx)
	var listers sync.WaitGroup
	for _, svc := range services {
		g.Go(func() error { return pl.users(gctx, svc) })
		listers.Add(1)
		g.Go(func() error {
			defer listers.Done()
			return pl.conversations(gctx, svc)
		})
	}
	go func() {
		listers.Wait()
		close(pl.jobs)
	}()
	// Twice as many workers as requests in flight: while one decodes a page
	// or waits for the writer, another has a request out.
	for range 2 * pl.opts.Concurrency {
		g.Go(func() error { return pl.work(gctx) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return pl.usage(ctx)
}

// services lists the account's Conversation Services, all of them and the
// SIDs of those asked for; a name the account lacks is an error.
func (pl *puller) services() ([]string, []conversations.ConversationsV1Service, error) {
	records, errs := pl.api.ConversationsV1.StreamService(&conversations.ListServiceParams{PageSize: ptr(pageSize)})
	var all []conversations.ConversationsV1Service
	for s := range records {
		all = append(all, s)
	}
	if err := <-errs; err != nil {
		return nil, nil, restError("list Conversation Services", err)
	}
	var keep []string
	for _, s := range all {
		if len(pl.opts.Services) == 0 || slices.Contains(pl.opts.Services, deref(s.Sid)) {
			keep = append(keep, deref(s.Sid))
		}
	}
	for _, want := range pl.opts.Services {
		if !slices.Contains(keep, want) {
			return nil, nil, fmt.Errorf("%w %s: account %s has no such service", ErrUnknownService, want, pl.opts.Credentials.AccountSID)
		}
	}
	return keep, all, nil
}

// users lists one service's users, all of them every run (a User's
// date_updated is the evidence), committing them in batches.
func (pl *puller) users(ctx context.Context, service string) error {
	if pl.run.done(ctx, pl.store, "users", service) {
		return nil
	}
	records, errs := pl.api.ConversationsV1.StreamServiceUser(service, &conversations.ListServiceUserParams{PageSize: ptr(usersPageSize)})
	defer drain(records)
	batch := make([]conversations.ConversationsV1ServiceUser, 0, 500)
	for u := range records {
		batch = append(batch, u)
		if len(batch) == cap(batch) {
			if err := pl.writer.send(ctx, usersUnit(&pl.stats, service, batch, nil)); err != nil {
				return err
			}
			batch = make([]conversations.ConversationsV1ServiceUser, 0, 500)
		}
	}
	if err := <-errs; err != nil {
		return restError("list users of "+service, err)
	}
	return pl.writer.send(ctx, usersUnit(&pl.stats, service, batch, &checkpoint{kind: "users", key: service, run: pl.run.id}))
}

// conversationJob is one conversation to pull, with what is stored of it.
type conversationJob struct {
	service, sid, state string
	lastIndex           *int // the newest message stored; nil: fetch all
}

// conversations lists one service's conversations, stores them, and hands
// the ones that need pulling to the workers, a page at a time.
func (pl *puller) conversations(ctx context.Context, service string) error {
	records, errs := pl.api.ConversationsV1.StreamServiceConversation(service, &conversations.ListServiceConversationParams{PageSize: ptr(pageSize)})
	defer drain(records)
	page := make([]conversations.ConversationsV1ServiceConversation, 0, pageSize)
	flush := func() error {
		if len(page) == 0 {
			return nil
		}
		err := pl.schedule(ctx, service, page)
		page = page[:0]
		return err
	}
	for c := range records {
		pl.stats.listed.Add(1)
		page = append(page, c)
		if len(page) == pageSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := <-errs; err != nil {
		return restError("list conversations of "+service, err)
	}
	return flush()
}

// schedule stores a page of listed conversations and queues those that
// need pulling: all with --full; otherwise all but the ones this run has
// done already and the closed ones stored closed (nothing can change in a
// closed conversation).
func (pl *puller) schedule(ctx context.Context, service string, page []conversations.ConversationsV1ServiceConversation) error {
	sids := make([]string, len(page))
	for i, c := range page {
		sids[i] = deref(c.Sid)
	}
	stored, err := pl.store.conversationCheckpoints(ctx, sids)
	if err != nil {
		return err
	}
	if err := pl.writer.send(ctx, conversationsUnit(&pl.stats, service, slices.Clone(page))); err != nil {
		return err
	}
	for _, c := range page {
		job := conversationJob{service: service, sid: deref(c.Sid), state: deref(c.State)}
		cp, seen := stored[job.sid]
		switch {
		case seen && cp.run == pl.run.id,
			seen && !pl.run.full && cp.state == "closed" && job.state == "closed":
			pl.stats.skipped.Add(1)
			continue
		case seen && !pl.run.full:
			job.lastIndex = cp.lastIndex
		}
		select {
		case pl.jobs <- job:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// work pulls queued conversations until there are none left.
func (pl *puller) work(ctx context.Context) error {
	for job := range pl.jobs {
		unit, err := pl.conversation(ctx, job)
		if errors.Is(err, errDeleted) {
			pl.stats.deleted.Add(1)
			pl.opts.Log.Debug("conversation deleted while pulling", "conversation", job.sid)
			continue
		}
		if err != nil {
			return err
		}
		if err := pl.writer.send(ctx, unit); err != nil {
			return err
		}
	}
	return nil
}

var errDeleted = errors.New("deleted")

// conversation fetches one conversation's participants and its messages,
// newest first, down to the newest one already stored.
func (pl *puller) conversation(ctx context.Context, job conversationJob) (unit, error) {
	// Both lists are paged by hand (PageToken from next_page_url): twilio-go's
	// streams re-encode every page to find the next one, which costs more
	// than the page itself for the one-page lists most conversations have.
	api := pl.api.ConversationsV1
	var participants []conversations.ConversationsV1ServiceConversationParticipant
	pParams := &conversations.ListServiceConversationParticipantParams{PageSize: ptr(pageSize)}
	token, pageNo := "", ""
	for {
		resp, err := api.PageServiceConversationParticipant(job.service, job.sid, pParams, token, pageNo)
		if err != nil {
			return nil, conversationError("participants", job, err)
		}
		participants = append(participants, resp.Participants...)
		if resp.Meta.NextPageUrl == nil || *resp.Meta.NextPageUrl == "" {
			break
		}
		if token, pageNo, err = pageToken(*resp.Meta.NextPageUrl); err != nil {
			return nil, fmt.Errorf("participants of %s: %w", job.sid, err)
		}
	}
	var messages []conversations.ConversationsV1ServiceConversationMessage
	newest := job.lastIndex
	params := &conversations.ListServiceConversationMessageParams{Order: ptr("desc"), PageSize: ptr(pageSize)}
	token, pageNo = "", ""
	for {
		resp, err := api.PageServiceConversationMessage(job.service, job.sid, params, token, pageNo)
		if err != nil {
			return nil, conversationError("messages", job, err)
		}
		reached := false
		for _, m := range resp.Messages {
			if job.lastIndex != nil && m.Index <= *job.lastIndex {
				reached = true
				break
			}
			if newest == nil || m.Index > *newest {
				newest = ptr(m.Index)
			}
			messages = append(messages, m)
		}
		if reached || resp.Meta.NextPageUrl == nil || *resp.Meta.NextPageUrl == "" {
			break
		}
		if token, pageNo, err = pageToken(*resp.Meta.NextPageUrl); err != nil {
			return nil, fmt.Errorf("messages of %s: %w", job.sid, err)
		}
		// A long history goes to the writer as it comes, so that memory
		// stays bounded; the conversation counts as pulled only when its
		// checkpoint is committed with the last part.
		if len(messages) >= maxHeldMessages {
			if err := pl.writer.send(ctx, conversationUnit(&pl.stats, job, nil, messages, nil)); err != nil {
				return nil, err
			}
			messages = nil
		}
	}
	cp := &checkpoint{kind: "conversation", key: job.sid, run: pl.run.id, state: job.state, lastIndex: newest}
	return conversationUnit(&pl.stats, job, participants, messages, cp), nil
}

// pageToken reads the PageToken and Page of a next_page_url, for the lists
// paged by hand: messages, so that a pull can stop at the newest message it
// has, and participants.
func pageToken(next string) (string, string, error) {
	u, err := url.Parse(next)
	if err != nil {
		return "", "", fmt.Errorf("next_page_url %q: %w", next, err)
	}
	q := u.Query()
	if q.Get("PageToken") == "" {
		return "", "", fmt.Errorf("next_page_url %q has no PageToken", next)
	}
	return q.Get("PageToken"), q.Get("Page"), nil
}

// usage pulls the monthly usage records of every conversations* category,
// from the month of the oldest stored resource on.
func (pl *puller) usage(ctx context.Context) error {
	account := pl.opts.Credentials.AccountSID
	if pl.run.done(ctx, pl.store, "usage", account) {
		return nil
	}
	if err := pl.writer.sync(ctx); err != nil {
		return err
	}
	from, err := pl.store.oldestResource(ctx)
	if err != nil {
		return err
	}
	params := &usageParams{
		PathAccountSid: ptr(account),
		StartDate:      ptr(from.Format(time.DateOnly)),
		EndDate:        ptr(time.Now().UTC().Format(time.DateOnly)),
		PageSize:       ptr(usagePageSize),
	}
	records, errs := pl.api.Api.StreamUsageRecordMonthly(params)
	var keep []usageRecord
	for r := range records {
		if strings.HasPrefix(deref(r.Category), "conversations") {
			keep = append(keep, r)
		}
	}
	if err := <-errs; err != nil {
		return restError("list usage records", err)
	}
	return pl.writer.send(ctx, usageUnit(&pl.stats, account, keep, &checkpoint{kind: "usage", key: account, run: pl.run.id}))
}

// restError names what failed, and marks a 401 or 403 as ErrTwilioAuth.
func restError(what string, err error) error {
	switch status := restStatus(err); status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%s: %w: 401 Unauthorized (check TWILIO_ACCOUNT_SID and its token or API key)", what, ErrTwilioAuth)
	case http.StatusForbidden:
		return fmt.Errorf("%s: %w: 403 Forbidden (the credential may not read this resource)", what, ErrTwilioAuth)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// conversationError turns a 404 into errDeleted: the conversation went
// away between listing and fetching.
func conversationError(what string, job conversationJob, err error) error {
	if restStatus(err) == http.StatusNotFound {
		return errDeleted
	}
	return restError(what+" of "+job.sid, err)
}

// restStatus is the HTTP status of a Twilio error, or 0.
func restStatus(err error) int {
	var legacy *client.TwilioRestError
	if errors.As(err, &legacy) {
		return legacy.Status
	}
	var v1 *client.RestErrorV1
	if errors.As(err, &v1) {
		return v1.HttpStatusCode
	}
	return 0
}

// drain empties a stream that was abandoned, so that twilio-go's goroutine
// behind it ends.
func drain[T any](records chan T) {
	go func() {
		for range records {
		}
	}()
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
