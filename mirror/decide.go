package mirror

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/sgsim/sgsim/eni"
)

// Outcome is what mirroring made of a packet at one source interface.
type Outcome uint8

const (
	// Mirrored: a session copied the packet to its target.
	Mirrored Outcome = iota
	// Dropped: a stage refused the packet at the source, or before it
	// reached the source, and AWS copies only what the source let through.
	Dropped
	// NeverMirrored: traffic AWS never copies (DHCP, instance metadata,
	// Time Sync, Windows activation, the VPC router).
	NeverMirrored
	// NotSelected: no session's filter accepted the packet.
	NotSelected
)

var outcomeNames = [...]string{"mirrored", "dropped", "never mirrored", "not selected"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "invalid"
}

// Try is one session's answer for a packet that reached its filter.
type Try struct {
	Session *Session
	// SessionIndex is the session's place in [Set.Sessions].
	SessionIndex int
	// Rule is the number of the filter rule that decided, 0 when none
	// matched (or, with Action Accept, when amazon-dns copied the
	// packet), and RuleIndex its place among the filter's rules of the
	// packet's direction (Ingress or Egress), -1 for none.
	Rule      int
	RuleIndex int
	Action    Action
	// NoRules says the filter has no rules for the packet's direction.
	NoRules bool
}

// Decision is what mirroring made of a packet at one source interface.
type Decision struct {
	Source    *eni.Interface
	Direction eni.Direction // Inbound: the source received it; Outbound: sent it
	Outcome   Outcome
	// Session and Target are the session that copied the packet and
	// where it sent the copy (Mirrored); Rule is the filter rule that
	// accepted it, 0 for the network service amazon-dns.
	Session *Session
	Target  *Target
	Rule    int
	// Stage is the first stage that refused the packet (Dropped), and
	// AtSource whether it was the source's own (its security groups, or
	// its subnet's network ACL as the packet left or entered).
	Stage    eni.StageKind
	AtSource bool
	// Service is the traffic never mirrored (NeverMirrored), or
	// AmazonDNS, which only the network service amazon-dns copies.
	Service eni.Service
	tries   [MaxSessionsPerSource]Try
	n       int
}

// Tries returns each session's answer, by session number, up to the one
// that copied the packet.
func (d *Decision) Tries() []Try { return d.tries[:d.n] }

// MaxDecisions is the most decisions one packet yields: its source, the
// appliances on its path (two at most, each receiving and sending), and
// its destination.
const MaxDecisions = 6

// Decide appends to out what mirroring made of a judged packet at each
// session source on its path: the interface that sent it, the appliance
// a route took it through, and the interface it was sent to. A source
// copies a packet only if the packet got that far and the source let it
// through. out may be a slice of a [MaxDecisions]Decision array: Decide
// then allocates nothing.
func (s *Set) Decide(p *eni.Path, out []Decision) []Decision {
	if len(s.bySource) == 0 || p.Skip() {
		return out
	}
	srcList, dstList := s.of(p.Src), s.of(p.Dst)
	vias := p.Vias()
	if srcList == nil && dstList == nil && (len(vias) == 0 || (s.of(vias[0]) == nil && (len(vias) < 2 || s.of(vias[1]) == nil))) {
		return out // no session's source on the path: most frames of most captures
	}
	sent, received := &p.Packet, &p.Packet
	if snd, rcv, ok := p.Hairpin(); ok {
		sent, received = &snd, &rcv
	}
	stages := p.Stages()
	if list := srcList; list != nil {
		out = s.decide(out, p, list, p.Src, eni.Outbound, -1, sent, stages, lastOf(stages, -1, eni.StageSourceGroups, eni.StageSourceACL))
	}
	for hop, via := range vias {
		if list := s.of(via); list != nil {
			out = s.decide(out, p, list, via, eni.Inbound, hop, sent, stages, lastOf(stages, hop, eni.StageApplianceIn))
			out = s.decide(out, p, list, via, eni.Outbound, hop, sent, stages, lastOf(stages, hop, eni.StageApplianceOut, eni.StageApplianceACLOut))
		}
	}
	if list := dstList; list != nil && p.Dst != p.Src {
		out = s.decide(out, p, list, p.Dst, eni.Inbound, -1, received, stages, len(stages)-1)
	}
	return out
}

