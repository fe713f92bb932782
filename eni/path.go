package eni

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/nacl"
)

// StageKind names a stage of a packet's path through the VPC.
type StageKind uint8

const (
	StageSourceGroups StageKind = iota // the source interface's security groups, outbound
	StageSourceACL                     // the source subnet's network ACL, outbound
	StageDestACL                       // the destination subnet's network ACL, inbound
	StageDestGroups                    // the destination interface's security groups, inbound

	// A packet that a route sends through an appliance (see [Path.Via])
	// meets it between the source's stages and the destination's.
	StageApplianceACLIn  // the appliance's subnet's network ACL, inbound
	StageApplianceIn     // the appliance's security groups, inbound
	StageApplianceOut    // the appliance's security groups, outbound
	StageApplianceACLOut // the appliance's subnet's network ACL, outbound
	// A blackhole route drops the packet after the source's stages; an
	// egress-only internet gateway or a NAT gateway drops what the
	// internet sends in unasked, before any other stage.
	StageRoute
)

var stageNames = [...]string{"source security groups", "source subnet ACL", "destination subnet ACL", "destination security groups",
	"appliance subnet ACL in", "appliance security groups in", "appliance security groups out", "appliance subnet ACL out",
	"route"}

// ACL reports whether the stage is a network ACL's.
func (k StageKind) ACL() bool {
	return k == StageSourceACL || k == StageDestACL || k == StageApplianceACLIn || k == StageApplianceACLOut
}

// Outbound reports whether the stage judges the packet leaving its
// interface or subnet.
func (k StageKind) Outbound() bool {
	return k == StageSourceGroups || k == StageSourceACL || k == StageApplianceOut || k == StageApplianceACLOut
}

func (k StageKind) String() string {
	if int(k) < len(stageNames) {
		return stageNames[k]
	}
	return "invalid"
}

// Stage is one check on a packet's path and its outcome.
type Stage struct {
	Kind    StageKind
	Allowed bool
	// Hypothetical marks a stage the packet never reached because an
	// earlier stage refused it: judged all the same, without effect, so a
	// refusal names every setting to change.
	Hypothetical bool
	// Hop tells, for an appliance's stage, which appliance on the path
	// it is: 0 for the first ([Path.Vias]), 1 for the second.
	Hop uint8
	// Verdict is the interface's verdict, for security group stages.
	Verdict Verdict
	// ACL, Subnet and ACLResult describe a network ACL stage.
	ACL       *nacl.ACL
	Subnet    string
	ACLResult nacl.Result
	// Route is the route table's refusal of a StageRoute stage: a
	// blackhole route, no route at all, or an egress-only internet
	// gateway's or a NAT gateway's refusal.
	Route *RouteDrop
}

// ReasonSubnetACL is the Reachability Analyzer code for a refusal by a
// subnet's network ACL.
const ReasonSubnetACL = "SUBNET_ACL_RESTRICTION"

// Path is the verdict on a packet's whole path: source interface, subnet
// ACLs, destination interface, as AWS applies them. Stages lists only the
// stages that apply: ACLs only when the packet leaves or enters a subnet,
// interfaces only where an address belongs to a modelled one.
type Path struct {
	Action  Action
	Packet  Packet
	Service Service // traffic security groups and ACLs never filter
	Src     *Interface
	Dst     *Interface
	vias    [maxHops]*Interface
	stages  [4]Stage
	// wide holds the stages instead when the path goes through an
	// appliance (useWide): up to twelve of them, through two. Made on
	// first need and kept, as a replay reuses its Paths, so that the
	// common path stays small.
	wide    *[4 + 4*maxHops]Stage
	useWide bool
	n       int
	// lazy marks that the interface stages' verdicts still lack the packet
	// and its time, which Stages fills in from the path's, and that fields
	// of the other kind of stage may be stale, which it clears: most
	// callers of a replay never read them.
	lazy bool
	now  int64
	// public holds the public addresses the packet named, when the
	// internet gateway's translation put private ones in their place.
	public publicPair
	// balancer names the Network Load Balancer the packet went by, to its
	// target or back from it, past the routes (Network.AddTargetGroup).
	balancer string
	// where remembers where the previous packet judged into this Path
	// went: captures run flow by flow, so the next packet is often between
	// the same two addresses, either way round.
	where route
}

