package eni

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/gaissmai/bart"
)

// RouteTableSpec describes a route table: its routes, and the subnets, or
// the internet gateway, it serves.
//
// A route to a network interface sends the packet through that interface,
// an appliance such as a firewall, on its way (see [Path.Via]); a
// blackhole route drops it; and so does the lack of any route for a
// packet's destination, as it leaves its subnet, unless the table has
// routes the files cannot resolve (Unresolved). Routes to other targets
// (local, gateways, endpoints) are judged as if the packet went straight
// on; but a flow whose route goes to an egress-only internet gateway
// (eigw-...), a NAT gateway (nat-...), a transit gateway (tgw-...), a
// Gateway Load Balancer or firewall endpoint (vpce-..., with Interface
// set) or a DynamoDB gateway endpoint (Route.DynamoDB) is tracked
// whatever the rules say, as AWS tracks every flow through one (see
// [Verdict.ThroughGateway]). An egress-only internet gateway, or a NAT
// gateway for an interface without a public address, also drops a packet
// from the internet that answers no connection the destination interface
// opened (a [RouteDrop] with EgressOnly or NATGateway), when the
// destination subnet's table routes the packet's source to it.
type RouteTableSpec struct {
	ID    string
	VpcID string
	// Main marks the VPC's main route table, which serves every subnet no
	// other table serves.
	Main bool
	// Subnets are the subnets explicitly associated with the table.
	Subnets []string
	// Gateway, when set, names the VPC's internet gateway that the table
	// is associated with (an edge association): it routes the traffic the
	// gateway brings into the VPC.
	Gateway string
	Routes  []Route
	// Unresolved names routes whose destinations the files do not give
	// (a prefix list without its entries): the table may route any
	// destination, so it drops none for want of a route.
	Unresolved []string
}

// Route sends the traffic for a destination to a target.
type Route struct {
	Dest netip.Prefix
	// Interface is the network interface the route sends traffic to, or
	// "" for a route to another target.
	Interface string
	// Target names the other target (local, igw-..., nat-..., vpce-...),
	// for explanations.
	Target string
	// Blackhole marks a route whose target is gone: AWS drops the
	// traffic it matches.
	Blackhole bool
	// DynamoDB marks a route to a DynamoDB gateway endpoint, which its
	// target (vpce-...) alone does not tell from S3's: the loader tells
	// them apart by the prefix list. AWS tracks every flow through it,
	// and counts two connection-tracking entries for each.
	DynamoDB bool
}

// RouteTable is a route table in a network.
type RouteTable struct {
	RouteTableSpec
}

// routeTable is a route table compiled for lookups by longest prefix:
// routes holds, per destination, the appliance or blackhole that changes
// a verdict (nil for any other target), targets every route's target and
// the gateway whose flows AWS always tracks, if it is one.
type routeTable struct {
	id         string
	routes     bart.Table[*hop]
	targets    bart.Table[routeTarget]
	matters    bool // some route sends traffic to an interface or drops it
	tracks     bool // some route goes to a gateway whose flows AWS always tracks
	egressOnly bool // some route goes to an egress-only internet gateway
	// noRoute drops what no route covers; nil when the table has
	// unresolved routes.
	noRoute *hop
}

// hop is an appliance a route sends traffic through, and its subnet; or,
// with drop set, a blackhole route that drops it. nat is, for a NAT
// gateway's interface, which the replies come back through too, its
// refusal of what the internet sends in unasked.
type hop struct {
	iface *Interface
	sn    *subnetRoute
	drop  *RouteDrop
	nat   *RouteDrop
	// balancer, alone, stands for a Network Load Balancer that takes the
	// packet to its target or back, past the routes: its name, its flows
	// and its refusal of a packet on none.
	balancer string
	flows    *balancerFlows
	noFlow   *RouteDrop
}

// plain reports whether a path through h is one the fast lane takes: no
// hop at all, an egress-only internet gateway's check, or a balancer's
// way, which adds no stage to a packet it lets by (the fast lane keeps
// its flows as it keeps the ends').
func (h *hop) plain() bool {
	return h == nil || (h.drop != nil && h.drop.EgressOnly) || h.balancer != ""
}

// balancerName returns the balancer h stands for, or "".
func (h *hop) balancerName() string {
	if h == nil {
		return ""
	}
	return h.balancer
}

