package eni

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"time"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

// FlowCache judges packets as [Network.JudgeInto] does, remembering for
// each kind of packet it has seen (same addresses, protocol, ports, ICMP
// type, code and identifier) what only a change of configuration can
// alter: where both ends live, what the subnets' ACLs answered, which rule
// admits it, where each end's tracked connection sits in its table. The
// next packet of the kind is judged without the lookups, hashing and rule
// matching that would give the same answers again; every dynamic step
// (connection tracking, counters, the packet's time) runs as before, and
// each remembered answer is checked against the version of the settings
// it came from, so the results are exactly JudgeInto's.
//
// When the last packet of a kind went through allowed at every stage (by
// tracked connections, or by rules that open none), and both interfaces'
// tables predict the same answer, the packet takes a fast lane that
// writes the path directly. A TCP or UDP packet that opens a flow readies
// the entry of its reply as well, so the reply takes the fast lane too,
// and a new kind of packet starts from what the cache remembers of a
// sibling: the same kind but for the source port or the ICMP identifier,
// as a client's next connection to the same service is.
//
// A replay keeps one FlowCache and judges every frame through it. A
// FlowCache is not safe for concurrent use; the network may be used and
// changed by other goroutines meanwhile, each with its own FlowCache.
type FlowCache struct {
	net *Network
	// entries are in sets of flowCacheWays, a kind of packet in the set
	// its hash picks: with one place per kind, kinds pushed each other out
	// long before the cache was full (BenchmarkFlowCacheLive: with 1,000
	// connections live, 123 ns a packet against 94-100 with sets).
	// tags holds, per set, 16 bits of each way's kind's hash (0: empty)
	// in one word, so that looking for a kind reads one word and the
	// entry whose tag matches, and finds it without a branch per way.
	entries []flowEntry
	tags    []uint64
	next    []uint8 // per set, the way a new kind takes next: first in, first out
	setMask uint64
	// The cache starts small and grows when it pushes out kinds still in
	// use. A large cache costs a capture of short flows, each new kind
	// taking an entry whose memory is long out of the processor's caches
	// (the sample's mix on two cores: 175 ns a frame with 4,096 entries,
	// 142 starting at 1,024); a small one costs a capture of many live flows,
	// whose kinds push each other out. ghosts remembers the hashes of
	// kinds pushed out (or'd with 1: 0 is none), in the slot their hash
	// picks, twice as many as the cache holds: a kind missed whose hash
	// is there came back after it was pushed out. Misses are counted in
	// runs as long as the cache has entries: when more than an eighth of
	// a run's came back, the cache is due to grow (at the next judgement,
	// so that no caller holds an entry of the old one).
	ghosts          []uint64
	misses, pressed int
	growDue         bool
	// routes remembers where pairs of addresses live, for the first
	// packet of each new flow: a capture has many flows between few hosts.
	routes [routeCacheSize]route
	// siblings are templates for new kinds (see siblingKind), in the
	// place siblingSlot picks.
	siblings [siblingSlots]*flowEntry
}

// routeCacheSize is the number of address pairs a FlowCache remembers.
const routeCacheSize = 256

// flowCacheMin and flowCacheMax bound the number of kinds of packet
// remembered at once: the flows live at one time in a capture, both
// directions. An entry is 400 bytes, so a cache holds from 400 KB to
// 6.4 MB.
const (
	flowCacheMin = 1024
	flowCacheMax = 16384
)

// flowCacheWays is how many entries a set holds.
const flowCacheWays = 4

// NewFlowCache returns an empty flow cache for the network.
func (n *Network) NewFlowCache() *FlowCache {
	fc := &FlowCache{net: n}
	fc.resize(flowCacheMin)
	return fc
}

// resize empties the cache and gives it room for size kinds.
func (fc *FlowCache) resize(size int) {
	sets := size / flowCacheWays
	fc.entries, fc.tags, fc.next, fc.setMask = make([]flowEntry, size), make([]uint64, sets), make([]uint8, sets), uint64(sets-1)
	fc.ghosts = make([]uint64, 2*size)
	fc.siblings = [siblingSlots]*flowEntry{}
	fc.misses, fc.pressed, fc.growDue = 0, 0, false
}

