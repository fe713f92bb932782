package sg

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Direction says which list a rule belongs to. The zero value is [Ingress].
type Direction uint8

const (
	Ingress Direction = iota // inbound rules: peer is the packet's source
	Egress                   // outbound rules: peer is the packet's destination
)

func (d Direction) String() string {
	if d == Egress {
		return "egress"
	}
	return "ingress"
}

// PeerKind says what a rule's peer is. The zero value, PeerNone, is an
// invalid peer.
type PeerKind uint8

const (
	PeerNone       PeerKind = iota
	PeerCIDR                // an IPv4 or IPv6 CIDR block
	PeerGroup               // a referenced security group
	PeerPrefixList          // a managed prefix list
)

// Peer is the source (ingress) or destination (egress) of a rule: exactly
// one of a CIDR, a group reference or a prefix list, as Kind says.
type Peer struct {
	Kind PeerKind
	CIDR netip.Prefix // PeerCIDR; canonical (host bits masked) once stored

	// PeerGroup fields, as in EC2's UserIdGroupPair.
	GroupID             string
	UserID              string // owner account of the referenced group
	VpcID               string // referenced group's VPC, for peered VPCs
	PeeringConnectionID string // set when the group is in a peered VPC
	PeeringStatus       string // "active", or "deleted" for a stale reference

	PrefixListID string // PeerPrefixList
}

// CIDR returns a CIDR peer. It does not validate; see [ParsePeer].
func CIDR(p netip.Prefix) Peer { return Peer{Kind: PeerCIDR, CIDR: p} }

// Foreign reports whether a group peer names a group of another account
// or VPC than a group owned by owner in vpc (either may be unknown: ""):
// one in a peered VPC, another account's, or one of a VPC attached to the
// same transit gateway. Such a group may be outside a model, and a rule
// naming it then matches no address.
func (p Peer) Foreign(owner, vpc string) bool {
	return p.Kind == PeerGroup && (p.PeeringConnectionID != "" || (p.UserID != "" && owner != "" && p.UserID != owner) ||
		(p.VpcID != "" && vpc != "" && p.VpcID != vpc))
}

// GroupPeer returns a peer referencing the security group id in the same VPC.
func GroupPeer(id string) Peer { return Peer{Kind: PeerGroup, GroupID: id} }

// PrefixListPeer returns a peer referencing the managed prefix list id.
func PrefixListPeer(id string) Peer { return Peer{Kind: PeerPrefixList, PrefixListID: id} }

// ParsePeer parses a peer as the console writes it: "sg-..." (a group),
// "123456789012/sg-..." (a group in another account), "pl-..." (a prefix
// list) or a CIDR such as "10.0.0.0/16" or "::/0". Host bits are kept; the
// registry masks them when the rule is stored, as AWS does.
func ParsePeer(s string) (Peer, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "sg-"):
		return GroupPeer(s), nil
	case strings.HasPrefix(s, "pl-"):
		return PrefixListPeer(s), nil
	case strings.Contains(s, "/sg-"):
		user, id, _ := strings.Cut(s, "/")
		return Peer{Kind: PeerGroup, GroupID: id, UserID: user}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return Peer{}, &Error{Code: ErrInvalidCIDR, Value: s, Msg: "not a CIDR block, group ID or prefix list ID"}
	}
	return CIDR(p), nil
}

