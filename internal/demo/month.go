package demo

// runMonth writes month m: it casts the month's actors, one plan per
// behaviour, then plays them in time order.
func (g *generator) runMonth(m int) {
	g.month = m
	g.monthStart = g.cfg.Start.AddDate(0, m, 0).UnixMilli()
	g.monthEnd = g.cfg.Start.AddDate(0, m+1, 0).UnixMilli()
	g.actors, g.memos = g.actors[:0], g.memos[:0]
	g.queue.reset()
	g.users = g.users[:g.keptUsers]
	g.convs = g.convs[:g.keptConvs]

	g.planStableUsers()
	g.planGuests()
	g.planAddresses()
	g.planBackOffice()
	g.planNoise()
	if g.cfg.IdentityMistakes {
		g.planMistakes()
	}
	g.drain()
}

// boundaryUsers is how many otherwise idle users act only on the first or
// the last second of each month: a UTC month boundary trap.
const boundaryUsers = 4

// planStableUsers: named users are active in a month by their own odds;
// those created this month are first created and added to their room
// through REST.
func (g *generator) planStableUsers() {
	boundary := 0
	for i := range g.cfg.StableUsers {
		u := &g.users[i]
		m := int(u.joinMonth)
		switch {
		case m > g.month:
			continue
		case m != g.month && g.rng.IntN(100) >= int(u.activity):
			if boundary < boundaryUsers && g.rng.IntN(40) == 0 {
				g.planBoundaryUser(int32(i), boundary%2 == 0)
				boundary++
			}
			continue
		}
		a := actor{user: int32(i), addr: -1, conv: u.conv}
		if m == g.month {
			a.first = bit(stepUserAdded) | bit(stepParticipantAdded)
		}
		if u.agent {
			g.planAgent(&a)
		} else {
			g.planMember(&a)
		}
		g.schedule(a)
	}
}

// planAgent: agents are online most of the day and chat in their room; their
// replies to guests and addresses come from those actors' scripts.
func (g *generator) planAgent(a *actor) {
	a.add(stepConnect, 2+g.rng.IntN(8))
	a.add(stepSDKMessage, 5+g.rng.IntN(36))
}

// planMember picks one month's behaviour of a named user. Whatever it
// does, one month in twenty the backend also updates its User record (a
// profile sync), sometimes while it is online.
func (g *generator) planMember(a *actor) {
	if g.rng.IntN(20) == 0 {
		a.add(stepUserUpdated, 1)
	}
	switch r := g.rng.IntN(100); {
	case r < 55: // chats from the app
		a.add(stepConnect, 1+g.rng.IntN(5))
		a.add(stepSDKMessage, 2+g.rng.IntN(24))
		if g.rng.IntN(5) == 0 {
			a.add(stepEditMessage, 1)
			g.remember(a)
		}
		if g.rng.IntN(10) == 0 {
			a.add(stepSDKJoin, 1)
			a.last |= bit(stepSDKLeave)
			g.remember(a)
		}
	case r < 80: // only opens the app: reads, comes online
		a.add(stepConnect, 1+g.rng.IntN(4))
	case r < 88: // an integration posts on the user's behalf through REST
		a.add(stepAPIMessage, 1+g.rng.IntN(4))
	case r < 95: // joins another room from the app, sometimes leaves it
		a.add(stepSDKJoin, 1)
		g.remember(a)
		if g.rng.IntN(10) < 6 {
			a.last |= bit(stepSDKLeave)
		}
	default: // only renames a conversation from the app
		a.add(stepConversationEdited, 1)
	}
}

// planBoundaryUser gives an otherwise idle user a single connection in the
// first second of the month (first) or its last.
func (g *generator) planBoundaryUser(i int32, first bool) {
	a := actor{user: i, addr: -1, conv: g.users[i].conv, first: bit(stepConnect)}
	at := g.monthStart + g.rng.Int64N(1000)
	if !first {
		at = g.monthEnd - 1 - g.rng.Int64N(1000)
	}
	g.scheduleAt(a, at)
}