// find returns the entry of p's kind, whose FlowHash is h, and true; or,
// when the cache holds none, an entry taken for it, its key set and all
// else cleared, and false. The entry taken is never keep, which may be
// nil: the caller's entry of another kind in hand.
func (fc *FlowCache) find(p *Packet, h uint64, keep *flowEntry) (*flowEntry, bool) {
	set := h & fc.setMask
	ways := fc.entries[set*flowCacheWays : (set+1)*flowCacheWays : (set+1)*flowCacheWays]
	tag := uint64(h>>48) | 1
	// A lane of x is zero where the way's tag is the kind's; m has the
	// top bit of each such lane set (and maybe of lanes above one: the
	// keys tell).
	x := fc.tags[set] ^ tag*lanes
	for m := (x - lanes) &^ x & (lanes << 15); m != 0; m &= m - 1 {
		if w := bits.TrailingZeros64(m) / 16; ways[w].key.matches(p) {
			return &ways[w], true
		}
	}
	w := uint64(fc.next[set])
	if &ways[w] == keep {
		w = (w + 1) % flowCacheWays
	}
	fc.next[set] = uint8((w + 1) % flowCacheWays)
	fc.tags[set] = fc.tags[set]&^(0xffff<<(16*w)) | tag<<(16*w)
	e := &ways[w]
	gm := uint64(len(fc.ghosts) - 1)
	if g := &fc.ghosts[h&gm]; *g == h|1 {
		*g = 0
		fc.pressed++
	}
	if e.key.set {
		fc.ghosts[e.hash&gm] = e.hash | 1
	}
	if fc.misses++; fc.misses == len(fc.entries) {
		fc.growDue = fc.pressed > fc.misses/8 && len(fc.entries) < flowCacheMax
		fc.misses, fc.pressed = 0, 0
	}
	// Cleared in place, then keyed: a literal with the key would be built
	// aside and copied, 400 bytes twice.
	*e = flowEntry{}
	e.key, e.hash = keyOf(p), h
	return e, false
}

// lanes has the low bit of each of a set's four 16-bit tag lanes set.
const lanes = 0x0001_0001_0001_0001

// flowEntry is what the cache remembers of one kind of packet.
type flowEntry struct {
	key            flowKey
	hash           uint64  // the hash it was found by
	routes         *routes // src..dstNet are valid for this snapshot
	src, dst       *Interface
	srcNet, dstNet *subnetRoute
	via, via2      *hop           // appliances on the path (then ends and acls are unused), or a balancer
	ends           [2]endMemo     // source outbound, destination inbound
	acls           [2]aclMemo     // source subnet outbound, destination subnet inbound
	nlb            conntrack.Hint // where a balancer on the path (via) keeps the flow
	fast           bool           // the last packet of the kind went through allowed at every stage, in a way the fast lane repeats
}

// flowKey is every packet field that any remembered answer depends on.
type flowKey struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	icmpID           uint16
	proto            uint8
	icmpType         uint8
	icmpCode         uint8
	copy             bool // a mirror copy: judged without its source's groups
	set              bool
}

func keyOf(p *Packet) flowKey {
	return flowKey{src: p.Src, dst: p.Dst, srcPort: p.SrcPort, dstPort: p.DstPort, icmpID: p.ICMPID, proto: p.Proto,
		icmpType: p.ICMPType, icmpCode: p.ICMPCode, copy: p.MirrorCopy, set: true}
}

func (k *flowKey) matches(p *Packet) bool {
	return k.set && k.srcPort == p.SrcPort && k.dstPort == p.DstPort && k.proto == p.Proto && k.src == p.Src &&
		k.dst == p.Dst && k.icmpID == p.ICMPID && k.icmpType == p.ICMPType && k.icmpCode == p.ICMPCode && k.copy == p.MirrorCopy
}

// aclMemo is an ACL's answer for one kind of packet, valid while the
// subnet has the same ACL with the same entries.
type aclMemo struct {
	acl     *nacl.ACL
	version uint64
	res     nacl.Result
}

