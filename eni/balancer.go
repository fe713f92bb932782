package eni

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sgsim/sgsim/conntrack"
)

// TargetGroupSpec is a target group of an internet-facing Network Load
// Balancer whose targets see their clients' addresses (client IP
// preservation): what describe-target-groups and describe-target-health
// print, for the targets an internet client reaches.
type TargetGroupSpec struct {
	// ID names the group in explanations: its ARN or its name.
	ID string
	// Balancer names the load balancer as AWS's descriptions of its
	// interfaces do: "net/web/50dc6c495c0c9188".
	Balancer string
	// Protocol is 6 (TCP or TLS), 17 (UDP), or 0 for TCP_UDP.
	Protocol uint8
	// Targets are the targets' private addresses, with the ports the
	// balancer sends to.
	Targets []netip.AddrPort
	// TCPIdleTimeout is the tcp.idle_timeout.seconds of the TCP listener
	// that forwards to the group (60-6000 s); zero means its default,
	// BalancerTCPIdleTimeout, which is also a TLS listener's fixed figure.
	TCPIdleTimeout time.Duration
}

// The range of a TCP listener's tcp.idle_timeout.seconds.
const (
	MinBalancerTCPIdleTimeout = 60 * time.Second
	MaxBalancerTCPIdleTimeout = 6000 * time.Second
)

// BalancerTCPIdleTimeout and BalancerUDPIdleTimeout are how long a
// Network Load Balancer keeps a flow that carries nothing, whatever its
// targets' interfaces keep: then a TCP packet from the client other than
// a SYN, and a target's packet back, find no flow, and the balancer
// answers them with a reset; a UDP packet from the client opens a new
// flow. 350 s is the default of a TCP listener's tcp.idle_timeout.seconds
// ([TargetGroupSpec].TCPIdleTimeout) and a TLS listener's fixed figure.
const (
	BalancerTCPIdleTimeout = 350 * time.Second
	BalancerUDPIdleTimeout = 120 * time.Second
)

// AddTargetGroup adds a target group of an internet-facing Network Load
// Balancer that keeps its clients' addresses. A packet between the
// internet and a target's address and port goes by way of the balancer,
// whatever the target's subnet routes the client to: no NAT gateway or
// egress-only internet gateway refuses it, as they refuse what the
// internet opens, and no appliance of the route judges it. The target's
// subnet's ACL and the target's groups judge it as any packet, with the
// client's address ([Path.Balancer] names the balancer).
//
// The balancer tracks the flows itself, in one table for all its groups
// of one TCP idle timeout: a client's SYN, or any UDP packet, opens a
// flow, as it reaches the balancer, and a flow idle for the group's
// TCPIdleTimeout (UDP: [BalancerUDPIdleTimeout]) is gone. A packet on no flow, either way, is
// refused at the balancer (a [RouteDrop] with NoBalancerFlow), before the
// target's stages when it comes from the client, after them when it goes
// back: the targets' own tables, which keep an established connection
// for days by default, are no guide to the balancer's.
func (n *Network) AddTargetGroup(spec TargetGroupSpec) error {
	switch {
	case spec.ID == "":
		return &Error{Code: ErrInvalidTargetGroup, Field: "TargetGroupArn", Msg: "a target group needs an ID"}
	case spec.Balancer == "":
		return &Error{Code: ErrInvalidTargetGroup, Resource: spec.ID, Field: "LoadBalancerArns", Msg: "the target group needs its load balancer"}
	case spec.Protocol != 0 && spec.Protocol != 6 && spec.Protocol != 17:
		return &Error{Code: ErrInvalidTargetGroup, Resource: spec.ID, Field: "Protocol", Value: fmt.Sprint(spec.Protocol),
			Msg: "a Network Load Balancer's targets take TCP (6), UDP (17) or both (0)"}
	}
	if d := spec.TCPIdleTimeout; d != 0 && (d < MinBalancerTCPIdleTimeout || d > MaxBalancerTCPIdleTimeout) {
		return &Error{Code: ErrInvalidTargetGroup, Resource: spec.ID, Field: "tcp.idle_timeout.seconds", Value: fmt.Sprint(int64(d / time.Second)),
			Msg: "a TCP listener's idle timeout is 60-6000 seconds"}
	}
	if spec.TCPIdleTimeout == 0 {
		spec.TCPIdleTimeout = BalancerTCPIdleTimeout
	}
	for k, t := range spec.Targets {
		if !t.Addr().IsValid() || t.Port() == 0 {
			return &Error{Code: ErrInvalidTargetGroup, Resource: spec.ID, Field: fmt.Sprintf("Targets[%d]", k), Value: t.String(),
				Msg: "a target needs an address and a port"}
		}
	}
	spec.Targets = slices.Clone(spec.Targets)
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.targetGroups[spec.ID]; ok {
		return &Error{Code: ErrInvalidTargetGroup, Resource: spec.ID, Msg: "a target group with this ID exists"}
	}
	if n.targetGroups == nil {
		n.targetGroups, n.balancerFlows = map[string]TargetGroupSpec{}, map[balancerFlowsKey]*balancerFlows{}
	}
	if k := flowsKeyOf(spec); n.balancerFlows[k] == nil {
		cfg := conntrack.DefaultConfig()
		cfg.TCPEstablished, cfg.UDP, cfg.UDPStream = spec.TCPIdleTimeout, BalancerUDPIdleTimeout, BalancerUDPIdleTimeout
		cfg.TCPPickup = n.pickup
		t, err := conntrack.NewFixed(cfg)
		if err != nil {
			return &Error{Code: ErrInvalidTargetGroup, Resource: spec.ID, Msg: err.Error()}
		}
		n.balancerFlows[k] = &balancerFlows{table: t}
	}
	n.targetGroups[spec.ID] = spec
	n.changed()
	return nil
}

