package twiliofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Twilio's own hosts: the absolute links a page carries point there, as
// Twilio's do; a client reaches the fake only by rewriting them.
const (
	ConversationsHost = "https://conversations.twilio.com"
	APIHost           = "https://api.twilio.com"
)

// Page-size maxima, as Twilio documents them.
const (
	MaxUsersPage = 50
	MaxPage      = 100 // Services, Conversations, Participants, Messages
	MaxUsagePage = 1000
	defaultPage  = 50
)

// Fault is a failure the fake can be told to answer with.
type Fault int

const (
	// RateLimited answers 429 with a Retry-After header (SetRetryAfter).
	RateLimited Fault = iota
	// RateLimitedNoRetryAfter answers 429 without Retry-After.
	RateLimitedNoRetryAfter
	// ServerError answers 500.
	ServerError
	// DropConnection closes the connection without answering.
	DropConnection
	// CutBody answers 200 and closes the connection in the middle of the body.
	CutBody
	// Forbidden answers 403, as for a credential without the permission.
	Forbidden
)

type injected struct {
	fault    Fault
	left     int
	pathPart string
}

// Server is a running fake Twilio API. Close it when done.
type Server struct {
	// URL is the base URL to send every request to.
	URL string

	srv *httptest.Server

	mu           sync.Mutex
	latency      time.Duration
	retryAfter   string
	account      *Account
	services     map[string]*Service
	convs        map[string]*Conversation
	convService  map[string]*Service
	creds        map[string]string // username -> password
	faults       []*injected
	deleteListed map[string]bool
	requests     []string
}

// New starts a fake serving account. It accepts the account SID with
// token, and any key added with AddAPIKey.
func New(account *Account, token string) *Server {
	s := &Server{
		account:      account,
		creds:        map[string]string{account.SID: token},
		deleteListed: map[string]bool{},
		retryAfter:   "1",
	}
	s.reindex()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/Services", s.listServices)
	mux.HandleFunc("GET /v1/Services/{service}/Users", s.listUsers)
	mux.HandleFunc("GET /v1/Services/{service}/Conversations", s.listConversations)
	mux.HandleFunc("GET /v1/Services/{service}/Conversations/{conv}/Participants", s.listParticipants)
	mux.HandleFunc("GET /v1/Services/{service}/Conversations/{conv}/Messages", s.listMessages)
	mux.HandleFunc("GET /2010-04-01/Accounts/{account}/Usage/Records/Monthly.json", s.listUsage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	s.srv = httptest.NewServer(s.wrap(mux))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetRetryAfter sets the Retry-After header of RateLimited answers, in
// seconds ("1" unless set).
func (s *Server) SetRetryAfter(seconds string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = seconds
}

// AddAPIKey accepts an API key SID with its secret.
func (s *Server) AddAPIKey(sid, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[sid] = secret
}

// Inject makes the next n requests whose path contains pathPart ("" for
// any) answer with f.
func (s *Server) Inject(f Fault, n int, pathPart string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &injected{fault: f, left: n, pathPart: pathPart})
}

// DeleteWhenListed deletes conversation sid right after a page listing it
// is served: the client sees it, then gets 404 for its participants and
// messages.
func (s *Server) DeleteWhenListed(sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteListed[sid] = true
}

// Update changes the account (new messages, a closed conversation...)
// between runs of a client.
func (s *Server) Update(change func(*Account)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(s.account)
	s.reindex()
}

// Requests returns the path and query of every request received so far,
// including failed ones, and forgets them.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests
	s.requests = nil
	return r
}

// reindex sorts the keyed lists and maps SIDs to resources.
func (s *Server) reindex() {
	bySID := func(a, b string) int { return strings.Compare(a, b) }
	slices.SortFunc(s.account.Services, func(a, b *Service) int { return bySID(a.SID, b.SID) })
	s.services = map[string]*Service{}
	s.convs = map[string]*Conversation{}
	s.convService = map[string]*Service{}
	for _, svc := range s.account.Services {
		s.services[svc.SID] = svc
		slices.SortFunc(svc.Users, func(a, b User) int { return bySID(a.SID, b.SID) })
		slices.SortFunc(svc.Conversations, func(a, b *Conversation) int { return bySID(a.SID, b.SID) })
		for _, c := range svc.Conversations {
			slices.SortFunc(c.Participants, func(a, b Participant) int { return bySID(a.SID, b.SID) })
			s.convs[c.SID] = c
			s.convService[c.SID] = svc
		}
	}
}

