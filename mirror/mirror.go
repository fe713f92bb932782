// Package mirror models VPC Traffic Mirroring: the sessions that copy the
// packets of a network interface (the source) to a target, the filters
// that choose which packets, and the packets AWS never copies.
//
// AWS copies a packet at its source only if the source let it through:
// a packet that the source's security groups or its subnet's network ACL
// drop is not mirrored, so a capture made at a mirror target never shows
// what the source refused. Of the sessions on one source, tried by
// session number, the first whose filter accepts the packet copies it,
// once. A filter's rules, by rule number, decide by the first that
// matches; a packet no rule matches is not copied, and a filter without
// rules for a direction copies nothing that way. ARP, DHCP, instance
// metadata, NTP and Windows activation are never mirrored; Amazon DNS
// only when the filter names the network service amazon-dns.
//
// A [Set] binds sessions, filters and targets to an [eni.Network] and
// decides, for a judged [eni.Path], which copies AWS makes ([Set.Decide]).
package mirror

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/sgsim/sgsim/eni"
)

// Action is a filter rule's: whether a packet it matches is copied.
type Action uint8

const (
	Reject Action = iota
	Accept
)

func (a Action) String() string {
	if a == Accept {
		return "accept"
	}
	return "reject"
}

// AnyProtocol in Rule.Protocol matches every protocol.
const AnyProtocol = -1

// PortRange is a range of TCP or UDP ports, both ends included.
type PortRange struct{ From, To uint16 }

// Rule is one of a filter's rules, for one direction.
type Rule struct {
	// Number orders the rules of a direction, lowest first: 1 to 32766.
	Number int
	Action Action
	// Protocol is an IP protocol number, or AnyProtocol.
	Protocol int
	// Source and Destination are CIDR blocks of one family: a rule for
	// IPv4 never matches IPv6, and the other way round.
	Source, Destination netip.Prefix
	// SourcePorts and DestinationPorts, when set, match only TCP and UDP
	// packets whose ports are in them.
	SourcePorts, DestinationPorts *PortRange
	Description                   string
}

// String describes the rule, e.g. "100 accept tcp 0.0.0.0/0 → 10.0.0.0/8 port 443".
func (r Rule) String() string {
	proto := "all traffic"
	if r.Protocol != AnyProtocol {
		proto = eni.ProtoName(uint8(r.Protocol))
	}
	ports := func(p *PortRange) string {
		switch {
		case p == nil:
			return ""
		case p.From == p.To:
			return fmt.Sprintf(" port %d", p.From)
		}
		return fmt.Sprintf(" ports %d-%d", p.From, p.To)
	}
	return fmt.Sprintf("%d %s %s %s%s → %s%s", r.Number, r.Action, proto, r.Source, ports(r.SourcePorts), r.Destination, ports(r.DestinationPorts))
}

// Filter chooses the packets a session copies.
type Filter struct {
	ID string
	// Ingress rules judge packets the source receives, Egress those it
	// sends.
	Ingress, Egress []Rule
	// AmazonDNS is the network service amazon-dns: the source's traffic
	// with Amazon DNS, in and out, is copied whatever the rules say.
	AmazonDNS   bool
	Description string
}

// TargetType is the kind of a session's target.
type TargetType string

const (
	TargetInterface    TargetType = "network-interface"
	TargetLoadBalancer TargetType = "network-load-balancer"
	TargetGWLBEndpoint TargetType = "gateway-load-balancer-endpoint"
)

// Target is where a session sends its copies, as VXLAN (UDP 4789).
type Target struct {
	ID   string
	Type TargetType
	// Interface is the target network interface's ID (TargetInterface).
	Interface string
	// LoadBalancer is the Network Load Balancer's ARN (TargetLoadBalancer).
	LoadBalancer string
	// Endpoint is the Gateway Load Balancer endpoint's ID (TargetGWLBEndpoint).
	Endpoint    string
	Description string
}

// Session copies a source interface's packets that its filter accepts to
// its target.
type Session struct {
	ID string
	// Source is the network interface whose packets are copied.
	Source string
	// Number orders the sessions of one source, lowest first: 1 to 32766.
	Number         int
	Filter, Target string
	// VNI is the VXLAN network identifier the copies carry (AWS picks one
	// when the session is made without).
	VNI uint32
	// PacketLength is how many bytes of each packet are copied; 0 copies
	// the whole packet.
	PacketLength int
	Description  string
}

// Config is what describe-traffic-mirror-sessions, -filters and -targets
// print, as the model holds it.
type Config struct {
	Filters  []Filter
	Targets  []Target
	Sessions []Session
}

const (
	maxNumber = 32766
	// MaxSessionsPerSource is AWS's quota of sessions on one source
	// interface.
	MaxSessionsPerSource = 3
	// maxVNI is VXLAN's: 24 bits.
	maxVNI = 1<<24 - 1
)

// Error is a mistake in a Config: the object (session, filter or target
// ID) and the field that holds it.
type Error struct {
	Object, Field, Msg string
}

func (e *Error) Error() string {
	s := e.Object + ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Msg
}

