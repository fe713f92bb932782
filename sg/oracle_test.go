package sg_test

import (
	"net/netip"

	"github.com/sgsim/sgsim/sg"
)

// oracleMatch is one rule that matches a packet, found by scanning.
type oracleMatch struct {
	ref   sg.RuleRef
	bits  int
	world bool
}

// oracle judges a packet by scanning every rule of every group: the
// readable reference the compiled Ruleset is checked against.
func oracle(reg *sg.Registry, groups []string, members sg.Members, dir sg.Direction,
	proto uint8, dstPort uint16, icmpType, icmpCode uint8, remote netip.Addr) []oracleMatch {
	var out []oracleMatch
	seen := map[string]bool{}
	for _, id := range groups {
		if seen[id] {
			continue
		}
		seen[id] = true
		g, ok := reg.Group(id)
		if !ok {
			continue
		}
		rules := g.Ingress
		if dir == sg.Egress {
			rules = g.Egress
		}
		for _, ri := range rules {
			r := ri.Rule
			if r.Protocol != sg.AllProtocols && int(r.Protocol) != int(proto) {
				continue
			}
			switch {
			case r.Protocol == sg.AllProtocols:
			case r.Protocol.HasPorts():
				if int32(dstPort) < r.FromPort || int32(dstPort) > r.ToPort {
					continue
				}
			case r.Protocol.IsICMP():
				if r.FromPort != -1 && int32(icmpType) != r.FromPort {
					continue
				}
				if r.ToPort != -1 && int32(icmpCode) != r.ToPort {
					continue
				}
			}
			best := -1
			for _, p := range peerPrefixes(reg, r.Peer, members) {
				if p.Contains(remote) && p.Bits() > best {
					best = p.Bits()
				}
			}
			if best >= 0 {
				out = append(out, oracleMatch{ref: ri.Ref, bits: best, world: r.Peer.IsWorld()})
			}
		}
	}
	return out
}

func peerPrefixes(reg *sg.Registry, p sg.Peer, members sg.Members) []netip.Prefix {
	switch p.Kind {
	case sg.PeerCIDR:
		return []netip.Prefix{p.CIDR}
	case sg.PeerPrefixList:
		pl, _ := reg.PrefixList(p.PrefixListID)
		var out []netip.Prefix
		for _, e := range pl.Entries {
			out = append(out, e.CIDR)
		}
		return out
	case sg.PeerGroup:
		if p.PeeringStatus != "" && p.PeeringStatus != "active" {
			return nil
		}
		var out []netip.Prefix
		if members != nil {
			out = append(out, members(p.GroupID)...)
		}
		return out
	}
	return nil
}

// oracleExpect returns what the compiled ruleset must answer: the first of
// the most specific matches, and whether any world rule matched.
func oracleExpect(ms []oracleMatch) (ref sg.RuleRef, world, ok bool) {
	best := -1
	for _, m := range ms {
		if m.bits > best {
			best, ref = m.bits, m.ref
		}
		world = world || m.world
	}
	return ref, world, len(ms) > 0
}