// allows reports whether the memo holds acl's current answer and that it
// lets the packet through.
func (m *aclMemo) allows(acl *nacl.ACL) bool {
	return m.acl == acl && m.version == acl.Version() && m.res.Allowed()
}

// evaluate returns the ACL's answer, from the memo (when not nil) while
// it is still valid.
func (m *aclMemo) evaluate(acl *nacl.ACL, egress bool, p *Packet, remote netip.Addr) nacl.Result {
	if m == nil {
		return acl.Evaluate(egress, p.Proto, p.DstPort, p.ICMPType, p.ICMPCode, remote)
	}
	if v := acl.Version(); m.acl != acl || m.version != v {
		*m = aclMemo{acl: acl, version: v, res: acl.Evaluate(egress, p.Proto, p.DstPort, p.ICMPType, p.ICMPCode, remote)}
	}
	return m.res
}

// JudgeInto judges the packet at time ts into out, exactly as
// [Network.JudgeInto] would. It allocates nothing.
func (fc *FlowCache) JudgeInto(p *Packet, ts time.Time, out *Path) {
	fc.JudgeIntoHashed(p, ts, out, p.FlowHash())
}

// JudgeIntoHashed is JudgeInto for a caller that has the packet's
// [Packet.FlowHash] already, as JudgeEachHashed is for a batch. A hash that
// is not the packet's costs speed, never correctness.
func (fc *FlowCache) JudgeIntoHashed(p *Packet, ts time.Time, out *Path, h uint64) {
	fc.net.eval.Lock()
	fc.judgeInto(p, ts, out, h)
	fc.net.eval.Unlock()
}

// JudgeEach judges each path's own Packet (out.Packet, decoded there by
// the caller) at the time of the same index, in order, exactly as
// JudgeInto would one at a time. The network's evaluation is held for the
// whole batch: a caller with frames in hand, such as a replay, pays for
// the synchronisation once per batch rather than once per packet, and
// other users of the network wait for the batch at most. It allocates
// nothing.
func (fc *FlowCache) JudgeEach(paths []*Path, times []time.Time) {
	fc.net.eval.Lock()
	defer fc.net.eval.Unlock()
	for k, out := range paths {
		fc.judgeInto(&out.Packet, times[k], out, out.Packet.FlowHash())
	}
}

// JudgeEachHashed is JudgeEach for a caller that has each packet's
// [Packet.FlowHash] already, hashes[k] for paths[k].Packet: a replay
// works them out on the goroutine that decodes, beside the one that
// judges. A hash that is not the packet's costs speed, never correctness:
// the cache checks every field of the packet against what it remembers.
func (fc *FlowCache) JudgeEachHashed(paths []*Path, times []time.Time, hashes []uint64) {
	fc.net.eval.Lock()
	defer fc.net.eval.Unlock()
	for k, out := range paths {
		fc.judgeInto(&out.Packet, times[k], out, hashes[k])
	}
}

// judgeInto is JudgeInto with fc.net.eval held, for a packet whose
// FlowHash is h.
func (fc *FlowCache) judgeInto(p *Packet, ts time.Time, out *Path, h uint64) {
	if fc.growDue {
		fc.resize(4 * len(fc.entries))
	}
	if q, ok := fc.net.current().routes.translate(p, out); ok {
		p, h = q, q.FlowHash()
	}
	// A hairpin's two sides see different packets, which the cache's
	// entries, one view for the whole path, cannot hold.
	if p.Status != Decoded || p.Fragment == LaterFragment || out.public.hairpin {
		fc.net.judgeInto(p, ts, out, nil, &fc.routes[pairSlot(p.Src, p.Dst)])
		return
	}
	e, hit := fc.find(p, h, nil)
	if hit && e.fast && p.Fragment == Whole && fc.fast(e, p, ts, out) {
		return
	}
	var sib **flowEntry
	if !hit {
		sib = fc.adopt(e, p)
	}
	fc.net.judgeInto(p, ts, out, e, &fc.routes[pairSlot(p.Src, p.Dst)])
	if e.learn(out) {
		fc.prefill(e, p)
	}
	if sib != nil {
		*sib = e
	}
}