// wrap records, delays, authenticates and injects faults before routing.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.RequestURI())
		user, pass, ok := r.BasicAuth()
		authorised := ok && s.creds[user] != "" && s.creds[user] == pass
		fault, faulty := s.takeFault(r.URL.Path)
		latency, retryAfter := s.latency, s.retryAfter
		s.mu.Unlock()
		if latency > 0 {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
		}
		if !authorised {
			twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		if faulty {
			switch fault {
			case RateLimited:
				w.Header().Set("Retry-After", retryAfter)
				twilioError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
			case RateLimitedNoRetryAfter:
				twilioError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
			case ServerError:
				twilioError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
			case DropConnection:
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					conn.Close()
				}
			case Forbidden:
				twilioError(w, http.StatusForbidden, 20403, "Forbidden")
			case CutBody:
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "4096")
				w.WriteHeader(http.StatusOK)
				w.Write([]byte(`{"meta": {"page": 0, "page_si`))
				http.NewResponseController(w).Flush()
				panic(http.ErrAbortHandler) // net/http closes the connection
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) takeFault(path string) (Fault, bool) {
	for i, f := range s.faults {
		if f.left > 0 && strings.Contains(path, f.pathPart) {
			f.left--
			if f.left == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f.fault, true
		}
	}
	return 0, false
}

func twilioError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// window is one page of a list: where it starts and its size.
type window struct {
	query  url.Values // the filters to carry into the page links
	size   int
	page   int
	token  string // PageToken without its "PT"
	offset int
}

// pageOf reads PageSize (capped at maxSize), Page and PageToken. A token
// is "PT" and either the key of the last item of the previous page (keyed
// lists, which a deletion does not shift) or the offset of the page's first
// item: opaque to clients, as Twilio's are.
func pageOf(r *http.Request, maxSize int, filters ...string) (window, bool) {
	q := r.URL.Query()
	w := window{query: url.Values{}, size: defaultPage}
	for _, f := range filters {
		if v := q.Get(f); v != "" {
			w.query.Set(f, v)
		}
	}
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return w, false
		}
		w.size = min(n, maxSize)
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return w, false
		}
		w.page = n
	}
	if v := q.Get("PageToken"); v != "" {
		if !strings.HasPrefix(v, "PT") {
			return w, false
		}
		w.token = strings.TrimPrefix(v, "PT")
	}
	return w, true
}

// start resolves the token: after key token in a list sorted by key, or at
// an offset.
func (w *window) start(n int, key func(i int) string) bool {
	if w.token == "" {
		return true
	}
	if key != nil {
		w.offset = sort.Search(n, func(i int) bool { return key(i) > w.token })
		return true
	}
	off, err := strconv.Atoi(w.token)
	w.offset = off
	return err == nil && off >= 0
}

func (w window) link(base string, page int, token string) string {
	q := url.Values{}
	for k, v := range w.query {
		q[k] = v
	}
	q.Set("PageSize", strconv.Itoa(w.size))
	q.Set("Page", strconv.Itoa(page))
	if token != "" {
		q.Set("PageToken", "PT"+token)
	}
	return base + "?" + q.Encode()
}

// servePage answers one page of n items in Conversations v1 list form:
// the items under key, and meta with absolute links on Twilio's host. Lists
// with a key function are sorted by it and paged by it.
func servePage(rw http.ResponseWriter, r *http.Request, name string, maxSize, n int, key func(i int) string, item func(i int) any, filters ...string) {
	w, ok := pageOf(r, maxSize, filters...)
	if !ok || !w.start(n, key) {
		twilioError(rw, http.StatusBadRequest, 20001, "Invalid paging parameter")
		return
	}
	base := ConversationsHost + r.URL.Path
	end := min(w.offset+w.size, n)
	items := make([]any, 0, w.size)
	for i := w.offset; i < end; i++ {
		items = append(items, item(i))
	}
	meta := map[string]any{
		"page":              w.page,
		"page_size":         w.size,
		"first_page_url":    w.link(base, 0, ""),
		"previous_page_url": nil,
		"url":               w.link(base, w.page, w.token),
		"next_page_url":     nil,
		"key":               name,
	}
	if w.page > 0 {
		meta["previous_page_url"] = w.link(base, w.page-1, "")
	}
	if end < n {
		next := strconv.Itoa(end)
		if key != nil {
			next = key(end - 1)
		}
		meta["next_page_url"] = w.link(base, w.page+1, next)
	}
	writeJSON(rw, http.StatusOK, map[string]any{name: items, "meta": meta})
}

func (s *Server) service(w http.ResponseWriter, r *http.Request) *Service {
	svc := s.services[r.PathValue("service")]
	if svc == nil {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	}
	return svc
}

