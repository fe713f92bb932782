package eni

import (
	"fmt"
	"strings"
	"time"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/sg"
)

// Action is ALLOW or DENY. The zero value is Deny: nothing passes unless a
// stage lets it.
type Action uint8

const (
	Deny Action = iota
	Allow
)

func (a Action) String() string {
	if a == Allow {
		return "ALLOW"
	}
	return "DENY"
}

// Reason says which stage decided a verdict. Reasons that refuse reuse AWS
// Reachability Analyzer's explanation codes where one fits.
type Reason uint8

const (
	ReasonNone              Reason = iota
	ReasonRule                     // a security group rule allowed it
	ReasonTracked                  // it belongs to a tracked connection
	ReasonService                  // traffic security groups never filter
	ReasonFragment                 // a later fragment of an allowed datagram
	ReasonNoGroups                 // a requester-managed interface with no security groups
	ReasonNoRule                   // ENI_SG_RULES_MISMATCH: no rule allows it
	ReasonConnTrackFull            // the tracking table is full (conntrack_allowance_exceeded)
	ReasonSourceDestCheck          // neither source nor destination is the interface's address
	ReasonPort25                   // EC2 blocks outbound TCP 25 by default
	ReasonFragmentUnmatched        // a later fragment whose first fragment was not allowed
	ReasonNotIP                    // the frame carries no IP packet
	ReasonMalformed                // the packet's headers do not decode
	ReasonLinkLocalLimit           // over the link-local services' 1024 packets a second (linklocal_allowance_exceeded)
	ReasonTranslated               // a NAT gateway translates its TCP connection
	ReasonNoTranslation            // a NAT gateway translates no TCP connection of its: none opened, or idle past 350 s
	ReasonNATReset                 // a reset a NAT gateway sends a host inside for a connection it dropped
	NumReasons
)

var reasonCodes = [NumReasons]string{"", "SG_RULE_MATCH", "TRACKED_CONNECTION", "NEVER_FILTERED_SERVICE",
	"FRAGMENT_OF_ALLOWED_PACKET", "NO_SECURITY_GROUPS", "ENI_SG_RULES_MISMATCH", "CONNTRACK_ALLOWANCE_EXCEEDED",
	"ENI_SOURCE_DEST_CHECK", "EC2_PORT_25_RESTRICTION", "FRAGMENT_WITHOUT_FIRST", "NOT_IP", "MALFORMED_PACKET",
	"LINKLOCAL_ALLOWANCE_EXCEEDED", "NAT_GATEWAY_TRANSLATION", "NAT_GATEWAY_NO_CONNECTION", "NAT_GATEWAY_RESET"}

// String returns the reason's code, e.g. "ENI_SG_RULES_MISMATCH".
func (r Reason) String() string {
	if r < NumReasons {
		return reasonCodes[r]
	}
	return "INVALID"
}

// Verdict is what an interface decided about one packet, with everything
// needed to explain it. Building one costs nothing beyond copying; the text
// is made only when [Verdict.String] or [Verdict.Explain] is called.
type Verdict struct {
	Interface *Interface
	Direction Direction
	Action    Action
	Reason    Reason
	// Rule is the rule that allowed the packet (ReasonRule), or the rule
	// that opened its tracked connection (ReasonTracked).
	Rule sg.RuleRef
	// Conn is the tracked connection the packet belongs to or opened; or,
	// with IdledOut, the one it belonged to until it went idle past its
	// timeout, for a packet no rule allows.
	Conn     conntrack.Conn
	IdledOut bool
	// Forwarded marks a packet that came to the interface through an
	// appliance (see [Path.Via]): rules referencing groups do not match it.
	Forwarded bool
	Tracked   bool // the packet belongs to, or opened, a tracked connection
	NewConn   bool // the packet opened a tracked connection
	Untracked bool // allowed by rules open to the world both ways: AWS tracks nothing
	// ThroughGateway marks a connection opened although the rules are
	// open to the world both ways: its route goes through a gateway whose
	// flows AWS always tracks (an egress-only internet gateway, a NAT
	// gateway, a transit gateway, a Gateway Load Balancer, firewall or
	// DynamoDB gateway endpoint).
	ThroughGateway bool
	Service        Service
	// balancer names the Network Load Balancer the packet goes by (see
	// Path.Balancer), whose flows AWS always tracks; set by the path.
	balancer string
	Packet   Packet
	Time     int64 // the packet's time, Unix nanoseconds
}