// TargetGroups returns the target groups added, sorted by ID.
func (n *Network) TargetGroups() []TargetGroupSpec {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]TargetGroupSpec, 0, len(n.targetGroups))
	for _, g := range n.targetGroups {
		g.Targets = slices.Clone(g.Targets)
		out = append(out, g)
	}
	slices.SortFunc(out, func(x, y TargetGroupSpec) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// balancedKey is a target's address, port and protocol.
type balancedKey struct {
	addr  netip.Addr
	port  uint16
	proto uint8
}

// compileTargetGroups returns the hops that stand for the balancers, by
// their targets, or nil when there are none. Groups are taken in order of
// their IDs: of two that share a target, the first names it. Called with
// n.mu held, building a snapshot.
func (n *Network) compileTargetGroups() map[balancedKey]*hop {
	if len(n.targetGroups) == 0 {
		return nil
	}
	out := map[balancedKey]*hop{}
	for _, id := range slices.Sorted(maps.Keys(n.targetGroups)) {
		g := n.targetGroups[id]
		h := &hop{balancer: g.Balancer, flows: n.balancerFlows[flowsKeyOf(g)], noFlow: &RouteDrop{Balancer: g.Balancer, NoBalancerFlow: true}}
		for _, t := range g.Targets {
			for _, proto := range []uint8{6, 17} {
				k := balancedKey{t.Addr().Unmap(), t.Port(), proto}
				if _, ok := out[k]; !ok && (g.Protocol == 0 || g.Protocol == proto) {
					out[k] = h
				}
			}
		}
	}
	return out
}

// balanced returns the hop that stands for the balancer a packet between
// the internet and one of its targets goes by, or nil. Called for a
// packet with an end in no modelled subnet.
func (r *routes) balanced(src, dst *Interface, srcNet, dstNet *subnetRoute, p *Packet) *hop {
	switch {
	case srcNet == nil && dst != nil && isPublic(p.Src):
		return r.balancers[balancedKey{p.Dst, p.DstPort, p.Proto}]
	case dstNet == nil && src != nil && isPublic(p.Dst):
		return r.balancers[balancedKey{p.Src, p.SrcPort, p.Proto}]
	}
	return nil
}

// balancerText says how a path went by a balancer, for Path.String.
func balancerText(p *Path) string {
	if p.Dst != nil && p.Src == nil {
		return fmt.Sprintf(" (by Network Load Balancer %s, which keeps the client's address)", p.balancer)
	}
	return fmt.Sprintf(" (back by Network Load Balancer %s, to the client's address)", p.balancer)
}

// pass judges p, between a client and a target, at the balancer:
// fromClient when the client sent it. A packet from the client goes on
// its flow or opens one (a TCP packet only when a SYN, or any but a reset
// with pickup on); a target's goes back only on a flow its client opened.
// A packet that passes keeps its flow alive. hint, which may be nil, is
// where the flow cache keeps the flow's place. On refusal, v holds the
// flow when it idled out. Called with net.eval held.
func (h *hop) pass(p *Packet, fromClient bool, now int64, v *Verdict, hint *conntrack.Hint) bool {
	var ctp conntrack.Packet
	setBalancerCT(&ctp, fromClient, p)
	v.Direction, v.balancer = Direction(ctp.Dir), h.balancer
	var scratch conntrack.Hint
	if hint == nil {
		hint = &scratch
	}
	f := h.flows
	var c conntrack.Conn
	if f.table.LookupHint(&ctp, now, hint, &c) {
		return true
	}
	if fromClient {
		if _, res := f.table.TrackHint(&ctp, 0, now, hint); res == conntrack.Created {
			return true
		}
	}
	f.refused++
	if gone, idled := f.table.Idled(&ctp, now); idled {
		v.Conn, v.IdledOut = gone, true
		f.idledOut++
	}
	return false
}

// setBalancerCT sets c to the balancer's table's view of p, which sees
// each flow from the target's side, opened inbound by the client.
func setBalancerCT(c *conntrack.Packet, fromClient bool, p *Packet) {
	if fromClient {
		setCT(c, Inbound, p)
	} else {
		setCT(c, Outbound, p)
	}
}

// balancerFlows are a balancer's flows of one TCP idle timeout (its
// listeners' may differ) and its refusals' counts.
type balancerFlows struct {
	table             *conntrack.Table
	refused, idledOut uint64
}

// balancerFlowsKey names a balancerFlows: a balancer and a TCP idle
// timeout.
type balancerFlowsKey struct {
	balancer string
	tcpIdle  time.Duration
}

// flowsKeyOf returns the key of the flows of a group's balancer, whose
// TCPIdleTimeout is set.
func flowsKeyOf(g TargetGroupSpec) balancerFlowsKey {
	return balancerFlowsKey{g.Balancer, g.TCPIdleTimeout}
}

// BalancerStats are a Network Load Balancer's figures: its flows of one
// TCP idle timeout, and the packets it refused on none.
type BalancerStats struct {
	Name           string        // as TargetGroupSpec.Balancer
	TCPIdleTimeout time.Duration // as TargetGroupSpec.TCPIdleTimeout (UDP: BalancerUDPIdleTimeout)
	Tracking       conntrack.Stats
	Refused        uint64 // packets on no flow (a RouteDrop with NoBalancerFlow)
	IdledOut       uint64 // of those, packets whose flow had idled out
}

// BalancerStats returns the figures of every balancer of the target
// groups added, one for each TCP idle timeout its groups have, sorted by
// name and timeout.
func (n *Network) BalancerStats() []BalancerStats {
	n.eval.Lock()
	defer n.eval.Unlock()
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]BalancerStats, 0, len(n.balancerFlows))
	for k, f := range n.balancerFlows {
		out = append(out, BalancerStats{Name: k.balancer, TCPIdleTimeout: k.tcpIdle, Tracking: f.table.Stats(), Refused: f.refused, IdledOut: f.idledOut})
	}
	slices.SortFunc(out, func(x, y BalancerStats) int {
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return int(x.TCPIdleTimeout/time.Second - y.TCPIdleTimeout/time.Second)
	})
	return out
}

