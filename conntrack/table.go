package conntrack

import (
	"math/bits"
	"math/rand/v2"
	"time"
)

// State is the state of a tracked flow. The zero value, StateNone, marks a
// free slot and is never reported for a live entry.
type State uint8

const (
	StateNone      State = iota
	TCPSynSent           // the opening SYN was seen
	TCPSynReceived       // the SYN-ACK answering it was seen
	TCPEstablished       // the handshake completed (or the flow was picked up mid-stream)
	TCPClosing           // one side sent FIN
	TCPClosed            // RST seen, or both sides sent FIN
	UDPSingle            // UDP in one direction, or a single request and response
	UDPStream            // UDP with more than one request-response exchange
	ICMPQuery            // an ICMP query awaiting or past its reply
	OtherFlow            // any other protocol, tracked by addresses and protocol
	numStates
)

var stateNames = [numStates]string{"none", "tcp-syn-sent", "tcp-syn-received", "tcp-established",
	"tcp-closing", "tcp-closed", "udp", "udp-stream", "icmp", "other"}

func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "invalid"
}

// Conn describes a tracked flow, as of the packet just handled.
type Conn struct {
	State    State
	Origin   Dir    // direction of the packet that opened it
	Tag      uint32 // what the caller gave Track: for example the admitting rule
	Created  int64  // Unix nanoseconds of the opening packet
	LastSeen int64  // Unix nanoseconds of the latest packet
	Timeout  time.Duration
}

// Result says what [Table.Track] did.
type Result uint8

const (
	Created      Result = iota + 1 // a new entry was made
	NotStartable                   // the packet cannot open a flow (TCP non-SYN, ICMP reply or error)
	Full                           // the table is full: the packet must be dropped
)

// Stats are a table's counters.
type Stats struct {
	Entries  int    // live entries, as they count against the capacity: two for a Packet.Double flow's (some may have expired but not yet been dropped)
	Peak     int    // most Entries at once (idle ones go a few per packet, so this may count some just expired)
	Created  uint64 // entries made
	Expired  uint64 // entries dropped for idleness
	Exceeded uint64 // packets refused because the table was full (AWS's conntrack_allowance_exceeded)
}

type entry struct {
	key        Key
	serial     uint64 // Stats.Created when it was made: what a Hint checks that its slot still holds its entry
	tag        uint32
	prev, next uint32 // per-state list ordered by last use; slab index+1, 0 = none
	state      State
	origin     Dir
	aux        uint8 // UDP: direction turns seen; ICMP: request type; TCP: FIN bits
	lastDir    Dir
	lastSeen   int64
	created    int64
}

type list struct{ head, tail uint32 }

// Table is a connection-tracking table. Create one with [New].
type Table struct {
	cfg      Config
	timeouts [numStates]int64

	// index is open addressing with linear probing. A slot holds the
	// entry's slab index+1 in its low half and the low 32 bits of its
	// key's hash in its high half (0 = empty): probing past other keys,
	// moving entries back after a removal and growing all read the index
	// alone, never the slab's entries.
	index []uint64
	mask  uint64
	slab  []entry
	free  uint32 // free-list head through entry.next; slab index+1
	used  int    // slab entries ever handed out
	lists [numStates]list
	held  uint16 // bit s set: lists[s] holds entries, so the reaper skips empty lists without looking
	seed  uint64
	sweep State  // next list the incremental reaper looks at
	calls uint   // lookups so far, to pace the reaper
	tick  uint64 // calls that may have changed entries, so a Hint knows what Predict saw still holds
	// missed is the key built by the last lookup, through missHint, that
	// found no live entry, as of tick missTick, with its hash and the
	// empty index position its search ended at (noSlot if the search
	// found an entry, which the lookup may have removed, moving others):
	// the TrackHint that follows such a miss needs the same key, and puts
	// its entry there.
	// (missHint keeps that one hint, and whatever holds it, reachable
	// until the next such miss.)
	missed   Key
	missHash uint64
	missSlot uint64
	missHint *Hint
	missTick uint64

	stats Stats

	// double has a bit per slab entry, set for a Packet.Double flow's,
	// which counts twice; doubles is how many are set. nil until the
	// first such flow: other tables pay one compare per removal.
	double  []uint64
	doubles int

	// gone remembers entries dropped for idleness, by the low bits of
	// their keys' hashes, so that a packet refused once its connection
	// has gone can be told so ([Table.Idled]). A later one takes an
	// earlier one's place: it is memory for explanations, never for
	// verdicts. Made on the first expiry, sized to the slab.
	gone []goneEntry
}