// Allowed reports whether the packet passes.
func (v Verdict) Allowed() bool { return v.Action == Allow }

// String returns the verdict and its explanation on one line.
func (v Verdict) String() string {
	id := "?"
	if v.Interface != nil {
		id = v.Interface.ID()
	}
	return fmt.Sprintf("%s %s %s %s: %s", v.Action, v.Direction, id, v.Packet, v.Explain())
}

// Explain says why, in a sentence: which group and rule, which tracked
// connection or service let the packet through, or which stage refused it.
func (v Verdict) Explain() string {
	switch v.Reason {
	case ReasonRule:
		s := "allowed by " + v.ruleText()
		switch {
		case v.Untracked:
			s += "; untracked flow (rules open to the world both ways), so replies are judged by rules"
		case v.NewConn && v.ThroughGateway:
			s += "; new tracked connection: the rules are open to the world both ways, but AWS tracks every flow through " + v.gatewayText()
		case v.NewConn:
			s += "; new tracked connection"
		case v.Packet.Proto == 6:
			s += "; not a SYN, so no connection is tracked"
		}
		return s
	case ReasonTracked:
		return fmt.Sprintf("tracked connection (%s, opened %s %s ago by %s)", v.Conn.State, v.Conn.Origin,
			time.Duration(v.Time-v.Conn.Created).Round(time.Millisecond), v.ruleText())
	case ReasonService:
		return v.Service.String() + ": security groups never filter this traffic"
	case ReasonFragment:
		return "a later fragment of a datagram whose first fragment was allowed"
	case ReasonNoGroups:
		return "the interface has no security groups (requester-managed), so nothing filters it"
	case ReasonNoRule:
		remote, word := v.Packet.Src, "from"
		if v.Direction == Outbound {
			remote, word = v.Packet.Dst, "to"
		}
		groups := "its security groups"
		if v.Interface != nil {
			groups = strings.Join(v.Interface.Groups(), ", ")
		}
		s := fmt.Sprintf("%s: no %s rule of %s allows %s %s %s", v.Reason, dirRules(v.Direction),
			groups, v.trafficText(), word, remote)
		if v.Forwarded {
			s += "; it came through an appliance, and rules referencing groups do not match such traffic"
		}
		if v.IdledOut {
			c := &v.Conn
			opener := "a rule"
			if v.Interface != nil && c.Tag != 0 {
				opener = v.Interface.net.ruleText(sg.RuleRef(c.Tag))
			}
			s += fmt.Sprintf("; its tracked connection (%s, opened %s by %s) had been idle %d s, past its %d s timeout",
				c.State, c.Origin, opener, (v.Time-c.LastSeen)/int64(time.Second), int64(c.Timeout/time.Second))
		}
		return s
	case ReasonConnTrackFull:
		if gw := v.gateway(); gw.double {
			return fmt.Sprintf("%s: the rules allow it (%s) but the connection-tracking table is full: "+
				"a connection through DynamoDB gateway endpoint %s takes two entries", v.Reason, v.ruleText(), gw.id)
		}
		return fmt.Sprintf("%s: the rules allow it (%s) but the connection-tracking table is full", v.Reason, v.ruleText())
	case ReasonSourceDestCheck:
		end := "destination"
		if v.Direction == Outbound {
			end = "source"
		}
		return fmt.Sprintf("%s: the interface is not the packet's %s and its source/destination check is on", v.Reason, end)
	case ReasonPort25:
		return fmt.Sprintf("%s: EC2 blocks outbound TCP port 25 to addresses outside the VPC by default", v.Reason)
	case ReasonFragmentUnmatched:
		return fmt.Sprintf("%s: a later fragment (no ports) with no allowed first fragment seen", v.Reason)
	case ReasonNotIP:
		return fmt.Sprintf("%s: the frame carries no IPv4 or IPv6 packet", v.Reason)
	case ReasonMalformed:
		return fmt.Sprintf("%s: the packet's headers do not decode", v.Reason)
	case ReasonTranslated:
		if v.NewConn {
			return fmt.Sprintf("%s translates a new TCP connection from a host inside", v.natText())
		}
		return fmt.Sprintf("%s translates this TCP connection (%s, opened %s ago by a host inside)", v.natText(), v.Conn.State,
			time.Duration(v.Time-v.Conn.Created).Round(time.Millisecond))
	case ReasonNoTranslation:
		s := fmt.Sprintf("%s: %s translates no TCP connection this packet belongs to: only a SYN from a host inside opens one",
			v.Reason, v.natText())
		if c := &v.Conn; v.IdledOut {
			s += fmt.Sprintf("; the gateway dropped its connection (%s) when it had been idle %d s, past the gateway's fixed %d s timeout",
				c.State, (v.Time-c.LastSeen)/int64(time.Second), int64(c.Timeout/time.Second))
		}
		return s
	case ReasonNATReset:
		return fmt.Sprintf("%s: a reset, from the internet's side, of no TCP connection %s translates: the gateway resets a host inside "+
			"that goes on with a connection it dropped, in the far end's name", v.Reason, v.natText())
	case ReasonLinkLocalLimit:
		return fmt.Sprintf("%s: %s is never filtered, but the interface sent more than %d packets a second to "+
			"Amazon DNS, IMDS, Time Sync and Windows activation together, and AWS drops the rest", v.Reason, v.Service, LinkLocalPPS)
	}
	return "no decision"
}