// publicPair is what translate replaced: valid only when on, and each
// address only when that end was translated or, in a hairpin, has one.
type publicPair struct {
	on       bool
	src, dst netip.Addr
	// hairpin marks a packet between two interfaces by way of a public
	// address; views are the packet as the source sends it and as the
	// destination receives it (no valid source when the source has no
	// public address).
	hairpin bool
	views   [2]Packet
}

// Public reports the public IPv4 addresses the packet named when it
// reached the VPC through the internet gateway, which puts the private
// address of the same interface in their place before any check (AWS
// judges, and flow logs record, the private one): src or dst is valid
// where that end was translated, and Packet holds the private address.
// ok is false when neither was. For a hairpin (see [Path.Hairpin]), src
// and dst are the two ends' public addresses, where they have one.
func (p *Path) Public() (src, dst netip.Addr, ok bool) {
	if !p.public.on {
		return netip.Addr{}, netip.Addr{}, false
	}
	return p.public.src, p.public.dst, true
}

// Hairpin reports whether the packet went from one interface to another
// by way of the other's public address, out through the internet gateway
// and back in, and if so the packet as each side saw it: sent leaves the
// source for the destination's public address; received reaches the
// destination from the source's public address. The source side's stages
// judge sent, the destination side's received, and both subnets' ACLs
// apply, even within one subnet. A rule referencing the source's group
// does not match received, as AWS's do not match traffic by public
// address. A source without a public address cannot go out through the
// gateway (a NAT gateway, which the files do not model, would lend it
// one): received then has no valid source and only the source side is
// judged. Packet has both private addresses.
func (p *Path) Hairpin() (sent, received Packet, ok bool) {
	if !p.public.on || !p.public.hairpin {
		return Packet{}, Packet{}, false
	}
	return p.public.views[0], p.public.views[1], true
}

// Via returns the appliance that a route sent the packet through (a
// route table's route to a network interface, such as a firewall's), or
// nil. The packet meets the appliance's subnet's ACL and its security
// groups, in and out, between the source's stages and the destination's;
// at the destination, rules referencing groups do not match it: AWS
// matches a group reference by the interface the traffic came from, and it
// came from the appliance ([Verdict.Forwarded]). See [Path.Vias] for a
// path through two.
func (p *Path) Via() *Interface { return p.vias[0] }

// Balancer names the internet-facing Network Load Balancer the packet
// went by, to its target or from it back to the client, keeping the
// client's address ("net/web/50dc6c495c0c9188"); "" when it went by
// none. See [Network.AddTargetGroup].
func (p *Path) Balancer() string { return p.balancer }

// Vias returns the appliances on the path, in order: none, the one of
// Via, or two, when the first's subnet routes the packet through a
// second (a Gateway Load Balancer endpoint, then a NAT gateway, say). The
// slice aliases the Path.
func (p *Path) Vias() []*Interface {
	switch { // filled in order: a second only after a first
	case p.vias[1] != nil:
		return p.vias[:2]
	case p.vias[0] != nil:
		return p.vias[:1]
	}
	return p.vias[:0]
}

// route is where two addresses live, as of one routing snapshot.
type route struct {
	routes     *routes
	a, b       netip.Addr
	ifA, ifB   *Interface
	netA, netB *subnetRoute
}

// lookup returns the interfaces and subnets of src and dst, from the
// remembered route when it is for the same snapshot and addresses.
func (rt *route) lookup(r *routes, src, dst netip.Addr) (srcIf, dstIf *Interface, srcNet, dstNet *subnetRoute) {
	if rt.routes == r {
		switch {
		case rt.a == src && rt.b == dst:
			return rt.ifA, rt.ifB, rt.netA, rt.netB
		case rt.a == dst && rt.b == src:
			return rt.ifB, rt.ifA, rt.netB, rt.netA
		}
	}
	srcIf, dstIf, srcNet, dstNet = r.owner(src), r.owner(dst), r.subnetOf(src), r.subnetOf(dst)
	*rt = route{routes: r, a: src, b: dst, ifA: srcIf, ifB: dstIf, netA: srcNet, netB: dstNet}
	return srcIf, dstIf, srcNet, dstNet
}

