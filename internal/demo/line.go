package demo

import "strconv"

// Lines are appended straight into the output buffer, field by field, with
// no encoding/json and no fmt: this is the hot loop of a ten-million-line
// benchmark. String values are encoded once, when the account is built, and
// copied from then on.

// jsonString is a string already encoded as a JSON string, quotes included.
type jsonString string

func quote(s string) jsonString { return jsonString(appendString(nil, s)) }

func quoteAll(s ...string) []jsonString {
	q := make([]jsonString, len(s))
	for i := range s {
		q[i] = quote(s[i])
	}
	return q
}

// flushAt is the output buffer size at which it is written out.
const flushAt = 64 << 10

type source uint8

const (
	srcSDK source = iota
	srcAPI
	srcSMS
	srcWhatsApp
)

var sourceNames = [...]string{srcSDK: "SDK", srcAPI: "API", srcSMS: "SMS", srcWhatsApp: "WHATSAPP"}

type eventType uint8

const (
	evMessageAdded eventType = iota
	evMessageUpdated
	evParticipantAdded
	evParticipantRemoved
	evParticipantUpdated
	evConversationAdded
	evConversationUpdated
	evUserAdded
	evUserUpdated
	numEventTypes
)

var (
	webhookNames = [...]string{
		evMessageAdded:        "onMessageAdded",
		evMessageUpdated:      "onMessageUpdated",
		evParticipantAdded:    "onParticipantAdded",
		evParticipantRemoved:  "onParticipantRemoved",
		evParticipantUpdated:  "onParticipantUpdated",
		evConversationAdded:   "onConversationAdded",
		evConversationUpdated: "onConversationUpdated",
		evUserAdded:           "onUserAdded",
		evUserUpdated:         "onUserUpdated",
	}
	cloudEventTypes = [...]string{
		evMessageAdded:        "com.twilio.conversations.message.added",
		evMessageUpdated:      "com.twilio.conversations.message.updated",
		evParticipantAdded:    "com.twilio.conversations.participant.added",
		evParticipantRemoved:  "com.twilio.conversations.participant.removed",
		evParticipantUpdated:  "com.twilio.conversations.participant.updated",
		evConversationAdded:   "com.twilio.conversations.conversation.added",
		evConversationUpdated: "com.twilio.conversations.conversation.updated",
		evUserAdded:           "com.twilio.conversations.user.added",
		evUserUpdated:         "com.twilio.conversations.user.updated",
	}
	// cloudEventSchemas name the schema (version 2) of each type.
	cloudEventSchemas = [...]string{
		evMessageAdded:        "Conversations.MessageAdded",
		evMessageUpdated:      "Conversations.MessageUpdated",
		evParticipantAdded:    "Conversations.ParticipantAdded",
		evParticipantRemoved:  "Conversations.ParticipantRemoved",
		evParticipantUpdated:  "Conversations.ParticipantUpdated",
		evConversationAdded:   "Conversations.ConversationAdded",
		evConversationUpdated: "Conversations.ConversationUpdated",
		evUserAdded:           "Conversations.UserAdded",
		evUserUpdated:         "Conversations.UserUpdated",
	}
)

// cloudEnvelope is a CloudEvent envelope, encoded once per account and
// type: head runs up to the id's value, mid from the id to the time's value.
type cloudEnvelope struct {
	head, mid string
}

// buildCloudEnvelopes encodes the envelope of every event type. The source
// of every CloudEvent is the account's one Event Streams sink, an opaque SID
// that says nothing of the Conversation Service (../shared/twilio-events/).
func (g *generator) buildCloudEnvelopes() {
	source := g.sidString("AB", g.newSID(nsSink))
	for t := range numEventTypes {
		g.cloud[t] = cloudEnvelope{
			head: `{"specversion":"1.0","type":"` + cloudEventTypes[t] + `","source":"` + source + `","id":"`,
			mid: `","dataschema":"https://events-schemas.twilio.com/` + cloudEventSchemas[t] +
				`/2","datacontenttype":"application/json","time":"`,
		}
	}
	g.cloudData = `","data":{"AccountSid":"` + g.account + `"`
}

// lineState is the line being written.
type lineState struct {
	start int  // offset of the line in out
	cloud bool // a CloudEvent, not a webhook
}

// open starts an event line of service svc about conversation conv (-1 for
// a user event), happening at, from src, by the SDK client identity client
// ("" unless src is SDK). Fields follow with str, sid, num, boolean, date,
// participant, body and binding; close ends the line.
//
// A webhook says which service and which Source it comes from; a CloudEvent
// says neither (Event Streams carries no ChatServiceSid, Source or
// ClientIdentity), so src and client only shape webhooks.
func (g *generator) open(t eventType, svc, conv int32, at int64, src source, client jsonString) {
	g.line = lineState{start: len(g.out), cloud: g.services[svc].eventStreams}
	if g.line.cloud {
		g.openCloudEvent(t, conv, at)
	} else {
		g.openWebhook(t, svc, conv, src, client)
	}
}