// RouteDrop is a route table's refusal of a packet: a blackhole route
// (its destination and vanished target), or, with NoRoute, no route for
// the packet's destination at all; or, with EgressOnly or NATGateway, an
// egress-only internet gateway's or a NAT gateway's refusal of a packet
// from the internet that answers no connection the interface opened
// (see [RouteDrop.Unsolicited]): Dest and Target are then the route
// that sends the packet's source to the gateway.
type RouteDrop struct {
	Table      string
	Dest       netip.Prefix
	Target     string
	NoRoute    bool
	EgressOnly bool
	NATGateway bool
	// Balancer, for a gateway's refusal, names an internet-facing Network
	// Load Balancer of the VPC (its interface's description, as AWS
	// writes it: "ELB net/name/id"), which may have delivered the packet
	// with the client's address (client IP preservation) by a way the
	// files do not show: the refusal holds only if it did not.
	// With NoBalancerFlow, it names the balancer that refused the packet.
	Balancer string
	// NoBalancerFlow marks a Network Load Balancer's refusal of a packet
	// between a client and a target on no flow the balancer holds: a TCP
	// packet from the client other than a SYN, or a target's packet
	// back, after the flow idled out ([BalancerTCPIdleTimeout],
	// [BalancerUDPIdleTimeout]) or when the balancer never saw it open.
	// The stage's Verdict holds its direction (Inbound: from the client)
	// and, when the flow idled out, the flow.
	NoBalancerFlow bool
}

// balancer names the first internet-facing Network Load Balancer of the
// VPC (its interface has a public IPv4 address; an internal one's has
// none), dualstack when v6 is set (its interface has an IPv6 address
// too), whose targets are unknown: "" when there is none. A balancer
// with target groups (AddTargetGroup) takes its clients past the routes
// itself. Called with n.mu held.
func (n *Network) balancer(vpcID string, v6 bool) string {
	known := map[string]bool{}
	for _, g := range n.targetGroups {
		known[g.Balancer] = true
	}
	for _, i := range n.order {
		if i.vpcID != vpcID || i.spec.Type != TypeNetworkLoadBalancer || len(i.spec.PublicIPv4) == 0 || (v6 && len(i.spec.IPv6) == 0) {
			continue
		}
		name, ok := strings.CutPrefix(i.spec.Description, "ELB ")
		if !ok {
			name = i.spec.ID
		}
		if !known[name] {
			return name
		}
	}
	return ""
}

// Unsolicited reports whether the drop is a gateway's refusal of what the
// internet sends in unasked: an egress-only internet gateway's or a NAT
// gateway's.
func (d *RouteDrop) Unsolicited() bool { return d.EgressOnly || d.NATGateway }

// Reason returns the drop's code: ReasonRouteBlackhole, ReasonNoRoute,
// ReasonEgressOnly, ReasonNATInbound or ReasonNoBalancerFlow.
func (d *RouteDrop) Reason() string {
	switch {
	case d.NoRoute:
		return ReasonNoRoute
	case d.EgressOnly:
		return ReasonEgressOnly
	case d.NATGateway:
		return ReasonNATInbound
	case d.NoBalancerFlow:
		return ReasonNoBalancerFlow
	}
	return ReasonRouteBlackhole
}

const (
	// ReasonRouteBlackhole is the code of a refusal by a blackhole route.
	ReasonRouteBlackhole = "ROUTE_BLACKHOLE"
	// ReasonNoRoute is the code of a refusal for want of any route, as
	// Reachability Analyzer names it.
	ReasonNoRoute = "NO_ROUTE_TO_DESTINATION"
	// ReasonEgressOnly is the code of an egress-only internet gateway's
	// refusal of a connection the internet opens.
	ReasonEgressOnly = "EGRESS_ONLY_GATEWAY_INBOUND"
	// ReasonNATInbound is the code of a NAT gateway's refusal of a
	// connection the internet opens.
	ReasonNATInbound = "NAT_GATEWAY_INBOUND"
	// ReasonNoBalancerFlow is the code of a Network Load Balancer's
	// refusal of a packet on no flow it holds.
	ReasonNoBalancerFlow = "NLB_NO_FLOW"
)

// alwaysTracked reports whether the route goes through a gateway whose
// flows AWS always tracks (reference §2.3): an egress-only internet
// gateway, a NAT gateway, a transit gateway (on AWS's 2023 list only;
// sgsim takes the union of its lists), or an endpoint that routes CIDR
// blocks through an interface (a Gateway Load Balancer or Network
// Firewall endpoint; a gateway endpoint's routes name prefix lists and
// have no interface), or a DynamoDB gateway endpoint.
func alwaysTracked(r Route) bool {
	switch {
	case r.DynamoDB:
		return true
	case strings.HasPrefix(r.Target, "eigw-"), strings.HasPrefix(r.Target, "nat-"), strings.HasPrefix(r.Target, "tgw-"):
		return true
	case strings.HasPrefix(r.Target, "vpce-"):
		return r.Interface != ""
	}
	return false
}