// setPacket copies the packet into the path, unless the caller decoded it
// there, as a replay does.
func (p *Path) setPacket(pkt *Packet) {
	if pkt != &p.Packet {
		p.Packet = *pkt
	}
}

// Stages returns the stages that applied, in path order. The slice aliases
// the Path.
func (p *Path) Stages() []Stage {
	if p.lazy {
		// The fast lane leaves the fields of the other kind of stage as an
		// earlier packet left them.
		st := p.all()
		for k := range st[:p.n] {
			if s := &st[k]; !s.Kind.ACL() {
				s.Verdict.Packet, s.Verdict.Time = p.Packet, p.now
				if p.public.on && p.public.hairpin {
					s.Verdict.Packet = p.public.views[0]
					if s.Kind == StageDestGroups {
						s.Verdict.Packet = p.public.views[1]
					}
				}
				s.ACL, s.Subnet, s.ACLResult = nil, "", nacl.Result{}
			} else {
				s.Verdict = Verdict{}
			}
		}
		p.lazy = false
	}
	return p.all()[:p.n]
}

// Allowed reports whether the packet reaches its destination.
func (p Path) Allowed() bool { return p.Action == Allow }

// all returns the stages' storage in use.
func (p *Path) all() []Stage {
	if p.useWide {
		return p.wide[:]
	}
	return p.stages[:]
}

// clone returns a copy of the path that shares no storage with it.
func (p *Path) clone() Path {
	c := *p
	if c.wide != nil {
		w := *c.wide
		c.wide = &w
	}
	return c
}

// Skip reports whether no stage applied: neither end is a modelled
// interface nor in a modelled subnet, or the packet is not IP.
func (p *Path) Skip() bool { return p.n == 0 && p.Service == NoService }

// Refusals returns every stage that refused the packet, the hypothetical
// ones included.
func (p *Path) Refusals() []Stage {
	var out []Stage
	for _, s := range p.Stages() {
		if !s.Allowed {
			out = append(out, s)
		}
	}
	return out
}

// Judge follows a packet from its source to its destination at time ts;
// see [Network.JudgeInto].
func (n *Network) Judge(p *Packet, ts time.Time) Path {
	var out Path
	n.JudgeInto(p, ts, &out)
	return out
}

// Exchange judges a connection's first packet at ts and the reply it gets
// ([Packet.Reply]) a millisecond later, as if both were sent: the request
// opens what tracked connections it opens, and the reply rides them. A
// connection works only if both are allowed; a test of a design can say
//
//	req, rep := n.Exchange(&syn, ts)
//	if err := errors.Join(req.Err(), rep.Err()); err != nil { t.Error(err) }
func (n *Network) Exchange(req *Packet, ts time.Time) (request, reply Path) {
	request = n.Judge(req, ts)
	rep := req.Reply()
	reply = n.Judge(&rep, ts.Add(time.Millisecond))
	return request, reply
}

// Err returns nil when the packet reaches its destination, and otherwise
// an error that explains the path stage by stage (as String does).
func (p *Path) Err() error {
	if p.Allowed() {
		return nil
	}
	return &RefusedError{Path: p.clone()}
}

// RefusedError is a refused path, from [Path.Err]: its message explains
// every stage, and Path.Refusals names every setting in the way.
type RefusedError struct{ Path Path }

func (e *RefusedError) Error() string { return e.Path.String() }

// JudgeInto follows a packet along its path and writes the outcome to out.
// A packet that names a public IPv4 address of an interface is judged
// with the interface's private address in its place, as the internet
// gateway translates it before any check ([Path.Public] tells). Then:
//
//  1. if the source address belongs to a modelled interface, its outbound
//     check (a tracked connection, or the security groups' rules);
//  2. if the packet leaves a modelled subnet, that subnet's ACL outbound;
//  3. if it enters a modelled subnet, that subnet's ACL inbound;
//  4. if the destination belongs to a modelled interface, its inbound check.
//
// ACLs apply only between subnets, never inside one. Connection tracking
// sees the packet at the source if it leaves the source, and at the
// destination only if every earlier stage let it through; stages after a
// refusal are judged without effect. Traffic that security groups never
// filter (Amazon DNS, IMDS, ...) skips ACLs too. It allocates nothing.
func (n *Network) JudgeInto(p *Packet, ts time.Time, out *Path) {
	n.eval.Lock()
	p, _ = n.current().routes.translate(p, out)
	n.judgeInto(p, ts, out, nil, &out.where)
	n.eval.Unlock()
}