// openWebhook writes the leading fields in the order Twilio posts them.
func (g *generator) openWebhook(t eventType, svc, conv int32, src source, client jsonString) {
	b := append(g.out, `{"AccountSid":"`...)
	b = append(b, g.account...)
	b = append(b, `","ChatServiceSid":"`...)
	b = append(b, g.services[svc].sid...)
	if conv >= 0 {
		b = append(b, `","ConversationSid":"`...)
		b = g.appendSID(b, "CH", g.convs[conv].key)
	}
	b = append(b, `","EventType":"`...)
	b = append(b, webhookNames[t]...)
	b = append(b, `","Source":"`...)
	b = append(b, sourceNames[src]...)
	b = append(b, '"')
	if client != "" {
		b = append(b, `,"ClientIdentity":`...)
		b = append(b, client...)
	}
	g.out = b
}

// openCloudEvent writes the envelope and the leading data fields: the
// account and, but for user events, the conversation.
func (g *generator) openCloudEvent(t eventType, conv int32, at int64) {
	env := &g.cloud[t]
	b := append(g.out, env.head...)
	b = g.appendSID(b, "EV", g.newSID(nsEvent))
	b = append(b, env.mid...)
	b = g.timestamp(b, at)
	b = append(b, g.cloudData...)
	if conv >= 0 {
		b = append(b, `,"ConversationSid":"`...)
		b = g.appendSID(b, "CH", g.convs[conv].key)
		b = append(b, '"')
	}
	g.out = b
}

func (g *generator) key(k string) {
	g.out = append(g.out, ',', '"')
	g.out = append(g.out, k...)
	g.out = append(g.out, '"', ':')
}

// str writes a string field.
func (g *generator) str(k string, v jsonString) {
	g.key(k)
	g.out = append(g.out, v...)
}

// sid writes a SID field: prefix and 32 hex digits.
func (g *generator) sid(k, prefix string, v uint64) {
	g.key(k)
	g.out = append(g.out, '"')
	g.out = g.appendSID(g.out, prefix, v)
	g.out = append(g.out, '"')
}

// num writes a number field: a JSON number in a CloudEvent, a string like
// every form field in a webhook.
func (g *generator) num(k string, v int32) {
	g.key(k)
	if g.line.cloud {
		g.out = strconv.AppendInt(g.out, int64(v), 10)
		return
	}
	g.out = append(g.out, '"')
	g.out = strconv.AppendInt(g.out, int64(v), 10)
	g.out = append(g.out, '"')
}

// boolean writes a boolean field: true or false in a CloudEvent, "true" or
// "false" in a webhook.
func (g *generator) boolean(k string, v bool) {
	g.key(k)
	switch {
	case g.line.cloud && v:
		g.out = append(g.out, "true"...)
	case g.line.cloud:
		g.out = append(g.out, "false"...)
	case v:
		g.out = append(g.out, `"true"`...)
	default:
		g.out = append(g.out, `"false"`...)
	}
}

// date writes a time field, ms since the epoch, as Twilio's ISO 8601 UTC.
func (g *generator) date(k string, ms int64) {
	g.key(k)
	g.out = append(g.out, '"')
	g.out = g.timestamp(g.out, ms)
	g.out = append(g.out, '"')
}

// participant writes a message's ParticipantSid: the author's participant
// SID, or, when the author is not a participant (part 0), null in a
// CloudEvent and nothing in a webhook.
func (g *generator) participant(part uint64) {
	switch {
	case part != 0:
		g.sid("ParticipantSid", "MB", part)
	case g.line.cloud:
		g.out = append(g.out, `,"ParticipantSid":null`...)
	}
}

// body writes a message's text: MessageBody in a CloudEvent, Body in a
// webhook.
func (g *generator) body(v jsonString) {
	if g.line.cloud {
		g.str("MessageBody", v)
		return
	}
	g.str("Body", v)
}

// binding writes a participant's messaging binding: flat keys with a dot in
// a webhook; in a CloudEvent a nested object, after the Identity a channel
// participant does not have.
func (g *generator) binding(ad *address, proxy jsonString) {
	if g.line.cloud {
		g.out = append(g.out, `,"Identity":null,"MessagingBinding":{"Address":`...)
		g.out = append(g.out, ad.address...)
		g.out = append(g.out, `,"ProxyAddress":`...)
		g.out = append(g.out, proxy...)
		if ad.whatsApp {
			g.out = append(g.out, `,"Type":"whatsapp"}`...)
		} else {
			g.out = append(g.out, `,"Type":"sms"}`...)
		}
		return
	}
	g.str("MessagingBinding.Address", ad.address)
	g.str("MessagingBinding.ProxyAddress", proxy)
}