// natText names the NAT gateway whose interface decided.
func (v Verdict) natText() string {
	if v.Interface == nil {
		return "the NAT gateway"
	}
	return v.Interface.natName
}

// gateway returns the gateway whose flows AWS always tracks on the
// packet's route, as the interface's subnet routes it now.
func (v Verdict) gateway() trackedGateway {
	if v.Interface == nil {
		return trackedGateway{}
	}
	remote := v.Packet.Src
	if v.Direction == Outbound {
		remote = v.Packet.Dst
	}
	return v.Interface.trackingGateway(remote)
}

// gatewayText names the gateway behind ThroughGateway.
func (v Verdict) gatewayText() string {
	if v.balancer != "" {
		return "Network Load Balancer " + v.balancer
	}
	gw := v.gateway().id
	switch {
	case strings.HasPrefix(gw, "eigw-"):
		return "egress-only internet gateway " + gw
	case strings.HasPrefix(gw, "nat-"):
		return "NAT gateway " + gw
	case strings.HasPrefix(gw, "tgw-"):
		return "transit gateway " + gw
	case strings.HasPrefix(gw, "vpce-"):
		return "endpoint " + gw
	}
	return "a gateway"
}

func dirRules(d Direction) string {
	if d == Outbound {
		return "outbound"
	}
	return "inbound"
}

func (v Verdict) trafficText() string {
	p := v.Packet
	switch p.Proto {
	case 6, 17:
		return fmt.Sprintf("%s port %d", ProtoName(p.Proto), p.DstPort)
	case 1, 58:
		return fmt.Sprintf("%s type %d code %d", ProtoName(p.Proto), p.ICMPType, p.ICMPCode)
	}
	return ProtoName(p.Proto)
}

// ruleText names the rule behind the verdict: "sg-web rule sgr-... (tcp
// 443 from 0.0.0.0/0)".
func (v Verdict) ruleText() string {
	if v.Interface == nil || v.Rule == 0 {
		return "a rule"
	}
	return v.Interface.net.ruleText(v.Rule)
}

// ruleText names a rule for explanations: its group, ID and what it
// allows. Every change to the registry, revoking included, moves its
// generation on, so a text kept for the current generation is current.
func (n *Network) ruleText(ref sg.RuleRef) string {
	gen := n.groups.Generation()
	n.textMu.Lock()
	defer n.textMu.Unlock()
	if n.texts == nil || n.textGen != gen {
		n.texts, n.textGen = map[sg.RuleRef]string{}, gen
	}
	if s, ok := n.texts[ref]; ok {
		return s
	}
	s := "a rule"
	if ri, ok := n.groups.Rule(ref); ok {
		s = fmt.Sprintf("%s rule %s (%s)", ri.GroupID, ri.ID, ruleDescription(ri))
		if ri.Revoked {
			s += " [since revoked]"
		}
	}
	n.texts[ref] = s
	return s
}

func ruleDescription(ri sg.RuleInfo) string {
	s := ri.Rule.Describe(ri.Direction)
	if ri.Rule.Description != "" {
		s += ", " + ri.Rule.Description
	}
	return s
}