// MustParsePeer is like [ParsePeer] but panics on error. It is meant for
// tests and examples with hard-coded peers.
func MustParsePeer(s string) Peer {
	p, err := ParsePeer(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the peer as [ParsePeer] reads it.
func (p Peer) String() string {
	switch p.Kind {
	case PeerCIDR:
		return p.CIDR.String()
	case PeerGroup:
		if p.UserID != "" {
			return p.UserID + "/" + p.GroupID
		}
		return p.GroupID
	case PeerPrefixList:
		return p.PrefixListID
	}
	return "invalid peer"
}

// IsWorld reports whether the peer is the CIDR 0.0.0.0/0 or ::/0.
func (p Peer) IsWorld() bool { return p.Kind == PeerCIDR && p.CIDR.IsValid() && p.CIDR.Bits() == 0 }

// stale reports whether a group reference can no longer match: its peering
// connection was deleted.
func (p Peer) stale() bool {
	return p.Kind == PeerGroup && p.PeeringStatus != "" && p.PeeringStatus != "active"
}

// Rule is one security group rule: a protocol, a port range (or ICMP type and
// code) and one peer. The zero value is not a valid rule.
//
// For TCP and UDP, FromPort and ToPort are the first and last destination
// port. For ICMP and ICMPv6 they are the type and the code; -1 means all
// types, or all codes of the type. For every other protocol, and for
// [AllProtocols], ports are ignored and stored as -1.
type Rule struct {
	ID               string // "sgr-..."; assigned when the rule is stored, if empty
	Protocol         Protocol
	FromPort, ToPort int32
	Peer             Peer
	Description      string
}

// AllPorts reports whether the rule matches every port (or every ICMP type
// and code) of its protocol.
func (r Rule) AllPorts() bool {
	switch {
	case r.Protocol.HasPorts():
		return r.FromPort == 0 && r.ToPort == 65535
	case r.Protocol.IsICMP():
		return r.FromPort == -1
	}
	return true
}

// keyRange returns the rule's interval in the compiled key space: ports for
// TCP/UDP, type<<8|code for ICMP, the whole space otherwise.
func (r Rule) keyRange() (lo, hi uint16) {
	switch {
	case r.Protocol.HasPorts():
		return uint16(r.FromPort), uint16(r.ToPort)
	case r.Protocol.IsICMP():
		if r.FromPort < 0 {
			return 0, 0xffff
		}
		if r.ToPort < 0 {
			return uint16(r.FromPort) << 8, uint16(r.FromPort)<<8 | 0xff
		}
		k := uint16(r.FromPort)<<8 | uint16(r.ToPort)
		return k, k
	}
	return 0, 0xffff
}

// String describes the rule as an inbound rule, e.g. "tcp 22 from 10.0.0.0/8".
func (r Rule) String() string { return r.describe(Ingress) }

// Describe describes the rule for direction d: "... from peer" for
// ingress, "... to peer" for egress.
func (r Rule) Describe(d Direction) string { return r.describe(d) }

func (r Rule) describe(d Direction) string {
	var b strings.Builder
	switch {
	case r.Protocol == AllProtocols:
		b.WriteString("all traffic")
	default:
		b.WriteString(r.Protocol.String())
	}
	switch {
	case r.Protocol.HasPorts():
		b.WriteByte(' ')
		b.WriteString(portText(r.FromPort, r.ToPort))
	case r.Protocol.IsICMP():
		if r.FromPort < 0 {
			b.WriteString(" all types")
		} else {
			fmt.Fprintf(&b, " type %d", r.FromPort)
			if r.ToPort >= 0 {
				fmt.Fprintf(&b, " code %d", r.ToPort)
			}
		}
	}
	if d == Egress {
		b.WriteString(" to ")
	} else {
		b.WriteString(" from ")
	}
	b.WriteString(r.Peer.String())
	return b.String()
}

func portText(from, to int32) string {
	if from == to {
		return strconv.Itoa(int(from))
	}
	if from == 0 && to == 65535 {
		return "all ports"
	}
	return strconv.Itoa(int(from)) + "-" + strconv.Itoa(int(to))
}

// normalize validates r as AuthorizeSecurityGroupIngress/Egress would and
// returns it in stored form: CIDR host bits masked, ports of port-less
// protocols set to -1, descriptions trimmed.
func (r Rule) normalize(group string) (Rule, error) {
	if !r.Protocol.Valid() {
		return r, &Error{Code: ErrInvalidProtocol, Group: group, Value: strconv.Itoa(int(r.Protocol)),
			Msg: "protocol must be -1 or a number 0-255"}
	}
	ports := fmt.Sprintf("%d-%d", r.FromPort, r.ToPort)
	switch {
	case r.Protocol.HasPorts():
		if r.FromPort < 0 || r.ToPort > 65535 || r.FromPort > r.ToPort {
			return r, errorf(ErrInvalidPortRange, group, ports,
				"%s rules need 0 <= FromPort <= ToPort <= 65535", r.Protocol)
		}
	case r.Protocol.IsICMP():
		if r.FromPort < -1 || r.FromPort > 255 || r.ToPort < -1 || r.ToPort > 255 {
			return r, errorf(ErrInvalidPortRange, group, ports,
				"%s type and code must be -1 or 0-255", r.Protocol)
		}
		if r.FromPort == -1 && r.ToPort != -1 {
			return r, errorf(ErrInvalidPortRange, group, ports,
				"%s with all types (-1) needs all codes (-1)", r.Protocol)
		}
	default:
		r.FromPort, r.ToPort = -1, -1
	}
	r.Description = strings.TrimRight(r.Description, " ")
	if len(r.Description) > 255 {
		return r, &Error{Code: ErrInvalidDescription, Group: group, Value: r.Description[:32] + "...",
			Msg: "rule descriptions are at most 255 characters"}
	}
	switch r.Peer.Kind {
	case PeerCIDR:
		p := r.Peer.CIDR
		if !p.IsValid() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			return r, &Error{Code: ErrInvalidCIDR, Group: group, Value: p.String(), Msg: "malformed CIDR block"}
		}
		r.Peer.CIDR = p.Masked()
	case PeerGroup:
		if !strings.HasPrefix(r.Peer.GroupID, "sg-") {
			return r, &Error{Code: ErrInvalidGroup, Group: group, Value: r.Peer.GroupID,
				Msg: "a referenced group ID starts with sg-"}
		}
	case PeerPrefixList:
		if !strings.HasPrefix(r.Peer.PrefixListID, "pl-") {
			return r, &Error{Code: ErrInvalidPrefixList, Group: group, Value: r.Peer.PrefixListID,
				Msg: "a prefix list ID starts with pl-"}
		}
	default:
		return r, &Error{Code: ErrInvalidCIDR, Group: group, Msg: "a rule needs a CIDR, group or prefix list peer"}
	}
	return r, nil
}

// sameRule reports whether two stored rules are the same permission, as
// Revoke and the duplicate check compare them: everything but the
// description and group-reference metadata.
func sameRule(a, b Rule) bool {
	if a.Protocol != b.Protocol || a.FromPort != b.FromPort || a.ToPort != b.ToPort || a.Peer.Kind != b.Peer.Kind {
		return false
	}
	switch a.Peer.Kind {
	case PeerCIDR:
		return a.Peer.CIDR == b.Peer.CIDR
	case PeerGroup:
		return a.Peer.GroupID == b.Peer.GroupID
	case PeerPrefixList:
		return a.Peer.PrefixListID == b.Peer.PrefixListID
	}
	return false
}
