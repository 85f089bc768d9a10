package reports

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mauledger/mauledger/internal/browser"
)

// openInBrowser writes page to a file, opens it in headless Chromium at a
// desktop and at a phone's width, and checks what a reader would meet: no
// error in the console, nothing fetched from anywhere, charts drawn, and
// nothing wider than the phone's screen. It returns the desktop view.
func openInBrowser(t *testing.T, name string, page []byte) *browser.Page {
	t.Helper()
	exe := browser.Require(t)
	dir := t.TempDir()
	path := filepath.Join(dir, name+".html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	var desktop *browser.Page
	for _, view := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		shot := filepath.Join(dir, name+"-"+view.name+".png")
		p, err := browser.Open(context.Background(), exe, path, browser.View{Width: view.width, Height: view.height, Screenshot: shot})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s screenshot: %s", view.name, shot)
		if len(p.Errors) > 0 || len(p.Requests) > 0 {
			t.Errorf("%s %s: errors %q, requests %q", name, view.name, p.Errors, p.Requests)
		}
		if p.Overflow > 0 {
			t.Errorf("%s is %d px wider than a %d px %s screen", name, p.Overflow, view.width, view.name)
		}
		if view.name == "desktop" {
			desktop = p
		}
	}
	return desktop
}

func TestHTMLReportInABrowser(t *testing.T) {
	p := openInBrowser(t, "report", writeReport(t, testReport(), Options{Format: HTML}))
	// Three charts; the bars: 3 families (2 in 2026-10), 2 costs, and the
	// services of each month.
	if p.Charts != 3 || p.Marks < 8 {
		t.Errorf("%d charts with %d bars", p.Charts, p.Marks)
	}
	for _, want := range []string{
		"mauledger MAU report 2026-09 to 2026-10", "Overview", "5,240", "5,200 identities, 40 addresses",
		"Who is billed, by family and rule", "sdk.connect", "Per Conversation Service", "The bill", "Total (USD)",
		"Coverage", "Data quality", "Identity hygiene", "What to do", "About", "twilio-conversations-list-usd",
		"service (a subject active in two services is two users)",
	} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
}

func TestHTMLIdentitiesInABrowser(t *testing.T) {
	p := openInBrowser(t, "identities", writeIdentities(t, testIdentities(), Options{Format: HTML}))
	for _, want := range []string{"mauledger identity hygiene", "BILLED IDENTITIES", "Shape", "Duplicates", "Identity lint", "What to do", "About"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
}

// TestHTMLIsSelfContained: no script, and every style and chart inline.
func TestHTMLIsSelfContained(t *testing.T) {
	page := writeReport(t, testReport(), Options{Format: HTML})
	for _, banned := range []string{"<script", "<link", "src=", "@import", "url("} {
		if bytes.Contains(page, []byte(banned)) {
			t.Errorf("the page has %q", banned)
		}
	}
	if n := bytes.Count(page, []byte(`<svg class="chart"`)); n != 3 {
		t.Errorf("%d inline charts, want 3", n)
	}
}