// judgeInto is JudgeInto with, when fe is not nil, a flow cache entry for
// this kind of packet: what it remembers is used while still valid, and
// what it lacks is worked out and kept. rt remembers a route, used when
// it is for the packet's two addresses. Called with n.eval held.
func (n *Network) judgeInto(p *Packet, ts time.Time, out *Path, fe *flowEntry, rt *route) {
	// Reset field by field: stages are cleared as they are added, so the
	// unused ones cost nothing.
	out.Action, out.Service, out.Src, out.Dst, out.vias, out.useWide, out.n = Deny, NoService, nil, nil, [maxHops]*Interface{}, false, 0
	out.balancer = ""
	out.setPacket(p)
	if p.Status != Decoded || !p.Src.IsValid() || !p.Dst.IsValid() {
		return
	}
	now := ts.UnixNano()
	out.lazy, out.now = true, now
	var src, dst *Interface
	var srcNet, dstNet *subnetRoute
	var via, via2 *hop
	routes := n.current().routes
	if fe != nil && fe.routes == routes {
		src, dst, srcNet, dstNet, via, via2 = fe.src, fe.dst, fe.srcNet, fe.dstNet, fe.via, fe.via2
	} else {
		src, dst, srcNet, dstNet = rt.lookup(routes, p.Src, p.Dst)
		if p.MirrorCopy {
			src = nil // a copy passes its source's groups unjudged
		}
		if routes.balancers != nil && !out.public.hairpin {
			via = routes.balanced(src, dst, srcNet, dstNet, p)
		}
		if via == nil && routes.appliances && !out.public.hairpin {
			via = appliance(routes, src, dst, srcNet, dstNet, p)
			via2 = via.next(src, dst, dstNet, p)
		}
		if fe != nil {
			fe.routes, fe.src, fe.dst, fe.srcNet, fe.dstNet, fe.via, fe.via2 = routes, src, dst, srcNet, dstNet, via, via2
		}
	}
	// An egress-only internet gateway is no appliance: the path is the
	// plain one, if the gateway lets the packet in. A NAT gateway's
	// interface is one, on the way in from the internet too, if the
	// gateway lets the packet in.
	var balancer *hop
	if via != nil && via.balancer != "" {
		// The balancer's way has a stage only when it refuses the packet:
		// the packet meets the target's ACL and groups alone.
		out.balancer, balancer, via, via2 = via.balancer, via, nil, nil
	}
	var gate *RouteDrop
	switch {
	case via != nil && via.drop != nil && via.drop.EgressOnly:
		gate, via, via2 = via.drop, nil, nil
	case via != nil && via.nat != nil && srcNet == nil:
		gate = via.nat
	}
	var srcMemo, dstMemo *endMemo
	var srcACL, dstACL *aclMemo
	if fe != nil {
		// The ends' memos hold the same for a path through an appliance:
		// what the rules decide before tracking, and where the tables keep
		// the flow (rules for a forwarded packet are never memoised). The
		// ACL memos are of the path without one: an appliance's subnet
		// adds stages of its own.
		srcMemo, dstMemo = &fe.ends[0], &fe.ends[1]
		if via == nil {
			srcACL, dstACL = &fe.acls[0], &fe.acls[1]
		}
	}
	if via != nil {
		if out.wide == nil {
			out.wide = new([4 + 4*maxHops]Stage)
		}
		out.useWide = true
	}
	// sent is the packet as the source side sees it, received as the
	// destination side does: the same packet, but for a hairpin.
	sent, received, viaGateway := p, p, false
	if out.public.on && out.public.hairpin {
		sent, received, viaGateway = &out.public.views[0], &out.public.views[1], true
		if !received.Src.IsValid() {
			dst, dstNet = nil, nil // it never reaches the gateway
		}
	}
	out.Src, out.Dst = src, dst
	ok := true
	var nlbHint *conntrack.Hint
	if fe != nil {
		nlbHint = &fe.nlb
	}
	// The balancer meets a client's packet first: its flow opens there,
	// even for a SYN the target's groups then refuse (AWS says nothing of
	// its order; this is the order of the path).
	if balancer != nil && src == nil && !out.passBalancer(balancer, received, true, now, nlbHint) {
		return // refused by the balancer: the target's stages never see it
	}
	if gate != nil && !dst.opened(received, now) {
		// Refused at the edge of the VPC: nothing inside meets it.
		s := out.add(StageRoute)
		s.Route, s.Allowed = gate, false
		// The interface's name stays off the stage: it is no check of the
		// interface's.
		s.Verdict.Conn, s.Verdict.IdledOut = dst.idledOpened(received, now)
		return
	}
	if src != nil {
		s := out.add(StageSourceGroups)
		s.Verdict.balancer = out.balancer
		src.evaluateInto(&s.Verdict, Outbound, sent, now, true, srcMemo)
		s.Allowed = s.Verdict.Action == Allow // not Allowed(): it copies the verdict
		switch s.Verdict.Reason {
		case ReasonService:
			out.service(s.Verdict.Service)
			return
		case ReasonLinkLocalLimit:
			// Never filtered, so no later stage applies, but dropped here.
			out.service(s.Verdict.Service)
			out.Action, out.all()[0].Allowed = Deny, false
			return
		}
		ok = s.Allowed
	}
	switch {
	case via != nil && via.drop != nil:
		// A blackhole route: the packet leaves its subnet and goes no
		// further.
		ok = out.addACL(StageSourceACL, srcNet, nil, sent, ok)
		s := out.add(StageRoute)
		s.Route, s.Allowed, s.Hypothetical = via.drop, false, !ok
		ok = false
		dst = nil
	case via != nil:
		// Through the appliance: into its subnet and interface, out again;
		// and through a second, when the first's subnet routes there.
		if srcNet != via.sn {
			ok = out.addACL(StageSourceACL, srcNet, nil, sent, ok)
			ok = out.addACL(StageApplianceACLIn, via.sn, nil, sent, ok)
		}
		ok = out.addAppliance(via, 0, sent, now, ok)
		last := via
		switch {
		case via2 != nil && via2.drop != nil:
			// Dropped as it leaves the appliance's subnet.
			ok = out.addACL(StageApplianceACLOut, via.sn, nil, sent, ok)
			s := out.add(StageRoute)
			s.Route, s.Allowed, s.Hypothetical = via2.drop, false, !ok
			ok, dst, last = false, nil, nil
		case via2 != nil:
			if via.sn != via2.sn {
				ok = out.addACL(StageApplianceACLOut, via.sn, nil, sent, ok)
				k := out.n
				ok = out.addACL(StageApplianceACLIn, via2.sn, nil, sent, ok)
				out.setHop(k, 1)
			}
			ok = out.addAppliance(via2, 1, sent, now, ok)
			last = via2
		}
		if last != nil && last.sn != dstNet {
			k := out.n
			ok = out.addACL(StageApplianceACLOut, last.sn, nil, received, ok)
			out.setHop(k, uint8(out.hops()-1))
			ok = out.addACL(StageDestACL, dstNet, nil, received, ok)
		}
	case srcNet != dstNet || viaGateway:
		// addACL's work, written out: this is every new flow's path.
		if srcNet != nil && srcNet.acl != nil {
			s := out.add(StageSourceACL)
			s.ACL, s.Subnet = srcNet.acl, srcNet.id
			s.ACLResult = srcACL.evaluate(srcNet.acl, true, sent, sent.Dst)
			s.Allowed, s.Hypothetical = s.ACLResult.Allowed(), !ok
			ok = ok && s.Allowed
		}
		if dstNet != nil && dstNet.acl != nil {
			s := out.add(StageDestACL)
			s.ACL, s.Subnet = dstNet.acl, dstNet.id
			s.ACLResult = dstACL.evaluate(dstNet.acl, false, received, received.Src)
			s.Allowed, s.Hypothetical = s.ACLResult.Allowed(), !ok
			ok = ok && s.Allowed
		}
	}
	if balancer != nil && dst == nil && ok {
		// A target's packet back to its client, which the balancer sends
		// only on the client's flow.
		ok = out.passBalancer(balancer, sent, false, now, nlbHint)
	}
	if dst != nil {
		s := out.add(StageDestGroups)
		s.Verdict.Forwarded, s.Verdict.balancer = via != nil, out.balancer
		dst.evaluateInto(&s.Verdict, Inbound, received, now, ok, dstMemo)
		s.Allowed, s.Hypothetical = s.Verdict.Action == Allow, !ok
		if s.Verdict.Reason == ReasonService {
			out.service(s.Verdict.Service)
			return
		}
		ok = ok && s.Allowed
	}
	if out.n > 0 && ok {
		out.Action = Allow
	}
	// The ACLs' entries count the packets their answers applied to: not
	// those judged only to explain a refusal, nor traffic no ACL filters
	// (which returned above).
	st := out.all()
	for k := range st[:out.n] {
		if s := &st[k]; s.ACL != nil && !s.Hypothetical {
			s.ACLResult.Count()
		}
	}
}