// siblingSlots is the number of kinds of packet a FlowCache remembers as
// templates for their siblings.
const siblingSlots = 256

// siblingKind reports whether p's kind has siblings: kinds that differ
// from it only in the source port (from 1024 up: no port below it means
// anything to the checks) or the ICMP identifier, as the connections a
// client opens one after another to one service do, or its pings.
// Everything the cache remembers of a kind but its tracked connections is
// the same for its siblings, so a new kind starts from the memos of the
// last sibling seen: where both ends live, the ACLs' answers, what each
// interface's checks before tracking and its rules decided. Each memo is
// checked against the version of the settings it came from before it is
// used, as a kind's own are. Paths by a balancer (which picks by source
// port) or an appliance are left out.
func siblingKind(p *Packet) bool { return hasSiblings(p.Proto, p.SrcPort) }

func hasSiblings(proto uint8, srcPort uint16) bool {
	switch proto {
	case 6, 17:
		return srcPort >= 1024
	case 1, 58:
		return true
	}
	return false
}

// siblingSlot picks the place of p's siblings' template.
func siblingSlot(p *Packet) uint64 {
	c := uint64(p.DstPort) | uint64(p.Proto)<<16 | uint64(p.ICMPType)<<24 | uint64(p.ICMPCode)<<32
	return mix64(pairHash(p.Src, p.Dst)^c, 0xe7037ed1a0b428db) & (siblingSlots - 1)
}

// sibling reports whether k's kind is a sibling of p's.
func (k *flowKey) sibling(p *Packet) bool {
	return k.set && k.dstPort == p.DstPort && k.proto == p.Proto && k.src == p.Src && k.dst == p.Dst &&
		k.icmpType == p.ICMPType && k.icmpCode == p.ICMPCode && k.copy == p.MirrorCopy && hasSiblings(k.proto, k.srcPort)
}

// adopt starts e, the new entry of p's kind, from the memos of the last
// sibling of p's kind seen, if it is still in the cache. It returns the
// template's place, for e to take once judged (nil: p's kind has no
// siblings).
func (fc *FlowCache) adopt(e *flowEntry, p *Packet) **flowEntry {
	if !siblingKind(p) {
		return nil
	}
	at := &fc.siblings[siblingSlot(p)]
	s := *at
	if s == nil || s == e || !s.key.sibling(p) || s.via != nil || s.via2 != nil || s.routes == nil ||
		s.routes.balancers != nil || s.routes != fc.net.current().routes {
		return at
	}
	e.routes, e.src, e.dst, e.srcNet, e.dstNet = s.routes, s.src, s.dst, s.srcNet, s.dstNet
	e.acls = s.acls
	for k := range e.ends {
		m := &s.ends[k]
		e.ends[k] = endMemo{c: m.c, pre: m.pre, svc: m.svc, ruled: m.ruled, untracked: m.untracked, m: m.m, ref: m.ref}
	}
	return at
}

// lane is how an interface's check of a kind of packet ended, when the
// fast lane can repeat that ending.
type lane uint8

const (
	laneNone    lane = iota
	laneTracked      // allowed as part of a tracked connection
	laneRule         // allowed by a rule without opening a connection: untracked, or a packet that cannot open one
)

// learn notes whether the path just judged is one the fast lane can
// repeat: every stage allowed, each interface by a tracked connection
// (one it rode or opened) or by a rule without opening one, two different
// interfaces. It is a guess: ready checks it before every use. It
// reports whether the packet opened a flow at every interface it met: a
// tracked connection, or an untracked flow whose reply the rules judge.
func (e *flowEntry) learn(out *Path) (opened bool) {
	e.fast = false
	// An appliance's checks the fast lane does not repeat. An egress-only
	// internet gateway's needs no repeating: a packet through it takes the
	// fast lane only by riding a live connection at its destination
	// (laneTracked: the path learnt was let in, so the packet rode one),
	// and the only connections there for packets from the internet are
	// ones the interface opened, since the gateway refuses whatever would
	// open another. A route change, which could leave some, sends every
	// kind the long way again.
	if out.Action != Allow || out.Service != NoService || out.n == 0 || (out.Src != nil && out.Src == out.Dst) || !e.via.plain() {
		return false
	}
	opened = true
	st := out.all()
	for k := range st[:out.n] {
		s := &st[k]
		if !s.Allowed || s.Hypothetical {
			return
		}
		if s.Kind != StageSourceGroups && s.Kind != StageDestGroups {
			continue
		}
		m := &e.ends[0]
		if s.Kind == StageDestGroups {
			m = &e.ends[1]
		}
		switch v := &s.Verdict; {
		case v.Reason == ReasonTracked || v.NewConn:
			// A packet that opened a connection is followed by packets
			// that ride it.
			m.lane = laneTracked
			opened = opened && v.NewConn
		case v.Reason == ReasonRule && !v.NewConn && m.ruled:
			m.lane = laneRule
			opened = opened && m.untracked
		default:
			return false
		}
	}
	e.fast = true
	return opened
}

