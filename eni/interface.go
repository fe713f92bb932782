package eni

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/sg"
)

// Direction is a packet's direction at an interface. Its values equal
// [sg.Ingress]/[sg.Egress] and [conntrack.Inbound]/[conntrack.Outbound].
type Direction uint8

const (
	Inbound  Direction = iota // arriving at the interface
	Outbound                  // leaving the interface
)

func (d Direction) String() string {
	if d == Outbound {
		return "outbound"
	}
	return "inbound"
}

// InterfaceType is EC2's InterfaceType of a network interface.
type InterfaceType string

// Interface types, as EC2 spells them.
const (
	TypeInterface                   InterfaceType = "interface"
	TypeNATGateway                  InterfaceType = "natGateway"
	TypeNetworkLoadBalancer         InterfaceType = "network_load_balancer"
	TypeLoadBalancer                InterfaceType = "load_balancer"
	TypeGatewayLoadBalancer         InterfaceType = "gateway_load_balancer"
	TypeGatewayLoadBalancerEndpoint InterfaceType = "gateway_load_balancer_endpoint"
	TypeVPCEndpoint                 InterfaceType = "vpc_endpoint"
	TypeTransitGateway              InterfaceType = "transit_gateway"
	TypeLambda                      InterfaceType = "lambda"
	TypeGlobalAccelerator           InterfaceType = "global_accelerator_managed"
	TypeEFA                         InterfaceType = "efa"
	TypeTrunk                       InterfaceType = "trunk"
	TypeBranch                      InterfaceType = "branch"
)

// AutoTracked reports whether AWS tracks every flow of this interface
// type, whatever the rules say. AWS's 2023 and current lists differ; this
// is their union: NAT gateways, Network and Gateway Load Balancers, GWLB
// endpoints, interface VPC endpoints (PrivateLink), transit gateway
// attachments, Lambda Hyperplane interfaces and Global Accelerator.
func (t InterfaceType) AutoTracked() bool {
	switch t {
	case TypeNATGateway, TypeNetworkLoadBalancer, TypeGatewayLoadBalancer, TypeGatewayLoadBalancerEndpoint,
		TypeVPCEndpoint, TypeTransitGateway, TypeLambda, TypeGlobalAccelerator:
		return true
	}
	return false
}

// InterfaceSpec describes a network interface to create.
type InterfaceSpec struct {
	ID          string
	OwnerID     string
	SubnetID    string
	Type        InterfaceType // TypeInterface when empty
	Description string
	// InstanceID is the instance the interface is attached to, if any.
	InstanceID string
	// DeviceIndex is the attachment's device index: 0 for an instance's
	// primary interface.
	DeviceIndex int
	// InstanceType is that instance's type, when known.
	InstanceType string
	// Nitro says the instance is built on the AWS Nitro System. Flow logs
	// aggregate its interfaces' traffic over 60 s at most, whatever their
	// maximum aggregation interval.
	Nitro bool
	// PrivateIPv4 lists the private IPv4 addresses; the first is primary.
	PrivateIPv4 []netip.Addr
	// PublicIPv4 lists the public IPv4 addresses (auto-assigned or
	// Elastic IPs) associated with private ones. The internet gateway
	// translates between the two, so a packet that names a public address
	// is judged, as AWS judges it, with the private one in its place (see
	// [Path.Public]).
	PublicIPv4 []PublicIP
	IPv6       []netip.Addr
	// Prefixes are the IPv4 and IPv6 prefixes delegated to the interface
	// (prefix delegation, as EKS nodes use for their pods' addresses):
	// every address in them is the interface's, and rules referencing its
	// groups match them as they match its addresses.
	Prefixes []netip.Prefix
	// Groups are the attached security groups: 1 to the per-interface
	// quota (5 by default), all in the interface's VPC.
	Groups []string
	// RequesterManaged marks an interface an AWS service created. Such an
	// interface may have no groups at all (a NAT gateway's has none): then
	// nothing filters its traffic.
	RequesterManaged bool
	// DisableSourceDestCheck turns EC2's source/destination check off, as
	// for NAT instances and appliances. The check is on by default.
	DisableSourceDestCheck bool
	// ConnTrack sets the connection-tracking table; nil means AWS's
	// defaults (see [conntrack.DefaultConfig]).
	ConnTrack *conntrack.Config
}

