package demo

import (
	"math/bits"
	"math/rand/v2"
)

// An actor is one subject's script for one month: a user, guest or address
// and the steps it will take. Scripts are a few counters, not lists of
// events, so a month of a large account stays small in memory; a heap of
// actors by the time of their next step puts the month's events in time
// order. Actors are touched in random order, so they are kept within a
// cache line: what only edits and joins need is in a memo on the side.
type actor struct {
	first, last uint32          // steps to take first and last, in step order (bit sets)
	mix         [numSteps]uint8 // steps to take in between, in random order
	mixKinds    uint32          // the steps whose mix count is not zero
	mixLeft     int32
	user        int32 // index in generator.users, or -1
	addr        int32 // index in generator.addresses, or -1
	conv        int32 // the conversation the actor acts in, or -1
	memo        int32 // 1 + index in generator.memos; 0 if the script needs none
	inbound     bool  // an address conversation opened by the address's own message
	mistake     bool  // one of the identity mistakes: draws from their random stream
}

// memo is what an actor remembers between steps.
type memo struct {
	msg  sentMessage // the last message the actor wrote, for edits
	join joined      // the room an SDK user joined this month, to leave
}

type sentMessage struct {
	key   uint64
	part  uint64 // the author's ParticipantSid; 0 if not a participant
	conv  int32
	index int32
	at    int64
}

type joined struct {
	conv int32
	part uint64
	at   int64
}

// step is one kind of thing an actor does. The order matters for the
// first and last sets: a conversation is created before its participants,
// a user before it joins, a participant removed before its conversation
// closes.
type step uint8

const (
	stepConversationAdded   step = iota // API, or SMS/WHATSAPP when the address wrote first
	stepUserAdded                       // API: rest.user_write
	stepParticipantAdded                // API (or the channel): rest.participant_write, channel.address_added
	stepConnect                         // SDK read horizon or coming online: sdk.connect
	stepSDKMessage                      // sdk.message
	stepEditMessage                     // SDK onMessageUpdated: sdk.connect
	stepAPIMessage                      // API message authored by the identity: rest.message_author
	stepAgentReply                      // API message by an agent into the actor's conversation
	stepInbound                         // SMS/WhatsApp message from the address: channel.inbound_message
	stepSystemMessage                   // API message by "system": not a user
	stepGhostMessage                    // API message by an author who is nobody
	stepUserUpdated                     // API update of the User record: rest.user_write, carrying IsOnline on Event Streams
	stepSDKJoin                         // SDK participant added by itself: sdk.join_leave
	stepConversationEdited              // SDK conversation update: sdk.connect
	stepConversationRenamed             // API conversation update: not activity
	stepSDKLeave                        // SDK participant removed by itself: sdk.join_leave
	stepParticipantRemoved              // API: rest.participant_write (identities)
	stepConversationClosed              // API conversation update: not activity
	numSteps
)

func (a *actor) add(s step, n int) {
	n = min(n, 255-int(a.mix[s]))
	if n <= 0 {
		return
	}
	a.mix[s] += uint8(n)
	a.mixKinds |= bit(s)
	a.mixLeft += int32(n)
}

// remember gives the actor a memo.
func (g *generator) remember(a *actor) {
	if a.memo == 0 {
		g.memos = append(g.memos, memo{})
		a.memo = int32(len(g.memos))
	}
}

func (a *actor) left() int {
	return bits.OnesCount32(a.first) + int(a.mixLeft) + bits.OnesCount32(a.last)
}

// take removes the next step from the script.
func (a *actor) take(r *rand.Rand) step {
	if a.first != 0 {
		return takeLowest(&a.first)
	}
	if a.mixLeft > 0 {
		n := r.Int32N(a.mixLeft)
		for kinds := a.mixKinds; ; {
			s := takeLowest(&kinds)
			if c := int32(a.mix[s]); n >= c {
				n -= c
				continue
			}
			a.mixLeft--
			if a.mix[s]--; a.mix[s] == 0 {
				a.mixKinds &^= bit(s)
			}
			return s
		}
	}
	return takeLowest(&a.last)
}

func takeLowest(set *uint32) step {
	s := bits.TrailingZeros32(*set)
	*set &^= 1 << s
	return step(s)
}

func bit(s step) uint32 { return 1 << s }

// schedule adds an actor whose first step falls at a random time of the
// month, early enough on average for the rest of its script to spread out.
func (g *generator) schedule(a actor) {
	if n := a.left(); n > 0 {
		g.scheduleAt(a, g.monthStart+g.spread(g.monthEnd-g.monthStart, n))
	}
}

func (g *generator) scheduleAt(a actor, at int64) {
	g.actors = append(g.actors, a)
	g.queue.push(at, int32(len(g.actors)-1))
}

// spread is a random gap in [0, span) averaging span/(left+1): the expected
// gap before the first of left events spread evenly over span.
func (g *generator) spread(span int64, left int) int64 {
	return g.rng.Int64N(max(1, 2*span/int64(left+1))) % max(1, span)
}

// nextTime is when an actor with left steps to go, its last at at, takes
// the next one. Setup steps (creating a user, adding it) follow within
// seconds; otherwise six steps in ten continue the session within two
// minutes, and the rest jump ahead, spreading the script over the month.
// Integers only, so the output is the same on every platform.
func (g *generator) nextTime(at int64, left int, setup bool) int64 {
	end := g.monthEnd
	var gap int64
	switch {
	case setup:
		gap = 200 + g.rng.Int64N(30_000)
	case g.rng.IntN(10) < 6:
		gap = 1_000 + g.rng.Int64N(120_000)
	default:
		gap = 1 + g.spread(end-at, left)
	}
	if at+gap >= end {
		return at + (end-at)/2
	}
	return at + gap
}

// drain runs the month's actors in time order, writing retries as they
// fall due.
func (g *generator) drain() {
	for g.queue.len() > 0 && g.err == nil {
		at, i := g.queue.top()
		g.writeRetriesDue(at)
		if a := &g.actors[i]; a.mistake {
			g.own(func() { g.step(a, at) })
		} else {
			g.step(a, at)
		}
	}
}

// step has the actor at the top of the queue take its next step, at, and
// puts it back in the queue for the one after, if any.
func (g *generator) step(a *actor, at int64) {
	g.perform(a, a.take(g.rng), at)
	if n := a.left(); n > 0 {
		g.queue.retime(g.nextTime(at, n, a.first != 0))
	} else {
		g.queue.pop()
	}
}
