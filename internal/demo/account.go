package demo

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
)

// generator holds the account and writes its events. The population
// (services, stable and back-office users, addresses and their conversations)
// lives for the whole run; guests, their conversations and the month's
// actors are rebuilt every month.
type generator struct {
	cfg     Config
	rng     *rand.Rand
	sidSeed uint64
	sids    [nsCount]uint64 // SIDs issued so far, per namespace

	account     string
	cloud       [numEventTypes]cloudEnvelope // CloudEvent envelopes, by type
	cloudData   string                       // the end of the envelope, into data up to AccountSid
	services    []service
	serviceSum  int     // sum of the services' weights
	agents      []int32 // all agents, for services that have none
	users       []user  // stable users, back-office users, identity mistakes, then this month's guests and visitors
	keptUsers   int     // len(users) without the guests
	addresses   []address
	convs       []conversation // rooms, then address conversations, then this month's guest chats
	keptConvs   int
	startMillis int64
	mistakes    mistakes

	month                int
	monthStart, monthEnd int64 // ms since the epoch; monthEnd is exclusive
	actors               []actor
	memos                []memo
	queue                timeQueue // actors by the time of their next event

	w     io.Writer
	out   []byte
	err   error
	stats Stats
	line  lineState

	lastDay  int64                    // days since the epoch of the last timestamp written
	lastDate [len("2006-01-02T")]byte // its date

	retries        timeQueue // webhook retries by the time they are due
	retryLines     [][]byte  // retry lines, by slot
	freeRetrySlots []int32
}

type service struct {
	sid           string
	eventStreams  bool
	weight        int
	rooms         []int32    // conversations its members chat in
	agents        []int32    // users who answer guests and addresses
	smsProxy      jsonString // the service's Twilio number
	whatsAppProxy jsonString
}

// user is one identity with a User record in one service.
type user struct {
	identity    jsonString
	key         uint64 // UserSid
	created     int64  // User DateCreated, ms since the epoch
	updated     int64  // User DateUpdated: its creation or last REST update
	service     int32
	conv        int32  // the conversation the user is a participant of; -1 if none
	part        uint64 // ParticipantSid in conv
	partCreated int64
	joinMonth   int16 // month the user is created in the stream; -1 if before
	activity    uint8 // chance, in percent, of being active in a month
	agent       bool
	// online is when the user last came online, in seconds since the first
	// month, plus one; 0 if it has not yet.
	online uint32
}

// address is a phone number or WhatsApp address with its own conversation.
type address struct {
	address     jsonString
	whatsApp    bool
	receiveOnly bool // only ever receives outbound messages: never billable
	service     int32
	conv        int32
	joinMonth   int16 // month its participant is first added; -1 if before
	present     bool  // a participant of conv now
	part        uint64
	partCreated int64
}

type conversation struct {
	key       uint64 // ConversationSid
	created   int64
	service   int32
	nextIndex int32 // message Index of the next message
	open      bool
}

// SID namespaces: each kind of resource draws its SIDs from its own counter.
const (
	nsAccount = iota
	nsService
	nsConversation
	nsUser
	nsParticipant
	nsMessage
	nsEvent
	nsSink     // the Event Streams sink, the source of every CloudEvent
	nsDelivery // a webhook delivery: its I-Twilio-Idempotency-Token
	nsCount
)

func newGenerator(w io.Writer, cfg Config) *generator {
	g := &generator{
		cfg:         cfg,
		rng:         rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d61756c65646772)),
		sidSeed:     newSIDSeed(cfg.Seed),
		w:           w,
		out:         make([]byte, 0, flushAt+4096),
		startMillis: cfg.Start.UnixMilli(),
		lastDay:     math.MinInt64, // no day: lastDate is empty
	}
	// Room for a month without growing: a slice that doubles while the
	// stream is written costs more than it should.
	addresses := cfg.SMSAddresses + cfg.WhatsAppAddresses
	g.convs = make([]conversation, 0, cfg.Services+cfg.StableUsers/10+addresses+cfg.GuestsPerMonth)
	g.actors = make([]actor, 0, cap(g.convs)+cfg.StableUsers+cfg.BackOfficeUsers+2*boundaryUsers)
	g.account = g.sidString("AC", g.newSID(nsAccount))
	g.buildCloudEnvelopes()
	g.buildServices()
	g.buildStableUsers()
	g.buildRooms()
	g.buildBackOffice()
	g.buildAddresses()
	if cfg.IdentityMistakes {
		g.buildMistakes()
	}
	g.keptUsers, g.keptConvs = len(g.users), len(g.convs)
	return g
}

func newSIDSeed(seed int64) uint64 { return mix64(uint64(seed) ^ 0x5ca1ab1e) }

const day = 24 * 60 * 60 * 1000 // ms