// trackedGateway is a route's gateway whose flows AWS always tracks.
type trackedGateway struct {
	id     string // "": none
	double bool   // each flow takes two connection-tracking entries (DynamoDB)
}

// routeTarget is what a route goes to: its target for explanations, and
// the gateway whose flows AWS always tracks when it is one.
type routeTarget struct {
	name    string
	gateway trackedGateway
	// egressOnly is, for a route to an egress-only internet gateway, the
	// gateway's refusal of what the internet sends in unasked.
	egressOnly *hop
}

// trackingGateway returns the gateway whose flows AWS always tracks that
// the table sends traffic for a through, or the zero trackedGateway.
func (t *routeTable) trackingGateway(a netip.Addr) trackedGateway {
	if !t.tracks {
		return trackedGateway{}
	}
	rt, _ := t.targets.Lookup(a.Unmap())
	return rt.gateway
}

// lookup returns the appliance or drop the table sends traffic for a
// to, or nil for a route to any other target.
func (t *routeTable) lookup(a netip.Addr) *hop {
	h, ok := t.routes.Lookup(a)
	if !ok && a.IsGlobalUnicast() { // link-local and multicast traffic is not routed
		return t.noRoute
	}
	return h
}

// appliance returns the appliance a packet's route takes it through, or
// nil: the route its source subnet's table has for its destination, or,
// for a packet from the internet (a public source outside the modelled
// subnets), the route of its destination VPC's internet gateway table;
// or, for such a packet to an interface without a public IPv4 address,
// the NAT gateway that its subnet's route for the source goes through,
// first or after another appliance: only replies to what went out
// through the NAT gateway come back that way; or, for such an IPv6 packet
// to an interface whose subnet routes the source to an egress-only
// internet gateway, the gateway's check (a drop with EgressOnly, which
// the path applies only to a packet that answers no connection the
// interface opened). Traffic within a subnet is
// not routed, and an appliance is not routed through on its own traffic.
func appliance(r *routes, src, dst *Interface, srcNet, dstNet *subnetRoute, p *Packet) *hop {
	var h *hop
	switch {
	case srcNet != nil:
		if t := srcNet.table; t != nil && (t.matters || t.noRoute != nil) && srcNet != dstNet {
			h = t.lookup(p.Dst)
		}
	case dstNet != nil && isPublic(p.Src):
		if g := dstNet.gateway; g != nil && g.matters {
			h = g.lookup(p.Dst)
		}
		if t := dstNet.table; h == nil && t != nil && t.egressOnly && dst != nil && p.Src.Is6() {
			// The way back to the source is an egress-only internet
			// gateway, which lets in only what answers the instances.
			rt, _ := t.targets.Lookup(p.Src)
			h = rt.egressOnly
		}
		if t := dstNet.table; h == nil && t != nil && t.matters && dst != nil && p.Src.Is4() && !r.publicOf[p.Dst].IsValid() {
			// The request's way out: its subnet's route for the source, and
			// the hop after that (an inspection appliance, then the NAT
			// gateway, say).
			back, _ := t.routes.Lookup(p.Src)
			if back != nil && back.nat == nil {
				out := Packet{Src: p.Dst, Dst: p.Src}
				back = back.next(dst, src, nil, &out)
			}
			if back != nil && back.nat != nil {
				h = back
			}
		}
	}
	if h == nil || (h.drop == nil && (h.iface == src || h.iface == dst)) {
		return nil
	}
	return h
}

// maxHops is the most appliances one path goes through.
const maxHops = 2

// next returns the hop a packet meets after h on its way to dst: what
// the route of h's subnet's table for the destination does, when it
// sends the packet through another appliance or drops it; nil when it
// goes straight on.
func (h *hop) next(src, dst *Interface, dstNet *subnetRoute, p *Packet) *hop {
	if h == nil || h.drop != nil || h.sn == nil || h.sn == dstNet {
		return nil
	}
	t := h.sn.table
	if t == nil || (!t.matters && t.noRoute == nil) {
		return nil
	}
	n := t.lookup(p.Dst)
	if n == nil || n == h || (n.drop == nil && (n.iface == h.iface || n.iface == src || n.iface == dst)) {
		return nil
	}
	return n
}

