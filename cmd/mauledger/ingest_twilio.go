package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
)

type ingestTwilioOptions struct {
	io          *streams
	global      *globalOptions
	Services    []string
	Concurrency int
	Full        bool
	BaseURL     string
	Quiet       bool
}

func newIngestTwilioCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &ingestTwilioOptions{io: io, global: g}
	cmd := &cobra.Command{
		Use:   "twilio",
		Short: "Pull users, conversations, participants, messages and usage records from the Twilio REST API",
		Long: `Pull a Twilio account through the REST API: its Conversation Services (all,
unless --service names some), per service its Users and Conversations, per
conversation its Participants and Messages, and the monthly Usage Records of the
conversations* categories (for "reconcile").

Credentials come from the environment: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN,
or TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET. They are never
logged, stored or printed.

Every conversation is committed with a checkpoint, so an interrupted pull is
finished by running the same command again. A later run fetches only what
changed: new messages, participants, users; closed conversations already pulled
are skipped. --full fetches everything again.

REST snapshots cannot see SDK connections or removed participants: a month
is complete only with live events (ingest events) covering it as well. The
snapshot also tells the Conversation Service of Event Streams events, which
name none.`,
		Example: `  export TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=...
  mauledger ingest twilio
  mauledger ingest twilio --service IS0123456789abcdef0123456789abcdef --concurrency 16
  mauledger ingest twilio --full --quiet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context()) },
	}
	cmd.Flags().StringSliceVar(&o.Services, "service", nil, "pull only this Conversation Service (IS...); repeat or comma-separate for several")
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", 8, "requests in flight at once")
	cmd.Flags().BoolVar(&o.Full, "full", false, "fetch everything again, not only what changed")
	cmd.Flags().StringVar(&o.BaseURL, "twilio-base-url", "", "send every request for Twilio's hosts to this base URL (a proxy, a test server)")
	cmd.Flags().BoolVar(&o.Quiet, "quiet", false, "no live progress, only the summary line")
	return cmd
}

func (o *ingestTwilioOptions) run(ctx context.Context) error {
	if o.Concurrency < 1 || o.Concurrency > 64 {
		return fail.Usagef("--concurrency %d: want 1 to 64", o.Concurrency)
	}
	creds, err := ingest.TwilioCredentialsFromEnv()
	if err != nil {
		return fail.Auth(err)
	}
	store, err := o.global.openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	pullLog := o.global.logger(o.io.Err)
	pull := ingest.NewTwilioPull(store, ingest.TwilioOptions{
		Credentials: creds,
		Services:    o.Services,
		Concurrency: o.Concurrency,
		Full:        o.Full,
		BaseURL:     o.BaseURL,
		Log:         pullLog,
	})
	started := time.Now()
	stop := func() {}
	if o.io.ErrIsTerminal && !o.Quiet {
		stop = showProgress(o.io.Err, pull)
	}
	res, err := pull.Run(ctx)
	stop()
	if err != nil {
		return twilioError(err)
	}
	fmt.Fprintln(o.io.Out, summary(res, time.Since(started)))
	return refreshLedger(ctx, store, pullLog)
}

// twilioError gives the puller's named errors their exit codes.
func twilioError(err error) error {
	switch {
	case errors.Is(err, ingest.ErrTwilioCredentials), errors.Is(err, ingest.ErrTwilioAuth):
		return fail.Auth(err)
	case errors.Is(err, ingest.ErrUnknownService):
		return fail.Input(err)
	}
	return err
}

func summary(r ingest.TwilioResult, took time.Duration) string {
	mode := "changes"
	switch {
	case r.Full:
		mode = "full"
	case r.Resumed:
		mode = "resumed"
	}
	return fmt.Sprintf("twilio (%s): %d users, %d conversations (%d pulled, %d unchanged, %d deleted while pulling), "+
		"%d participants, %d messages, %d usage records; %d requests, %d retries, %s",
		mode, r.Users, r.Conversations, r.Done, r.Skipped, r.Deleted, r.Participants, r.Messages, r.UsageRecords,
		r.Requests, r.Retries, took.Round(100*time.Millisecond))
}

// showProgress draws a live line on a terminal: conversations done out of
// those listed so far, with an ETA, items per type, requests/s, retries.
func showProgress(w io.Writer, pull *ingest.TwilioPull) (stop func()) {
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(20),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		var lastRequests int64
		last := time.Now()
		for {
			select {
			case <-done:
				bar.Finish()
				return
			case now := <-tick.C:
				p := pull.Progress()
				rate := float64(p.Requests-lastRequests) / now.Sub(last).Seconds()
				lastRequests, last = p.Requests, now
				bar.ChangeMax64(max(1, p.Listed))
				bar.Set64(p.Done + p.Skipped + p.Deleted)
				bar.Describe(fmt.Sprintf("conversations | %d users, %d participants, %d messages | %.0f req/s, %d retries",
					p.Users, p.Participants, p.Messages, rate, p.Retries))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