// session is a Session bound to its network, filter and target.
type session struct {
	Session
	filter *Filter
	target *Target
	source *eni.Interface
	idx    int // in Set.sessions, as Sessions lists them
}

// Set is a Config bound to a network, ready to decide what is copied.
// It is read-only once made, and safe for concurrent use.
type Set struct {
	sessions []*session   // by source, then number
	bySource [][]*session // by the source's eni.Interface.Index
	unbound  []string
}

// New checks the config and binds it to the network. A session whose
// source interface the network does not hold is kept out, and named by
// [Set.Unbound]: mirroring adds nothing to the verdicts, so a partial
// export still replays.
func New(n *eni.Network, c Config) (*Set, error) {
	if n == nil {
		return nil, &Error{Object: "network", Msg: "is nil"}
	}
	filters := map[string]*Filter{}
	for k := range c.Filters {
		f := c.Filters[k] // a copy: its rules are sorted
		if err := checkFilter(&f); err != nil {
			return nil, err
		}
		if _, ok := filters[f.ID]; ok {
			return nil, &Error{Object: f.ID, Msg: "is defined twice"}
		}
		filters[f.ID] = &f
	}
	targets := map[string]*Target{}
	for k := range c.Targets {
		t := c.Targets[k]
		if err := checkTarget(&t); err != nil {
			return nil, err
		}
		if _, ok := targets[t.ID]; ok {
			return nil, &Error{Object: t.ID, Msg: "is defined twice"}
		}
		targets[t.ID] = &t
	}
	s := &Set{}
	seen := map[string]bool{}
	perSource := map[string][]*session{}
	for _, x := range c.Sessions {
		if x.ID == "" {
			return nil, &Error{Object: "session", Field: "TrafficMirrorSessionId", Msg: "is missing"}
		}
		if seen[x.ID] {
			return nil, &Error{Object: x.ID, Msg: "is defined twice"}
		}
		seen[x.ID] = true
		ss := &session{Session: x, filter: filters[x.Filter], target: targets[x.Target]}
		switch {
		case x.Source == "":
			return nil, &Error{Object: x.ID, Field: "NetworkInterfaceId", Msg: "is missing"}
		case x.Number < 1 || x.Number > maxNumber:
			return nil, &Error{Object: x.ID, Field: "SessionNumber", Msg: fmt.Sprintf("%d is not a session number (1-%d)", x.Number, maxNumber)}
		case x.Filter == "":
			return nil, &Error{Object: x.ID, Field: "TrafficMirrorFilterId", Msg: "is missing"}
		case ss.filter == nil:
			return nil, &Error{Object: x.ID, Field: "TrafficMirrorFilterId",
				Msg: fmt.Sprintf("%s is not defined by any file (run aws ec2 describe-traffic-mirror-filters)", x.Filter)}
		case x.Target == "":
			return nil, &Error{Object: x.ID, Field: "TrafficMirrorTargetId", Msg: "is missing"}
		case ss.target == nil:
			return nil, &Error{Object: x.ID, Field: "TrafficMirrorTargetId",
				Msg: fmt.Sprintf("%s is not defined by any file (run aws ec2 describe-traffic-mirror-targets)", x.Target)}
		case x.VNI > maxVNI:
			return nil, &Error{Object: x.ID, Field: "VirtualNetworkId", Msg: fmt.Sprintf("%d is not a VXLAN network identifier (0-%d)", x.VNI, maxVNI)}
		case x.PacketLength < 0:
			return nil, &Error{Object: x.ID, Field: "PacketLength", Msg: fmt.Sprintf("%d is not a length", x.PacketLength)}
		case ss.target.Type == TargetInterface && ss.target.Interface == x.Source:
			return nil, &Error{Object: x.ID, Field: "TrafficMirrorTargetId",
				Msg: fmt.Sprintf("%s sends the copies of %s to %s itself", x.Target, x.Source, x.Source)}
		}
		for _, o := range perSource[x.Source] {
			if o.Number == x.Number {
				return nil, &Error{Object: x.ID, Field: "SessionNumber", Msg: fmt.Sprintf("%d is %s's too, on the same source %s", x.Number, o.ID, x.Source)}
			}
		}
		if len(perSource[x.Source]) == MaxSessionsPerSource {
			return nil, &Error{Object: x.ID, Field: "NetworkInterfaceId",
				Msg: fmt.Sprintf("%s is the source of %d sessions already, AWS's limit", x.Source, MaxSessionsPerSource)}
		}
		perSource[x.Source] = append(perSource[x.Source], ss)
	}
	for _, t := range targets {
		if t.Type == TargetInterface {
			if ss, ok := perSource[t.Interface]; ok {
				return nil, &Error{Object: t.ID, Field: "NetworkInterfaceId",
					Msg: fmt.Sprintf("%s is the source of %s too: an interface cannot be both", t.Interface, ss[0].ID)}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(perSource)) {
		list := perSource[id]
		slices.SortFunc(list, func(a, b *session) int { return a.Number - b.Number })
		i := n.Interface(id)
		if i == nil {
			for _, ss := range list {
				s.unbound = append(s.unbound, ss.ID)
			}
			continue
		}
		for len(s.bySource) <= i.Index() {
			s.bySource = append(s.bySource, nil)
		}
		for _, ss := range list {
			ss.source = i
		}
		s.bySource[i.Index()] = list
		for _, ss := range list {
			ss.idx = len(s.sessions)
			s.sessions = append(s.sessions, ss)
		}
	}
	return s, nil
}

func checkFilter(f *Filter) error {
	if f.ID == "" {
		return &Error{Object: "filter", Field: "TrafficMirrorFilterId", Msg: "is missing"}
	}
	for _, dir := range []struct {
		name  string
		rules *[]Rule
	}{{"IngressFilterRules", &f.Ingress}, {"EgressFilterRules", &f.Egress}} {
		rules := slices.Clone(*dir.rules)
		for k, r := range rules {
			field := fmt.Sprintf("%s[%d]", dir.name, k)
			if err := checkRule(f.ID, field, r); err != nil {
				return err
			}
			for _, o := range rules[:k] {
				if o.Number == r.Number {
					return &Error{Object: f.ID, Field: field + ".RuleNumber", Msg: fmt.Sprintf("%d is used twice", r.Number)}
				}
			}
		}
		slices.SortFunc(rules, func(a, b Rule) int { return a.Number - b.Number })
		*dir.rules = rules
	}
	return nil
}

func checkRule(obj, field string, r Rule) error {
	switch {
	case r.Number < 1 || r.Number > maxNumber:
		return &Error{Object: obj, Field: field + ".RuleNumber", Msg: fmt.Sprintf("%d is not a rule number (1-%d)", r.Number, maxNumber)}
	case r.Action != Accept && r.Action != Reject:
		return &Error{Object: obj, Field: field + ".RuleAction", Msg: "is neither accept nor reject"}
	case r.Protocol < AnyProtocol || r.Protocol > 255:
		return &Error{Object: obj, Field: field + ".Protocol", Msg: fmt.Sprintf("%d is not a protocol number", r.Protocol)}
	case !r.Source.IsValid():
		return &Error{Object: obj, Field: field + ".SourceCidrBlock", Msg: "is missing"}
	case !r.Destination.IsValid():
		return &Error{Object: obj, Field: field + ".DestinationCidrBlock", Msg: "is missing"}
	case r.Source.Addr().Is4() != r.Destination.Addr().Is4():
		return &Error{Object: obj, Field: field + ".DestinationCidrBlock",
			Msg: fmt.Sprintf("%s and the source block %s are of different families", r.Destination, r.Source)}
	}
	for _, pr := range []struct {
		name string
		r    *PortRange
	}{{"SourcePortRange", r.SourcePorts}, {"DestinationPortRange", r.DestinationPorts}} {
		if pr.r != nil && pr.r.From > pr.r.To {
			return &Error{Object: obj, Field: field + "." + pr.name, Msg: fmt.Sprintf("FromPort %d is above ToPort %d", pr.r.From, pr.r.To)}
		}
	}
	return nil
}

func checkTarget(t *Target) error {
	if t.ID == "" {
		return &Error{Object: "target", Field: "TrafficMirrorTargetId", Msg: "is missing"}
	}
	switch t.Type {
	case TargetInterface:
		if t.Interface == "" {
			return &Error{Object: t.ID, Field: "NetworkInterfaceId", Msg: "is missing for a target of type network-interface"}
		}
	case TargetLoadBalancer:
		if t.LoadBalancer == "" {
			return &Error{Object: t.ID, Field: "NetworkLoadBalancerArn", Msg: "is missing for a target of type network-load-balancer"}
		}
	case TargetGWLBEndpoint:
		if t.Endpoint == "" {
			return &Error{Object: t.ID, Field: "GatewayLoadBalancerEndpointId", Msg: "is missing for a target of type gateway-load-balancer-endpoint"}
		}
	default:
		return &Error{Object: t.ID, Field: "Type",
			Msg: fmt.Sprintf("%q is not network-interface, network-load-balancer or gateway-load-balancer-endpoint", t.Type)}
	}
	return nil
}

// Unbound returns the sessions whose source interface the network does
// not hold, which copy nothing here.
func (s *Set) Unbound() []string { return slices.Clone(s.unbound) }

// Sessions returns the bound sessions, by source interface and then
// session number.
func (s *Set) Sessions() []Session {
	out := make([]Session, len(s.sessions))
	for k, ss := range s.sessions {
		out[k] = ss.Session
	}
	return out
}

// Len returns how many sessions are bound.
func (s *Set) Len() int { return len(s.sessions) }

// TargetOf returns a session's target.
func (s *Set) TargetOf(sessionID string) (Target, bool) {
	for _, ss := range s.sessions {
		if ss.ID == sessionID {
			return *ss.target, true
		}
	}
	return Target{}, false
}

// FilterOf returns a session's filter.
func (s *Set) FilterOf(sessionID string) (Filter, bool) {
	for _, ss := range s.sessions {
		if ss.ID == sessionID {
			return *ss.filter, true
		}
	}
	return Filter{}, false
}