// goneEntry is a connection dropped for idleness; state is StateNone in an
// unused one.
type goneEntry struct {
	key      Key
	tag      uint32
	state    State
	origin   Dir
	created  int64
	lastSeen int64
}

// New returns an empty table, or an error if cfg is invalid.
func New(cfg Config) (*Table, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newTable(cfg), nil
}

func newTable(cfg Config) *Table {
	t := &Table{seed: rand.Uint64()}
	t.setConfig(cfg)
	t.index = make([]uint64, 64)
	t.mask = 63
	return t
}

// NewFixed returns an empty table for the flows of an AWS appliance
// whose timeouts AWS fixes, such as a Network Load Balancer's (TCP 350 s,
// UDP 120 s): they may lie outside the ranges of an interface's settings,
// which New enforces, so only that every timeout is positive and the
// capacity in range are checked.
func NewFixed(cfg Config) (*Table, error) {
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"TcpEstablishedTimeout", cfg.TCPEstablished}, {"UdpTimeout", cfg.UDP}, {"UdpStreamTimeout", cfg.UDPStream}} {
		if f.v <= 0 {
			return nil, &ConfigError{Field: f.name, Value: f.v}
		}
	}
	ranged := cfg
	ranged.TCPEstablished, ranged.UDP, ranged.UDPStream = MinTCPEstablished, MinUDP, MinUDPStream
	if err := ranged.Validate(); err != nil {
		return nil, err
	}
	return newTable(cfg), nil
}

// Config returns the table's configuration.
func (t *Table) Config() Config { return t.cfg }

// SetTCPPickup turns Config.TCPPickup on or off, whatever the table's
// timeouts: a table made by NewFixed takes no SetConfig.
func (t *Table) SetTCPPickup(on bool) {
	if t.cfg.TCPPickup != on {
		t.tick++ // what CanTrack answers changes
		t.cfg.TCPPickup = on
	}
}

// SetConfig changes timeouts and capacity; live entries take the new
// timeouts at once. Lowering MaxEntries below the live count refuses new
// entries until enough expire.
func (t *Table) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	t.setConfig(cfg)
	return nil
}

func (t *Table) setConfig(cfg Config) {
	t.tick++
	t.cfg = cfg
	t.timeouts = [numStates]int64{
		TCPSynSent:     int64(cfg.TCPHandshake),
		TCPSynReceived: int64(cfg.TCPHandshake),
		TCPEstablished: int64(cfg.TCPEstablished),
		TCPClosing:     int64(cfg.TCPClosing),
		TCPClosed:      int64(cfg.TCPClosed),
		UDPSingle:      int64(cfg.UDP),
		UDPStream:      int64(cfg.UDPStream),
		ICMPQuery:      int64(cfg.ICMP),
		OtherFlow:      int64(cfg.Other),
	}
}

// Len returns the number of live entries, as they count against the
// capacity (see [Stats].Entries).
func (t *Table) Len() int { return t.stats.Entries }

// Stats returns the table's counters.
func (t *Table) Stats() Stats { return t.stats }

// Available returns how many more entries fit, like AWS's
// conntrack_allowance_available.
func (t *Table) Available() int {
	if n := t.cfg.MaxEntries - t.stats.Entries; n > 0 {
		return n
	}
	return 0
}

