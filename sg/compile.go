package sg

import (
	"net/netip"
	"slices"

	"github.com/gaissmai/bart"

	"github.com/sgsim/sgsim/internal/interval"
	"github.com/sgsim/sgsim/internal/prefix"
)

// Members resolves a security group ID to the private addresses of the
// network interfaces that have the group attached: each address as a
// one-address prefix, and the prefixes delegated to the interfaces (see
// [HostPrefix]). [Registry.Compile] calls it for every group a rule
// references; it must not call back into the registry.
type Members func(groupID string) []netip.Prefix

// HostPrefix returns the one-address prefix of a: how [Members] gives an
// address.
func HostPrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen())
}

// Ruleset is the compiled, immutable union of the rules of the groups
// attached to one interface (or to several with the same groups). Its
// lookups are safe for concurrent use; its hit counters are not (see
// [Ruleset.Count]).
type Ruleset struct {
	tables [2][2]table // [Direction][family]
	recs   []*ruleRecord
	gen    uint64
}

// Match is the result of a [Ruleset.Lookup]: the deciding rule, and whether
// a rule open to the whole address family (0.0.0.0/0 or ::/0) also covers
// the packet. The zero value matches nothing.
type Match struct {
	idx   int32 // index+1 into Ruleset.recs; 0 = no match
	World bool
}

// OK reports whether a rule matched.
func (m Match) OK() bool { return m.idx != 0 }

type table struct {
	proto    [256]uint16 // matcher index per protocol; 0 = the all-protocols matcher
	matchers []matcher
	openAll  [2]bool // [tcp, udp]: a world rule allows every port
	// hosts holds the rules' one-address prefixes (a referenced group's
	// members, /32 and /128 blocks) by address, in rule order, apart from
	// the port intervals: in them each would be copied into every
	// interval its rule covers, and a group of many members referenced
	// by rules of many ports made rulesets of hundreds of kilobytes.
	hosts map[prefix.Addr][]hostRule
}

// hostRule is a rule that names one address: its protocol (-1 for all)
// and the key range it covers.
type hostRule struct {
	idx    int32 // index+1 into recs
	proto  int16
	lo, hi uint16
}

// matcher cuts one protocol's key space (ports, or ICMP type<<8|code) into
// intervals; starts[i] is the first key of interval i.
type matcher struct {
	starts []uint16
	sets   []prefixSet
}

// smallSetMax is the size up to which a scan beats a bart lookup.
const smallSetMax = 8

type prefixSet struct {
	small []prefixRule // most specific prefix first, then rule order
	big   *bart.Table[int32]
	world bool
}

type prefixRule struct {
	pfx     netip.Prefix
	matcher prefix.Masked
	idx     int32 // index+1 into recs
}

// Key returns the value a packet is matched on within its protocol: the
// destination port for TCP and UDP, type<<8|code for ICMP and ICMPv6, and 0
// for every other protocol.
func Key(proto uint8, dstPort uint16, icmpType, icmpCode uint8) uint16 {
	switch Protocol(proto) {
	case TCP, UDP:
		return dstPort
	case ICMP, ICMPv6:
		return uint16(icmpType)<<8 | uint16(icmpCode)
	}
	return 0
}

// Lookup finds the rule that allows a packet in direction dir: the protocol,
// the key from [Key], and the remote address (the source of an inbound
// packet, the destination of an outbound one). It does not allocate.
func (rs *Ruleset) Lookup(dir Direction, proto uint8, key uint16, remote netip.Addr) Match {
	f := fam4
	if remote.Is6() {
		f = fam6
	}
	t := &rs.tables[dir&1][f]
	var s *prefixSet
	if len(t.matchers) > 0 {
		m := &t.matchers[t.proto[proto]]
		s = &m.sets[interval.Find(m.starts, key)]
	}
	if t.hosts != nil {
		// A one-address prefix is the most specific there is: it wins,
		// the first rule that names the address and covers the packet.
		for _, h := range t.hosts[prefix.AddrOf(remote)] {
			if (h.proto == int16(AllProtocols) || h.proto == int16(proto)) && h.lo <= key && key <= h.hi {
				return Match{idx: h.idx, World: s != nil && s.world}
			}
		}
	}
	if s == nil {
		return Match{}
	}
	if s.big != nil {
		if idx, ok := s.big.Lookup(remote); ok {
			return Match{idx: idx, World: s.world}
		}
		return Match{}
	}
	r := prefix.AddrOf(remote)
	for i := range s.small {
		if s.small[i].matcher.Contains(r) {
			return Match{idx: s.small[i].idx, World: s.world}
		}
	}
	return Match{}
}

// OpenToWorld reports whether direction dir has, for the address family of
// remote, a rule open to the world (0.0.0.0/0 or ::/0) for every port of
// proto (TCP or UDP): the "other direction" condition of untracked flows.
func (rs *Ruleset) OpenToWorld(dir Direction, proto uint8, is6 bool) bool {
	f := fam4
	if is6 {
		f = fam6
	}
	switch Protocol(proto) {
	case TCP:
		return rs.tables[dir&1][f].openAll[0]
	case UDP:
		return rs.tables[dir&1][f].openAll[1]
	}
	return false
}

// Ref returns the registry reference of the matched rule.
func (rs *Ruleset) Ref(m Match) RuleRef {
	if m.idx == 0 {
		return 0
	}
	return rs.recs[m.idx-1].ref
}

