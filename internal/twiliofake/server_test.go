package twiliofake

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
)

const (
	account = "AC00000000000000000000000000000001"
	token   = "secret0token"
)

// get fetches path from f (with Twilio's credentials unless noAuth) and
// decodes the JSON object it answers.
func get(t *testing.T, f *Server, path string, noAuth ...bool) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.URL+path, nil)
	if len(noAuth) == 0 {
		req.SetBasicAuth(account, token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return resp.StatusCode, body
}

func keys(m any) []string {
	return slices.Sorted(maps.Keys(m.(map[string]any)))
}

// TestListsHaveTwiliosShape compares every list the fake serves with the
// property names of Twilio's OpenAPI descriptions (extracted into testdata).
func TestListsHaveTwiliosShape(t *testing.T) {
	raw, err := os.ReadFile("testdata/oai-properties.json")
	if err != nil {
		t.Fatal(err)
	}
	var oai struct {
		Resources map[string][]string
		Lists     map[string]struct{ Top, Meta []string }
	}
	if err := json.Unmarshal(raw, &oai); err != nil {
		t.Fatal(err)
	}
	f := New(Synthetic(account, Size{Services: 1, Users: 3, Conversations: 1, Messages: 3}), token)
	defer f.Close()
	svc, conv := SID("IS", 0), SID("CH", 0)
	for _, c := range []struct{ spec, path, key string }{
		{"/v1/Services", "/v1/Services", "services"},
		{"/v1/Services/{ChatServiceSid}/Users", "/v1/Services/" + svc + "/Users", "users"},
		{"/v1/Services/{ChatServiceSid}/Conversations", "/v1/Services/" + svc + "/Conversations", "conversations"},
		{"/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Participants", "/v1/Services/" + svc + "/Conversations/" + conv + "/Participants", "participants"},
		{"/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Messages", "/v1/Services/" + svc + "/Conversations/" + conv + "/Messages", "messages"},
		{"/2010-04-01/Accounts/{AccountSid}/Usage/Records/Monthly.json", "/2010-04-01/Accounts/" + account + "/Usage/Records/Monthly.json", "usage_records"},
	} {
		status, body := get(t, f, c.path)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d", c.path, status)
		}
		want := oai.Lists[c.spec]
		if got := keys(body); !slices.Equal(got, want.Top) {
			t.Errorf("%s: keys %v, want %v", c.path, got, want.Top)
		}
		if want.Meta != nil {
			if got := keys(body["meta"]); !slices.Equal(got, want.Meta) {
				t.Errorf("%s meta: keys %v, want %v", c.path, got, want.Meta)
			}
			if body["meta"].(map[string]any)["key"] != c.key {
				t.Errorf("%s: meta.key %v, want %s", c.path, body["meta"].(map[string]any)["key"], c.key)
			}
		}
		items := body[c.key].([]any)
		if len(items) == 0 {
			t.Fatalf("%s: no %s", c.path, c.key)
		}
		for _, item := range items {
			if got := keys(item); !slices.Equal(got, oai.Resources[c.key]) {
				t.Errorf("%s item: keys %v, want %v", c.path, got, oai.Resources[c.key])
			}
		}
	}
}

func TestPagingCapsTokensOrderAndState(t *testing.T) {
	f := New(Synthetic(account, Size{Services: 1, Users: 120, Conversations: 6, Messages: 6 * 150, ClosedEvery: 3}), token)
	defer f.Close()
	svc := SID("IS", 0)

	// PageSize above Twilio's maximum is capped; the next page is an
	// absolute URL on Twilio's own host, with a PageToken.
	_, body := get(t, f, "/v1/Services/"+svc+"/Users?PageSize=500")
	meta := body["meta"].(map[string]any)
	if n := len(body["users"].([]any)); n != MaxUsersPage || meta["page_size"] != float64(MaxUsersPage) {
		t.Errorf("%d users in a page of %v, want %d", n, meta["page_size"], MaxUsersPage)
	}
	next, _ := meta["next_page_url"].(string)
	u, err := url.Parse(next)
	if err != nil || u.Scheme+"://"+u.Host != ConversationsHost || u.Query().Get("PageToken") == "" || u.Query().Get("Page") != "1" {
		t.Fatalf("next_page_url %q", next)
	}
	seen := map[string]bool{}
	for _, it := range body["users"].([]any) {
		seen[it.(map[string]any)["sid"].(string)] = true
	}
	for next != "" {
		u, _ := url.Parse(next)
		_, body = get(t, f, u.RequestURI())
		for _, it := range body["users"].([]any) {
			sid := it.(map[string]any)["sid"].(string)
			if seen[sid] {
				t.Errorf("user %s on two pages", sid)
			}
			seen[sid] = true
		}
		next, _ = body["meta"].(map[string]any)["next_page_url"].(string)
	}
	if len(seen) != 120 {
		t.Errorf("paged through %d users, want 120", len(seen))
	}

	// Order=desc lists messages newest first.
	conv := SID("CH", 0)
	_, body = get(t, f, "/v1/Services/"+svc+"/Conversations/"+conv+"/Messages?Order=desc&PageSize=100")
	msgs := body["messages"].([]any)
	if first := msgs[0].(map[string]any)["index"]; first != float64(149) {
		t.Errorf("newest first: index %v, want 149", first)
	}
	if !strings.Contains(body["meta"].(map[string]any)["next_page_url"].(string), "Order=desc") {
		t.Errorf("the next page forgets the order")
	}

	// State filters conversations.
	_, body = get(t, f, "/v1/Services/"+svc+"/Conversations?State=closed")
	for _, c := range body["conversations"].([]any) {
		if c.(map[string]any)["state"] != Closed {
			t.Errorf("State=closed listed %v", c)
		}
	}
	if n := len(body["conversations"].([]any)); n != 2 {
		t.Errorf("%d closed conversations, want 2", n)
	}

	// Usage records page by next_page_uri, relative to api.twilio.com.
	_, body = get(t, f, "/2010-04-01/Accounts/"+account+"/Usage/Records/Monthly.json?PageSize=1")
	if uri, _ := body["next_page_uri"].(string); !strings.HasPrefix(uri, "/2010-04-01/Accounts/"+account+"/Usage/Records/Monthly.json?") {
		t.Errorf("next_page_uri %q", uri)
	}
}

func TestErrorsHaveTwiliosShape(t *testing.T) {
	f := New(Synthetic(account, Size{Services: 1, Users: 1, Conversations: 1, Messages: 1}), token)
	defer f.Close()
	for _, c := range []struct {
		path   string
		noAuth bool
		status int
		code   float64
	}{
		{"/v1/Services", true, 401, 20003},
		{"/v1/Services/ISnope/Users", false, 404, 20404},
		{"/v1/Services/" + SID("IS", 0) + "/Conversations/CHnope/Messages", false, 404, 20404},
	} {
		var status int
		var body map[string]any
		if c.noAuth {
			status, body = get(t, f, c.path, true)
		} else {
			status, body = get(t, f, c.path)
		}
		if status != c.status || body["code"] != c.code || body["status"] != float64(c.status) ||
			!slices.Equal(keys(body), []string{"code", "message", "more_info", "status"}) {
			t.Errorf("%s: %d %v", c.path, status, body)
		}
	}
}