// prefill readies the entry of the reply to a TCP or UDP packet that has
// just opened a flow at every interface it met, so that the first reply,
// which would otherwise be judged the long way, takes the fast lane: the
// reply's route is the packet's turned round; its ACL answers, the checks
// before tracking and, for an untracked flow, its rule are worked out
// now; its tracked connections are the ones just opened, at the same
// places in the tables (a reply has the key of its request). Nothing is
// counted or changed but the cache; a reply that never comes costs this
// work only, and the fast lane checks everything before it trusts it.
func (fc *FlowCache) prefill(e *flowEntry, p *Packet) {
	if (p.Proto != 6 && p.Proto != 17) || p.Fragment != Whole {
		return
	}
	rev := Packet{Status: Decoded, Src: p.Dst, Dst: p.Src, SrcPort: p.DstPort, DstPort: p.SrcPort, Proto: p.Proto}
	r, known := fc.find(&rev, rev.FlowHash(), e)
	if known {
		return // the reply's entry is known already
	}
	var via *hop
	if e.routes.balancers != nil {
		via = e.routes.balanced(e.dst, e.src, e.dstNet, e.srcNet, &rev)
	}
	if via == nil && e.routes.appliances {
		via = appliance(e.routes, e.dst, e.src, e.dstNet, e.srcNet, &rev)
	}
	if !via.plain() {
		return // the reply's route goes through an appliance: the long way
	}
	r.routes, r.src, r.dst, r.srcNet, r.dstNet, r.via = e.routes, e.dst, e.src, e.dstNet, e.srcNet, via
	r.nlb = e.nlb // a balancer's flow has its request's key too
	if r.srcNet != r.dstNet {
		if sn := r.srcNet; sn != nil && sn.acl != nil && !r.acls[0].evaluate(sn.acl, true, &rev, rev.Dst).Allowed() {
			return
		}
		if sn := r.dstNet; sn != nil && sn.acl != nil && !r.acls[1].evaluate(sn.acl, false, &rev, rev.Src).Allowed() {
			return
		}
	}
	// The reply leaves the request's destination and enters its source.
	if r.src != nil && !r.src.prefill(&r.ends[0], &e.ends[1], Outbound, &rev) {
		return
	}
	if r.dst != nil && !r.dst.prefill(&r.ends[1], &e.ends[0], Inbound, &rev) {
		return
	}
	r.fast = true
}

// prefill sets m, the memo of the reply rev at this interface, from req,
// the memo of the request that opened the flow here. It reports false
// when the reply is decided before connection tracking (a service, the
// source/destination check) or refused by the rules of an untracked flow:
// the fast lane repeats neither.
func (i *Interface) prefill(m, req *endMemo, dir Direction, rev *Packet) bool {
	local, remote := rev.ends(dir)
	c := i.current()
	pre, svc := c.before(dir, rev, local, remote)
	*m = endMemo{c: c, pre: pre, svc: svc}
	if pre != ReasonNone || !req.looked {
		return false
	}
	m.ct, m.looked, m.lane = req.ct, true, laneTracked
	if req.lane == laneRule {
		// An untracked flow: the rules judge the reply too.
		m.m, m.ref, m.untracked = c.match(dir, rev, remote)
		m.ruled, m.lane = true, laneRule
		if !m.m.OK() {
			return false
		}
	}
	return true
}