// close ends the line of an event that happened at. A webhook line ends
// with the envelope `mauledger serve` writes (see appendEnvelope in
// ingest/capture): when it was received, a few hundred ms after the event,
// and the idempotency token of the delivery. One webhook in fifty is
// delivered again later, with RetryCount "1", the same token and its own
// _received_at.
func (g *generator) close(at int64) {
	g.stats.Lines++
	if g.line.cloud {
		g.out = append(g.out, "}}\n"...)
		g.stats.CloudEvents++
	} else {
		g.closeWebhook(at)
		g.stats.Webhooks++
		if g.rng.IntN(50) == 0 {
			g.scheduleRetry(at+10_000+g.rng.Int64N(290_000), g.out[g.line.start:])
		}
	}
	if len(g.out) >= flushAt {
		g.flush()
	}
}

// The webhook envelope. Every webhook line ends the same way, RetryCount
// then the envelope, so a retry's RetryCount digit and _received_at value
// sit at fixed offsets from the end of the line.
const (
	receivedKey   = `,"_received_at":"`
	tokenKey      = `","_idempotency_token":"`
	tokenLen      = 32 // hex digits
	timestampLen  = len("2006-01-02T15:04:05.000Z")
	lineEnd       = `"}` + "\n"
	receivedAtEnd = timestampLen + len(tokenKey) + tokenLen + len(lineEnd) // from the end to _received_at's value
	retryDigitEnd = len(`0"`) + len(receivedKey) + receivedAtEnd           // from the end to RetryCount's digit
)

// closeWebhook writes RetryCount "0" and the envelope. The token is a fresh
// key of its own namespace, 32 hex digits like a SID's, and the delivery
// delay (100 to 499 ms) is drawn from it rather than from rng, so the
// envelope leaves every other byte of the account as it was. The delay
// never carries an event past the end of its month: Twilio bills an event
// in the month it happened, and the demo's bill should be the account's.
func (g *generator) closeWebhook(at int64) {
	tok := g.newSID(nsDelivery)
	received := at + 100 + int64(mix64(tok^g.sidSeed)%400)
	if received >= g.monthEnd {
		received = max(at, g.monthEnd-1)
	}
	b := append(g.out, `,"RetryCount":"0"`+receivedKey...)
	b = g.timestamp(b, received)
	b = append(b, tokenKey...)
	b = g.appendSID(b, "", tok)
	g.out = append(b, lineEnd...)
}

// scheduleRetry keeps a copy of a webhook line, to write with RetryCount "1"
// and received at due once the stream reaches due. The token stays: it is
// the same event.
func (g *generator) scheduleRetry(due int64, line []byte) {
	var slot int32
	if n := len(g.freeRetrySlots); n > 0 {
		slot = g.freeRetrySlots[n-1]
		g.freeRetrySlots = g.freeRetrySlots[:n-1]
	} else {
		slot = int32(len(g.retryLines))
		g.retryLines = append(g.retryLines, nil)
	}
	r := append(g.retryLines[slot][:0], line...)
	r[len(r)-retryDigitEnd] = '1'
	var ts [timestampLen]byte
	copy(r[len(r)-receivedAtEnd:], appendTimestamp(ts[:0], due))
	g.retryLines[slot] = r
	g.retries.push(due, slot)
}

// writeRetriesDue writes the retries due at or before t.
func (g *generator) writeRetriesDue(t int64) {
	for g.retries.len() > 0 && g.err == nil {
		due, slot := g.retries.top()
		if due > t {
			return
		}
		g.retries.pop()
		g.out = append(g.out, g.retryLines[slot]...)
		g.freeRetrySlots = append(g.freeRetrySlots, slot)
		g.stats.Lines++
		g.stats.Webhooks++
		g.stats.Retries++
		if len(g.out) >= flushAt {
			g.flush()
		}
	}
}

func (g *generator) flush() {
	if len(g.out) == 0 || g.err != nil {
		return
	}
	_, g.err = g.w.Write(g.out)
	g.out = g.out[:0]
}

// appendString appends s as a JSON string. Unlike strconv.AppendQuote it
// never writes Go-only escapes (\x00, \a, \v).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// hexPairs holds the two hex digits of every byte value.
var hexPairs = func() (t [512]byte) {
	for i := range 256 {
		t[2*i], t[2*i+1] = hexDigits[i>>4], hexDigits[i&0xf]
	}
	return t
}()