// Lookup finds the tracked flow a packet belongs to, advances its state
// and refreshes its idle timer. It reports false when the packet belongs
// to no live entry and must be judged by the rules.
func (t *Table) Lookup(p *Packet, now int64) (Conn, bool) {
	var c Conn
	ok := t.lookup(p, now, nil, &c)
	return c, ok
}

// Hint remembers where the entry for one kind of packet of one flow (one
// direction, one ICMP type) was, so that the next such packet is looked up
// without building and hashing its key. The zero Hint knows nothing. A
// Hint belongs to one table and to packets with the same addresses,
// protocol, ports, ICMP type and identifier and direction.
//
// A Hint names its entry by place and serial number rather than holding
// a copy of the key: it is small, so that a caller can keep one for every
// flow it has seen in little memory, and checking it compares one word.
type Hint struct {
	slot  uint32 // slab index+1 where the entry was; 0 unknown
	keyed uint8  // 1: the packets have a key (trackable); 2: they have none
	// ready is set when Predict found slot live for the packet at
	// readyNow, as of the table's readyTick: the next lookup, if nothing
	// came between, takes it on trust.
	ready     bool
	serial    uint64 // the serial of the entry at slot
	absent    uint64 // Created+1 as of a lookup that found no entry: none can appear until Track makes one
	readyNow  int64
	readyTick uint64
}

// holds reports whether the entry the hint names is still at its slot.
// Serials are never reused and a free entry's is 0, so equal serials mean
// the same entry, and with it the same key.
func (t *Table) holds(h *Hint) bool {
	return h.slot != 0 && int(h.slot) <= t.used && t.slab[h.slot-1].serial == h.serial
}

// LookupHint is [Table.Lookup] for a packet like the ones h was used with
// before, which it reads and updates. It answers exactly what Lookup
// would, writing the connection to c (left alone on a miss) rather than
// returning it: a caller filling a larger record copies it once.
func (t *Table) LookupHint(p *Packet, now int64, h *Hint, c *Conn) bool {
	return t.lookup(p, now, h, c)
}

func (t *Table) lookup(p *Packet, now int64, h *Hint, c *Conn) bool {
	// A slot Predict vouched for, with nothing changed since, needs no
	// checking again.
	vouched := h != nil && h.ready && h.readyTick == t.tick && h.readyNow == now
	if h != nil {
		h.ready = false
	}
	t.tick++
	// Expired entries go a few at a time, every eighth call: the list
	// heads are cold in cache, so looking at them on every packet costs
	// more than the memory they hold. They are not the vouched-for entry,
	// which is live at now.
	if t.calls++; t.calls&7 == 0 {
		t.reap(now, 8)
	}
	if vouched {
		return t.hit(p, noSlot, h.slot, now, h, c)
	}
	if h != nil && h.keyed == 2 {
		return false
	}
	slot, i := noSlot, uint32(0)
	switch {
	case h != nil && h.keyed == 1 && t.holds(h):
		i = h.slot
	case h != nil && h.keyed == 1 && h.absent == t.stats.Created+1:
		return false
	default:
		k, ok := p.key()
		if h != nil {
			h.keyed = 2
			if ok {
				h.keyed = 1
			}
		}
		if !ok {
			return false
		}
		hk := k.hash(t.seed)
		slot, i = t.findHashed(&k, hk)
		if h != nil { // in case of a miss
			t.missed, t.missHash, t.missSlot, t.missHint, t.missTick = k, hk, slot, h, t.tick
			if i != 0 {
				t.missSlot = noSlot
			}
		}
	}
	if i == 0 {
		h.setAbsent(t)
		return false
	}
	e := &t.slab[i-1]
	if t.expired(e, now) {
		t.expire(slot, i)
		h.setAbsent(t)
		return false
	}
	if h != nil {
		h.slot, h.serial = i, e.serial
	}
	return t.hit(p, slot, i, now, h, c)
}