// fast judges a packet whose kind last went through allowed at every
// stage, when everything that decided that is unchanged and both
// interfaces' tables say, before either is touched, that they will answer
// as before. It does exactly what judgeInto would, with less work, and
// reports false, having changed nothing, when it cannot tell.
func (fc *FlowCache) fast(e *flowEntry, p *Packet, ts time.Time, out *Path) bool {
	// The generations are read once for the routes and both interfaces'
	// compiled rules: current would read them three times.
	n := fc.net
	gen := generations{groups: n.groups.Generation(), net: n.gen.Load()}
	if s := n.snap.Load(); s == nil || s.gen != gen.net || s.routes != e.routes {
		return false
	}
	src, dst := e.src, e.dst
	var srcACL, dstACL *subnetRoute
	if e.srcNet != e.dstNet {
		if sn := e.srcNet; sn != nil && sn.acl != nil {
			if !e.acls[0].allows(sn.acl) {
				return false
			}
			srcACL = sn
		}
		if sn := e.dstNet; sn != nil && sn.acl != nil {
			if !e.acls[1].allows(sn.acl) {
				return false
			}
			dstACL = sn
		}
	}
	now := ts.UnixNano()
	// The network's evaluation is held, so what is checked here still
	// holds when it is acted on.
	// The tables' views of the packet, at each end.
	var srcCT, dstCT conntrack.Packet
	if src != nil {
		setCT(&srcCT, Outbound, p)
	}
	if dst != nil {
		setCT(&dstCT, Inbound, p)
	}
	ok := (src == nil || src.ready(&e.ends[0], &srcCT, now, gen)) && (dst == nil || dst.ready(&e.ends[1], &dstCT, now, gen))
	// A balancer on the path must hold the flow (no stage of its own).
	var nlbCT conntrack.Packet
	var nlb *conntrack.Table
	if b := e.via; ok && b != nil && b.flows != nil {
		nlb = b.flows.table
		setBalancerCT(&nlbCT, src == nil, p)
		ok = nlb.Predict(&nlbCT, &e.nlb, now) == conntrack.WillHit
	}
	if ok {
		if nlb != nil {
			var c conntrack.Conn
			nlb.LookupHint(&nlbCT, now, &e.nlb, &c)
		}
		out.Action, out.Service, out.Src, out.Dst, out.vias, out.useWide, out.n = Allow, NoService, src, dst, [maxHops]*Interface{}, false, 0
		out.balancer = e.via.balancerName()
		out.setPacket(p)
		out.lazy, out.now = true, now
		if src != nil {
			s := out.grow(StageSourceGroups)
			src.repeat(&s.Verdict, Outbound, &srcCT, now, &e.ends[0])
			s.Verdict.balancer = out.balancer
		}
		if srcACL != nil {
			s := out.grow(StageSourceACL)
			s.ACL, s.Subnet, s.ACLResult = srcACL.acl, srcACL.id, e.acls[0].res
			s.ACLResult.Count()
		}
		if dstACL != nil {
			s := out.grow(StageDestACL)
			s.ACL, s.Subnet, s.ACLResult = dstACL.acl, dstACL.id, e.acls[1].res
			s.ACLResult.Count()
		}
		if dst != nil {
			s := out.grow(StageDestGroups)
			dst.repeat(&s.Verdict, Inbound, &dstCT, now, &e.ends[1])
			s.Verdict.balancer = out.balancer
		}
	}
	return ok
}

// ready reports whether the interface's check of the packet, whose view
// in the table is ctp, will end as the memo's lane says, changing nothing.
// Called with net.eval held.
func (i *Interface) ready(m *endMemo, ctp *conntrack.Packet, now int64, gen generations) bool {
	// i.current() == m.c, without reading the generations again.
	if c := m.c; m.lane == laneNone || m.pre != ReasonNone || i.compiled != c || c.regGen != gen.groups || c.netGen != gen.net {
		return false
	}
	switch i.table.Predict(ctp, &m.ct, now) {
	case conntrack.WillHit:
		return m.lane == laneTracked
	case conntrack.WillMiss:
		// Without a connection, the rule decides again; it opens none if
		// the flow is untracked or the packet cannot start one.
		return m.lane == laneRule && (m.untracked || i.table.CanTrack(ctp) == conntrack.NotStartable)
	}
	return false
}