func appendHex64(b []byte, x uint64) []byte {
	var h [16]byte
	for i := 14; i >= 0; i -= 2 {
		p := 2 * (x & 0xff)
		h[i], h[i+1] = hexPairs[p], hexPairs[p+1]
		x >>= 8
	}
	return append(b, h[:]...)
}

// newSID issues the next SID key of namespace ns.
func (g *generator) newSID(ns int) uint64 {
	g.sids[ns]++
	return uint64(ns)<<56 | g.sids[ns]
}

// appendSID appends prefix and the 32 hex digits of SID key k. The digits
// are a bijective mix of the key and the seed, so distinct keys never share
// a SID, and SIDs look random.
func (g *generator) appendSID(b []byte, prefix string, k uint64) []byte {
	hi := mix64(g.sidSeed ^ k*0x9e3779b97f4a7c15)
	lo := mix64(hi ^ 0xd1b54a32d192ed03)
	b = append(b, prefix...)
	return appendHex64(appendHex64(b, hi), lo)
}

func (g *generator) sidString(prefix string, k uint64) string {
	return string(g.appendSID(nil, prefix, k))
}

// mix64 is the SplitMix64 finaliser, a bijection on uint64.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// appendTimestamp appends ms since the epoch as 2006-01-02T15:04:05.000Z,
// without the time package (several times faster in the hot loop).
func appendTimestamp(b []byte, ms int64) []byte {
	days := floorDiv(ms, day)
	return appendClock(appendDate(b, days), ms-days*day)
}

// timestamp is appendTimestamp keeping the date of the last day it wrote:
// most timestamps of a line, and of the lines around it, share their day.
func (g *generator) timestamp(b []byte, ms int64) []byte {
	days := floorDiv(ms, day)
	if days != g.lastDay {
		g.lastDay = days
		appendDate(g.lastDate[:0], days)
	}
	b = append(b, g.lastDate[:]...)
	return appendClock(b, ms-days*day)
}

// appendDate appends days since the epoch as 2006-01-02T.
func appendDate(b []byte, days int64) []byte {
	y, m, d := civil(days)
	t := [len("2006-01-02T")]byte{4: '-', 7: '-', 10: 'T'}
	put2(t[0:], y/100)
	put2(t[2:], y%100)
	put2(t[5:], m)
	put2(t[8:], d)
	return append(b, t[:]...)
}

// appendClock appends ms since midnight as 15:04:05.000Z.
func appendClock(b []byte, ms int64) []byte {
	t := [len("15:04:05.000Z")]byte{2: ':', 5: ':', 8: '.', 12: 'Z'}
	put2(t[0:], ms/3_600_000)
	put2(t[3:], ms/60_000%60)
	put2(t[6:], ms/1000%60)
	t[9] = byte('0' + ms/100%10)
	put2(t[10:], ms%100)
	return append(b, t[:]...)
}

// decimalPairs holds the two decimal digits of 0 to 99.
const decimalPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859606162636465666768697071727374757677787980818283848586878889" +
	"90919293949596979899"

func put2(b []byte, v int64) {
	b[0], b[1] = decimalPairs[2*v], decimalPairs[2*v+1]
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil, inverted).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// timeQueue is a min-heap of (time, id), ties broken by id so the order
// never depends on how the heap happens to be laid out. It is 4-ary: half
// the depth of a binary heap, and a node's children share a cache line.
type timeQueue struct{ items []queued }

type queued struct {
	at int64
	id int32
}

func (q *timeQueue) len() int            { return len(q.items) }
func (q *timeQueue) top() (int64, int32) { return q.items[0].at, q.items[0].id }
func (q *timeQueue) reset()              { q.items = q.items[:0] }
func (q *timeQueue) less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	return a.at < b.at || a.at == b.at && a.id < b.id
}

func (q *timeQueue) push(at int64, id int32) {
	q.items = append(q.items, queued{at, id})
	for i := len(q.items) - 1; i > 0; {
		p := (i - 1) / 4
		if !q.less(i, p) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

func (q *timeQueue) pop() {
	n := len(q.items) - 1
	q.items[0] = q.items[n]
	q.items = q.items[:n]
	q.down()
}

// retime moves the top item to a later time.
func (q *timeQueue) retime(at int64) {
	q.items[0].at = at
	q.down()
}

func (q *timeQueue) down() {
	n := len(q.items)
	for i := 0; ; {
		first := 4*i + 1
		if first >= n {
			return
		}
		j := first
		for c := first + 1; c < min(first+4, n); c++ {
			if q.less(c, j) {
				j = c
			}
		}
		if !q.less(j, i) {
			return
		}
		q.items[i], q.items[j] = q.items[j], q.items[i]
		i = j
	}
}
