package nacl

import (
	"net/netip"
	"slices"

	"github.com/sgsim/sgsim/internal/interval"
	"github.com/sgsim/sgsim/internal/prefix"
)

// Result is the outcome of judging a packet: the action and the number of
// the entry that decided (DenyAllIPv4 or DenyAllIPv6 for the "*" entry).
type Result struct {
	Action     Action
	RuleNumber int
	hits       *uint64 // the deciding entry's packet count
}

// Allowed reports whether the ACL lets the packet through.
func (r Result) Allowed() bool { return r.Action == Allow }

// Count credits one packet to the entry that decided r, for
// [ACL.Usage]. Evaluate counts nothing itself: a caller counts the
// packets the answer applied to, not those judged only to explain a
// refusal elsewhere, and may remember a Result for the packets of a flow
// and count each. A zero Result counts nothing.
//
// Unlike the ACL's methods, Count is not safe for concurrent use: it is
// on every packet's path, where an atomic add would cost more than the
// rest of a remembered answer. Callers judging on several goroutines
// count under a lock of their own, as eni.Network does, and read
// [ACL.Usage] under it too.
func (r Result) Count() {
	if r.hits != nil {
		*r.hits++
	}
}

type compiled struct {
	tables  [2][2]table // [egress][family]
	version uint64
}

// Version returns a number that changes whenever the ACL's entries change,
// so that a caller remembering a Result knows when it is stale.
func (a *ACL) Version() uint64 { return a.snap.Load().version }

type table struct {
	proto    [256]uint8 // matcher index; 0 = protocols without entries of their own
	matchers []matcher
	star     *uint64 // the "*" entry's packet count
}

type matcher struct {
	starts []uint16
	sets   [][]centry // per interval, in rule-number order
}

// centry is an entry as evaluation sees it.
type centry struct {
	pfx    prefix.Masked
	number int32
	action Action
	hits   *uint64
}

type span struct {
	lo, hi uint16
	e      centry
}

// Evaluate judges a packet: egress for traffic leaving the subnet, the
// protocol, the destination port (TCP, UDP) or ICMP type and code, and the
// remote address (the source of inbound traffic, the destination of
// outbound). It allocates nothing.
func (a *ACL) Evaluate(egress bool, proto uint8, dstPort uint16, icmpType, icmpCode uint8, remote netip.Addr) Result {
	c := a.snap.Load()
	f := 0
	star := DenyAllIPv4
	if remote.Is6() {
		f, star = 1, DenyAllIPv6
	}
	t := &c.tables[dirIndex(egress)][f]
	if len(t.matchers) == 0 {
		return Result{Action: Deny, RuleNumber: star, hits: t.star}
	}
	key := uint16(0)
	switch proto {
	case 6, 17:
		key = dstPort
	case 1, 58:
		key = uint16(icmpType)<<8 | uint16(icmpCode)
	}
	m := &t.matchers[t.proto[proto]]
	r := prefix.AddrOf(remote)
	set := m.sets[interval.Find(m.starts, key)]
	for k := range set {
		e := &set[k]
		if e.pfx.Contains(r) {
			return Result{Action: e.action, RuleNumber: int(e.number), hits: e.hits}
		}
	}
	return Result{Action: Deny, RuleNumber: star, hits: t.star}
}

// Entry returns the entry with this direction and rule number, the "*"
// entries included.
func (a *ACL) Entry(egress bool, ruleNumber int) (Entry, bool) {
	// Without copying and sorting every entry as Entries does: explaining
	// a verdict looks one up per packet.
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.entries {
		if e.Egress == egress && e.RuleNumber == ruleNumber {
			return e, true
		}
	}
	switch {
	case ruleNumber == DenyAllIPv4:
		return Entry{RuleNumber: DenyAllIPv4, Egress: egress, Protocol: -1, Action: Deny, CIDR: netip.PrefixFrom(netip.IPv4Unspecified(), 0)}, true
	case ruleNumber == DenyAllIPv6 && a.ipv6:
		return Entry{RuleNumber: DenyAllIPv6, Egress: egress, Protocol: -1, Action: Deny, CIDR: netip.PrefixFrom(netip.IPv6Unspecified(), 0)}, true
	}
	return Entry{}, false
}

// rebuild compiles the entries into a new snapshot, each entry with its
// packet count (a new one for an entry new or replaced). Called with a.mu
// held.
func (a *ACL) rebuild() {
	if a.hits == nil {
		a.hits = map[entryKey]*uint64{}
	}
	var byProto [2][2]map[int16][]span
	for _, e := range a.entries {
		d, f := dirIndex(e.Egress), 0
		if e.CIDR.Addr().Is6() {
			f = 1
		}
		if byProto[d][f] == nil {
			byProto[d][f] = map[int16][]span{}
		}
		k := entryKey{e.Egress, e.RuleNumber}
		if a.hits[k] == nil {
			a.hits[k] = new(uint64)
		}
		ce := centry{pfx: prefix.Of(e.CIDR), number: int32(e.RuleNumber), action: e.Action, hits: a.hits[k]}
		add := func(p int16, lo, hi uint16) { byProto[d][f][p] = append(byProto[d][f][p], span{lo, hi, ce}) }
		switch {
		case e.Protocol == 6 || e.Protocol == 17:
			add(e.Protocol, uint16(e.FromPort), uint16(e.ToPort))
		case e.icmpFields():
			lo, hi := uint16(0), uint16(0xffff)
			if e.ICMPType >= 0 {
				lo, hi = uint16(e.ICMPType)<<8, uint16(e.ICMPType)<<8|0xff
				if e.ICMPCode >= 0 {
					lo = uint16(e.ICMPType)<<8 | uint16(e.ICMPCode)
					hi = lo
				}
			}
			add(e.Protocol, lo, hi)
		case e.Protocol == 58: // with an IPv4 CIDR: all ICMP
			add(1, 0, 0xffff)
			add(58, 0, 0xffff)
		default:
			add(e.Protocol, 0, 0xffff)
		}
	}
	c := &compiled{}
	if old := a.snap.Load(); old != nil {
		c.version = old.version + 1
	}
	for d := range byProto {
		for f := range byProto[d] {
			c.tables[d][f].build(byProto[d][f])
			c.tables[d][f].star = &a.star[d][f]
		}
	}
	a.snap.Store(c)
}

func (t *table) build(byProto map[int16][]span) {
	if len(byProto) == 0 {
		return
	}
	all := byProto[-1]
	t.matchers = append(t.matchers, buildMatcher(all))
	protos := make([]int16, 0, len(byProto))
	for p := range byProto {
		if p >= 0 {
			protos = append(protos, p)
		}
	}
	slices.Sort(protos)
	for _, p := range protos {
		t.proto[p] = uint8(len(t.matchers))
		t.matchers = append(t.matchers, buildMatcher(append(slices.Clone(byProto[p]), all...)))
	}
}

func buildMatcher(spans []span) matcher {
	starts, members := interval.Partition(len(spans), func(i int) (uint16, uint16) { return spans[i].lo, spans[i].hi })
	m := matcher{starts: starts}
	for _, cur := range members {
		set := make([]centry, len(cur))
		for k, i := range cur {
			set[k] = spans[i].e
		}
		slices.SortStableFunc(set, func(x, y centry) int { return int(x.number - y.number) })
		m.sets = append(m.sets, set)
	}
	return m
}