// passBalancer judges q at the balancer h (see hop.pass) and, when it
// refuses q, adds the stage that says so. It reports whether h let q by.
func (p *Path) passBalancer(h *hop, q *Packet, fromClient bool, now int64, hint *conntrack.Hint) bool {
	s := p.add(StageRoute)
	if h.pass(q, fromClient, now, &s.Verdict, hint) {
		p.n-- // a balancer that lets a packet by adds no stage
		return true
	}
	s.Route = h.noFlow
	return false
}

// addACL adds the stage of a subnet's network ACL, unless the subnet has
// none (or is not modelled), judging q as it leaves or enters the subnet;
// ok says whether every earlier stage allowed the packet, and addACL
// returns whether this one did too.
func (p *Path) addACL(k StageKind, sn *subnetRoute, memo *aclMemo, q *Packet, ok bool) bool {
	if sn == nil || sn.acl == nil {
		return ok
	}
	s := p.add(k)
	s.ACL, s.Subnet = sn.acl, sn.id
	remote := q.Src
	if k.Outbound() {
		remote = q.Dst
	}
	s.ACLResult = memo.evaluate(sn.acl, k.Outbound(), q, remote)
	s.Allowed, s.Hypothetical = s.ACLResult.Allowed(), !ok
	return ok && s.Allowed
}