// hit records a packet on live entry i (at index position slot, or
// noSlot) and writes the connection to c, unless the packet ends the entry
// or does not belong to it.
func (t *Table) hit(p *Packet, slot uint64, i uint32, now int64, h *Hint, c *Conn) bool {
	e := &t.slab[i-1]
	fromOrigin := p.Dir == e.origin
	was := e.state
	switch p.Proto {
	case protoTCP:
		if e.state == TCPClosed && p.TCPFlags&(SYN|ACK) == SYN {
			t.removeAt(slot, i) // a new connection on an old 5-tuple
			h.setAbsent(t)
			return false
		}
		e.state, e.aux = tcpNext(e.state, e.aux, p.TCPFlags, fromOrigin)
	case protoUDP:
		if p.Dir != e.lastDir {
			e.lastDir = p.Dir
			if e.aux < 255 {
				e.aux++
			}
			// Request, response, request, response: the second exchange
			// makes it a stream.
			if e.aux >= 3 {
				e.state = UDPStream
			}
		}
	case protoICMP, protoICMPv6:
		req, _, other := icmpQuery(p.Proto, p.ICMPType)
		if (req && p.ICMPType != e.aux) || (!req && other != e.aux) {
			return false
		}
	}
	t.touch(i, e, was, now)
	t.fill(c, e)
	return true
}

// Prediction is what [Table.Predict] expects LookupHint to answer.
type Prediction uint8

const (
	Unsure   Prediction = iota // the hint does not tell: look it up
	WillHit                    // the packet's entry is there and live
	WillMiss                   // there is no entry for the packet
)

// Predict says, changing nothing but the hint, what LookupHint would
// answer for the packet with this hint at time now, when the hint alone
// can tell: a caller that acts on both ends of a path checks both before
// touching either. A LookupHint that follows at once, at the same time,
// trusts a WillHit without checking the entry again.
func (t *Table) Predict(p *Packet, h *Hint, now int64) Prediction {
	switch {
	case h.keyed == 2:
		return WillMiss
	case h.keyed != 1:
		return Unsure
	case t.holds(h):
		e := &t.slab[h.slot-1]
		switch {
		case t.expired(e, now):
			return Unsure
		case p.Proto == protoTCP && e.state == TCPClosed && p.TCPFlags&(SYN|ACK) == SYN:
			return Unsure
		case p.Proto == protoICMP || p.Proto == protoICMPv6:
			req, _, other := icmpQuery(p.Proto, p.ICMPType)
			if (req && p.ICMPType != e.aux) || (!req && other != e.aux) {
				return Unsure
			}
		}
		h.ready, h.readyNow, h.readyTick = true, now, t.tick
		return WillHit
	case h.absent == t.stats.Created+1:
		return WillMiss
	}
	return Unsure
}

// setAbsent notes that the hint's key has no entry now.
func (h *Hint) setAbsent(t *Table) {
	if h != nil {
		h.slot, h.absent = 0, t.stats.Created+1
	}
}

// Peek reports whether a packet belongs to a live entry, as Lookup would,
// without changing anything: for "what if" questions about a packet that
// never arrives.
func (t *Table) Peek(p *Packet, now int64) (Conn, bool) {
	k, ok := p.key()
	if !ok {
		return Conn{}, false
	}
	_, i := t.find(&k)
	if i == 0 {
		return Conn{}, false
	}
	e := &t.slab[i-1]
	switch {
	case t.expired(e, now):
		return Conn{}, false
	case p.Proto == protoTCP && e.state == TCPClosed && p.TCPFlags&(SYN|ACK) == SYN:
		return Conn{}, false
	case p.Proto == protoICMP || p.Proto == protoICMPv6:
		req, _, other := icmpQuery(p.Proto, p.ICMPType)
		if (req && p.ICMPType != e.aux) || (!req && other != e.aux) {
			return Conn{}, false
		}
	}
	return t.conn(e), true
}