// PublicIP is a public IPv4 address and the private one of the same
// interface it stands for.
type PublicIP struct {
	Public, Private netip.Addr
}

// Interface is a network interface: its addresses and groups, its
// connection-tracking table and its counters. Evaluating packets is safe
// from several goroutines; a network evaluates one packet (or one
// [FlowCache.JudgeEach] batch) at a time, so a packet's whole path is
// judged at once.
type Interface struct {
	net   *Network
	spec  InterfaceSpec // guarded by net.mu
	vpcID string
	index int
	// natName names a NAT gateway's interface's gateway: "NAT gateway
	// nat-0abc", from the description AWS gives the interface ("Interface
	// for NAT Gateway nat-0abc"), or "the NAT gateway of eni-0abc".
	natName string

	// Guarded by net.eval:
	table    *conntrack.Table
	dec      *Decoder // made on first use: most interfaces of a replay never decode
	compiled *compiled
	frags    fragCache
	local    linkLocalBudget
	stats    Stats
}

// Stats are an interface's counters.
type Stats struct {
	Allowed  [2]uint64 // by Direction
	Denied   [2]uint64
	ByReason [NumReasons]uint64
	// IdledOut counts the packets refused whose tracked connection had
	// gone idle past its timeout (as far as the table remembers: see
	// [conntrack.Table.Idled]).
	IdledOut uint64
	Tracking conntrack.Stats
}

// ID returns the interface ID.
func (i *Interface) ID() string { return i.spec.ID }

// Index returns a small number unique to the interface within its
// network (interfaces are numbered as they are added, from 0), for callers
// that keep per-interface figures in a slice.
func (i *Interface) Index() int { return i.index }

// Network returns the network the interface belongs to.
func (i *Interface) Network() *Network { return i.net }

// Spec returns a snapshot of the interface's settings.
func (i *Interface) Spec() InterfaceSpec {
	i.net.mu.RLock()
	s := i.spec
	s.PrivateIPv4 = slices.Clone(s.PrivateIPv4)
	s.IPv6 = slices.Clone(s.IPv6)
	s.Groups = slices.Clone(s.Groups)
	i.net.mu.RUnlock()
	// Lock order is net.eval before net.mu (evaluation compiles under
	// eval), so net.mu is released before the table is read.
	cfg := i.ConnTrackConfig()
	s.ConnTrack = &cfg
	return s
}

// VpcID returns the interface's VPC.
func (i *Interface) VpcID() string { return i.vpcID }

// Groups returns the attached security groups.
func (i *Interface) Groups() []string {
	i.net.mu.RLock()
	defer i.net.mu.RUnlock()
	return slices.Clone(i.spec.Groups)
}

// addrs returns every address of the interface. Called with net.mu held.
func (i *Interface) addrs() []netip.Addr {
	out := make([]netip.Addr, 0, len(i.spec.PrivateIPv4)+len(i.spec.IPv6))
	for _, a := range i.spec.PrivateIPv4 {
		out = append(out, a.Unmap())
	}
	return append(out, i.spec.IPv6...)
}

// members returns what a rule referencing one of the interface's groups
// matches: its addresses and its delegated prefixes. Called with net.mu
// held.
func (i *Interface) members() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(i.spec.PrivateIPv4)+len(i.spec.IPv6)+len(i.spec.Prefixes))
	for _, a := range i.addrs() {
		out = append(out, sg.HostPrefix(a))
	}
	return append(out, i.spec.Prefixes...)
}

// Prefixes returns the prefixes delegated to the interface.
func (i *Interface) Prefixes() []netip.Prefix {
	i.net.mu.RLock()
	defer i.net.mu.RUnlock()
	return slices.Clone(i.spec.Prefixes)
}

// Addrs returns the interface's private IPv4 and IPv6 addresses.
func (i *Interface) Addrs() []netip.Addr {
	i.net.mu.RLock()
	defer i.net.mu.RUnlock()
	return i.addrs()
}

// Stats returns the interface's counters.
func (i *Interface) Stats() Stats {
	i.net.eval.Lock()
	defer i.net.eval.Unlock()
	s := i.stats
	s.Tracking = i.table.Stats()
	return s
}

// ConnTrackConfig returns the connection-tracking settings in force.
func (i *Interface) ConnTrackConfig() conntrack.Config {
	i.net.eval.Lock()
	defer i.net.eval.Unlock()
	return i.table.Config()
}

