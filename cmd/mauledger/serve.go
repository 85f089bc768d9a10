package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/ingest/capture"
	"github.com/mauledger/mauledger/ingest/spool"
	"github.com/mauledger/mauledger/internal/fail"
)

type serveOptions struct {
	io            *streams
	global        *globalOptions
	Addr          string
	Spool         string
	PublicURL     string
	SkipSignature bool
	SegmentBytes  int64
	SegmentAge    time.Duration
	authToken     string
}

func newServeCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &serveOptions{io: io, global: g}
	cmd := &cobra.Command{
		Use:   "serve --spool DIR --public-url URL",
		Short: "Receive Conversations webhooks and Event Streams deliveries into a spool",
		Long: `Receive Twilio's live events and append them to a spool directory, to be
loaded with "mauledger ingest events --spool DIR" (safe while serve runs):

  POST /twilio/conversations   Conversations post-event webhooks (form posts)
  POST /twilio/events          Event Streams webhook sink (CloudEvents JSON)
  GET  /healthz                200 while serving, 503 while spool writes fail

Every request's X-Twilio-Signature is checked with the auth token in
TWILIO_AUTH_TOKEN over the URL Twilio called: --public-url followed by the
request's path and query (behind a proxy, the listen address differs). A
request without a valid signature gets 403 and nothing is stored. Each
accepted event is on disk (fsync) before the 2xx goes out. SIGTERM or
Ctrl-C stops taking requests, finishes those under way and exits 0.

serve does not open the database, so reports and loads run alongside it.`,
		Example: `  TWILIO_AUTH_TOKEN=... mauledger serve --addr 127.0.0.1:8080 --spool /var/lib/mauledger/spool \
      --public-url https://hooks.example.com
  mauledger serve --spool ./spool --insecure-skip-signature   # local testing only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context()) },
	}
	cmd.Flags().StringVar(&o.Addr, "addr", "127.0.0.1:8080", "HOST:PORT to listen on")
	cmd.Flags().StringVar(&o.Spool, "spool", "", "spool directory the events are appended to (created if need be)")
	cmd.Flags().StringVar(&o.PublicURL, "public-url", "", "scheme, host and any path prefix Twilio calls, e.g. https://hooks.example.com")
	cmd.Flags().BoolVar(&o.SkipSignature, "insecure-skip-signature", false, "accept requests without checking X-Twilio-Signature (local testing only)")
	cmd.Flags().Int64Var(&o.SegmentBytes, "segment-size", spool.DefaultOptions.MaxSegmentBytes, "start a new spool segment past this many bytes")
	cmd.Flags().DurationVar(&o.SegmentAge, "segment-age", spool.DefaultOptions.MaxSegmentAge, "start a new spool segment for events arriving this long after the open one began")
	return cmd
}

func (o *serveOptions) check() error {
	if o.Spool == "" {
		return fail.Usagef("serve needs --spool DIR")
	}
	if o.SegmentBytes <= 0 || o.SegmentAge <= 0 {
		return fail.Usagef("--segment-size and --segment-age must be positive")
	}
	if o.SkipSignature {
		return nil
	}
	o.authToken = os.Getenv("TWILIO_AUTH_TOKEN")
	if o.authToken == "" {
		return fail.Auth(errors.New("TWILIO_AUTH_TOKEN is not set: serve checks every request's X-Twilio-Signature with it"))
	}
	if o.PublicURL == "" {
		return fail.Usagef("serve needs --public-url, the URL Twilio calls (e.g. https://hooks.example.com), to check signatures")
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fail.Usagef("--public-url %q: want scheme://host[:port][/prefix], without query", o.PublicURL)
	}
	return nil
}

func (o *serveOptions) run(ctx context.Context) error {
	if err := o.check(); err != nil {
		return err
	}
	log := o.global.logger(o.io.Err)
	if o.SkipSignature {
		log.Warn("!!! --insecure-skip-signature: requests are NOT checked to come from Twilio; anyone who can reach " +
			o.Addr + " can add billing evidence. For local testing only. !!!")
	}
	w, err := spool.Open(o.Spool, spool.Options{MaxSegmentBytes: o.SegmentBytes, MaxSegmentAge: o.SegmentAge}, log)
	if errors.Is(err, spool.ErrInUse) {
		return fail.Store(err)
	}
	if err != nil {
		return fail.Input(err)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		w.Close()
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "spool", o.Spool, "public_url", o.PublicURL,
		"paths", capture.ConversationsPath+" "+capture.EventsPath+" "+capture.HealthPath)
	h := capture.Handler(capture.Config{Spool: w, AuthToken: o.authToken, PublicURL: o.PublicURL,
		SkipSignature: o.SkipSignature, Log: log})
	serveErr := capture.Serve(ctx, ln, h, log)
	if err := w.Close(); err != nil && serveErr == nil {
		serveErr = fmt.Errorf("close spool: %w", err)
	}
	if serveErr != nil {
		return serveErr
	}
	log.Info("stopped: requests under way finished, spool closed")
	return nil
}