// isPublic reports whether a is an internet address: not private, not
// loopback or link-local, not shared (100.64.0.0/10) or reserved.
func isPublic(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// AddRouteTable adds a route table. Its subnets, its gateway's VPC and the
// interfaces its routes name must be in its VPC; a subnet has one table,
// a VPC one main table and one table for its internet gateway.
func (n *Network) AddRouteTable(spec RouteTableSpec) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	bad := func(code *Code, field, value, msg string) error {
		return &Error{Code: code, Resource: spec.ID, Field: field, Value: value, Msg: msg}
	}
	if spec.ID == "" {
		return bad(ErrInvalidRouteTable, "RouteTableId", "", "missing")
	}
	if n.routeTables[spec.ID] != nil {
		return bad(ErrInvalidRouteTable, "RouteTableId", spec.ID, "defined twice")
	}
	if n.vpcs[spec.VpcID] == nil {
		return bad(ErrVPCNotFound, "VpcId", spec.VpcID, "")
	}
	for _, t := range n.routeTables {
		switch {
		case t.VpcID != spec.VpcID:
		case spec.Main && t.Main:
			return bad(ErrInvalidRouteTable, "Main", "", "a second main table: the VPC's is "+t.ID)
		case spec.Gateway != "" && t.Gateway == spec.Gateway:
			return bad(ErrInvalidRouteTable, "Gateway", spec.Gateway, "already associated with "+t.ID)
		}
	}
	for k, id := range spec.Subnets {
		field := fmt.Sprintf("Subnets[%d]", k)
		sn := n.subnets[id]
		switch {
		case sn == nil:
			return bad(ErrSubnetNotFound, field, id, "")
		case sn.VpcID != spec.VpcID:
			return bad(ErrInvalidRouteTable, field, id, fmt.Sprintf("the subnet is in %s, the table in %s", sn.VpcID, spec.VpcID))
		}
		for _, t := range n.routeTables {
			if slices.Contains(t.Subnets, id) {
				return bad(ErrInvalidRouteTable, field, id, "already associated with "+t.ID)
			}
		}
	}
	for k, r := range spec.Routes {
		field := fmt.Sprintf("Routes[%d]", k)
		if !r.Dest.IsValid() {
			return bad(ErrInvalidRouteTable, field+".Dest", "", "not a prefix")
		}
		if r.Interface == "" || r.Blackhole {
			continue
		}
		i := n.ifaces[r.Interface]
		switch {
		case i == nil:
			return bad(ErrInterfaceNotFound, field+".Interface", r.Interface, "")
		case i.vpcID != spec.VpcID:
			return bad(ErrInvalidRouteTable, field+".Interface", r.Interface, fmt.Sprintf("the interface is in %s, the table in %s", i.vpcID, spec.VpcID))
		}
	}
	spec.Subnets = slices.Clone(spec.Subnets)
	spec.Routes = slices.Clone(spec.Routes)
	spec.Unresolved = slices.Clone(spec.Unresolved)
	for k := range spec.Routes {
		spec.Routes[k].Dest = spec.Routes[k].Dest.Masked()
	}
	if n.routeTables == nil {
		n.routeTables = map[string]*RouteTable{}
	}
	n.routeTables[spec.ID] = &RouteTable{spec}
	n.changed()
	return nil
}

// SubnetRouteTable returns the route table that serves a subnet: the one
// explicitly associated with it, or its VPC's main table. ok is false
// when the files give neither.
func (n *Network) SubnetRouteTable(subnetID string) (t RouteTable, ok bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	sn := n.subnets[subnetID]
	if sn == nil {
		return RouteTable{}, false
	}
	var found *RouteTable
	for _, rt := range n.routeTables {
		if slices.Contains(rt.Subnets, subnetID) {
			found = rt
			break
		}
		if rt.Main && rt.VpcID == sn.VpcID {
			found = rt
		}
	}
	if found == nil {
		return RouteTable{}, false
	}
	c := *found
	c.Subnets, c.Routes = slices.Clone(found.Subnets), slices.Clone(found.Routes)
	return c, true
}

// RouteTables returns the route tables, by ID.
func (n *Network) RouteTables() []RouteTable {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]RouteTable, 0, len(n.routeTables))
	for _, t := range n.routeTables {
		c := *t
		c.Subnets, c.Routes = slices.Clone(t.Subnets), slices.Clone(t.Routes)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b RouteTable) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// compileRouteTables gives each subnet route its table (its own, or its