// addAppliance adds the stages of an appliance's security groups, in and
// out, as the path's hop-th appliance, and returns whether they allowed
// the packet (ok: every earlier stage did).
func (p *Path) addAppliance(h *hop, hop uint8, q *Packet, now int64, ok bool) bool {
	p.vias[hop] = h.iface
	for _, k := range [2]StageKind{StageApplianceIn, StageApplianceOut} {
		s := p.add(k)
		s.Hop = hop
		dir := Inbound
		if k == StageApplianceOut {
			dir = Outbound
		}
		h.iface.evaluateInto(&s.Verdict, dir, q, now, ok, nil)
		s.Allowed, s.Hypothetical = s.Verdict.Action == Allow, !ok
		ok = ok && s.Allowed
	}
	return ok
}

// setHop marks the stage at k, if one was added there, as the hop-th
// appliance's (stages are added as the first's).
func (p *Path) setHop(k int, hop uint8) {
	if k < p.n {
		p.all()[k].Hop = hop
	}
}

// hops returns how many appliances the path went through.
func (p *Path) hops() int { return len(p.Vias()) }

func (p *Path) add(k StageKind) *Stage {
	s := &p.all()[p.n]
	*s = Stage{}
	s.Kind = k
	p.n++
	return s
}

// service marks the path as never-filtered traffic: only the interface
// stages that said so remain.
func (p *Path) service(svc Service) {
	p.Service, p.Action = svc, Allow
	k := 0
	st := p.all()
	for _, s := range st[:p.n] {
		if !s.Kind.ACL() {
			s.Allowed, s.Hypothetical = true, false
			st[k] = s
			k++
		}
	}
	p.n = k
}