// CanTrack reports what Track would return for the packet, without
// changing anything.
func (t *Table) CanTrack(p *Packet) Result {
	if !p.trackable() {
		return NotStartable
	}
	switch p.Proto {
	case protoTCP:
		if p.TCPFlags&(SYN|ACK|RST) != SYN && !(t.cfg.TCPPickup && p.TCPFlags&RST == 0) {
			return NotStartable
		}
	case protoICMP, protoICMPv6:
		if req, _, _ := icmpQuery(p.Proto, p.ICMPType); !req {
			return NotStartable
		}
	}
	if t.stats.Entries+weight(p) > t.cfg.MaxEntries {
		return Full
	}
	return Created
}

// tcpNext is the TCP state machine: loose, as AWS documents no sequence
// checks, but enough to tell handshakes, established and closing flows apart.
func tcpNext(s State, fins, flags uint8, fromOrigin bool) (State, uint8) {
	const finOrigin, finReply = 1, 2
	if flags&RST != 0 {
		return TCPClosed, fins
	}
	if flags&FIN != 0 {
		if fromOrigin {
			fins |= finOrigin
		} else {
			fins |= finReply
		}
		if fins == finOrigin|finReply {
			return TCPClosed, fins
		}
		return TCPClosing, fins
	}
	switch s {
	case TCPSynSent:
		if !fromOrigin && flags&(SYN|ACK) == SYN|ACK {
			return TCPSynReceived, fins
		}
	case TCPSynReceived:
		if fromOrigin && flags&(SYN|ACK) == ACK {
			return TCPEstablished, fins
		}
	}
	return s, fins
}

// Track opens an entry for a packet the rules admitted. tag is kept with
// the entry and returned in [Conn.Tag]. It returns [NotStartable] for a
// packet that cannot open a flow, and [Full] (counting the packet) when the
// table has no room.
func (t *Table) Track(p *Packet, tag uint32, now int64) (Conn, Result) {
	c, r, _ := t.track(p, tag, now, nil)
	return c, r
}

// TrackHint is [Table.Track] for a packet like the ones h was used with:
// a new entry's place is noted in h, so the packets that follow find it
// without a search.
func (t *Table) TrackHint(p *Packet, tag uint32, now int64, h *Hint) (Conn, Result) {
	var known *Key
	// Right after a miss through h, the table holds the key it built.
	// The hint is marked absent as of that miss; one cleared since is not.
	if t.missHint == h && t.missTick == t.tick && h.absent == t.stats.Created+1 {
		known = &t.missed
	}
	c, r, i := t.track(p, tag, now, known)
	if r == Created {
		h.keyed, h.slot, h.serial = 1, i, t.slab[i-1].serial
	}
	return c, r
}

// track is Track, also returning the new entry's slab index+1; known,
// when not nil, is the packet's key, t.missed, whose search left
// t.missHash and t.missSlot.
func (t *Table) track(p *Packet, tag uint32, now int64, known *Key) (Conn, Result, uint32) {
	t.tick++
	var k Key
	if known != nil {
		k = *known
	} else {
		var ok bool
		if k, ok = p.key(); !ok {
			return Conn{}, NotStartable, 0
		}
	}
	var state State
	var aux uint8
	switch p.Proto {
	case protoTCP:
		switch {
		case p.TCPFlags&(SYN|ACK|RST) == SYN:
			state = TCPSynSent
		case t.cfg.TCPPickup && p.TCPFlags&RST == 0:
			state = TCPEstablished
		default:
			return Conn{}, NotStartable, 0
		}
	case protoUDP:
		state = UDPSingle
	case protoICMP, protoICMPv6:
		if req, _, _ := icmpQuery(p.Proto, p.ICMPType); !req {
			return Conn{}, NotStartable, 0
		}
		state, aux = ICMPQuery, p.ICMPType
	default:
		state = OtherFlow
	}
	// The index position found empty here (or by the miss) is where the
	// entry goes, unless a removal shifts entries first.
	var h, slot uint64
	var i uint32
	if known != nil && t.missSlot != noSlot {
		h, slot = t.missHash, t.missSlot
	} else {
		h = k.hash(t.seed)
		slot, i = t.findHashed(&k, h)
	}
	if i != 0 {
		t.removeAt(slot, i) // a stale entry of a different shape on the same key
		slot = noSlot
	}
	w := weight(p)
	if t.stats.Entries+w > t.cfg.MaxEntries {
		t.reclaim(now)
		slot = noSlot
		if t.stats.Entries+w > t.cfg.MaxEntries {
			t.stats.Exceeded++
			return Conn{}, Full, 0
		}
	}
	i = t.alloc()
	e := &t.slab[i-1]
	t.stats.Created++
	*e = entry{key: k, serial: t.stats.Created, tag: tag, state: state, origin: p.Dir, lastDir: p.Dir, aux: aux, created: now, lastSeen: now}
	t.insert(h, i, slot)
	t.push(i, e)
	t.stats.Entries += w
	if w == 2 {
		t.setDouble(i)
	}
	if t.stats.Entries > t.stats.Peak {
		t.stats.Peak = t.stats.Entries
	}
	t.reap(now, 2)
	return t.conn(e), Created, i
}

