package demo

// perform writes the event of step s of actor a, at.
func (g *generator) perform(a *actor, s step, at int64) {
	switch s {
	case stepConversationAdded:
		g.conversationAdded(a, at)
	case stepUserAdded:
		g.userAdded(&g.users[a.user], at)
	case stepParticipantAdded:
		g.participantAdded(a, at)
	case stepConnect:
		g.connect(&g.users[a.user], at)
	case stepSDKMessage:
		u := &g.users[a.user]
		g.message(a, a.conv, at, srcSDK, u.identity, u.identity, u.part, g.pick(chatBodies))
	case stepEditMessage:
		g.editMessage(a, at)
	case stepAPIMessage: // an integration writes as the user, a participant
		u := &g.users[a.user]
		g.message(a, a.conv, at, srcAPI, "", u.identity, u.part, g.pick(chatBodies))
	case stepAgentReply:
		author, part := g.agent(a.conv)
		g.message(a, a.conv, at, srcAPI, "", author, part, g.pick(agentBodies))
	case stepInbound:
		ad := &g.addresses[a.addr]
		g.message(a, a.conv, at, channelOf(ad), "", ad.address, ad.participant(), g.pick(chatBodies))
	case stepSystemMessage:
		g.message(a, a.conv, at, srcAPI, "", system, 0, g.pick(systemBodies))
	case stepGhostMessage:
		rooms := g.services[g.convs[a.conv].service].rooms
		g.message(a, rooms[g.rng.IntN(len(rooms))], at, srcAPI, "", g.pick(ghostAuthors), 0, g.pick(systemBodies))
	case stepUserUpdated:
		g.userUpdated(&g.users[a.user], at, srcAPI, "", false)
	case stepSDKJoin:
		g.sdkJoin(a, at)
	case stepSDKLeave:
		g.sdkLeave(a, at)
	case stepConversationEdited:
		g.conversationUpdated(a.conv, at, srcSDK, g.users[a.user].identity, g.pick(roomNames), active)
	case stepConversationRenamed:
		g.conversationUpdated(a.conv, at, srcAPI, "", g.pick(roomNames), active)
	case stepParticipantRemoved:
		g.participantRemoved(a, at)
	case stepConversationClosed:
		g.conversationUpdated(a.conv, at, srcAPI, "", "", closed)
		g.convs[a.conv].open = false
	}
}

func (g *generator) pick(from []jsonString) jsonString { return from[g.rng.IntN(len(from))] }

// participant is the address's ParticipantSid in its conversation, or 0
// if it is not a participant now.
func (ad *address) participant() uint64 {
	if !ad.present {
		return 0
	}
	return ad.part
}

func channelOf(ad *address) source {
	if ad.whatsApp {
		return srcWhatsApp
	}
	return srcSMS
}

func (g *generator) proxyOf(ad *address) jsonString {
	if ad.whatsApp {
		return g.services[ad.service].whatsAppProxy
	}
	return g.services[ad.service].smsProxy
}

// conversationAdded opens a guest chat or an address conversation: through
// REST, or by the channel when the address wrote first.
func (g *generator) conversationAdded(a *actor, at int64) {
	c := &g.convs[a.conv]
	c.created, c.open = at, true
	src, name := srcAPI, webChat
	if a.addr >= 0 {
		ad := &g.addresses[a.addr]
		name = smsChat
		if ad.whatsApp {
			name = whatsAppChat
		}
		if a.inbound {
			src = channelOf(ad)
		}
	}
	g.open(evConversationAdded, c.service, a.conv, at, src, "")
	g.str("FriendlyName", name)
	g.str("State", active)
	g.date("DateCreated", at)
	g.close(at)
}

func (g *generator) conversationUpdated(conv int32, at int64, src source, client, name, state jsonString) {
	c := &g.convs[conv]
	g.open(evConversationUpdated, c.service, conv, at, src, client)
	if name != "" {
		g.str("FriendlyName", name)
	}
	g.str("State", state)
	g.date("DateCreated", c.created)
	g.date("DateUpdated", at)
	g.close(at)
}

func (g *generator) userAdded(u *user, at int64) {
	u.created, u.updated = at, at
	g.open(evUserAdded, u.service, -1, at, srcAPI, "")
	g.sid("UserSid", "US", u.key)
	g.str("Identity", u.identity)
	g.date("DateCreated", at)
	g.close(at)
}

// onlineFor is how long a user who came online counts as online still.
const onlineFor = 2 * 60 * 60 * 1000 // ms: an app left open