// before is a random time up to days before the first month.
func (g *generator) before(days int64) int64 {
	return g.startMillis - 1 - g.rng.Int64N(days*day)
}

// between is a random time in [from, to).
func (g *generator) between(from, to int64) int64 {
	if to <= from {
		return from
	}
	return from + g.rng.Int64N(to-from)
}

// buildServices weighs the webhook services 1/1, 1/2, 1/3... and gives the
// Event Streams service, the last, a fifth of the total.
func (g *generator) buildServices() {
	n := g.cfg.Services
	g.services = make([]service, n)
	webhookSum := 0
	for i := range g.services {
		s := &g.services[i]
		s.sid = g.sidString("IS", g.newSID(nsService))
		proxy := fmt.Sprintf("+1888555%04d", 100+i)
		s.smsProxy, s.whatsAppProxy = quote(proxy), quote("whatsapp:"+proxy)
		s.weight = 6000 / (i + 1)
		if n > 1 && i == n-1 {
			s.eventStreams = true
			s.weight = max(1, webhookSum/4)
		}
		webhookSum += s.weight
	}
	g.serviceSum = webhookSum
}

func (g *generator) pickService() int32 {
	r := g.rng.IntN(g.serviceSum)
	for i := range g.services {
		if r < g.services[i].weight {
			return int32(i)
		}
		r -= g.services[i].weight
	}
	return int32(len(g.services) - 1)
}

var (
	firstNames = []string{
		"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
		"mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yasmin",
		"zoe", "amir", "bea", "chen", "dara", "emeka", "fatima", "goran", "hana", "ines",
		"jonas", "kofi", "lena", "mateo", "nour", "omar", "priya", "quinn", "rosa", "sven",
	}
	lastNames = []string{
		"smith", "jones", "garcia", "muller", "rossi", "dubois", "kowalski", "tanaka", "silva", "nguyen",
		"okafor", "larsen", "novak", "haddad", "schmidt", "costa", "ivanova", "kim", "patel", "murphy",
		"fischer", "moreau", "santos", "yilmaz", "berg", "popescu", "horvat", "virtanen", "obi", "reyes",
		"andersen", "ferrari", "lopez", "weber", "chen", "sato", "mensah", "dvorak", "lind", "walsh",
	}
)

// emailIdentity is the n-th distinct "first.last@example.com" identity.
func emailIdentity(n int) string {
	f, l := len(firstNames), len(lastNames)
	id := firstNames[n%f] + "." + lastNames[(n/f)%l]
	if round := n / (f * l); round > 0 {
		id += strconv.Itoa(round + 1)
	}
	return id + "@example.com"
}