// weight is what a flow opened by p counts against the capacity.
func weight(p *Packet) int {
	if p.Double {
		return 2
	}
	return 1
}

// setDouble marks slab entry i as a flow that counts twice.
func (t *Table) setDouble(i uint32) {
	w := int(i-1) / 64
	if w >= len(t.double) {
		t.double = append(t.double, make([]uint64, w+1-len(t.double))...)
	}
	t.double[w] |= 1 << ((i - 1) % 64)
	t.doubles++
}

// clearDouble unmarks slab entry i, and reports whether it was marked.
func (t *Table) clearDouble(i uint32) bool {
	w, bit := int(i-1)/64, uint64(1)<<((i-1)%64)
	if w >= len(t.double) || t.double[w]&bit == 0 {
		return false
	}
	t.double[w] &^= bit
	t.doubles--
	return true
}

func (t *Table) conn(e *entry) Conn {
	var c Conn
	t.fill(&c, e)
	return c
}

// fill writes e's connection to c field by field: a composite literal
// assigned through a pointer is built aside and copied.
func (t *Table) fill(c *Conn, e *entry) {
	c.State, c.Origin, c.Tag, c.Created, c.LastSeen = e.state, e.origin, e.tag, e.created, e.lastSeen
	c.Timeout = time.Duration(t.timeouts[e.state])
}

func (t *Table) expired(e *entry, now int64) bool {
	return now-e.lastSeen >= t.timeouts[e.state]
}

// Expire drops every entry idle for its timeout as of now. Callers that
// report live entries call it first; the hot path never needs it.
func (t *Table) Expire(now int64) {
	t.tick++
	for s := State(1); s < numStates; s++ {
		for h := t.lists[s].head; h != 0; {
			e := &t.slab[h-1]
			next := e.next
			if t.expired(e, now) {
				t.expire(noSlot, h)
			}
			h = next
		}
	}
}

// reap drops up to budget expired entries from the heads of the per-state
// lists, which are ordered by last use. Each call looks at one list, the
// next in turn, so the cost per packet stays small and constant; a full
// table sweeps them all (Track).
func (t *Table) reap(now int64, budget int) {
	// The list is the first in turn from t.sweep that holds entries, and
	// the sweep moves past it: in a cycle over the states from 1, after a
	// first call that starts at StateNone, whose list is always empty.
	s := t.sweep
	if s == StateNone {
		t.sweep = numStates - 1 // where numStates-1 tries from StateNone end
		if next := t.held &^ (1 << (numStates - 1)); next != 0 {
			s = State(bits.TrailingZeros16(next))
		} else {
			return
		}
	} else if next := t.held >> s << s; next != 0 {
		s = State(bits.TrailingZeros16(next))
	} else if t.held != 0 {
		s = State(bits.TrailingZeros16(t.held))
	} else {
		return // every list empty: a whole cycle brings the sweep back where it was
	}
	if t.sweep = s + 1; t.sweep >= numStates {
		t.sweep = 1
	}
	for h := t.lists[s].head; budget > 0 && h != 0 && t.expired(&t.slab[h-1], now); h = t.lists[s].head {
		t.expire(noSlot, h)
		budget--
	}
}

