// Package browser opens a page of mauledger's in a real headless Chromium,
// as a person would, so that the tests of the HTML report check what they
// would see: that it loads offline without errors, that its charts are
// drawn, that it fits a phone's width, and a screenshot to look at.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// RequireEnv, set to 1 (as .ci/run does after installing Chromium), makes
// a missing browser fail the test instead of skipping it.
const RequireEnv = "MAULEDGER_REQUIRE_BROWSER"

// Find returns the path of a Chromium or Chrome on this machine.
func Find() (string, bool) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Require returns the browser's path, or skips t with a message saying how
// to install one; where RequireEnv is set it fails instead.
func Require(t testing.TB) string {
	t.Helper()
	if p, ok := Find(); ok {
		return p
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("no Chromium on PATH, and %s=1 requires one", RequireEnv)
	}
	t.Skip("no Chromium on PATH: install Debian's chromium package (apt-get install chromium) to run the browser tests; .ci/run does")
	return ""
}

// Page is what the browser saw of a page.
type Page struct {
	// Text is the page's visible text (document.body.innerText).
	Text string
	// Errors are console errors, uncaught exceptions and error log entries.
	Errors []string
	// Requests are the URLs the page asked for beyond itself: none, for a
	// page that works offline.
	Requests []string
	// Charts counts the SVG charts (svg.chart), and Marks the shapes they
	// draw (elements of class "mark").
	Charts, Marks int
	// Overflow is how many CSS pixels wider than the viewport the page is.
	Overflow int
}

// View is how to look at a page: the viewport in CSS pixels, and where to
// save a PNG screenshot of the whole page, or of the viewport only.
type View struct {
	Width, Height int
	Screenshot    string
	ViewportOnly  bool
}

// Open loads the file at path in headless Chromium (the binary exe) as v
// says, and saves its screenshot.
func Open(ctx context.Context, exe, path string, v View) (*Page, error) {
	width, height := v.Width, v.Height
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "mauledger-chromium-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	// The flags keep Chromium from reaching for the network on its own
	// (updates, sync, safe browsing), which a closed machine refuses.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.UserDataDir(profile), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(width, height))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()

	page := &Page{}
	var mu sync.Mutex
	self := "file://" + abs
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == "error" || e.Type == "assert" {
				page.Errors = append(page.Errors, "console: "+args(e.Args))
			}
		case *runtime.EventExceptionThrown:
			page.Errors = append(page.Errors, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == "error" {
				page.Errors = append(page.Errors, "log: "+e.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			if u := e.Request.URL; u != self && !strings.HasPrefix(u, "data:") {
				page.Requests = append(page.Requests, u)
			}
		}
	}
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithListener(listen))
	defer cancelTab()

	err = chromedp.Do(tab,
		chromedp.EmulateViewport(int64(width), int64(height)),
		chromedp.Navigate(self),
		chromedp.WaitReady("body"),
	)
	var text string
	var charts, marks, overflow int
	if err == nil {
		text, err = chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
	}
	if err == nil {
		charts, err = chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll('svg.chart').length`))
	}
	if err == nil {
		marks, err = chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll('svg.chart .mark').length`))
	}
	if err == nil {
		overflow, err = chromedp.Run(tab, chromedp.Evaluate[int](`Math.max(0, document.documentElement.scrollWidth - window.innerWidth)`))
	}
	var png []byte
	if err == nil && v.ViewportOnly {
		png, err = chromedp.Run(tab, chromedp.CaptureScreenshot())
	} else if err == nil {
		png, err = chromedp.Run(tab, chromedp.FullScreenshot(100))
	}
	if err != nil {
		return nil, fmt.Errorf("chromium %s: %w", path, err)
	}
	if len(png) == 0 {
		return nil, errors.New("chromium took an empty screenshot")
	}
	if err := os.WriteFile(v.Screenshot, png, 0o644); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	page.Text, page.Charts, page.Marks, page.Overflow = text, charts, marks, overflow
	return page, nil
}

func args(as []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range as {
		if a.Value != nil {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}