func (s *Server) conversation(w http.ResponseWriter, r *http.Request) (*Service, *Conversation) {
	svc := s.service(w, r)
	if svc == nil {
		return nil, nil
	}
	c := s.convs[r.PathValue("conv")]
	if c == nil || s.convService[c.SID] != svc {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return nil, nil
	}
	return svc, c
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svcs := s.account.Services
	servePage(w, r, "services", MaxPage, len(svcs), func(i int) string { return svcs[i].SID }, func(i int) any { return s.serviceJSON(svcs[i]) })
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.service(w, r)
	if svc == nil {
		return
	}
	servePage(w, r, "users", MaxUsersPage, len(svc.Users), func(i int) string { return svc.Users[i].SID }, func(i int) any { return s.userJSON(svc, &svc.Users[i]) })
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.service(w, r)
	if svc == nil {
		return
	}
	convs := svc.Conversations
	if state := strings.ToLower(r.URL.Query().Get("State")); state != "" {
		convs = nil
		for _, c := range svc.Conversations {
			if c.State == state {
				convs = append(convs, c)
			}
		}
	}
	var listed []string
	servePage(w, r, "conversations", MaxPage, len(convs), func(i int) string { return convs[i].SID }, func(i int) any {
		listed = append(listed, convs[i].SID)
		return s.conversationJSON(svc, convs[i])
	}, "State")
	for _, sid := range listed {
		if s.deleteListed[sid] {
			delete(s.deleteListed, sid)
			s.deleteConversation(svc, sid)
		}
	}
}

func (s *Server) deleteConversation(svc *Service, sid string) {
	kept := make([]*Conversation, 0, len(svc.Conversations))
	for _, c := range svc.Conversations {
		if c.SID != sid {
			kept = append(kept, c)
		}
	}
	svc.Conversations = kept
	s.reindex()
}

func (s *Server) listParticipants(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, c := s.conversation(w, r)
	if c == nil {
		return
	}
	servePage(w, r, "participants", MaxPage, len(c.Participants), func(i int) string { return c.Participants[i].SID }, func(i int) any {
		return s.participantJSON(svc, c, &c.Participants[i])
	})
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, c := s.conversation(w, r)
	if c == nil {
		return
	}
	n := len(c.Messages)
	desc := strings.EqualFold(r.URL.Query().Get("Order"), "desc")
	servePage(w, r, "messages", MaxPage, n, nil, func(i int) any {
		if desc {
			i = n - 1 - i
		}
		return s.messageJSON(svc, c, &c.Messages[i])
	}, "Order")
}

func (s *Server) listUsage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.PathValue("account") != s.account.SID {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	q := r.URL.Query()
	var from, to time.Time
	for _, d := range []struct {
		name string
		t    *time.Time
	}{{"StartDate", &from}, {"EndDate", &to}} {
		if v := q.Get(d.name); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				twilioError(w, http.StatusBadRequest, 20001, d.name+" must be YYYY-MM-DD")
				return
			}
			*d.t = t
		}
	}
	var records []UsageRecord
	for _, u := range s.account.Usage {
		end := u.Month.AddDate(0, 1, -1)
		if (q.Get("Category") != "" && u.Category != q.Get("Category")) ||
			(!from.IsZero() && end.Before(from)) || (!to.IsZero() && u.Month.After(to)) {
			continue
		}
		records = append(records, u)
	}
	win, ok := pageOf(r, MaxUsagePage, "Category", "StartDate", "EndDate")
	if !ok || !win.start(len(records), nil) {
		twilioError(w, http.StatusBadRequest, 20001, "Invalid paging parameter")
		return
	}
	path := r.URL.Path
	end := min(win.offset+win.size, len(records))
	items := []any{}
	for _, u := range records[win.offset:max(win.offset, end)] {
		items = append(items, s.usageJSON(u))
	}
	body := map[string]any{
		"usage_records":     items,
		"page":              win.page,
		"page_size":         win.size,
		"start":             win.offset,
		"end":               max(win.offset, end-1),
		"uri":               win.link(path, win.page, win.token),
		"first_page_uri":    win.link(path, 0, ""),
		"next_page_uri":     nil,
		"previous_page_uri": nil,
	}
	if end < len(records) {
		body["next_page_uri"] = win.link(path, win.page+1, strconv.Itoa(end))
	}
	if win.page > 0 {
		body["previous_page_uri"] = win.link(path, win.page-1, "")
	}
	writeJSON(w, http.StatusOK, body)
}