// reclaim drops every expired entry at the head of every list: what a
// full table does before refusing a packet, so that capacity counts live
// entries exactly. Each entry is dropped once, so the cost is amortised.
func (t *Table) reclaim(now int64) {
	for s := State(1); s < numStates; s++ {
		for h := t.lists[s].head; h != 0 && t.expired(&t.slab[h-1], now); h = t.lists[s].head {
			t.expire(noSlot, h)
		}
	}
}

// touch records a packet on an entry and moves it from the list of its
// previous state to the tail of its current state's list.
func (t *Table) touch(i uint32, e *entry, was State, now int64) {
	if now > e.lastSeen {
		e.lastSeen = now
	}
	if was == e.state && t.lists[was].tail == i {
		return // already last in its list
	}
	t.unlink(i, e, was)
	t.push(i, e)
}

func (t *Table) push(i uint32, e *entry) {
	l := &t.lists[e.state]
	e.prev, e.next = l.tail, 0
	if l.tail != 0 {
		t.slab[l.tail-1].next = i
	} else {
		l.head = i
	}
	l.tail = i
	t.held |= 1 << e.state
}

// unlink removes an entry from the list of state s.
func (t *Table) unlink(i uint32, e *entry, s State) {
	l := &t.lists[s]
	if e.prev != 0 {
		t.slab[e.prev-1].next = e.next
	} else {
		l.head = e.next
	}
	if e.next != 0 {
		t.slab[e.next-1].prev = e.prev
	} else {
		l.tail = e.prev
	}
	if l.head == 0 {
		t.held &^= 1 << s
	}
	e.prev, e.next = 0, 0
}

func (t *Table) find(k *Key) (slot uint64, i uint32) { return t.findHashed(k, k.hash(t.seed)) }

// findHashed is find for a key whose hash is h.
func (t *Table) findHashed(k *Key, h uint64) (slot uint64, i uint32) {
	tag := h << 32
	s := h & t.mask
	for {
		v := t.index[s]
		if v == 0 || (v&^0xffffffff == tag && t.slab[uint32(v)-1].key.equal(k)) {
			return s, uint32(v)
		}
		s = (s + 1) & t.mask
	}
}

// insert puts entry i, whose key hashes to h, in the index: at slot, the
// empty position find gave for the key, unless it is noSlot or the index
// grows.
func (t *Table) insert(h uint64, i uint32, slot uint64) {
	if uint64(t.stats.Entries+1)*4 > uint64(len(t.index))*3 {
		t.grow()
		slot = noSlot
	}
	if slot == noSlot {
		slot = t.empty(h)
	}
	t.index[slot] = h<<32 | uint64(i)
}

// empty returns the first empty index position from the home of hash h.
func (t *Table) empty(h uint64) uint64 {
	s := h & t.mask
	for t.index[s] != 0 {
		s = (s + 1) & t.mask
	}
	return s
}

// grow doubles the index and reinserts every live entry, by the hash bits
// its slot holds: the index is at most 2^32 slots (see maxEntries), so
// those bits give the home in any index.
func (t *Table) grow() {
	old := t.index
	t.index = make([]uint64, len(old)*2)
	t.mask = uint64(len(t.index) - 1)
	for _, v := range old {
		if v != 0 {
			t.index[t.empty(v>>32)] = v
		}
	}
}

// alloc returns a free slab entry, growing the slab (never past
// MaxEntries, so memory stays bounded) when none is free.
func (t *Table) alloc() uint32 {
	if t.free != 0 {
		i := t.free
		t.free = t.slab[i-1].next
		return i
	}
	if t.used == len(t.slab) {
		n := max(64, 2*len(t.slab))
		n = min(n, t.cfg.MaxEntries)
		n = max(n, t.used+1)
		slab := make([]entry, n)
		copy(slab, t.slab)
		t.slab = slab
	}
	t.used++
	return uint32(t.used)
}