// SetConnTrackConfig changes the interface's timeouts and capacity, as
// ModifyNetworkInterfaceAttribute --connection-tracking-specification does
// for the three AWS timeouts. Values outside AWS's ranges are refused.
func (i *Interface) SetConnTrackConfig(cfg conntrack.Config) error {
	i.net.eval.Lock()
	defer i.net.eval.Unlock()
	if err := i.table.SetConfig(cfg); err != nil {
		return &Error{Code: ErrConnTrack, Resource: i.spec.ID, Field: "ConnectionTrackingSpecification", Msg: err.Error()}
	}
	return nil
}

// compiled is everything evaluation reads, frozen at one generation of the
// network and the registry.
type compiled struct {
	regGen, netGen uint64
	rules          *sg.Ruleset
	// forwarded is rules without group references, for packets that came
	// through an appliance (see Verdict.Forwarded); made on first need.
	forwarded   *sg.Ruleset
	addrs       []netip.Addr
	prefixes    []netip.Prefix // delegated: the interface's too
	vpcCIDRs    []netip.Prefix
	services    serviceAddrs
	sdCheck     bool
	autoTracked bool
	port25      bool
	unfiltered  bool // a requester-managed interface without groups
	nat         bool // a NAT gateway's (unfiltered): its table is the gateway's translations
	// gateways is the subnet's route table, when some route of it goes
	// to a gateway whose flows AWS always tracks.
	gateways *routeTable
}

// current returns the compiled state, rebuilding it if the network or the
// registry changed since. Called with net.eval held.
func (i *Interface) current() *compiled {
	n := i.net
	rg, ng := n.groups.Generation(), n.gen.Load()
	if c := i.compiled; c != nil && c.regGen == rg && c.netGen == ng {
		return c
	}
	// The write lock: the snapshot may need rebuilding, and the state read
	// here must be of the generation recorded.
	n.mu.Lock()
	snap := n.currentLocked()
	// A Gateway Load Balancer endpoint forwards traffic that is neither
	// from nor to it by design: no source/destination check applies.
	// Gateway Load Balancer endpoints and NAT gateways forward by design.
	sdCheck := !i.spec.DisableSourceDestCheck && i.spec.Type != TypeGatewayLoadBalancerEndpoint && i.spec.Type != TypeNATGateway
	c := &compiled{netGen: snap.gen, addrs: i.addrs(), prefixes: slices.Clone(i.spec.Prefixes), sdCheck: sdCheck,
		autoTracked: i.spec.Type.AutoTracked(), port25: n.port25 && i.spec.Type == TypeInterface}
	groups := slices.Clone(i.spec.Groups)
	c.unfiltered = len(groups) == 0
	c.nat = c.unfiltered && i.spec.Type == TypeNATGateway
	if v := n.vpcs[i.vpcID]; v != nil {
		c.vpcCIDRs = slices.Clone(v.CIDRs)
		if p, ok := v.primary4(); ok {
			c.services.dns = offset(p, 2)
		}
	}
	if sr := snap.routes.bySubnet[i.spec.SubnetID]; sr != nil && sr.table != nil && sr.table.tracks {
		c.gateways = sr.table
	}
	if s := n.subnets[i.spec.SubnetID]; s != nil {
		if s.CIDR.IsValid() {
			c.services.router4 = offset(s.CIDR, 1)
		}
		if s.IPv6CIDR.IsValid() {
			c.services.router6 = offset(s.IPv6CIDR, 1)
		}
	}
	n.mu.Unlock()
	c.rules = n.ruleset(groups, snap, rg)
	c.regGen = c.rules.Generation()
	i.compiled = c
	return c
}