// caseTwin capitalises the names of an email identity: "Alice.Smith@..." is
// a different user from "alice.smith@...".
func caseTwin(id string) string {
	b := []byte(id)
	for i := range b {
		if b[i] == '@' {
			break
		}
		if (i == 0 || b[i-1] == '.') && 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// buildStableUsers makes the named users: 65% email identities (one in a
// hundred of them the case twin of the one before, in the same service), 30%
// "user_N" and 5% "agent-NN" agents, who answer guests and addresses.
func (g *generator) buildStableUsers() {
	n := g.cfg.StableUsers
	g.users = make([]user, 0, n+g.cfg.BackOfficeUsers+g.cfg.GuestsPerMonth)
	emails, numbered, agents := 0, 0, 0
	lastEmail, lastEmailService := "", int32(0)
	for i := range n {
		u := user{key: g.newSID(nsUser), service: g.pickService(), joinMonth: -1}
		switch k := i % 20; {
		case k < 13 && emails%100 == 99 && lastEmail != "":
			u.identity = quote(caseTwin(lastEmail))
			u.service = lastEmailService
			emails++
		case k < 13:
			lastEmail, lastEmailService = emailIdentity(emails), u.service
			u.identity = quote(lastEmail)
			emails++
		case k < 19:
			u.identity = quote("user_" + strconv.Itoa(1000+numbered))
			numbered++
		default:
			agents++
			u.identity = quote(fmt.Sprintf("agent-%02d", agents))
			u.agent = true
		}
		switch r := g.rng.IntN(100); {
		case u.agent:
			u.activity = 95
		case r < 70:
			u.activity = 92
		case r < 90:
			u.activity = 50
		default:
			u.activity = 15
		}
		if !u.agent && g.rng.IntN(4) == 0 {
			u.joinMonth = int16(g.rng.IntN(g.cfg.Months))
		} else {
			u.created = g.before(700)
			u.updated = u.created
		}
		if u.agent {
			g.services[u.service].agents = append(g.services[u.service].agents, int32(i))
			g.agents = append(g.agents, int32(i))
		}
		g.users = append(g.users, u)
	}
}

// buildRooms gives every service one group conversation per ten members (at
// least one), all older than the first month, and seats each stable user in
// one room of its service.
func (g *generator) buildRooms() {
	members := make([]int, len(g.services))
	for i := range g.users {
		members[g.users[i].service]++
	}
	for s := range g.services {
		for range max(1, members[s]/10) {
			c := g.newConversation(int32(s))
			g.convs[c].created = g.before(800)
			g.convs[c].open = true
			g.convs[c].nextIndex = int32(g.rng.IntN(300))
			g.services[s].rooms = append(g.services[s].rooms, c)
		}
	}
	for i := range g.users {
		u := &g.users[i]
		rooms := g.services[u.service].rooms
		u.conv = rooms[g.rng.IntN(len(rooms))]
		if u.joinMonth < 0 {
			u.part = g.newSID(nsParticipant)
			u.partCreated = g.between(max(u.created, g.convs[u.conv].created), g.startMillis)
		}
	}
}

// buildBackOffice makes the CRM-synced identities: User records only, no
// conversations.
func (g *generator) buildBackOffice() {
	for i := range g.cfg.BackOfficeUsers {
		created := g.before(900)
		g.users = append(g.users, user{
			identity:  quote(fmt.Sprintf("crm-customer-%05d", i+1)),
			key:       g.newSID(nsUser),
			created:   created,
			updated:   created,
			service:   g.pickService(),
			conv:      -1,
			joinMonth: -1,
			activity:  100,
		})
	}
}

// buildAddresses makes the SMS and WhatsApp addresses, each with its own
// conversation. Three in ten only ever receive messages; they were added
// before the first month, so nothing in the stream makes them billable.
// Of the others, four in ten are first added during the months generated.
func (g *generator) buildAddresses() {
	g.addresses = make([]address, 0, g.cfg.SMSAddresses+g.cfg.WhatsAppAddresses)
	for i := range g.cfg.SMSAddresses {
		n := (uint64(i)*7919 + 1_000_003) % maxSMS // a permutation: no repeats
		g.addAddress(quote(fmt.Sprintf("+1555%07d", n)), false)
	}
	for i := range g.cfg.WhatsAppAddresses {
		n := (uint64(i)*7919 + 123_456_789) % maxWhatsApp
		g.addAddress(quote(fmt.Sprintf("whatsapp:+447%09d", n)), true)
	}
}

func (g *generator) addAddress(addr jsonString, whatsApp bool) {
	a := address{address: addr, whatsApp: whatsApp, service: g.pickService(), joinMonth: -1}
	a.receiveOnly = g.rng.IntN(10) < 3
	if !a.receiveOnly && g.rng.IntN(10) < 4 {
		a.joinMonth = int16(g.rng.IntN(g.cfg.Months))
	}
	a.conv = g.newConversation(a.service)
	if a.joinMonth < 0 {
		c := &g.convs[a.conv]
		c.created, c.open = g.before(400), true
		a.present = true
		a.part = g.newSID(nsParticipant)
		a.partCreated = g.between(c.created, g.startMillis)
	}
	g.addresses = append(g.addresses, a)
}

// newConversation appends a conversation of service svc, not yet open.
func (g *generator) newConversation(svc int32) int32 {
	g.convs = append(g.convs, conversation{key: g.newSID(nsConversation), service: svc})
	return int32(len(g.convs) - 1)
}

// agent names an agent of the service of conv to author an outbound
// message, with its participant SID in conv (0 when, as usual, the agent is
// not a participant there: it writes through REST); an account without
// agents sends as "system".
func (g *generator) agent(conv int32) (jsonString, uint64) {
	agents := g.services[g.convs[conv].service].agents
	if len(agents) == 0 {
		agents = g.agents
	}
	if len(agents) == 0 {
		return system, 0
	}
	u := &g.users[agents[g.rng.IntN(len(agents))]]
	if u.conv == conv {
		return u.identity, u.part
	}
	return u.identity, 0
}

// guestIdentity is "guest-" and a random version 4 UUID.
func (g *generator) guestIdentity() jsonString {
	hi := g.rng.Uint64()&^(0xf<<12) | 4<<12
	lo := g.rng.Uint64()&^(3<<62) | 2<<62
	var b [36]byte
	h := appendHex64(appendHex64(make([]byte, 0, 32), hi), lo)
	copy(b[0:8], h[0:8])
	copy(b[9:13], h[8:12])
	copy(b[14:18], h[12:16])
	copy(b[19:23], h[16:20])
	copy(b[24:36], h[20:32])
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	return quote("guest-" + string(b[:]))
}

// ghostAuthorNames are message authors that are nobody: no User, no
// participant.
var ghostAuthorNames = []string{"legacy-importer", "zapier-bot", "deleted-user-4711", "unknown", "crm-sync@internal"}