// userUpdated is a REST update of the User's attributes or, from an SDK,
// the user coming online (a connection, not a write).
//
// A REST update moves DateUpdated to its time; coming online does not: the
// event carries the DateUpdated of the last real update. On Event Streams
// every user.updated carries IsOnline and IsNotifiable, as JSON booleans:
// a REST update says whether the user happens to be online (mostly not).
// A webhook of a REST update carries neither, one of coming online only
// IsOnline "true".
func (g *generator) userUpdated(u *user, at int64, src source, client jsonString, online bool) {
	if online {
		u.online = uint32((at-g.startMillis)/1000) + 1
	} else {
		u.updated = at
	}
	g.open(evUserUpdated, u.service, -1, at, src, client)
	g.sid("UserSid", "US", u.key)
	g.str("Identity", u.identity)
	if !online {
		g.str("Attributes", g.pick(userAttributes))
	}
	if g.line.cloud {
		g.boolean("IsOnline", online || u.isOnline(at, g.startMillis))
		g.boolean("IsNotifiable", u.notifiable())
	} else if online {
		g.boolean("IsOnline", true)
	}
	g.date("DateCreated", u.created)
	g.date("DateUpdated", u.updated)
	g.close(at)
}

// isOnline says whether the user came online less than onlineFor before
// at (start is the first month's, from which online counts).
func (u *user) isOnline(at, start int64) bool {
	return u.online != 0 && at-(start+int64(u.online-1)*1000) < onlineFor
}

// notifiable: users of the app (they have a conversation) have push
// notifications set up, but one in four; back-office records never.
func (u *user) notifiable() bool {
	return u.conv >= 0 && mix64(u.key)%4 != 0
}

// connect is an SDK client's sign of life: coming online (more often on
// Event Streams, where user.updated carries IsOnline) or moving its read
// horizon in its conversation.
func (g *generator) connect(u *user, at int64) {
	online := 3
	if g.services[u.service].eventStreams {
		online = 5
	}
	if g.rng.IntN(10) < online {
		g.userUpdated(u, at, srcSDK, u.identity, true)
		return
	}
	c := &g.convs[u.conv]
	g.open(evParticipantUpdated, c.service, u.conv, at, srcSDK, u.identity)
	g.sid("ParticipantSid", "MB", u.part)
	g.str("Identity", u.identity)
	if c.nextIndex > 0 && !g.line.cloud { // participant.updated data has no read horizon
		g.num("LastReadMessageIndex", c.nextIndex-1)
	}
	g.date("DateCreated", u.partCreated)
	g.date("DateUpdated", at)
	g.close(at)
}

// participantAdded adds the actor's user or address to its conversation.
func (g *generator) participantAdded(a *actor, at int64) {
	c := &g.convs[a.conv]
	part := g.newSID(nsParticipant)
	if a.addr >= 0 {
		ad := &g.addresses[a.addr]
		ad.part, ad.partCreated, ad.present = part, at, true
		src := srcAPI
		if a.inbound {
			src = channelOf(ad)
		}
		g.open(evParticipantAdded, c.service, a.conv, at, src, "")
		g.sid("ParticipantSid", "MB", part)
		g.binding(ad, g.proxyOf(ad))
	} else {
		u := &g.users[a.user]
		u.part, u.partCreated = part, at
		g.open(evParticipantAdded, c.service, a.conv, at, srcAPI, "")
		g.sid("ParticipantSid", "MB", part)
		g.str("Identity", u.identity)
	}
	g.date("DateCreated", at)
	g.close(at)
}

// participantRemoved removes the actor's user or address through REST.
func (g *generator) participantRemoved(a *actor, at int64) {
	c := &g.convs[a.conv]
	g.open(evParticipantRemoved, c.service, a.conv, at, srcAPI, "")
	if a.addr >= 0 {
		ad := &g.addresses[a.addr]
		ad.present = false
		g.sid("ParticipantSid", "MB", ad.part)
		g.binding(ad, g.proxyOf(ad))
		g.date("DateCreated", ad.partCreated)
	} else {
		u := &g.users[a.user]
		g.sid("ParticipantSid", "MB", u.part)
		g.str("Identity", u.identity)
		g.date("DateCreated", u.partCreated)
	}
	g.date("DateUpdated", at)
	g.close(at)
}