func (t *Table) remove(i uint32) { t.removeAt(noSlot, i) }

// expire drops entry i, found at index slot (noSlot: find it), for
// idleness, and remembers it in gone.
func (t *Table) expire(slot uint64, i uint32) {
	if slot == noSlot {
		slot = t.slotOf(i)
	}
	t.stats.Expired++
	if n := len(t.gone); n < len(t.slab) && n < maxGone {
		// Sized to the slab, so that a table's recent expiries mostly fit;
		// what the smaller one held is forgotten.
		t.gone = make([]goneEntry, min(maxGone, max(16, 1<<bits.Len(uint(len(t.slab)-1)))))
	}
	e := &t.slab[i-1]
	t.gone[uint32(t.index[slot]>>32)&uint32(len(t.gone)-1)] = goneEntry{key: e.key, tag: e.tag, state: e.state,
		origin: e.origin, created: e.created, lastSeen: e.lastSeen}
	t.removeAt(slot, i)
}

// maxGone bounds the connections a table remembers after they idle out.
const maxGone = 4096

// Idled returns the connection p belonged to if it had gone idle past its
// timeout by now: still in the table, not yet dropped, or dropped and
// still remembered (the table remembers its most recent expiries, about
// as many as it has held connections at once, up to 4,096). It is what a
// packet refused for want of a connection is told. Timeout is the one
// that applied; the connection went idle at LastSeen. It changes nothing.
func (t *Table) Idled(p *Packet, now int64) (Conn, bool) {
	k, ok := p.key()
	if !ok {
		return Conn{}, false
	}
	hk := k.hash(t.seed)
	if _, i := t.findHashed(&k, hk); i != 0 {
		e := &t.slab[i-1]
		if !t.expired(e, now) {
			return Conn{}, false // live: not idled out
		}
		return t.conn(e), true
	}
	if len(t.gone) == 0 {
		return Conn{}, false
	}
	g := &t.gone[uint32(hk)&uint32(len(t.gone)-1)]
	if g.state == StateNone || !g.key.equal(&k) {
		return Conn{}, false
	}
	return Conn{State: g.state, Origin: g.origin, Tag: g.tag, Created: g.created, LastSeen: g.lastSeen,
		Timeout: time.Duration(t.timeouts[g.state])}, true
}

// slotOf returns the index position of entry i, found from its key's
// home: the entry is there, so no other key need be compared.
func (t *Table) slotOf(i uint32) uint64 {
	slot := t.slab[i-1].key.hash(t.seed) & t.mask
	for ; uint32(t.index[slot]) != i; slot = (slot + 1) & t.mask {
		if t.index[slot] == 0 {
			panic("conntrack: index and slab disagree") // a bug, never bad input
		}
	}
	return slot
}

// noSlot stands for an index position not yet known.
const noSlot = ^uint64(0)

// removeAt deletes entry i found at index slot (noSlot: find it), shifting
// later entries of the probe run back so no tombstones are needed.
func (t *Table) removeAt(slot uint64, i uint32) {
	if slot == noSlot {
		slot = t.slotOf(i)
	}
	e := &t.slab[i-1]
	t.unlink(i, e, e.state)
	*e = entry{next: t.free}
	t.free = i
	t.stats.Entries--
	if t.doubles > 0 && t.clearDouble(i) {
		t.stats.Entries--
	}

	hole := slot
	for j := (slot + 1) & t.mask; t.index[j] != 0; j = (j + 1) & t.mask {
		home := t.index[j] >> 32 & t.mask
		// Move the entry at j into the hole unless its home lies cyclically
		// in (hole, j].
		if (j > hole && (home <= hole || home > j)) || (j < hole && home <= hole && home > j) {
			t.index[hole] = t.index[j]
			hole = j
		}
	}
	t.index[hole] = 0
}
