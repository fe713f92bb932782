package eni

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
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
}

// AddTargetGroup adds a target group of an internet-facing Network Load
// Balancer that keeps its clients' addresses. A packet between the
// internet and a target's address and port goes by way of the balancer,
// whatever the target's subnet routes the client to: no NAT gateway or
// egress-only internet gateway refuses it, as they refuse what the
// internet opens, and no appliance of the route judges it. The target's
// subnet's ACL and the target's groups judge it as any packet, with the
// client's address ([Path.Balancer] names the balancer).
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
		n.targetGroups = map[string]TargetGroupSpec{}
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
		h := &hop{balancer: g.Balancer}
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