// lastOf returns the index of the last stage of one of the kinds (and,
// for an appliance's, of its hop), which are the source's own: the
// packet must pass every stage up to it.
func lastOf(stages []eni.Stage, hop int, kinds ...eni.StageKind) int {
	last := -1
	for k := range stages {
		for _, kind := range kinds {
			if stages[k].Kind == kind && (hop < 0 || int(stages[k].Hop) == hop) {
				last = k
			}
		}
	}
	return last
}

// own reports whether a stage is the source's own, for a packet that
// passes the source in direction dir; hop is the source's place among
// the path's appliances, or -1 for its ends.
func own(st *eni.Stage, dir eni.Direction, hop int) bool {
	switch st.Kind {
	case eni.StageSourceGroups, eni.StageSourceACL:
		return hop < 0 && dir == eni.Outbound
	case eni.StageDestGroups, eni.StageDestACL:
		return hop < 0 && dir == eni.Inbound
	case eni.StageApplianceACLIn, eni.StageApplianceIn:
		return int(st.Hop) == hop && dir == eni.Inbound
	case eni.StageApplianceOut, eni.StageApplianceACLOut:
		return int(st.Hop) == hop && dir == eni.Outbound
	}
	return false
}

// IsSource reports whether the interface is a bound session's source.
func (s *Set) IsSource(i *eni.Interface) bool { return s.of(i) != nil }

func (s *Set) of(i *eni.Interface) []*session {
	if i == nil || i.Index() >= len(s.bySource) {
		return nil
	}
	list := s.bySource[i.Index()]
	if len(list) == 0 || list[0].source != i {
		return nil
	}
	return list
}

func (s *Set) decide(out []Decision, p *eni.Path, list []*session, src *eni.Interface, dir eni.Direction, hop int,
	q *eni.Packet, stages []eni.Stage, upTo int) []Decision {
	out = append(out, Decision{Source: src, Direction: dir})
	d := &out[len(out)-1]
	for k := 0; k <= upTo && k < len(stages); k++ {
		if st := &stages[k]; !st.Allowed {
			d.Outcome, d.Stage, d.AtSource = Dropped, st.Kind, own(st, dir, hop)
			return out
		}
	}
	if p.Service != eni.NoService && p.Service != eni.AmazonDNS {
		d.Outcome, d.Service = NeverMirrored, p.Service
		return out
	}
	d.Outcome, d.Service = NotSelected, p.Service
	for _, ss := range list {
		t := &d.tries[d.n]
		d.n++
		t.Session, t.SessionIndex, t.RuleIndex = &ss.Session, ss.idx, -1
		if p.Service == eni.AmazonDNS {
			// Network services are copied by the service, not the rules.
			if ss.filter.AmazonDNS {
				t.Action = Accept
				d.Outcome, d.Session, d.Target = Mirrored, &ss.Session, ss.target
				return out
			}
			t.NoRules = true
			continue
		}
		rules := ss.filter.Ingress
		if dir == eni.Outbound {
			rules = ss.filter.Egress
		}
		t.NoRules = len(rules) == 0
		for k := range rules {
			if r := &rules[k]; r.matches(q) {
				t.Rule, t.RuleIndex, t.Action = r.Number, k, r.Action
				break
			}
		}
		if t.Rule != 0 && t.Action == Accept {
			d.Outcome, d.Session, d.Target, d.Rule = Mirrored, &ss.Session, ss.target, t.Rule
			return out
		}
	}
	return out
}

// matches reports whether the rule matches the packet.
func (r *Rule) matches(p *eni.Packet) bool {
	if r.Protocol != AnyProtocol && int(p.Proto) != r.Protocol {
		return false
	}
	if !r.Source.Contains(p.Src) || !r.Destination.Contains(p.Dst) {
		return false
	}
	if r.SourcePorts == nil && r.DestinationPorts == nil {
		return true
	}
	if (p.Proto != 6 && p.Proto != 17) || p.Fragment == eni.LaterFragment {
		return false // no ports to match
	}
	return inRange(r.SourcePorts, p.SrcPort) && inRange(r.DestinationPorts, p.DstPort)
}

func inRange(r *PortRange, port uint16) bool { return r == nil || (r.From <= port && port <= r.To) }