// VPC's main one) and its VPC's internet gateway table. It reports
// whether any table sends traffic to an interface or drops it: otherwise
// routing changes no verdict. Called with n.mu held, building a snapshot.
func (n *Network) compileRouteTables(bySubnet map[string]*subnetRoute) bool {
	appliances := false
	main, gateway, explicit := map[string]*routeTable{}, map[string]*routeTable{}, map[string]*routeTable{}
	for id, t := range n.routeTables {
		rt := &routeTable{id: id}
		// Every table routes its VPC's own blocks locally, listed or not;
		// a listed route for the same block replaces it.
		if v := n.vpcs[t.VpcID]; v != nil {
			for _, c := range v.CIDRs {
				rt.routes.Insert(c.Masked(), nil)
				rt.targets.Insert(c.Masked(), routeTarget{name: "local"})
			}
		}
		for _, r := range t.Routes {
			target := r.Target
			if r.Interface != "" {
				target = r.Interface
			}
			var h *hop
			switch i := n.ifaces[r.Interface]; {
			case r.Blackhole:
				h = &hop{drop: &RouteDrop{Table: id, Dest: r.Dest, Target: target}}
			case r.Interface != "" && i != nil:
				h = &hop{iface: i, sn: bySubnet[i.spec.SubnetID]}
				if i.spec.Type == TypeNATGateway {
					h.nat = &RouteDrop{Table: id, Dest: r.Dest, Target: target, NATGateway: true, Balancer: n.balancer(t.VpcID, false)}
					if strings.HasPrefix(r.Target, "nat-") {
						h.nat.Target = r.Target
					}
				}
			}
			rt.routes.Insert(r.Dest, h)
			rt.matters = rt.matters || h != nil
			rtt := routeTarget{name: target}
			if !r.Blackhole && alwaysTracked(r) {
				rtt.gateway = trackedGateway{id: r.Target, double: r.DynamoDB}
				rt.tracks = true
			}
			if !r.Blackhole && r.Interface == "" && strings.HasPrefix(r.Target, "eigw-") {
				rtt.egressOnly = &hop{drop: &RouteDrop{Table: id, Dest: r.Dest, Target: r.Target, EgressOnly: true, Balancer: n.balancer(t.VpcID, true)}}
				rt.egressOnly = true
			}
			rt.targets.Insert(r.Dest, rtt)
		}
		if len(t.Unresolved) == 0 {
			rt.noRoute = &hop{drop: &RouteDrop{Table: id, NoRoute: true}}
		}
		appliances = appliances || rt.matters || rt.noRoute != nil || rt.egressOnly
		if t.Main {
			main[t.VpcID] = rt
		}
		if t.Gateway != "" {
			gateway[t.VpcID] = rt
		}
		for _, sn := range t.Subnets {
			explicit[sn] = rt
		}
	}
	for id, sr := range bySubnet {
		vpc := n.subnets[id].VpcID
		if rt, ok := explicit[id]; ok {
			sr.table = rt
		} else {
			sr.table = main[vpc]
		}
		sr.gateway = gateway[vpc]
	}
	return appliances
}

// RoutesThroughAppliances reports whether some route table sends traffic
// through an interface, so that RouteVia can answer anything but nil.
func (n *Network) RoutesThroughAppliances() bool { return n.current().routes.appliances }

// RouteVia returns the appliance that a packet from src to dst is routed
// through (see [Path.Via]), or nil (also for a blackhole route).
func (n *Network) RouteVia(src, dst netip.Addr) *Interface {
	r := n.current().routes
	if !r.appliances {
		return nil
	}
	src, dst = src.Unmap(), dst.Unmap()
	p := Packet{Src: src, Dst: dst}
	if h := appliance(r, r.owner(src), r.owner(dst), r.subnetOf(src), r.subnetOf(dst), &p); h != nil && h.drop == nil {
		return h.iface
	}
	return nil
}

// trackingGateway returns the gateway whose flows AWS always tracks that
// the interface's subnet routes traffic for a through, or the zero
// trackedGateway.
func (i *Interface) trackingGateway(a netip.Addr) trackedGateway {
	sr := i.net.current().routes.bySubnet[i.spec.SubnetID]
	if sr == nil || sr.table == nil {
		return trackedGateway{}
	}
	return sr.table.trackingGateway(a)
}

// RouteTarget returns the target of the route that the route table of
// the interface's subnet has for dst: "local", an internet gateway
// (igw-...), a peering connection (pcx-...), an interface (eni-...), and
// so on; "" when the files give that subnet no route table, or the table
// no route.
func (i *Interface) RouteTarget(dst netip.Addr) string {
	sr := i.net.current().routes.bySubnet[i.spec.SubnetID]
	if sr == nil || sr.table == nil {
		return ""
	}
	t, _ := sr.table.targets.Lookup(dst.Unmap())
	return t.name
}
