package demo

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
)

// The identity mistakes (Config.IdentityMistakes): users whose identities
// break Twilio's identity advice or come out of a bug, one or more of each
// kind that identity lint finds, and two logins many people share. They
// draw from a random stream of their own (see own), so that adding them
// leaves every other choice of the account as it was: the other users,
// their activity and the bill do not change, only SIDs and delivery
// tokens issued after theirs do.

// mistakenIdentities are named users with a faulty identity, each active
// in a month by the odds of a named user.
var mistakenIdentities = []string{
	"o'brien.sean",           // reserved-characters: '
	"sales&marketing",        // reserved-characters: &
	" noah.berg@example.com", // whitespace, from a form field not trimmed
	"Sam  Lee",               // whitespace: doubled
	"liam.obi\r",             // whitespace and control-characters: a CSV line's CR
	"mia\tchen",              // control-characters: a tab
	"ivan.p\u0435trov",       // non-ascii: a Cyrillic е among Latin letters
	"anna\u200b.berg",        // non-ascii: a zero-width space
	"josé.garcía",            // accented, and fine
	"undefined",              // placeholder-bug
	"user_{{id}}",            // placeholder-bug: a template left unfilled
	"[object Object]",        // placeholder-bug and reserved-characters
	"test",                   // generic
	"admin",                  // generic
	"demo-user-2",            // generic
}

// The shared logins: a web widget of the first service signs every visitor
// in as "guest", and a support team shares the login "support" to answer
// them.
const (
	sharedGuest   = "guest"
	sharedSupport = "support"
)

// mistakes are the users of the identity mistakes, by index in
// generator.users.
type mistakes struct {
	rng            *rand.Rand
	members        []int32
	guest, support int32
}

// own runs f with the identity mistakes' random stream in place of the
// account's.
func (g *generator) own(f func()) {
	g.rng, g.mistakes.rng = g.mistakes.rng, g.rng
	defer func() { g.rng, g.mistakes.rng = g.mistakes.rng, g.rng }()
	f()
}

// buildMistakes makes the users of the identity mistakes, created before
// the first month, each seated in a room of its service; the shared logins
// in the first service. One of them uses an access token as its identity.
func (g *generator) buildMistakes() {
	g.mistakes.rng = rand.New(rand.NewPCG(uint64(g.cfg.Seed), 0x6d697374616b6573))
	g.own(func() {
		for _, id := range slices.Concat(mistakenIdentities, []string{accessTokenIdentity(g.rng, g.services[0].sid)}) {
			g.mistakes.members = append(g.mistakes.members, g.addMistakenUser(id, g.pickService()))
		}
		g.mistakes.guest = g.addMistakenUser(sharedGuest, 0)
		g.mistakes.support = g.addMistakenUser(sharedSupport, 0)
	})
}

func (g *generator) addMistakenUser(identity string, svc int32) int32 {
	u := user{identity: quote(identity), key: g.newSID(nsUser), service: svc, joinMonth: -1, activity: 92}
	u.created = g.before(700)
	u.updated = u.created
	rooms := g.services[svc].rooms
	u.conv = rooms[g.rng.IntN(len(rooms))]
	u.part = g.newSID(nsParticipant)
	u.partCreated = g.between(max(u.created, g.convs[u.conv].created), g.startMillis)
	g.users = append(g.users, u)
	return int32(len(g.users) - 1)
}

// accessTokenIdentity is a Twilio access token (a JWT, some 400
// characters), which an app passed where the identity belongs.
func accessTokenIdentity(r *rand.Rand, service string) string {
	enc := base64.RawURLEncoding
	sig := make([]byte, 32)
	for i := range sig {
		sig[i] = byte(r.UintN(256))
	}
	iat := 1_767_225_600 + r.IntN(86_400)
	claims := fmt.Sprintf(`{"jti":"SK%032x-%d","grants":{"identity":"user_4821","chat":{"service_sid":"%s"}},"iat":%d,"exp":%d,"iss":"SK%032x","sub":"AC%032x"}`,
		r.Uint64(), iat, service, iat, iat+3600, r.Uint64(), r.Uint64())
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`)) + "." +
		enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(sig)
}

// planMistakes plays the month of the identity mistakes: the faulty
// identities behave like named users; the widget's visitors, all "guest",
// each get a web chat of their own, and "support" answers a third of them
// and all of those who come in the month's rush, a few minutes on one
// morning when a dozen or more arrive at once.
func (g *generator) planMistakes() {
	g.own(func() {
		for _, i := range g.mistakes.members {
			if g.rng.IntN(100) >= int(g.users[i].activity) {
				continue
			}
			a := actor{user: i, addr: -1, conv: g.users[i].conv, mistake: true}
			g.planMember(&a)
			g.schedule(a)
		}
		visitors := 250 + g.rng.IntN(100)
		rush := 14 + g.rng.IntN(6)
		rushStart := g.monthStart + int64(3+g.rng.IntN(20))*day + 10*60*60*1000 // 10:00 UTC
		for v := range visitors {
			at := g.monthStart + g.rng.Int64N(g.monthEnd-g.monthStart-day)
			if v < rush {
				at = rushStart + g.rng.Int64N(120_000)
			}
			conv := g.newConversation(0)
			guest := g.seat(g.mistakes.guest, conv)
			a := actor{user: guest, addr: -1, conv: conv, mistake: true,
				first: bit(stepConversationAdded) | bit(stepParticipantAdded) | bit(stepConnect)}
			a.add(stepSDKMessage, 1+g.rng.IntN(3))
			g.scheduleAt(a, at)
			if v < rush || g.rng.IntN(3) == 0 {
				support := actor{user: g.seat(g.mistakes.support, conv), addr: -1, conv: conv, mistake: true,
					first: bit(stepParticipantAdded) | bit(stepSDKMessage)}
				support.add(stepSDKMessage, g.rng.IntN(3))
				g.scheduleAt(support, at+60_000+g.rng.Int64N(60_000))
			}
		}
	})
}

// seat is a copy of shared user i for this month's conversation conv: the
// same User, a participant of its own there.
func (g *generator) seat(i, conv int32) int32 {
	u := g.users[i]
	u.conv, u.part, u.joinMonth = conv, 0, int16(g.month)
	g.users = append(g.users, u)
	return int32(len(g.users) - 1)
}