// Explain describes the decision in a sentence.
func (d *Decision) Explain() string {
	head := "sent by "
	if d.Direction == eni.Inbound {
		head = "received by "
		if d.Outcome == Dropped && !d.AtSource {
			head = "bound for "
		}
	}
	head += d.Source.ID()
	switch d.Outcome {
	case Mirrored:
		how := fmt.Sprintf("its filter %s's %s rule %d accepts it", d.Session.Filter, ruleDir(d.Direction), d.Rule)
		if d.Rule == 0 {
			how = fmt.Sprintf("its filter %s copies Amazon DNS traffic (amazon-dns)", d.Session.Filter)
		}
		return fmt.Sprintf("%s: copied by %s (session %d) to %s: %s", head, d.Session.ID, d.Session.Number, targetText(d.Target), how)
	case Dropped:
		if d.AtSource {
			what := "security groups"
			if d.Stage.ACL() {
				what = "subnet's network ACL"
			}
			return fmt.Sprintf("%s: not copied: its %s refused the packet (%s), and AWS mirrors only what the source lets through",
				head, what, ruleDir(d.Direction))
		}
		if d.Direction == eni.Outbound {
			return fmt.Sprintf("never sent on by %s: not copied: the %s refused the packet first", d.Source.ID(), d.Stage)
		}
		return fmt.Sprintf("%s: not copied: the packet never reached it (the %s refused it)", head, d.Stage)
	case NeverMirrored:
		return fmt.Sprintf("%s: not copied: AWS never mirrors %s traffic", head, d.Service)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: not copied: ", head)
	for k, t := range d.Tries() {
		if k > 0 {
			b.WriteString("; ")
		}
		switch {
		case d.Service == eni.AmazonDNS:
			fmt.Fprintf(&b, "%s's filter %s does not copy Amazon DNS traffic (no amazon-dns)", t.Session.ID, t.Session.Filter)
		case t.Rule != 0:
			fmt.Fprintf(&b, "%s's filter %s rejects it (%s rule %d)", t.Session.ID, t.Session.Filter, ruleDir(d.Direction), t.Rule)
		case t.NoRules:
			fmt.Fprintf(&b, "%s's filter %s has no %s rules", t.Session.ID, t.Session.Filter, ruleDir(d.Direction))
		default:
			fmt.Fprintf(&b, "no %s rule of %s's filter %s matches it", ruleDir(d.Direction), t.Session.ID, t.Session.Filter)
		}
	}
	return b.String()
}

func ruleDir(d eni.Direction) string {
	if d == eni.Inbound {
		return "inbound"
	}
	return "outbound"
}

func targetText(t *Target) string {
	switch t.Type {
	case TargetInterface:
		return fmt.Sprintf("%s (%s)", t.ID, t.Interface)
	case TargetLoadBalancer:
		return fmt.Sprintf("%s (a Network Load Balancer)", t.ID)
	}
	return fmt.Sprintf("%s (%s)", t.ID, t.Endpoint)
}

// CopyOf returns the session that made a VXLAN copy: the one of the
// source interface whose primary private address sent the copy (the
// outer source, as AWS sends it) with that VXLAN network identifier.
func (s *Set) CopyOf(n *eni.Network, outerSrc netip.Addr, vni uint32) *Session {
	i := n.InterfaceByAddr(outerSrc)
	for _, ss := range s.of(i) {
		if ss.VNI == vni {
			return &ss.Session
		}
	}
	return nil
}

// Made reports whether the decisions say that the session copied the
// packet, and if they do not, why AWS would not have made the copy.
func Made(sess *Session, ds []Decision) (ok bool, why string) {
	var at []string
	for k := range ds {
		d := &ds[k]
		if d.Source.ID() != sess.Source {
			continue
		}
		if d.Outcome == Mirrored && d.Session.ID == sess.ID {
			return true, ""
		}
		if d.Outcome == Mirrored {
			at = append(at, fmt.Sprintf("%s copies it, not %s", d.Session.ID, sess.ID))
			continue
		}
		at = append(at, d.Explain())
	}
	if len(at) == 0 {
		return false, fmt.Sprintf("the packet neither leaves nor reaches %s, %s's source", sess.Source, sess.ID)
	}
	return false, strings.Join(at, "; ")
}