// SetTCPPickup turns connection-tracking pickup ([conntrack.Config]
// TCPPickup) on or off at every interface and every Network Load
// Balancer's flows, and at those added later: for a capture that begins
// after its connections opened, whose mid-stream packets would otherwise
// find no connection to ride.
func (n *Network) SetTCPPickup(on bool) {
	n.eval.Lock()
	defer n.eval.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pickup = on
	for _, i := range n.order {
		i.table.SetTCPPickup(on)
	}
	for _, f := range n.balancerFlows {
		f.table.SetTCPPickup(on)
	}
}

// balancerRefusal explains a balancer's refusal of a packet on no flow
// (a StageRoute stage whose Route has NoBalancerFlow).
func balancerRefusal(s *Stage) string {
	v := &s.Verdict
	var b strings.Builder
	fmt.Fprintf(&b, "%s: Network Load Balancer %s holds no flow for this packet ", ReasonNoBalancerFlow, s.Route.Balancer)
	if v.Direction == Inbound {
		b.WriteString("from a client, and only a SYN opens one")
	} else {
		b.WriteString("from its target, and sends a target's packets back only on a flow the client opened")
	}
	if c := &v.Conn; v.IdledOut {
		fmt.Fprintf(&b, ": the flow (%s, opened by the client) had been idle %d s, past the balancer's %d s idle timeout, "+
			"whatever the target's own table keeps", c.State, (v.Time-c.LastSeen)/int64(time.Second), int64(c.Timeout/time.Second))
	}
	if v.Packet.Proto == 6 {
		b.WriteString("; it answers with a reset")
	}
	return b.String()
}