// sdkJoin: the user joins another room of its service from the app. With a
// single room there is nothing to join, and it only reads.
func (g *generator) sdkJoin(a *actor, at int64) {
	u := &g.users[a.user]
	rooms := g.services[u.service].rooms
	if len(rooms) < 2 {
		g.connect(u, at)
		return
	}
	conv := rooms[g.rng.IntN(len(rooms))]
	if conv == u.conv {
		conv = rooms[(g.rng.IntN(len(rooms)-1)+1+indexOf(rooms, conv))%len(rooms)]
	}
	j := joined{conv: conv, part: g.newSID(nsParticipant), at: at}
	g.memos[a.memo-1].join = j
	g.open(evParticipantAdded, u.service, conv, at, srcSDK, u.identity)
	g.sid("ParticipantSid", "MB", j.part)
	g.str("Identity", u.identity)
	g.date("DateCreated", at)
	g.close(at)
}

func indexOf(s []int32, v int32) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// sdkLeave: the user leaves, from the app, the room it joined this month.
func (g *generator) sdkLeave(a *actor, at int64) {
	u := &g.users[a.user]
	j := g.memos[a.memo-1].join
	if j.part == 0 { // a single room: it joined nothing
		g.connect(u, at)
		return
	}
	g.open(evParticipantRemoved, u.service, j.conv, at, srcSDK, u.identity)
	g.sid("ParticipantSid", "MB", j.part)
	g.str("Identity", u.identity)
	g.date("DateCreated", j.at)
	g.date("DateUpdated", at)
	g.close(at)
}

// message adds a message by author to conv; client is the SDK identity
// that sent it ("" unless src is SDK), part the author's ParticipantSid in
// conv (0 when the author is not a participant: "system", nobody, an agent
// writing through REST).
func (g *generator) message(a *actor, conv int32, at int64, src source, client, author jsonString, part uint64, body jsonString) {
	c := &g.convs[conv]
	m := sentMessage{key: g.newSID(nsMessage), part: part, conv: conv, index: c.nextIndex, at: at}
	c.nextIndex++
	if a.memo != 0 {
		g.memos[a.memo-1].msg = m
	}
	g.open(evMessageAdded, c.service, conv, at, src, client)
	g.sid("MessageSid", "IM", m.key)
	g.num("Index", m.index)
	g.str("Author", author)
	g.participant(part)
	g.body(body)
	g.date("DateCreated", at)
	g.close(at)
}

// editMessage: the user edits, from the app, the last message it sent.
func (g *generator) editMessage(a *actor, at int64) {
	u := &g.users[a.user]
	m := g.memos[a.memo-1].msg
	if m.key == 0 { // nothing written yet: write instead
		g.message(a, a.conv, at, srcSDK, u.identity, u.identity, u.part, g.pick(chatBodies))
		return
	}
	c := &g.convs[m.conv]
	g.open(evMessageUpdated, c.service, m.conv, at, srcSDK, u.identity)
	g.sid("MessageSid", "IM", m.key)
	g.num("Index", m.index)
	g.str("Author", u.identity)
	g.participant(m.part)
	g.body(g.pick(chatBodies))
	g.date("DateCreated", m.at)
	g.date("DateUpdated", at)
	g.close(at)
}

// Values, encoded once.
var (
	chatBodies = quoteAll(
		"hi", "Hello! Is anyone around?", "Thanks, that fixed it.", "Can you send the invoice again?",
		"On my way 🚗", "Merci, à demain !", "¿Dónde está mi pedido?", "Ok", "Yes", "No, the other one",
		`See "Q3 plan" in the shared drive`, "Line one\nLine two", "👍", `The file is C:\temp\report.pdf`,
		"Meeting moved to 3pm", "Can we reschedule?", "Привет! Когда доставка?", "ありがとうございます",
		"STOP", "Tab\tseparated\tvalues", "I was charged twice this month", "Where do I find my receipt?",
	)
	agentBodies = quoteAll(
		"Thanks for reaching out, I'm looking into it.", "Your order #48213 has shipped.",
		"Could you confirm your postcode?", "Happy to help! Anything else?",
		"Your appointment is confirmed for Tuesday 10:00.", "We've refunded the duplicate charge.",
	)
	systemBodies = quoteAll(
		"Conversation started", "Ticket #1024 was updated", "Reminder: your appointment is tomorrow",
		"This conversation was imported from the legacy system",
	)
	roomNames      = quoteAll("Team", "Project Falcon", "Support escalations", "Random", "Sales EMEA", "On-call")
	userAttributes = quoteAll(`{"crm_id":"48213","tier":"gold"}`, `{"tier":"silver"}`, `{"locale":"fr-FR"}`, `{}`)
	ghostAuthors   = quoteAll(ghostAuthorNames...)

	system       = quote("system")
	active       = quote("active")
	closed       = quote("closed")
	webChat      = quote("Web chat")
	smsChat      = quote("SMS conversation")
	whatsAppChat = quote("WhatsApp conversation")
)