// Count credits a packet to the matched rule, and a new tracked connection
// when conn is true. It is not safe for concurrent use: it is on every
// packet's path, where an atomic add would cost a tenth of a whole
// replay's time on one core. Callers serialise it under one lock and name that lock with
// [Registry.SetCountLock], as eni.Network does.
func (rs *Ruleset) Count(m Match, conn bool) {
	if m.idx == 0 {
		return
	}
	rec := rs.recs[m.idx-1]
	rec.packets++
	if conn {
		rec.conns++
	}
}

// Generation returns the registry generation the ruleset was compiled at.
func (rs *Ruleset) Generation() uint64 { return rs.gen }

// Len returns the number of rules compiled in.
func (rs *Ruleset) Len() int { return len(rs.recs) }

type entry struct {
	lo, hi uint16
	pfx    netip.Prefix
	idx    int32
	world  bool
}

// Compile builds the ruleset for an interface with the given groups
// attached, in attachment order. A group that no longer exists contributes
// no rules, and a stale group reference (deleted peering, or a group outside
// the model) matches nothing.
func (r *Registry) Compile(groupIDs []string, members Members) *Ruleset {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rs := &Ruleset{gen: r.gen.Load()}
	var build [2][2]map[int16][]entry
	for d := range build {
		for f := range build[d] {
			build[d][f] = map[int16][]entry{}
		}
	}
	seen := map[string]bool{}
	var prefixes []netip.Prefix
	for _, id := range groupIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		g := r.groups[id]
		if g == nil {
			continue
		}
		for d, list := range g.rules {
			for _, rec := range list {
				rs.recs = append(rs.recs, rec)
				idx := int32(len(rs.recs))
				rule := rec.rule
				prefixes = r.expand(rule.Peer, members, prefixes[:0])
				lo, hi := rule.keyRange()
				world := rule.Peer.IsWorld()
				for _, p := range prefixes {
					f := fam4
					if p.Addr().Is6() {
						f = fam6
					}
					proto := int16(rule.Protocol)
					if p.IsSingleIP() {
						t := &rs.tables[d][f]
						if t.hosts == nil {
							t.hosts = map[prefix.Addr][]hostRule{}
						}
						a := prefix.AddrOf(p.Addr())
						t.hosts[a] = append(t.hosts[a], hostRule{idx: idx, proto: proto, lo: lo, hi: hi})
						continue // never a world rule
					}
					build[d][f][proto] = append(build[d][f][proto], entry{lo: lo, hi: hi, pfx: p, idx: idx, world: world})
					if world && rule.AllPorts() {
						switch rule.Protocol {
						case AllProtocols:
							rs.tables[d][f].openAll = [2]bool{true, true}
						case TCP:
							rs.tables[d][f].openAll[0] = true
						case UDP:
							rs.tables[d][f].openAll[1] = true
						}
					}
				}
			}
		}
	}
	for d := range build {
		for f := range build[d] {
			rs.tables[d][f].build(build[d][f])
		}
	}
	return rs
}

// expand returns the prefixes a peer stands for now.
func (r *Registry) expand(p Peer, members Members, out []netip.Prefix) []netip.Prefix {
	switch p.Kind {
	case PeerCIDR:
		return append(out, p.CIDR)
	case PeerPrefixList:
		if pl := r.lists[p.PrefixListID]; pl != nil {
			for _, e := range pl.Entries {
				out = append(out, e.CIDR)
			}
		}
	case PeerGroup:
		if p.stale() || members == nil {
			return out
		}
		for _, m := range members(p.GroupID) {
			if m.IsValid() && !m.Addr().Is4In6() {
				out = append(out, m.Masked())
			}
		}
	}
	return out
}

func (t *table) build(byProto map[int16][]entry) {
	all := byProto[int16(AllProtocols)]
	if len(byProto) == 0 {
		return
	}
	t.matchers = append(t.matchers, buildMatcher(all))
	protos := make([]int16, 0, len(byProto))
	for p := range byProto {
		if p >= 0 {
			protos = append(protos, p)
		}
	}
	slices.Sort(protos)
	for _, p := range protos {
		es := append(append([]entry(nil), byProto[p]...), all...)
		t.proto[p] = uint16(len(t.matchers))
		t.matchers = append(t.matchers, buildMatcher(es))
	}
}

func buildMatcher(es []entry) matcher {
	starts, members := interval.Partition(len(es), func(i int) (uint16, uint16) { return es[i].lo, es[i].hi })
	m := matcher{starts: starts}
	for _, cur := range members {
		m.sets = append(m.sets, buildSet(es, cur))
	}
	return m
}

func buildSet(es []entry, members []int) prefixSet {
	var s prefixSet
	rules := make([]prefixRule, 0, len(members))
	for _, i := range members {
		rules = append(rules, prefixRule{pfx: es[i].pfx, matcher: prefix.Of(es[i].pfx), idx: es[i].idx})
		s.world = s.world || es[i].world
	}
	slices.SortStableFunc(rules, func(a, b prefixRule) int {
		if a.pfx.Bits() != b.pfx.Bits() {
			return b.pfx.Bits() - a.pfx.Bits()
		}
		return int(a.idx) - int(b.idx)
	})
	if len(rules) <= smallSetMax {
		s.small = rules
		return s
	}
	s.big = new(bart.Table[int32])
	for _, pr := range rules {
		if _, ok := s.big.Get(pr.pfx); !ok {
			s.big.Insert(pr.pfx, pr.idx)
		}
	}
	return s
}
