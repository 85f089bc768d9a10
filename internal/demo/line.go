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
)

// lineState is the line being written.
type lineState struct {
	start int  // offset of the line in out
	cloud bool // a CloudEvent, not a webhook
}

// open starts an event line of service svc about conversation conv (-1 for
// a user event, which names the User userKey instead), happening at, from src, by the
// SDK client identity client ("" unless src is SDK). Fields follow with str,
// sid, num, date and binding; close ends the line.
func (g *generator) open(t eventType, svc, conv int32, userKey uint64, at int64, src source, client jsonString) {
	g.line = lineState{start: len(g.out), cloud: g.services[svc].eventStreams}
	if g.line.cloud {
		g.openCloudEvent(t, svc, conv, userKey, at, src, client)
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

// openCloudEvent writes the envelope and the leading data fields. One in
// twenty events of a conversation whose service an earlier event named
// leaves out ChatServiceSid, and then its source path names no service: the
// loader must take the service from the conversation.
func (g *generator) openCloudEvent(t eventType, svc, conv int32, userKey uint64, at int64, src source, client jsonString) {
	var c *conversation
	var convSID [34]byte
	if conv >= 0 {
		c = &g.convs[conv]
		g.appendSID(convSID[:0], "CH", c.key) // fills convSID in place
	}
	omitService := c != nil && c.named && g.rng.IntN(20) == 0

	b := append(g.out, `{"specversion":"1.0","type":"`...)
	b = append(b, cloudEventTypes[t]...)
	b = append(b, `","source":"/v1/`...)
	if !omitService {
		b = append(b, "Services/"...)
		b = append(b, g.services[svc].sid...)
		b = append(b, '/')
	}
	if c != nil {
		b = append(b, "Conversations/"...)
		b = append(b, convSID[:]...)
	} else {
		b = append(b, "Users/"...)
		b = g.appendSID(b, "US", userKey)
	}
	b = append(b, `","id":"`...)
	b = g.appendSID(b, "EV", g.newSID(nsEvent))
	b = append(b, `","time":"`...)
	b = appendTimestamp(b, at)
	b = append(b, `","datacontenttype":"application/json","data":{"AccountSid":"`...)
	b = append(b, g.account...)
	b = append(b, '"')
	if !omitService {
		b = append(b, `,"ChatServiceSid":"`...)
		b = append(b, g.services[svc].sid...)
		b = append(b, '"')
		if c != nil {
			c.named = true
		}
	}
	if c != nil {
		b = append(b, `,"ConversationSid":"`...)
		b = append(b, convSID[:]...)
		b = append(b, '"')
	}
	b = append(b, `,"Source":"`...)
	b = append(b, sourceNames[src]...)
	b = append(b, '"')
	if client != "" {
		b = append(b, `,"ClientIdentity":`...)
		b = append(b, client...)
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

// num writes a number field, as a string like every webhook form field.
func (g *generator) num(k string, v int32) {
	g.key(k)
	g.out = append(g.out, '"')
	g.out = strconv.AppendInt(g.out, int64(v), 10)
	g.out = append(g.out, '"')
}

// date writes a time field, ms since the epoch, as Twilio's ISO 8601 UTC.
func (g *generator) date(k string, ms int64) {
	g.key(k)
	g.out = append(g.out, '"')
	g.out = appendTimestamp(g.out, ms)
	g.out = append(g.out, '"')
}

// binding writes a participant's messaging binding: flat keys with a dot in
// a webhook, a nested object in a CloudEvent.
func (g *generator) binding(addr, proxy jsonString) {
	if g.line.cloud {
		g.out = append(g.out, `,"MessagingBinding":{"Address":`...)
		g.out = append(g.out, addr...)
		g.out = append(g.out, `,"ProxyAddress":`...)
		g.out = append(g.out, proxy...)
		g.out = append(g.out, '}')
		return
	}
	g.str("MessagingBinding.Address", addr)
	g.str("MessagingBinding.ProxyAddress", proxy)
}

// close ends the line of an event that happened at. One webhook in fifty is
// delivered again later, with RetryCount "1".
func (g *generator) close(at int64) {
	g.stats.Lines++
	if g.line.cloud {
		g.out = append(g.out, "}}\n"...)
		g.stats.CloudEvents++
	} else {
		g.out = append(g.out, `,"RetryCount":"0"}`+"\n"...)
		g.stats.Webhooks++
		if g.rng.IntN(50) == 0 {
			g.scheduleRetry(at+10_000+g.rng.Int64N(290_000), g.out[g.line.start:])
		}
	}
	if len(g.out) >= flushAt {
		g.flush()
	}
}

// scheduleRetry keeps a copy of a webhook line, to write with RetryCount "1"
// once the stream reaches due.
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
	r[len(r)-len(`0"}`+"\n")] = '1' // the line ends ..."RetryCount":"0"}\n
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
	rem := ms - days*day
	y, m, d := civil(days)
	t := [24]byte{4: '-', 7: '-', 10: 'T', 13: ':', 16: ':', 19: '.', 23: 'Z'}
	put2(t[0:], y/100)
	put2(t[2:], y%100)
	put2(t[5:], m)
	put2(t[8:], d)
	put2(t[11:], rem/3_600_000)
	put2(t[14:], rem/60_000%60)
	put2(t[17:], rem/1000%60)
	t[20] = byte('0' + rem/100%10)
	put2(t[21:], rem%100)
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