// repeat is evaluateInto for a packet that ready has vouched for: the same
// table lookup, verdict and counters, without the checks whose answers
// the memo holds. It sets every field of v but Packet and Time, which the
// path fills in when asked. Called with net.eval held.
func (i *Interface) repeat(v *Verdict, dir Direction, ctp *conntrack.Packet, now int64, m *endMemo) {
	v.Interface, v.Direction, v.Action, v.NewConn, v.Service = i, dir, Allow, false, NoService
	v.IdledOut, v.Forwarded, v.ThroughGateway = false, false, false // an earlier packet's notes
	if i.table.LookupHint(ctp, now, &m.ct, &v.Conn) {
		v.Reason, v.Rule, v.Tracked, v.Untracked = ReasonTracked, sg.RuleRef(v.Conn.Tag), true, false
	} else {
		v.Reason, v.Rule, v.Conn, v.Tracked, v.Untracked = ReasonRule, m.ref, conntrack.Conn{}, false, m.untracked
		m.c.rules.Count(m.m, false)
	}
	i.stats.Allowed[dir&1]++
	i.stats.ByReason[v.Reason]++
}

// grow adds an allowed stage of kind k whose fields, Kind and Allowed
// aside, the caller sets: the fast lane writes each field of the stage's
// kind once rather than clearing the stage first, and Stages clears the
// other kind's (the path is lazy).
func (p *Path) grow(k StageKind) *Stage {
	s := &p.stages[p.n]
	p.n++
	s.Kind, s.Allowed, s.Hypothetical = k, true, false
	return s
}

// generations are the versions of the group registry and of the network
// that compiled state and routes are checked against.
type generations struct{ groups, net uint64 }

// FlowHash is a hash of the fields that tell one kind of packet from
// another for a [FlowCache]: addresses, protocol, ports, ICMP type, code
// and identifier (a wyhash-style multiply-fold). See
// [FlowCache.JudgeEachHashed].
func (p *Packet) FlowHash() uint64 {
	e := uint64(p.SrcPort) | uint64(p.DstPort)<<16 | uint64(p.ICMPID)<<32 | uint64(p.Proto)<<48 |
		uint64(p.ICMPType)<<56 ^ uint64(p.ICMPCode)<<40
	if p.Src.Is4() && p.Dst.Is4() { // one multiply for the common case
		s, d := p.Src.As4(), p.Dst.As4()
		a := uint64(binary.BigEndian.Uint32(s[:]))<<32 | uint64(binary.BigEndian.Uint32(d[:]))
		return mix64(a^0xa0761d6478bd642f, e^0xe7037ed1a0b428db)
	}
	s, d := p.Src.As16(), p.Dst.As16()
	h := mix64(binary.BigEndian.Uint64(s[:8])^0xa0761d6478bd642f, binary.BigEndian.Uint64(s[8:])^0xe7037ed1a0b428db)
	h = mix64(h^binary.BigEndian.Uint64(d[:8])^0x8ebc6af09c88c6e3, binary.BigEndian.Uint64(d[8:])^0x589965cc75374cc3)
	return mix64(h^e, 0x1d8e4e27c47d124f)
}

// pairSlot picks the route cache slot of two addresses, the same either
// way round.
func pairSlot(a, b netip.Addr) uint64 { return pairHash(a, b) & (routeCacheSize - 1) }

// pairHash hashes two addresses, the same either way round.
func pairHash(a, b netip.Addr) uint64 {
	x, y := a.As16(), b.As16()
	h := binary.BigEndian.Uint64(x[8:]) + binary.BigEndian.Uint64(y[8:]) +
		(binary.BigEndian.Uint64(x[:8])+binary.BigEndian.Uint64(y[:8]))*0x9e3779b97f4a7c15
	return mix64(h, 0xa0761d6478bd642f)
}

func mix64(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