// Explain describes the stage's outcome in a sentence.
func (s Stage) Explain() string {
	if s.Kind == StageRoute && s.Route != nil {
		if s.Route.NoRoute {
			return fmt.Sprintf("%s: %s has no route for the destination (no local, gateway, peering or other route covers it): "+
				"AWS drops the packet as it leaves the subnet", ReasonNoRoute, s.Route.Table)
		}
		if s.Route.NoBalancerFlow {
			return balancerRefusal(&s)
		}
		if s.Route.Unsolicited() {
			gw := "egress-only internet gateway"
			if s.Route.NATGateway {
				gw = "NAT gateway"
			}
			head := fmt.Sprintf("%s: %s routes %s to %s %s, which lets in only the replies to connections the instances opened",
				s.Route.Reason(), s.Route.Table, s.Route.Dest, gw, s.Route.Target)
			var tail string
			if b := s.Route.Balancer; b != "" {
				tail = fmt.Sprintf(" (unless internet-facing Network Load Balancer %s brought it, keeping the client's address: "+
					"the files do not say which its targets are)", b)
			}
			if c := &s.Verdict.Conn; s.Verdict.IdledOut {
				return fmt.Sprintf("%s, while they are tracked: this packet's connection (%s, opened %s) had been idle %d s, "+
					"past its %d s timeout%s", head, c.State, c.Origin, (s.Verdict.Time-c.LastSeen)/int64(time.Second),
					int64(c.Timeout/time.Second), tail)
			}
			return head + ": it drops a packet from the internet that answers none" + tail
		}
		return fmt.Sprintf("%s: %s routes %s to %s, which is gone (a blackhole route): AWS drops the packet",
			ReasonRouteBlackhole, s.Route.Table, s.Route.Dest, s.Route.Target)
	}
	if s.Kind.ACL() {
		dir := "inbound"
		if s.Kind.Outbound() {
			dir = "outbound"
		}
		e, _ := s.ACL.Entry(s.Kind.Outbound(), s.ACLResult.RuleNumber)
		if s.Allowed {
			return fmt.Sprintf("%s (%s) %s: entry %s", s.ACL.ID, s.Subnet, dir, e)
		}
		return fmt.Sprintf("%s: %s (%s) %s: entry %s", ReasonSubnetACL, s.ACL.ID, s.Subnet, dir, e)
	}
	id := "?"
	if s.Verdict.Interface != nil {
		id = s.Verdict.Interface.ID()
	}
	return fmt.Sprintf("%s %s: %s", id, s.Verdict.Direction, s.Verdict.Explain())
}

// String describes the path on several lines: the verdict, then each stage.
func (p Path) String() string {
	var b strings.Builder
	if sent, received, ok := p.Hairpin(); ok {
		fmt.Fprintf(&b, "%s %s (to a public address: out through the internet gateway", p.Action, sent)
		if received.Src.IsValid() {
			fmt.Fprintf(&b, " and back in to %s from %s)", received.Dst, received.Src)
		} else {
			fmt.Fprintf(&b, ", which %s has no public address to go through; a NAT gateway would lend it one, "+
				"so the destination is not judged)", sent.Src)
		}
	} else if src, dst, ok := p.Public(); ok {
		fmt.Fprintf(&b, "%s %s", p.Action, p.Packet)
		// The gateway turns a public destination into the private address
		// on the way in, and the private source into the public one on the
		// way out.
		if src.IsValid() {
			fmt.Fprintf(&b, " (%s translated to %s by the internet gateway)", p.Packet.Src, src)
		}
		if dst.IsValid() {
			fmt.Fprintf(&b, " (%s translated to %s by the internet gateway)", dst, p.Packet.Dst)
		}
	} else {
		fmt.Fprintf(&b, "%s %s", p.Action, p.Packet)
	}
	if p.balancer != "" {
		b.WriteString(balancerText(&p))
	}
	for k, v := range p.Vias() {
		if k == 0 {
			fmt.Fprintf(&b, " (routed through %s", v.ID())
		} else {
			fmt.Fprintf(&b, ", then %s", v.ID())
		}
		if k == len(p.Vias())-1 {
			b.WriteString(")")
		}
	}
	switch {
	case p.Service != NoService:
		fmt.Fprintf(&b, " (%s: never filtered)", p.Service)
	case p.n == 0:
		b.WriteString(" (no modelled interface or subnet on its path)")
	}
	for k, s := range p.Stages() {
		mark := s.Verdict.Action.String()
		if s.Kind.ACL() {
			mark = "DENY"
			if s.Allowed {
				mark = "ALLOW"
			}
		}
		note := ""
		if s.Hypothetical {
			note = " (not reached; judged as if it were)"
		}
		fmt.Fprintf(&b, "\n  %d. %-5s %s%s", k+1, mark, s.Explain(), note)
	}
	return b.String()
}