// planGuests: each guest gets a chat of its own, a User created through
// REST and a participant added through REST; most then connect once, half of
// those chat with an agent, and a fifth of all guests are removed and their
// chat closed when done. The rest never do anything after being created.
func (g *generator) planGuests() {
	for range g.cfg.GuestsPerMonth {
		svc := g.pickService()
		conv := g.newConversation(svc)
		g.users = append(g.users, user{
			identity:  g.guestIdentity(),
			key:       g.newSID(nsUser),
			service:   svc,
			conv:      conv,
			joinMonth: int16(g.month),
		})
		a := actor{
			user: int32(len(g.users) - 1), addr: -1, conv: conv,
			first: bit(stepConversationAdded) | bit(stepUserAdded) | bit(stepParticipantAdded),
		}
		if g.rng.IntN(100) < 85 {
			a.first |= bit(stepConnect)
			if g.rng.IntN(2) == 0 {
				a.add(stepSDKMessage, 1+g.rng.IntN(4))
				a.add(stepAgentReply, g.rng.IntN(4))
			}
		}
		if g.rng.IntN(5) == 0 {
			a.last = bit(stepParticipantRemoved) | bit(stepConversationClosed)
		}
		g.schedule(a)
	}
}

// planAddresses: an address that talks writes in and gets answers; one that
// only receives gets outbound messages and nothing else. An address first
// seen this month, or whose conversation was closed, gets a (new)
// conversation and is added to it. One idle address per month writes a
// single message in the month's last 50 ms.
func (g *generator) planAddresses() {
	lastSecond := false
	for i := range g.addresses {
		ad := &g.addresses[i]
		c := &g.convs[ad.conv]
		odds := 55
		if ad.receiveOnly {
			odds = 60
		}
		switch m := int(ad.joinMonth); {
		case m > g.month:
			continue
		case m != g.month && g.rng.IntN(100) >= odds:
			if !lastSecond && !ad.receiveOnly && ad.present && c.open && g.rng.IntN(20) == 0 {
				a := actor{user: -1, addr: int32(i), conv: ad.conv, first: bit(stepInbound)}
				g.scheduleAt(a, g.monthEnd-1-g.rng.Int64N(50))
				lastSecond = true
			}
			continue
		}
		a := actor{user: -1, addr: int32(i), conv: ad.conv}
		if !c.open {
			if c.created != 0 { // closed: the next message opens a new conversation
				c.key, c.nextIndex = g.newSID(nsConversation), 0
			}
			a.first |= bit(stepConversationAdded)
		}
		if !ad.present {
			a.first |= bit(stepParticipantAdded)
			a.inbound = g.rng.IntN(2) == 0
		}
		if ad.receiveOnly {
			a.add(stepAgentReply, 1+g.rng.IntN(4))
			a.add(stepSystemMessage, g.rng.IntN(2))
		} else {
			a.add(stepInbound, 1+g.rng.IntN(8))
			a.add(stepAgentReply, g.rng.IntN(6))
			if g.rng.IntN(10) < 3 {
				a.add(stepSystemMessage, 1)
			}
			if g.rng.IntN(10) == 0 {
				a.last = bit(stepParticipantRemoved) | bit(stepConversationClosed)
			}
		}
		g.schedule(a)
	}
}

// planBackOffice: the backend updates every back-office User record once or
// twice a month, and that is all that ever happens to them.
func (g *generator) planBackOffice() {
	for i := g.cfg.StableUsers; i < g.cfg.StableUsers+g.cfg.BackOfficeUsers; i++ {
		a := actor{user: int32(i), addr: -1, conv: -1}
		a.add(stepUserUpdated, 1+g.rng.IntN(5)/4)
		g.schedule(a)
	}
}

// planNoise: automated traffic that bills nobody. A quarter of the rooms get
// "system" messages (and some a rename through REST), and each service gets
// a few messages by authors who are nobody.
func (g *generator) planNoise() {
	for s := range g.services {
		rooms := g.services[s].rooms
		for _, room := range rooms {
			if g.rng.IntN(4) != 0 {
				continue
			}
			a := actor{user: -1, addr: -1, conv: room}
			a.add(stepSystemMessage, 1+g.rng.IntN(3))
			if g.rng.IntN(10) == 0 {
				a.add(stepConversationRenamed, 1)
			}
			g.schedule(a)
		}
		a := actor{user: -1, addr: -1, conv: rooms[0]}
		a.add(stepGhostMessage, 2+g.rng.IntN(5))
		g.schedule(a)
	}
}