func (c *compiled) owns(a netip.Addr) bool {
	for _, x := range c.addrs {
		if x == a {
			return true
		}
	}
	for _, p := range c.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (c *compiled) inVPC(a netip.Addr) bool {
	for _, p := range c.vpcCIDRs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Evaluate judges a decoded packet crossing the interface in direction
// dir at time ts (the packet's timestamp: connection tracking runs on it).
// It allocates nothing.
func (i *Interface) Evaluate(dir Direction, p *Packet, ts time.Time) Verdict {
	i.net.eval.Lock()
	defer i.net.eval.Unlock()
	return i.evaluate(dir, p, ts.UnixNano(), true)
}

// Check judges a packet as [Interface.Evaluate] would, changing nothing:
// no connection is tracked or advanced and no counter moves. It answers
// "what if this packet arrived now".
func (i *Interface) Check(dir Direction, p *Packet, ts time.Time) Verdict {
	i.net.eval.Lock()
	defer i.net.eval.Unlock()
	return i.evaluate(dir, p, ts.UnixNano(), false)
}

// decoder returns the interface's decoder, made on first use: a decoder
// is 5 KB, and a network loaded from a large account holds thousands of
// interfaces that are judged as paths, never frame by frame. Called with
// net.eval held.
func (i *Interface) decoder() *Decoder {
	if i.dec == nil {
		i.dec = NewDecoder()
	}
	return i.dec
}

// EvaluateFrame decodes an Ethernet frame (802.1Q tags allowed) and judges
// it; see [Interface.Evaluate]. It allocates nothing.
func (i *Interface) EvaluateFrame(dir Direction, frame []byte, ts time.Time) Verdict {
	i.net.eval.Lock()
	defer i.net.eval.Unlock()
	var p Packet
	i.decoder().DecodeEthernet(frame, &p)
	return i.evaluate(dir, &p, ts.UnixNano(), true)
}

// EvaluatePacket judges a gopacket.Packet, taking its time from the
// packet's metadata. Packets whose first layer is IPv4 or IPv6 are read as
// raw IP; anything else as Ethernet.
func (i *Interface) EvaluatePacket(dir Direction, pkt gopacket.Packet) Verdict {
	i.net.eval.Lock()
	defer i.net.eval.Unlock()
	var p Packet
	ls := pkt.Layers()
	if len(ls) > 0 && (ls[0].LayerType() == layers.LayerTypeIPv4 || ls[0].LayerType() == layers.LayerTypeIPv6) {
		i.decoder().DecodeIP(pkt.Data(), &p)
	} else {
		i.decoder().DecodeEthernet(pkt.Data(), &p)
	}
	return i.evaluate(dir, &p, pkt.Metadata().Timestamp.UnixNano(), true)
}

// evaluate runs the stages of the interface's check; with commit false it
// changes no state. Called with net.eval held.
func (i *Interface) evaluate(dir Direction, p *Packet, now int64, commit bool) Verdict {
	v := Verdict{Packet: *p, Time: now}
	i.evaluateInto(&v, dir, p, now, commit, nil)
	return v
}

// evaluateInto is evaluate writing into v, which must be zero but for its
// Packet and Time, which it leaves to the caller: the path fills its
// stages in place rather than copying verdicts around. memo, when not nil,
// remembers what this kind of packet worked out before.
func (i *Interface) evaluateInto(v *Verdict, dir Direction, p *Packet, now int64, commit bool, memo *endMemo) {
	v.Interface, v.Direction = i, dir
	v.Action, v.Reason = i.judge(dir, p, now, commit, v, memo)
	if !commit {
		return
	}
	if v.Action == Allow {
		i.stats.Allowed[dir&1]++
	} else {
		i.stats.Denied[dir&1]++
	}
	i.stats.ByReason[v.Reason]++
	if v.IdledOut {
		i.stats.IdledOut++
	}
}

// endMemo is what one interface's check of one kind of packet (same
// addresses, protocol, ports, ICMP type, code and identifier, same
// direction) worked out that only a change of configuration can alter. It
// is valid while the interface's compiled state is the one it names.
type endMemo struct {
	c         *compiled
	pre       Reason // decided before connection tracking; ReasonNone: it was not
	svc       Service
	ruled     bool // m, ref and untracked are known
	untracked bool
	looked    bool // the check reached the table: ct is the packets' hint
	lane      lane // how the check last ended, if the fast lane can repeat it
	m         sg.Match
	ref       sg.RuleRef
	ct        conntrack.Hint
}

// opened reports whether p, from the internet, belongs to a live
// connection that the interface opened: what an egress-only internet
// gateway lets in. AWS tracks every flow through such a gateway
// (reference §2.3), and so does sgsim, at the instance's interface: its
// table holds every connection the gateway saw go out. Called with
// net.eval held.
func (i *Interface) opened(p *Packet, now int64) bool {
	var ctp conntrack.Packet
	setCT(&ctp, Inbound, p)
	c, ok := i.table.Peek(&ctp, now)
	return ok && c.Origin == conntrack.Dir(Outbound)
}

// idledOpened returns the connection that p, from the internet, belonged
// to until it idled out, when the interface opened it: why an egress-only
// internet gateway no longer lets p in. Called with net.eval held.
func (i *Interface) idledOpened(p *Packet, now int64) (conntrack.Conn, bool) {
	var ctp conntrack.Packet
	setCT(&ctp, Inbound, p)
	c, ok := i.table.Idled(&ctp, now)
	return c, ok && c.Origin == conntrack.Dir(Outbound)
}

// NATGatewayIdleTimeout is how long a NAT gateway keeps an idle TCP
// connection, a fixed figure: then it drops the connection, answers the
// next packet from inside with a reset and drops those from outside.
// It is the established timeout of a NAT gateway's interface's table.
const NATGatewayIdleTimeout = 350 * time.Second

// translate judges a TCP packet arriving at a NAT gateway's interface by
// the connections the gateway translates, which its interface's table
// holds: a SYN from a host inside opens one; the packets of a live one,
// from either side, pass; any other is refused, told when its connection
// idled out, but for a reset from outside, taken for the gateway's own.
// Only TCP: AWS documents the gateway's timeout for it alone, and the
// hosts' own tables judge the rest. The table sees each connection as
// its host inside does, opened outbound. Called with net.eval held.
func (i *Interface) translate(c *compiled, p *Packet, now int64, commit bool, v *Verdict) (Action, Reason) {
	dir := Inbound // from the internet: to the host inside
	for _, b := range c.vpcCIDRs {
		if b.Contains(p.Src) {
			dir = Outbound // from the host inside
			break
		}
	}
	var ctp conntrack.Packet
	setCT(&ctp, dir, p)
	var conn conntrack.Conn
	var ok bool
	if commit {
		conn, ok = i.table.Lookup(&ctp, now)
	} else {
		conn, ok = i.table.Peek(&ctp, now)
	}
	if ok {
		v.Conn, v.Tracked = conn, true
		return Allow, ReasonTranslated
	}
	// A SYN from inside opens a connection; so does any packet from
	// inside with pickup on (a capture that began mid-connection), as at
	// the hosts' interfaces, though it may be one the gateway dropped.
	if dir == Outbound {
		var res conntrack.Result
		if commit {
			conn, res = i.table.Track(&ctp, 0, now)
		} else {
			res = i.table.CanTrack(&ctp)
		}
		switch res {
		case conntrack.Created:
			v.Conn, v.Tracked, v.NewConn = conn, true, true
			return Allow, ReasonTranslated
		case conntrack.Full:
			return Deny, ReasonConnTrackFull
		}
	}
	if dir == Inbound && p.TCPFlags&RST != 0 {
		// The internet's resets of unknown connections go no further
		// than the gateway; one that reaches a host inside, in a capture
		// taken there, is the gateway's own, sent in the far end's name
		// when the host went on with a connection the gateway dropped.
		return Allow, ReasonNATReset
	}
	if gone, idled := i.table.Idled(&ctp, now); idled {
		v.Conn, v.IdledOut = gone, true
	}
	return Deny, ReasonNoTranslation
}

// natName names the gateway of a NAT gateway's interface, for
// explanations.
func natName(spec InterfaceSpec) string {
	for _, w := range strings.Fields(spec.Description) {
		if strings.HasPrefix(w, "nat-") {
			return "NAT gateway " + w
		}
	}
	return "the NAT gateway of " + spec.ID
}

// setCT sets c to the connection-tracking table's view of the packet at
// one end of its path. Field by field: a composite literal is built aside
// and copied, on every packet of the fast lane.
func setCT(c *conntrack.Packet, dir Direction, p *Packet) {
	if dir == Inbound {
		c.Local, c.Remote, c.LocalPort, c.RemotePort = p.Dst, p.Src, p.DstPort, p.SrcPort
	} else {
		c.Local, c.Remote, c.LocalPort, c.RemotePort = p.Src, p.Dst, p.SrcPort, p.DstPort
	}
	c.ICMPID, c.Proto, c.Dir, c.TCPFlags, c.ICMPType = p.ICMPID, p.Proto, conntrack.Dir(dir), p.TCPFlags, p.ICMPType
}

// forwardedRules returns the interface's rules less those that reference
// groups: what a packet that came through an appliance meets. Interfaces
// with the same groups share them, as they share their rules. Called
// with net.eval held.
func (i *Interface) forwardedRules(c *compiled) *sg.Ruleset {
	if c.forwarded == nil {
		i.net.mu.RLock()
		groups := slices.Clone(i.spec.Groups)
		i.net.mu.RUnlock()
		c.forwarded = i.net.cachedRuleset("forwarded:"+strings.Join(groups, ","), groups, c.netGen, c.regGen, nil)
	}
	return c.forwarded
}

// match finds the rule that admits the packet and tells whether the flow
// it admits is untracked.
func (c *compiled) match(dir Direction, p *Packet, remote netip.Addr) (m sg.Match, ref sg.RuleRef, untracked bool) {
	return c.matchIn(c.rules, dir, p, remote)
}

// matchIn is match in the given rules.
func (c *compiled) matchIn(rules *sg.Ruleset, dir Direction, p *Packet, remote netip.Addr) (m sg.Match, ref sg.RuleRef, untracked bool) {
	m = rules.Lookup(sg.Direction(dir), p.Proto, sg.Key(p.Proto, p.DstPort, p.ICMPType, p.ICMPCode), remote)
	if m.OK() {
		ref = rules.Ref(m)
		// AWS §2.2: a TCP or UDP flow is untracked when the rule admitting
		// it is open to the world and the other direction is open to the
		// world on every port, unless the interface type is always
		// tracked, or (§2.3) the flow goes through a gateway that AWS
		// always tracks. Gateways have no security groups of their own, so
		// AWS's tracking of their flows is the instances'.
		untracked = !c.autoTracked && (p.Proto == 6 || p.Proto == 17) && m.World &&
			rules.OpenToWorld(sg.Direction(dir^1), p.Proto, remote.Is6()) && c.trackingGateway(remote).id == ""
	}
	return m, ref, untracked
}

// trackedForGateway reports whether a flow that opened a connection is
// tracked only because it goes through a gateway whose flows AWS always
// tracks, or by a Network Load Balancer (balancer, when not ""): the
// rules alone would leave it untracked.
func (c *compiled) trackedForGateway(rules *sg.Ruleset, dir Direction, p *Packet, m sg.Match, remote netip.Addr, balancer string) bool {
	return (balancer != "" || (c.gateways != nil && c.trackingGateway(remote).id != "")) && m.World && !c.autoTracked &&
		(p.Proto == 6 || p.Proto == 17) && rules.OpenToWorld(sg.Direction(dir^1), p.Proto, remote.Is6())
}

// trackingGateway returns the gateway whose flows AWS always tracks that
// the interface's subnet routes traffic to and from remote through, or
// the zero trackedGateway.
func (c *compiled) trackingGateway(remote netip.Addr) trackedGateway {
	if c.gateways == nil {
		return trackedGateway{}
	}
	return c.gateways.trackingGateway(remote)
}

// before runs the checks that come before connection tracking: traffic
// security groups never filter, the source/destination check, EC2's port
// 25 block, an interface without groups. It returns ReasonNone when none
// of them decides.
func (c *compiled) before(dir Direction, p *Packet, local, remote netip.Addr) (Reason, Service) {
	if svc := c.services.service(p, remote); svc != NoService {
		return ReasonService, svc
	}
	if c.sdCheck && !c.owns(local) {
		return ReasonSourceDestCheck, NoService
	}
	if dir == Outbound && c.port25 && p.Proto == 6 && p.DstPort == 25 && !c.inVPC(remote) {
		return ReasonPort25, NoService
	}
	if c.unfiltered {
		return ReasonNoGroups, NoService
	}
	return ReasonNone, NoService
}

func (i *Interface) judge(dir Direction, p *Packet, now int64, commit bool, v *Verdict, memo *endMemo) (Action, Reason) {
	switch {
	case p.Status == NotIP:
		return Deny, ReasonNotIP
	case p.Status != Decoded || !p.Src.IsValid() || !p.Dst.IsValid():
		return Deny, ReasonMalformed
	}
	c := i.current()
	local, remote := p.ends(dir)
	var pre Reason
	var svc Service
	if memo != nil && memo.c == c {
		pre, svc = memo.pre, memo.svc
	} else {
		pre, svc = c.before(dir, p, local, remote)
		if memo != nil {
			*memo = endMemo{c: c, pre: pre, svc: svc}
		}
	}
	switch pre {
	case ReasonNone:
	case ReasonService:
		v.Service = svc
		if dir == Outbound && svc.linkLocalLimited() && !i.local.spend(now, commit) {
			return Deny, ReasonLinkLocalLimit
		}
		return Allow, ReasonService
	case ReasonNoGroups:
		if c.nat && dir == Inbound && p.Proto == 6 && p.Fragment != LaterFragment {
			return i.translate(c, p, now, commit, v)
		}
		return Allow, ReasonNoGroups
	default:
		return Deny, pre
	}
	if p.Fragment == LaterFragment {
		if i.frags.allowed(dir, p, now) {
			return Allow, ReasonFragment
		}
		return Deny, ReasonFragmentUnmatched
	}

	var ctPkt conntrack.Packet
	ctp := &ctPkt
	setCT(ctp, dir, p)
	var conn conntrack.Conn
	var ok bool
	switch {
	case !commit:
		conn, ok = i.table.Peek(ctp, now)
	case memo != nil:
		memo.looked = true
		ok = i.table.LookupHint(ctp, now, &memo.ct, &conn)
	default:
		conn, ok = i.table.Lookup(ctp, now)
	}
	if ok {
		v.Conn, v.Tracked, v.Rule = conn, true, sg.RuleRef(conn.Tag)
		if commit {
			i.frags.note(dir, p, now)
		}
		return Allow, ReasonTracked
	}

	var m sg.Match
	var untracked bool
	rules := c.rules
	switch {
	case v.Forwarded:
		// Through an appliance: rules referencing groups do not match
		// (AWS's middlebox limitation). Never memoised.
		rules = i.forwardedRules(c)
		m, v.Rule, untracked = c.matchIn(rules, dir, p, remote)
	case memo != nil && memo.ruled:
		m, untracked, v.Rule = memo.m, memo.untracked, memo.ref
	default:
		m, v.Rule, untracked = c.match(dir, p, remote) // no rule: v.Rule is 0
		// AWS tracks every flow through a Network Load Balancer (§2.3);
		// whether the packet goes by one is the same for its whole kind.
		untracked = untracked && v.balancer == ""
		if memo != nil {
			memo.m, memo.untracked, memo.ref, memo.ruled = m, untracked, v.Rule, true
		}
	}
	if !m.OK() {
		// A packet of a connection that has idled out, not one opening a
		// new one, is told what it lost.
		if p.Proto != 6 || p.TCPFlags&(SYN|ACK) != SYN {
			if conn, ok := i.table.Idled(ctp, now); ok {
				v.Conn, v.IdledOut = conn, true
			}
		}
		return Deny, ReasonNoRule
	}
	if untracked {
		v.Untracked = true
		if commit {
			rules.Count(m, false)
			i.frags.note(dir, p, now)
		}
		return Allow, ReasonRule
	}
	// AWS counts two entries for a connection through a DynamoDB gateway
	// endpoint (reference §2.3).
	ctp.Double = c.gateways != nil && c.trackingGateway(remote).double
	if !commit {
		switch i.table.CanTrack(ctp) {
		case conntrack.Full:
			return Deny, ReasonConnTrackFull
		case conntrack.Created:
			v.Tracked, v.NewConn = true, true
			v.ThroughGateway = c.trackedForGateway(rules, dir, p, m, remote, v.balancer)
		}
		return Allow, ReasonRule
	}
	var res conntrack.Result
	if memo != nil {
		conn, res = i.table.TrackHint(ctp, uint32(v.Rule), now, &memo.ct)
	} else {
		conn, res = i.table.Track(ctp, uint32(v.Rule), now)
	}
	switch res {
	case conntrack.Full:
		return Deny, ReasonConnTrackFull
	case conntrack.Created:
		v.Conn, v.Tracked, v.NewConn = conn, true, true
		v.ThroughGateway = c.trackedForGateway(rules, dir, p, m, remote, v.balancer)
	}
	rules.Count(m, res == conntrack.Created)
	i.frags.note(dir, p, now)
	return Allow, ReasonRule
}

// ExpireConnections drops every tracked connection idle for its timeout as
// of ts. Evaluation expires entries on its own; call this before reading
// [Interface.Stats] or [Interface.Connections] at the end of a replay.
func (i *Interface) ExpireConnections(ts time.Time) {
	i.net.eval.Lock()
	defer i.net.eval.Unlock()
	i.table.Expire(ts.UnixNano())
}
