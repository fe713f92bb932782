package eni_test

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

// applianceWorld has a firewall appliance (eni-fw, 10.0.1.5, its
// source/destination check off, its group allowing everything from the
// VPC) in
// subnet-public; the app server (eni-app, 10.0.2.10, group sg-app) in
// subnet-app; the database (eni-db, 10.0.3.10) in subnet-data, whose
// group lets in 5432 from sg-app by reference only. subnet-app's route
// table sends the data subnet through the firewall; subnet-data's, when
// symmetric, sends the app subnet back through it.
func applianceWorld(t *testing.T, symmetric bool) *world {
	w := newWorld(t)
	fw := w.group("fw", allRule("10.0.0.0/16")) // tracked: not open to the world
	_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-fw", SubnetID: "subnet-public", Groups: []string{fw},
		PrivateIPv4: []netip.Addr{mustAddr("10.0.1.5")}, DisableSourceDestCheck: true})
	require.NoError(t, err)
	w.iface("eni-app", "subnet-app", "10.0.2.10", w.group("app"))
	w.iface("eni-db", "subnet-data", "10.0.3.10", w.group("db", tcpRule(5432, "sg-app")))
	route := func(dest, to string) eni.Route {
		return eni.Route{Dest: netip.MustParsePrefix(dest), Interface: to}
	}
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-main", VpcID: "vpc-1", Main: true,
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.0.0/16"), Target: "local"}}}))
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1", Subnets: []string{"subnet-app"},
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.0.0/16"), Target: "local"}, route("10.0.3.0/24", "eni-fw")}}))
	if symmetric {
		require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-data", VpcID: "vpc-1", Subnets: []string{"subnet-data"},
			Routes: []eni.Route{route("10.0.2.0/24", "eni-fw")}}))
	}
	return w
}

func kinds(p eni.Path) []eni.StageKind {
	var out []eni.StageKind
	for _, s := range p.Stages() {
		out = append(out, s.Kind)
	}
	return out
}

// TestAppliance: a route through a firewall appliance puts its subnet's
// ACL and its groups, in and out, on the path; at the database, the rule
// referencing the app tier's group does not match, since the traffic came
// from the appliance (reference §1.2, middlebox; §11 case 13), while a
// rule naming the app subnet's block does.
func TestAppliance(t *testing.T) {
	w := applianceWorld(t, false)
	syn := tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN)
	p := w.net.Judge(syn, at(0))
	assert.False(t, p.Allowed(), "%s", p)
	require.NotNil(t, p.Via())
	assert.Equal(t, "eni-fw", p.Via().ID())
	assert.Equal(t, []eni.StageKind{eni.StageSourceGroups, eni.StageSourceACL, eni.StageApplianceACLIn, eni.StageApplianceIn,
		eni.StageApplianceOut, eni.StageApplianceACLOut, eni.StageDestACL, eni.StageDestGroups}, kinds(p))
	last := p.Stages()[7]
	assert.True(t, last.Verdict.Forwarded)
	assert.Equal(t, eni.ReasonNoRule, last.Verdict.Reason)
	assert.Contains(t, p.String(), "through eni-fw")

	_, err := w.reg.AuthorizeIngress("sg-db", tcpRule(5432, "10.0.2.0/24"))
	require.NoError(t, err)
	p = w.net.Judge(tcp("10.0.2.10:40001", "10.0.3.10:5432", eni.SYN), at(1))
	require.True(t, p.Allowed(), "%s", p)
	assert.True(t, p.Stages()[3].Verdict.NewConn, "the appliance tracks the flow too: %s", p)

	// The reply's route is the database subnet's: straight back, on the
	// connections the request opened at both ends.
	rep := w.net.Judge(tcp("10.0.3.10:5432", "10.0.2.10:40001", eni.SYN|eni.ACK), at(2))
	require.True(t, rep.Allowed(), "%s", rep)
	assert.Nil(t, rep.Via())

	// Within a subnet nothing is routed.
	w.iface("eni-app2", "subnet-app", "10.0.2.11", "sg-app")
	p = w.net.Judge(tcp("10.0.2.10:40002", "10.0.2.11:22", eni.SYN), at(3))
	assert.Nil(t, p.Via())
}

// TestApplianceChecks: the appliance must let the packet in and out, and
// pass traffic not its own only with its source/destination check off.
func TestApplianceChecks(t *testing.T) {
	w := applianceWorld(t, false)
	_, err := w.reg.AuthorizeIngress("sg-db", tcpRule(5432, "10.0.2.0/24"))
	require.NoError(t, err)
	require.NoError(t, w.reg.RevokeIngress("sg-fw", allRule("10.0.0.0/16")))
	p := w.net.Judge(tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN), at(0))
	assert.False(t, p.Allowed())
	assert.Equal(t, eni.ReasonNoRule, p.Stages()[3].Verdict.Reason, "%s", p)
	assert.Equal(t, "eni-fw", p.Stages()[3].Verdict.Interface.ID())

	w = applianceWorld(t, false)
	_, err = w.reg.AuthorizeIngress("sg-db", tcpRule(5432, "10.0.2.0/24"))
	require.NoError(t, err)
	require.NoError(t, w.net.DeleteInterface("eni-fw"))
	_, err = w.net.AddInterface(eni.InterfaceSpec{ID: "eni-fw", SubnetID: "subnet-public", Groups: []string{"sg-fw"},
		PrivateIPv4: []netip.Addr{mustAddr("10.0.1.5")}})
	require.NoError(t, err)
	p = w.net.Judge(tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN), at(0))
	assert.False(t, p.Allowed())
	assert.Equal(t, eni.ReasonSourceDestCheck, p.Stages()[3].Verdict.Reason, "%s", p)
}

// TestApplianceSymmetric: with routes both ways through the appliance, the
// reply goes through it too, on the connections the request opened there;
// the flow cache judges every packet as Judge does.
func TestApplianceSymmetric(t *testing.T) {
	a, b := applianceWorld(t, true), applianceWorld(t, true)
	for _, w := range []*world{a, b} {
		_, err := w.reg.AuthorizeIngress("sg-db", tcpRule(5432, "10.0.2.0/24"))
		require.NoError(t, err)
	}
	fc := a.net.NewFlowCache()
	steps := []*eni.Packet{
		tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN),
		tcp("10.0.3.10:5432", "10.0.2.10:40000", eni.SYN|eni.ACK),
		tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.ACK),
		tcp("10.0.3.10:5432", "10.0.2.10:40000", eni.ACK|eni.PSH),
		tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.ACK),
	}
	for k, p := range steps {
		var got eni.Path
		fc.JudgeInto(p, at(float64(k)), &got)
		want := b.net.Judge(p, at(float64(k)))
		require.Equal(t, want.String(), got.String())
		require.True(t, got.Allowed(), "%s", got)
		require.NotNil(t, got.Via(), "%s", got)
		if k > 0 {
			for _, s := range got.Stages() {
				if !s.Kind.ACL() {
					assert.Equal(t, eni.ReasonTracked, s.Verdict.Reason, "packet %d: %s", k, got)
				}
			}
		}
	}
}

// TestGatewayRouteTable: the internet gateway's route table (an edge
// association) sends traffic from the internet through the appliance.
func TestGatewayRouteTable(t *testing.T) {
	w := newWorld(t)
	fw := w.group("fw", allRule("0.0.0.0/0"))
	_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-fw", SubnetID: "subnet-public", Groups: []string{fw},
		PrivateIPv4: []netip.Addr{mustAddr("10.0.1.5")}, DisableSourceDestCheck: true})
	require.NoError(t, err)
	w.iface("eni-web", "subnet-app", "10.0.2.10", w.group("web", tcpRule(443, "0.0.0.0/0")))
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-igw", VpcID: "vpc-1", Gateway: "igw-1",
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.2.0/24"), Interface: "eni-fw"}}}))
	p := w.net.Judge(tcp("198.51.100.7:50000", "10.0.2.10:443", eni.SYN), at(0))
	require.True(t, p.Allowed(), "%s", p)
	require.NotNil(t, p.Via())
	assert.Equal(t, []eni.StageKind{eni.StageApplianceACLIn, eni.StageApplianceIn, eni.StageApplianceOut, eni.StageApplianceACLOut,
		eni.StageDestACL, eni.StageDestGroups}, kinds(p))
	// From inside the VPC, the gateway's table plays no part.
	w.iface("eni-other", "subnet-data", "10.0.3.10", w.group("other"))
	p = w.net.Judge(tcp("10.0.3.10:50000", "10.0.2.10:443", eni.SYN), at(1))
	assert.Nil(t, p.Via())
}

func TestAddRouteTableChecks(t *testing.T) {
	w := applianceWorld(t, false)
	for _, tt := range []struct {
		name string
		spec eni.RouteTableSpec
		want string
	}{
		{"no ID", eni.RouteTableSpec{VpcID: "vpc-1"}, "RouteTableId: missing"},
		{"twice", eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1"}, `rtb-app: RouteTableId: "rtb-app": defined twice`},
		{"no VPC", eni.RouteTableSpec{ID: "rtb-x", VpcID: "vpc-9"}, `rtb-x: VpcId: "vpc-9"`},
		{"second main", eni.RouteTableSpec{ID: "rtb-x", VpcID: "vpc-1", Main: true}, "a second main table: the VPC's is rtb-main"},
		{"no subnet", eni.RouteTableSpec{ID: "rtb-x", VpcID: "vpc-1", Subnets: []string{"subnet-9"}}, `Subnets[0]: "subnet-9"`},
		{"subnet taken", eni.RouteTableSpec{ID: "rtb-x", VpcID: "vpc-1", Subnets: []string{"subnet-app"}}, "already associated with rtb-app"},
		{"no interface", eni.RouteTableSpec{ID: "rtb-x", VpcID: "vpc-1",
			Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.9.0/24"), Interface: "eni-9"}}}, `Routes[0].Interface: "eni-9"`},
		{"no destination", eni.RouteTableSpec{ID: "rtb-x", VpcID: "vpc-1", Routes: []eni.Route{{Interface: "eni-fw"}}}, "Routes[0].Dest: not a prefix"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := w.net.AddRouteTable(tt.spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Len(t, w.net.RouteTables(), 2)
}

// TestApplianceReplyOnly: the request goes straight, its reply through
// the appliance (only the data subnet's table routes through it). The
// flow cache, which readies a reply's entry when its request opens a
// flow, must not ready one that skips the appliance.
func TestApplianceReplyOnly(t *testing.T) {
	build := func() *world {
		w := newWorld(t)
		fw := w.group("fw", allRule("10.0.0.0/16"))
		_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-fw", SubnetID: "subnet-public", Groups: []string{fw},
			PrivateIPv4: []netip.Addr{mustAddr("10.0.1.5")}, DisableSourceDestCheck: true})
		require.NoError(t, err)
		w.iface("eni-app", "subnet-app", "10.0.2.10", w.group("app"))
		w.iface("eni-db", "subnet-data", "10.0.3.10", w.group("db", tcpRule(5432, "sg-app")))
		require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-data", VpcID: "vpc-1", Subnets: []string{"subnet-data"},
			Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.2.0/24"), Interface: "eni-fw"}}}))
		return w
	}
	a, b := build(), build()
	fc := a.net.NewFlowCache()
	for k, p := range []*eni.Packet{
		tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN),
		tcp("10.0.3.10:5432", "10.0.2.10:40000", eni.SYN|eni.ACK),
		tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.ACK),
		tcp("10.0.3.10:5432", "10.0.2.10:40000", eni.ACK|eni.PSH),
	} {
		var got eni.Path
		fc.JudgeInto(p, at(float64(k)), &got)
		want := b.net.Judge(p, at(float64(k)))
		require.Equal(t, want.String(), got.String(), "packet %d", k)
		require.True(t, got.Allowed(), "%s", got)
		assert.Equal(t, k%2 == 1, got.Via() != nil, "packet %d: %s", k, got)
	}
}

// TestApplianceThenFastLane: a Path reused from packet to packet, as a
// replay reuses it, names no appliance for a later packet that took none,
// the fast lane's included.
func TestApplianceThenFastLane(t *testing.T) {
	w := applianceWorld(t, false)
	w.iface("eni-web", "subnet-public", "10.0.1.10", w.group("web", tcpRule(443, "10.0.0.0/16")))
	fc := w.net.NewFlowCache()
	var out eni.Path
	web := []*eni.Packet{
		tcp("10.0.2.10:40001", "10.0.1.10:443", eni.SYN),
		tcp("10.0.1.10:443", "10.0.2.10:40001", eni.SYN|eni.ACK),
		tcp("10.0.2.10:40001", "10.0.1.10:443", eni.ACK),
	}
	for k, p := range web {
		fc.JudgeInto(p, at(float64(k)), &out)
	}
	fc.JudgeInto(tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN), at(3), &out)
	require.NotNil(t, out.Via())
	for k, p := range web[1:] {
		fc.JudgeInto(p, at(float64(4+k)), &out)
		assert.Nil(t, out.Via(), "packet %d: %s", k, out)
		assert.True(t, out.Allowed())
	}
	// A new flow's first packet, judged the long way, after one through
	// the appliance.
	fc.JudgeInto(tcp("10.0.2.10:40002", "10.0.3.10:5432", eni.SYN), at(10), &out)
	require.NotNil(t, out.Via())
	fc.JudgeInto(tcp("10.0.2.10:40003", "10.0.1.10:443", eni.SYN), at(11), &out)
	assert.Nil(t, out.Via())
	assert.Equal(t, []eni.StageKind{eni.StageSourceGroups, eni.StageSourceACL, eni.StageDestACL, eni.StageDestGroups}, kinds(out))
}

// TestRouteTarget: each interface's subnet answers by its own table, or
// else its VPC's main one; every table routes the VPC's blocks locally.
func TestRouteTarget(t *testing.T) {
	w := applianceWorld(t, false)
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-public", VpcID: "vpc-1", Subnets: []string{"subnet-public"},
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-1"}}}))
	app, db, fw := w.net.Interface("eni-app"), w.net.Interface("eni-db"), w.net.Interface("eni-fw")
	assert.Equal(t, "eni-fw", app.RouteTarget(mustAddr("10.0.3.10")))
	assert.Equal(t, "local", app.RouteTarget(mustAddr("10.0.1.5")))
	assert.Equal(t, "", app.RouteTarget(mustAddr("198.51.100.7")), "no route")
	assert.Equal(t, "local", db.RouteTarget(mustAddr("10.0.2.10")), "the main table")
	assert.Equal(t, "igw-1", fw.RouteTarget(mustAddr("198.51.100.7")))
	assert.Equal(t, "local", fw.RouteTarget(mustAddr("10.0.2.10")), "implicit local route")
}

// TestApplianceFlowCacheRandom: random traffic, requests and replies,
// among the app, the database, the firewall itself, a second app server
// and the internet, with routes through the firewall both ways: every way
// of judging through a FlowCache answers as Judge does, with one Path
// reused throughout, as a replay reuses it.
func TestApplianceFlowCacheRandom(t *testing.T) {
	hosts := []string{"10.0.2.10", "10.0.3.10", "10.0.1.5", "10.0.2.11", "198.51.100.7"}
	for seed := uint64(1); seed <= 8; seed++ {
		a, b := applianceWorld(t, true), applianceWorld(t, true)
		for _, w := range []*world{a, b} {
			w.iface("eni-app2", "subnet-app", "10.0.2.11", "sg-app")
			_, err := w.reg.AuthorizeIngress("sg-db", tcpRule(22, "10.0.2.0/24"), rule(sg.UDP, 20, 25, "10.0.0.0/16"))
			require.NoError(t, err)
			_, err = w.reg.AuthorizeIngress("sg-app", allRule("10.0.0.0/16"))
			require.NoError(t, err)
		}
		sameAsJudge(t, a, b, hosts, seed, 41)
	}
}

// sameAsJudge judges random packets between the hosts through a flow
// cache of a, one reused Path, and requires Judge on b, a network built
// alike, to answer the same.
func sameAsJudge(t *testing.T, a, b *world, hosts []string, seed, stream uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, stream))
	fc := a.net.NewFlowCache()
	var got eni.Path
	for k := 0; k < 1500; k++ {
		p, ok := randomPacket(rng, hosts, 3)
		if !ok {
			continue
		}
		ts := at(float64(k) * 0.5)
		fc.JudgeIntoHashed(&p, ts, &got, p.FlowHash())
		want := b.net.Judge(&p, ts)
		require.Equal(t, withoutIdled(want.String()), withoutIdled(got.String()), "seed %d packet %d", seed, k)
		require.Equal(t, len(want.Vias()), len(got.Vias()))
	}
}

// TestBlackholeRoute: a route whose target is gone drops what it matches
// once the packet has left its subnet; the flow cache answers alike.
func TestBlackholeRoute(t *testing.T) {
	build := func() *world {
		w := applianceWorld(t, false)
		require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-data", VpcID: "vpc-1", Subnets: []string{"subnet-data"},
			Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.2.0/24"), Interface: "eni-gone", Blackhole: true}}}))
		return w
	}
	a, b := build(), build()
	p := tcp("10.0.3.10:5432", "10.0.2.10:40000", eni.SYN|eni.ACK)
	want := b.net.Judge(p, at(0))
	assert.False(t, want.Allowed())
	assert.Equal(t, []eni.StageKind{eni.StageSourceGroups, eni.StageSourceACL, eni.StageRoute}, kinds(want))
	route := want.Stages()[2]
	require.NotNil(t, route.Route)
	assert.Equal(t, eni.RouteDrop{Table: "rtb-data", Dest: netip.MustParsePrefix("10.0.2.0/24"), Target: "eni-gone"}, *route.Route)
	assert.Nil(t, want.Via())
	assert.Nil(t, a.net.RouteVia(mustAddr("10.0.3.10"), mustAddr("10.0.2.10")))
	var got eni.Path
	fc := a.net.NewFlowCache()
	for k := 0; k < 3; k++ {
		fc.JudgeInto(p, at(float64(k)), &got)
		assert.Equal(t, want.String(), got.String())
	}
}

// noRouteWorld has a web server (10.0.1.10, 2001:db8:1234:1::10) with a
// public address in subnet-public, whose table has only the local route
// unless withGateway gives it 0.0.0.0/0 to an internet gateway.
func noRouteWorld(t *testing.T, withGateway bool, unresolved ...string) *world {
	w := newWorld(t)
	web := w.group("web", tcpRule(443, "0.0.0.0/0"), tcpRule(443, "::/0"))
	_, err := w.reg.AuthorizeEgress(web, allRule("::/0"))
	require.NoError(t, err)
	w.iface("eni-web", "subnet-public", "10.0.1.10,2001:db8:1234:1::10", web)
	routes := []eni.Route{{Dest: netip.MustParsePrefix("10.0.0.0/16"), Target: "local"}}
	if withGateway {
		routes = append(routes, eni.Route{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-1"})
	}
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-main", VpcID: "vpc-1", Main: true, Routes: routes, Unresolved: unresolved}))
	return w
}

// TestNoRoute: a packet whose destination no route of its subnet's table
// covers is dropped as it leaves the subnet (NO_ROUTE_TO_DESTINATION),
// after the source's own stages: an instance in a subnet without a route
// to an internet gateway gets the internet's requests but cannot answer.
func TestNoRoute(t *testing.T) {
	for _, tt := range []struct {
		name       string
		gateway    bool
		unresolved []string
		pkt        *eni.Packet
		dropped    bool
	}{
		{"no default route: the answer to the internet is dropped", false, nil, tcp("10.0.1.10:443", "198.51.100.7:50000", eni.SYN|eni.ACK), true},
		{"a default route to the gateway", true, nil, tcp("10.0.1.10:443", "198.51.100.7:50000", eni.SYN|eni.ACK), false},
		{"IPv6 needs a route of its own", true, nil, tcp("[2001:db8:1234:1::10]:443", "[2001:db8:ffff::7]:50000", eni.SYN|eni.ACK), true},
		{"the VPC's blocks are routed locally, listed or not", false, nil, tcp("10.0.1.10:443", "10.0.2.10:50000", eni.SYN|eni.ACK), false},
		{"the VPC's IPv6 block too", false, nil, tcp("[2001:db8:1234:1::10]:443", "[2001:db8:1234:2::7]:50000", eni.SYN|eni.ACK), false},
		{"link-local traffic is not routed", false, nil, tcp("[2001:db8:1234:1::10]:443", "[fe80::7]:50000", eni.SYN|eni.ACK), false},
		{"a prefix list the files do not give may cover anything", false, []string{"pl-s3"}, tcp("10.0.1.10:443", "198.51.100.7:50000", eni.SYN|eni.ACK), false},
		{"requests from the internet arrive", false, nil, tcp("198.51.100.7:50000", "10.0.1.10:443", eni.SYN), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := noRouteWorld(t, tt.gateway, tt.unresolved...), noRouteWorld(t, tt.gateway, tt.unresolved...)
			p := b.net.Judge(tt.pkt, at(0))
			var got eni.Path
			a.net.NewFlowCache().JudgeInto(tt.pkt, at(0), &got)
			assert.Equal(t, p.String(), got.String(), "the flow cache answers alike")
			if !tt.dropped {
				for _, s := range p.Stages() {
					assert.NotEqual(t, eni.StageRoute, s.Kind, "%s", p)
				}
				return
			}
			assert.False(t, p.Allowed())
			st := p.Stages()
			require.NotEmpty(t, st)
			last := st[len(st)-1]
			assert.Equal(t, eni.StageRoute, last.Kind, "%s", p)
			assert.False(t, last.Hypothetical)
			require.NotNil(t, last.Route)
			assert.Equal(t, eni.RouteDrop{Table: "rtb-main", NoRoute: true}, *last.Route)
			assert.Equal(t, eni.ReasonNoRoute, last.Route.Reason())
			assert.True(t, st[0].Allowed, "the source's group let it out")
			assert.Contains(t, p.String(), "NO_ROUTE_TO_DESTINATION: rtb-main has no route for the destination")
		})
	}
}

// natWorld: the app server (eni-app, 10.0.2.10, no public address) goes
// out to the internet through a NAT gateway (eni-nat, 10.0.1.5) in
// subnet-public, whose network ACL lets in what the entries say.
func natWorld(t testing.TB, publicInbound ...nacl.Entry) *world {
	w := newWorld(t)
	w.iface("eni-app", "subnet-app", "10.0.2.10", w.group("app"))
	_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-nat", SubnetID: "subnet-public", Type: eni.TypeNATGateway, RequesterManaged: true,
		Description: "Interface for NAT Gateway nat-1", PrivateIPv4: []netip.Addr{mustAddr("10.0.1.5")}})
	require.NoError(t, err)
	acl, err := w.net.CreateACL("acl-public", "vpc-1")
	require.NoError(t, err)
	for _, e := range append([]nacl.Entry{{RuleNumber: 100, Egress: true, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")}},
		publicInbound...) {
		require.NoError(t, acl.CreateEntry(e))
	}
	require.NoError(t, w.net.AssociateACL("subnet-public", "acl-public"))
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-public", VpcID: "vpc-1", Main: true,
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-1"}}}))
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1", Subnets: []string{"subnet-app"},
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eni-nat", Target: "nat-1"}}}))
	return w
}

// TestNATGateway: what a private server sends to the internet goes
// through its NAT gateway, where the gateway's subnet's ACL judges it in
// and out; the replies come back the same way, so an ACL there that does
// not let in the replies' ports breaks every outbound connection.
func TestNATGateway(t *testing.T) {
	in := func(n int, cidr string, action nacl.Action, from, to int32) nacl.Entry {
		return nacl.Entry{RuleNumber: n, Protocol: 6, Action: action, CIDR: netip.MustParsePrefix(cidr), FromPort: from, ToPort: to}
	}
	fromApp := in(100, "10.0.2.0/24", nacl.Allow, 0, 65535)
	request := tcp("10.0.2.10:40000", "198.51.100.7:443", eni.SYN)
	reply := tcp("198.51.100.7:443", "10.0.2.10:40000", eni.SYN|eni.ACK)
	natStages := []eni.StageKind{eni.StageApplianceACLIn, eni.StageApplianceIn, eni.StageApplianceOut, eni.StageApplianceACLOut}

	// The replies' ports are let in: the connection works.
	w := natWorld(t, fromApp, in(110, "0.0.0.0/0", nacl.Allow, 1024, 65535))
	req, rep := w.net.Exchange(request, at(0))
	require.True(t, req.Allowed(), "%s", req)
	require.True(t, rep.Allowed(), "%s", rep)
	for _, p := range []eni.Path{req, rep} {
		require.NotNil(t, p.Via(), "%s", p)
		assert.Equal(t, "eni-nat", p.Via().ID())
	}
	assert.Equal(t, append([]eni.StageKind{eni.StageSourceGroups, eni.StageSourceACL}, natStages...), kinds(req))
	assert.Equal(t, append(natStages, eni.StageDestACL, eni.StageDestGroups), kinds(rep))
	assert.Equal(t, eni.ReasonTranslated, req.Stages()[3].Verdict.Reason, "the SYN opens a connection the gateway translates")
	assert.True(t, req.Stages()[3].Verdict.NewConn)
	assert.Equal(t, eni.ReasonTranslated, rep.Stages()[1].Verdict.Reason, "the reply belongs to it")
	assert.Equal(t, eni.ReasonNoGroups, req.Stages()[4].Verdict.Reason, "a NAT gateway has no security groups")

	// Only what the app sends is let in: the replies are refused as they
	// enter the NAT gateway's subnet.
	w = natWorld(t, fromApp)
	req, rep = w.net.Exchange(request, at(0))
	require.True(t, req.Allowed(), "%s", req)
	require.False(t, rep.Allowed())
	refused := rep.Refusals()
	require.NotEmpty(t, refused)
	assert.Equal(t, eni.StageApplianceACLIn, refused[0].Kind)
	assert.Equal(t, "acl-public", refused[0].ACL.ID)

	// An interface with a public address is answered through the
	// internet gateway, not a NAT gateway.
	w = natWorld(t, fromApp)
	_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-web", SubnetID: "subnet-app", Groups: []string{"sg-app"},
		PrivateIPv4: []netip.Addr{mustAddr("10.0.2.20")}, PublicIPv4: []eni.PublicIP{{Public: mustAddr("203.0.113.20"), Private: mustAddr("10.0.2.20")}}})
	require.NoError(t, err)
	p := w.net.Judge(tcp("198.51.100.7:443", "10.0.2.20:40000", eni.SYN|eni.ACK), at(0))
	assert.Nil(t, p.Via(), "%s", p)
	var got eni.Path
	fc := w.net.NewFlowCache()
	fc.JudgeInto(request, at(0), &got)
	fc.JudgeInto(reply, at(1), &got)
	require.NotNil(t, got.Via(), "%s", got)
	assert.Equal(t, "eni-nat", got.Via().ID(), "the flow cache takes the reply through the NAT gateway too")
}

// inspectionWorld is natWorld with an inspection appliance, a Gateway
// Load Balancer endpoint (eni-gwlbe) in subnet-data, on the way: the app
// subnet sends the internet to it, its subnet sends the internet on to
// the NAT gateway, and the NAT gateway's subnet sends the app subnet
// back through it.
func inspectionWorld(t *testing.T) *world {
	w := newWorld(t)
	w.iface("eni-app", "subnet-app", "10.0.2.10", w.group("app"))
	for _, i := range []eni.InterfaceSpec{
		{ID: "eni-nat", SubnetID: "subnet-public", Type: eni.TypeNATGateway, RequesterManaged: true, PrivateIPv4: []netip.Addr{mustAddr("10.0.1.5")}},
		{ID: "eni-gwlbe", SubnetID: "subnet-data", Type: eni.TypeGatewayLoadBalancerEndpoint, RequesterManaged: true,
			PrivateIPv4: []netip.Addr{mustAddr("10.0.3.5")}},
	} {
		_, err := w.net.AddInterface(i)
		require.NoError(t, err)
	}
	route := func(dest, iface, target string) eni.Route {
		return eni.Route{Dest: netip.MustParsePrefix(dest), Interface: iface, Target: target}
	}
	for _, rt := range []eni.RouteTableSpec{
		{ID: "rtb-public", VpcID: "vpc-1", Main: true,
			Routes: []eni.Route{route("0.0.0.0/0", "", "igw-1"), route("10.0.2.0/24", "eni-gwlbe", "vpce-1")}},
		{ID: "rtb-app", VpcID: "vpc-1", Subnets: []string{"subnet-app"}, Routes: []eni.Route{route("0.0.0.0/0", "eni-gwlbe", "vpce-1")}},
		{ID: "rtb-inspect", VpcID: "vpc-1", Subnets: []string{"subnet-data"}, Routes: []eni.Route{route("0.0.0.0/0", "eni-nat", "nat-1")}},
	} {
		require.NoError(t, w.net.AddRouteTable(rt))
	}
	return w
}

// TestTwoAppliances: a request goes through the inspection appliance,
// then the NAT gateway; its reply comes back through the NAT gateway,
// then the inspection appliance; each meets both appliances' stages,
// and the flow cache answers alike.
func TestTwoAppliances(t *testing.T) {
	a, b := inspectionWorld(t), inspectionWorld(t)
	request := tcp("10.0.2.10:40000", "198.51.100.7:443", eni.SYN)
	reply := tcp("198.51.100.7:443", "10.0.2.10:40000", eni.SYN|eni.ACK)
	req, rep := b.net.Exchange(request, at(0))
	require.True(t, req.Allowed(), "%s", req)
	require.True(t, rep.Allowed(), "%s", rep)
	ids := func(p eni.Path) []string {
		var out []string
		for _, v := range p.Vias() {
			out = append(out, v.ID())
		}
		return out
	}
	assert.Equal(t, []string{"eni-gwlbe", "eni-nat"}, ids(req))
	assert.Equal(t, []string{"eni-nat", "eni-gwlbe"}, ids(rep))
	assert.Equal(t, "eni-gwlbe", req.Via().ID())
	assert.Contains(t, req.String(), "(routed through eni-gwlbe, then eni-nat)")
	appliance := []eni.StageKind{eni.StageApplianceACLIn, eni.StageApplianceIn, eni.StageApplianceOut, eni.StageApplianceACLOut}
	want := append(append([]eni.StageKind{eni.StageSourceGroups, eni.StageSourceACL}, appliance...), appliance...)
	assert.Equal(t, want, kinds(req))
	var hops []uint8
	for _, s := range req.Stages() {
		hops = append(hops, s.Hop)
	}
	assert.Equal(t, []uint8{0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, hops)
	assert.Equal(t, "eni-nat", req.Stages()[6+1].Verdict.Interface.ID())

	fc := a.net.NewFlowCache()
	var got eni.Path
	for k, p := range []*eni.Packet{request, reply, request, reply} {
		fc.JudgeInto(p, at(float64(k)*0.001), &got)
		want := b.net.Judge(p, at(float64(k)*0.001))
		if k < 2 {
			want = []eni.Path{req, rep}[k]
		}
		assert.Equal(t, withoutIdled(want.String()), withoutIdled(got.String()), "packet %d", k)
	}
}

// TestSecondHopNoRoute: the appliance's own subnet has no route for the
// destination: dropped as the packet leaves the appliance's subnet.
func TestSecondHopNoRoute(t *testing.T) {
	w := newWorld(t)
	w.iface("eni-app", "subnet-app", "10.0.2.10", w.group("app"))
	_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-gwlbe", SubnetID: "subnet-data", Type: eni.TypeGatewayLoadBalancerEndpoint,
		RequesterManaged: true, PrivateIPv4: []netip.Addr{mustAddr("10.0.3.5")}})
	require.NoError(t, err)
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-main", VpcID: "vpc-1", Main: true}))
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1", Subnets: []string{"subnet-app"},
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eni-gwlbe", Target: "vpce-1"}}}))
	p := w.net.Judge(tcp("10.0.2.10:40000", "198.51.100.7:443", eni.SYN), at(0))
	assert.False(t, p.Allowed())
	st := p.Stages()
	last := st[len(st)-1]
	assert.Equal(t, eni.StageRoute, last.Kind, "%s", p)
	assert.Equal(t, eni.RouteDrop{Table: "rtb-main", NoRoute: true}, *last.Route)
	assert.False(t, last.Hypothetical)
	assert.Equal(t, []*eni.Interface{w.net.Interface("eni-gwlbe")}, p.Vias())
}

// TestTwoAppliancesFlowCacheRandom: random traffic through the
// inspection appliance and the NAT gateway, judged through one reused
// Path by a flow cache, answers as Judge does.
func TestTwoAppliancesFlowCacheRandom(t *testing.T) {
	hosts := []string{"10.0.2.10", "10.0.2.11", "198.51.100.7", "10.0.1.5", "10.0.3.5"}
	for seed := uint64(1); seed <= 4; seed++ {
		a, b := inspectionWorld(t), inspectionWorld(t)
		for _, w := range []*world{a, b} {
			w.iface("eni-app2", "subnet-app", "10.0.2.11", "sg-app")
			_, err := w.reg.AuthorizeIngress("sg-app", allRule("10.0.0.0/16"))
			require.NoError(t, err)
		}
		sameAsJudge(t, a, b, hosts, seed, 43)
	}
}

// TestMirrorCopyPastSourceGroups: a Traffic Mirroring copy leaves its
// source without the source's groups judging it; the ACLs still do, and
// the flow cache keeps copies and other packets of the same addresses
// apart.
func TestMirrorCopyPastSourceGroups(t *testing.T) {
	w := newWorld(t)
	w.iface("eni-src", "subnet-app", "10.0.2.10", w.group("quiet"))
	require.NoError(t, w.reg.RevokeEgress("sg-quiet", allRule("0.0.0.0/0")))
	w.iface("eni-ids", "subnet-data", "10.0.3.50", w.group("ids", rule(sg.UDP, 4789, 4789, "10.0.0.0/16")))
	cp := udp("10.0.2.10:51000", "10.0.3.50:4789")
	plain := w.net.Judge(cp, at(0))
	assert.False(t, plain.Allowed(), "as ordinary traffic, the source's group refuses it: %s", plain)
	cp.MirrorCopy = true
	copied := w.net.Judge(cp, at(1))
	assert.True(t, copied.Allowed(), "%s", copied)
	assert.Nil(t, copied.Src)
	assert.Equal(t, []eni.StageKind{eni.StageSourceACL, eni.StageDestACL, eni.StageDestGroups}, kinds(copied), "no source stage; the ACLs judge it")
	fc := w.net.NewFlowCache()
	var got eni.Path
	for k, c := range []bool{true, false, true} {
		p := *cp
		p.MirrorCopy = c
		fc.JudgeInto(&p, at(float64(2+k)), &got)
		assert.Equal(t, c, got.Allowed(), "packet %d", k)
	}
}

// egressOnlyWorld: a web server (eni-web, 10.0.1.10 and
// 2001:db8:1234:1::10) whose group is open to the world both ways, for
// IPv4 and IPv6, so that the rules alone leave its TCP and UDP flows
// untracked. Its subnet's table sends IPv4 to an internet gateway and
// IPv6 to ipv6Target.
func egressOnlyWorld(t testing.TB, ipv6Target string, extra ...eni.Route) *world {
	w := newWorld(t)
	open := w.group("open", allRule("0.0.0.0/0"), allRule("::/0"))
	_, err := w.reg.AuthorizeEgress(open, allRule("::/0"))
	require.NoError(t, err)
	w.iface("eni-web", "subnet-public", "10.0.1.10,2001:db8:1234:1::10", open)
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-main", VpcID: "vpc-1", Main: true, Routes: append([]eni.Route{
		{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-1"},
		{Dest: netip.MustParsePrefix("::/0"), Target: ipv6Target},
	}, extra...)}))
	return w
}

// TestEgressOnlyGatewayTracks: AWS tracks every flow through an
// egress-only internet gateway, even one the rules would leave untracked
// (reference §2.3, §11 case 38); flows that do not go through it keep
// the rules' answer.
func TestEgressOnlyGatewayTracks(t *testing.T) {
	for _, tt := range []struct {
		name    string
		target  string
		pkt     *eni.Packet
		tracked bool
	}{
		{"IPv6 to the internet through the gateway", "eigw-1", tcp("[2001:db8:1234:1::10]:50000", "[2600:1f18::7]:443", eni.SYN), true},
		{"UDP too", "eigw-1", udp("[2001:db8:1234:1::10]:50000", "[2600:1f18::7]:53"), true},
		{"IPv6 to the internet through an internet gateway", "igw-1", tcp("[2001:db8:1234:1::10]:50000", "[2600:1f18::7]:443", eni.SYN), false},
		{"IPv4 through the internet gateway", "eigw-1", tcp("10.0.1.10:50000", "198.51.100.7:443", eni.SYN), false},
		{"IPv6 within the VPC is routed locally", "eigw-1", tcp("[2001:db8:1234:1::10]:50000", "[2001:db8:1234:2::7]:443", eni.SYN), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := egressOnlyWorld(t, tt.target), egressOnlyWorld(t, tt.target)
			p := b.net.Judge(tt.pkt, at(0))
			var got eni.Path
			a.net.NewFlowCache().JudgeInto(tt.pkt, at(0), &got)
			assert.Equal(t, p.String(), got.String(), "the flow cache answers alike")
			require.True(t, p.Allowed(), "%s", p)
			st := p.Stages()
			require.NotEmpty(t, st)
			v := st[0].Verdict
			require.Equal(t, eni.StageSourceGroups, st[0].Kind)
			assert.Equal(t, tt.tracked, v.NewConn, "%s", v)
			assert.Equal(t, !tt.tracked, v.Untracked, "%s", v)
			assert.Equal(t, tt.tracked, v.ThroughGateway, "%s", v)
			if tt.tracked {
				assert.Contains(t, v.Explain(), "the rules are open to the world both ways, but AWS tracks every flow through egress-only internet gateway eigw-1")
				// The reply rides the connection.
				reply := tt.pkt.Reply()
				r := b.net.Judge(&reply, at(1))
				require.True(t, r.Allowed(), "%s", r)
				rs := r.Stages()
				last := rs[len(rs)-1]
				require.Equal(t, eni.StageDestGroups, last.Kind, "%s", r)
				assert.Equal(t, eni.ReasonTracked, last.Verdict.Reason, "%s", r)
			} else {
				assert.NotContains(t, v.Explain(), "egress-only")
			}
		})
	}
}

// TestGatewayTracks: AWS tracks every flow through a NAT gateway, a
// transit gateway or a Gateway Load Balancer or firewall endpoint
// (reference §2.3, the union of its two lists), and through a route
// to a DynamoDB gateway endpoint. The gateway's own
// interface, when it has one, is always tracked by its type; an instance
// behind it whose group is open to the world both ways is tracked too,
// since the instance's flow is the gateway's flow. An internet gateway
// and a gateway endpoint (whose routes have no interface) track nothing.
func TestGatewayTracks(t *testing.T) {
	toWorld := tcp("10.0.2.10:40000", "198.51.100.7:443", eni.SYN)
	for _, tt := range []struct {
		name      string
		route     eni.Route
		pkt       *eni.Packet
		tracked   bool
		explained string
	}{
		{"TCP through a NAT gateway", eni.Route{Interface: "eni-gw", Target: "nat-1"}, toWorld, true, "NAT gateway nat-1"},
		{"UDP through a NAT gateway", eni.Route{Interface: "eni-gw", Target: "nat-1"}, udp("10.0.2.10:40000", "198.51.100.7:53"), true, "NAT gateway nat-1"},
		{"within the VPC is routed locally", eni.Route{Interface: "eni-gw", Target: "nat-1"}, tcp("10.0.2.10:40000", "10.0.3.7:443", eni.SYN), false, ""},
		{"through a transit gateway", eni.Route{Target: "tgw-1"}, toWorld, true, "transit gateway tgw-1"},
		{"through a Gateway Load Balancer endpoint", eni.Route{Interface: "eni-gw", Target: "vpce-1"}, toWorld, true, "endpoint vpce-1"},
		{"a gateway endpoint's route", eni.Route{Target: "vpce-2"}, toWorld, false, ""},
		{"a DynamoDB gateway endpoint's route", eni.Route{Target: "vpce-3", DynamoDB: true}, toWorld, true, "endpoint vpce-3"},
		{"through an internet gateway", eni.Route{Target: "igw-1"}, toWorld, false, ""},
		{"a blackhole route to a NAT gateway", eni.Route{Target: "nat-1", Blackhole: true}, toWorld, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			open := w.group("open", allRule("0.0.0.0/0"))
			w.iface("eni-app", "subnet-app", "10.0.2.10", open)
			typ := eni.TypeNATGateway
			if strings.HasPrefix(tt.route.Target, "vpce-") {
				typ = eni.TypeGatewayLoadBalancerEndpoint
			}
			_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-gw", SubnetID: "subnet-public", Type: typ, RequesterManaged: true,
				PrivateIPv4: []netip.Addr{mustAddr("10.0.1.5")}})
			require.NoError(t, err)
			route := tt.route
			route.Dest = netip.MustParsePrefix("0.0.0.0/0")
			require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1", Main: true, Routes: []eni.Route{route}}))
			p := w.net.Judge(tt.pkt, at(0))
			st := p.Stages()
			require.Equal(t, eni.StageSourceGroups, st[0].Kind)
			v := st[0].Verdict
			require.True(t, v.Allowed(), "%s", p)
			assert.Equal(t, tt.tracked, v.NewConn, "%s", v)
			assert.Equal(t, !tt.tracked, v.Untracked, "%s", v)
			assert.Equal(t, tt.tracked, v.ThroughGateway, "%s", v)
			if tt.tracked {
				assert.Contains(t, v.Explain(), "but AWS tracks every flow through "+tt.explained)
			} else {
				assert.NotContains(t, v.Explain(), "AWS tracks every flow")
			}
		})
	}
}

// TestDynamoDBTakesTwoEntries: AWS counts two connection-tracking
// entries for each connection through a DynamoDB gateway endpoint
// (reference §2.3), so fewer of them fit in an interface's allowance.
func TestDynamoDBTakesTwoEntries(t *testing.T) {
	w := newWorld(t)
	w.iface("eni-app", "subnet-app", "10.0.2.10", w.group("app"))
	require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1", Main: true, Routes: []eni.Route{
		{Dest: netip.MustParsePrefix("3.218.180.0/22"), Target: "vpce-ddb", DynamoDB: true},
		{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-1"},
	}}))
	app := w.net.Interface("eni-app")
	cfg := conntrack.DefaultConfig()
	cfg.MaxEntries = 3
	require.NoError(t, app.SetConnTrackConfig(cfg))
	for k, tt := range []struct {
		dst     string
		allowed bool
		entries int
	}{
		{"3.218.180.10:443", true, 2},  // DynamoDB: two entries
		{"3.218.180.11:443", false, 2}, // a second would need four
		{"198.51.100.7:443", true, 3},  // elsewhere: one
		{"198.51.100.8:443", false, 3}, // the table is full
	} {
		syn := tcp("10.0.2.10:"+strconv.Itoa(40000+k), tt.dst, eni.SYN)
		p := w.net.Judge(syn, at(float64(k)))
		assert.Equal(t, tt.allowed, p.Allowed(), "%d: %s", k, p)
		if !tt.allowed {
			assert.Contains(t, p.String(), "CONNTRACK_ALLOWANCE_EXCEEDED", "%d", k)
		}
		if k == 1 {
			assert.Contains(t, p.String(), "a connection through DynamoDB gateway endpoint vpce-ddb takes two entries", "%d", k)
		}
		if k == 3 {
			assert.NotContains(t, p.String(), "DynamoDB", "%d", k)
		}
		assert.Equal(t, tt.entries, app.Stats().Tracking.Entries, "%d", k)
	}
}

// TestEgressOnlyGatewayRefusesInbound: an egress-only internet gateway
// lets in only the replies to connections the instances behind it
// opened; whatever the security groups say (here: everything, from
// anywhere), the internet opens no connection through it. The instance's
// interface keeps the gateway's state (AWS tracks every flow through the
// gateway there), so a reply after the connection idled out is refused
// too. A more specific route for the source through the internet gateway,
// and IPv4, are not the gateway's to judge.
func TestEgressOnlyGatewayRefusesInbound(t *testing.T) {
	web := "[2001:db8:1234:1::10]"
	type step struct {
		at      float64
		pkt     *eni.Packet
		allowed bool
		// reroute first gives the instance's subnet a table of its own that
		// sends ::/0 to the egress-only gateway.
		reroute bool
	}
	for _, tt := range []struct {
		name   string
		target string
		extra  []eni.Route
		steps  []step
		// tracked narrows the group's IPv6 egress to ports 1024-65535, so
		// that flows the internet opens through an internet gateway are
		// tracked too.
		tracked bool
	}{
		{"a connection the internet opens", "eigw-1", nil, []step{
			{0, tcp("[2600:1f18::7]:50000", web+":22", eni.SYN), false, false},
		}, false},
		{"UDP the internet sends first", "eigw-1", nil, []step{
			{0, udp("[2600:1f18::7]:50000", web+":53"), false, false},
		}, false},
		{"the replies to a connection the instance opened", "eigw-1", nil, []step{
			{0, tcp(web+":50000", "[2600:1f18::7]:443", eni.SYN), true, false},
			{0.01, tcp("[2600:1f18::7]:443", web+":50000", eni.SYN|eni.ACK), true, false},
			{0.02, tcp(web+":50000", "[2600:1f18::7]:443", eni.ACK), true, false},
			{0.03, tcp("[2600:1f18::7]:443", web+":50000", eni.ACK|eni.PSH), true, false},
			// The same host, to another port of the instance: no connection of
			// the instance's.
			{0.04, tcp("[2600:1f18::7]:443", web+":50001", eni.SYN), false, false},
		}, false},
		{"ping: the instance's answered, the internet's refused", "eigw-1", nil, []step{
			{0, icmp("2001:db8:1234:1::10", "2600:1f18::7", 128, 0, 7), true, false},
			{0.01, icmp("2600:1f18::7", "2001:db8:1234:1::10", 129, 0, 7), true, false},
			{1, icmp("2600:1f18::7", "2001:db8:1234:1::10", 128, 0, 8), false, false},
			// An error about the instance's flow opens nothing, and the
			// instance's table ties no error to a flow: the gateway refuses it
			// as a group would.
			{2, icmp("2600:1f18::7", "2001:db8:1234:1::10", 1, 4, 0), false, false},
		}, false},
		{"a reply after its connection idled out", "eigw-1", nil, []step{
			{0, udp(web+":50000", "[2600:1f18::7]:53"), true, false},
			{1, udp("[2600:1f18::7]:53", web+":50000"), true, false},
			{40, udp("[2600:1f18::7]:53", web+":50000"), false, false}, // UDP lives 30 s (see the explanation below)
		}, false},
		{"through an internet gateway", "igw-1", nil, []step{
			{0, tcp("[2600:1f18::7]:50000", web+":22", eni.SYN), true, false},
		}, false},
		{"a more specific route for the source through the internet gateway", "eigw-1",
			[]eni.Route{{Dest: netip.MustParsePrefix("2600:1f18::/32"), Target: "igw-1"}}, []step{
				{0, tcp("[2600:1f18::7]:50000", web+":22", eni.SYN), true, false},
				{0, tcp("[2600:1f19::7]:50000", web+":22", eni.SYN), false, false},
			}, false},
		{"IPv4 from the internet", "eigw-1", nil, []step{
			{0, tcp("198.51.100.7:50000", "10.0.1.10:22", eni.SYN), true, false},
		}, false},
		// The gateway never saw the connection open: the instance's table
		// holds it, but as one the internet opened.
		{"a connection the internet opened before the gateway", "igw-1", nil, []step{
			{0, tcp("[2600:1f18::7]:50000", web+":22", eni.SYN), true, false},
			{0.01, tcp(web+":22", "[2600:1f18::7]:50000", eni.SYN|eni.ACK), true, false},
			{0.02, tcp("[2600:1f18::7]:50000", web+":22", eni.ACK), false, true},
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := egressOnlyWorld(t, tt.target, tt.extra...), egressOnlyWorld(t, tt.target, tt.extra...)
			if tt.tracked {
				for _, w := range []*world{a, b} {
					require.NoError(t, w.reg.RevokeEgress("sg-open", allRule("::/0")))
					_, err := w.reg.AuthorizeEgress("sg-open", sg.Rule{Protocol: sg.TCP, FromPort: 1024, ToPort: 65535, Peer: peer("::/0")})
					require.NoError(t, err)
				}
			}
			fc := a.net.NewFlowCache()
			var got eni.Path
			for k, s := range tt.steps {
				if s.reroute {
					for _, w := range []*world{a, b} {
						require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-private", VpcID: "vpc-1",
							Subnets: []string{"subnet-public"}, Routes: []eni.Route{{Dest: netip.MustParsePrefix("::/0"), Target: "eigw-1"}}}))
					}
				}
				p := b.net.Judge(s.pkt, at(s.at))
				fc.JudgeInto(s.pkt, at(s.at), &got)
				require.Equal(t, p.String(), got.String(), "step %d: the flow cache answers alike", k)
				require.Equal(t, s.allowed, p.Allowed(), "step %d: %s", k, p)
				if s.allowed {
					continue
				}
				st := p.Stages()
				require.Len(t, st, 1, "step %d: refused at the edge of the VPC, before anything inside: %s", k, p)
				require.Equal(t, eni.StageRoute, st[0].Kind)
				require.NotNil(t, st[0].Route)
				assert.True(t, st[0].Route.EgressOnly)
				assert.Equal(t, eni.ReasonEgressOnly, st[0].Route.Reason())
				assert.Equal(t, "eigw-1", st[0].Route.Target)
				assert.Equal(t, "::/0", st[0].Route.Dest.String())
				assert.Regexp(t, `^EGRESS_ONLY_GATEWAY_INBOUND: rtb-(main|private) routes ::/0 to egress-only internet gateway eigw-1, `+
					`which lets in only the replies to connections the instances opened`, st[0].Explain())
				if tt.name == "a reply after its connection idled out" {
					assert.True(t, st[0].Verdict.IdledOut)
					assert.Contains(t, st[0].Explain(), ", while they are tracked: this packet's connection (udp, opened outbound) "+
						"had been idle 39 s, past its 30 s timeout")
				} else {
					assert.False(t, st[0].Verdict.IdledOut, "a connection the internet opened is none of the gateway's")
					assert.Contains(t, st[0].Explain(), ": it drops a packet from the internet that answers none")
				}
			}
			// A refused packet opened nothing, and the instance's counters
			// saw only what reached it.
			reached := 0
			for _, s := range tt.steps {
				if s.allowed {
					reached++
				}
			}
			st := b.net.Interface("eni-web").Stats()
			assert.Equal(t, uint64(reached), st.Allowed[0]+st.Allowed[1], "every allowed packet met the instance once")
			assert.Zero(t, st.Denied[0]+st.Denied[1], "no refused packet reached the instance")
		})
	}
}

// TestNATGatewayRefusesInbound: a NAT gateway lets in only the replies to
// connections the instances behind it opened. The app server's group
// here lets in SSH from anywhere, and its subnet's ACL is the default
// one, yet the internet opens nothing to it: the server has no public
// address, and its way to the internet is the NAT gateway. What the
// server opens still gets its replies through the gateway; a reply after
// its connection idled out does not. A host of the subnet that no
// interface models still goes out through the gateway unjudged by it.
func TestNATGatewayRefusesInbound(t *testing.T) {
	open := nacl.Entry{RuleNumber: 100, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")}
	type step struct {
		at      float64
		pkt     *eni.Packet
		allowed bool
	}
	for _, tt := range []struct {
		name  string
		steps []step
	}{
		{"SSH from the internet", []step{{0, tcp("198.51.100.7:50000", "10.0.2.10:22", eni.SYN), false}}},
		{"UDP from the internet", []step{{0, udp("198.51.100.7:50000", "10.0.2.10:53"), false}}},
		{"the replies to the server's own connection", []step{
			{0, tcp("10.0.2.10:40000", "198.51.100.7:443", eni.SYN), true},
			{0.01, tcp("198.51.100.7:443", "10.0.2.10:40000", eni.SYN|eni.ACK), true},
			{0.02, tcp("10.0.2.10:40000", "198.51.100.7:443", eni.ACK), true},
			{0.03, tcp("198.51.100.7:443", "10.0.2.10:40000", eni.ACK|eni.PSH), true},
			{0.04, tcp("198.51.100.7:443", "10.0.2.10:40001", eni.SYN), false},
		}},
		{"a reply after its connection idled out", []step{
			{0, udp("10.0.2.10:40000", "198.51.100.7:53"), true},
			{1, udp("198.51.100.7:53", "10.0.2.10:40000"), true},
			{40, udp("198.51.100.7:53", "10.0.2.10:40000"), false},
		}},
		{"a host no interface models", []step{{0, tcp("10.0.2.99:40000", "198.51.100.7:443", eni.SYN), true}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := natWorld(t, open), natWorld(t, open)
			for _, w := range []*world{a, b} {
				_, err := w.reg.AuthorizeIngress("sg-app", sg.Rule{Protocol: sg.AllProtocols, Peer: peer("0.0.0.0/0")})
				require.NoError(t, err)
			}
			fc := a.net.NewFlowCache()
			var got eni.Path
			for k, s := range tt.steps {
				p := b.net.Judge(s.pkt, at(s.at))
				fc.JudgeInto(s.pkt, at(s.at), &got)
				require.Equal(t, p.String(), got.String(), "step %d: the flow cache answers alike", k)
				require.Equal(t, s.allowed, p.Allowed(), "step %d: %s", k, p)
				if s.allowed {
					if s.pkt.Src.IsPrivate() != s.pkt.Dst.IsPrivate() {
						require.NotNil(t, p.Via(), "step %d: through the NAT gateway: %s", k, p)
						assert.Equal(t, "eni-nat", p.Via().ID())
					}
					continue
				}
				st := p.Stages()
				require.Len(t, st, 1, "step %d: refused at the NAT gateway, before anything behind it: %s", k, p)
				require.NotNil(t, st[0].Route)
				assert.True(t, st[0].Route.NATGateway)
				assert.True(t, st[0].Route.Unsolicited())
				assert.Equal(t, eni.ReasonNATInbound, st[0].Route.Reason())
				assert.Equal(t, "nat-1", st[0].Route.Target)
				assert.Equal(t, "rtb-app", st[0].Route.Table)
				assert.Regexp(t, `^NAT_GATEWAY_INBOUND: rtb-app routes 0.0.0.0/0 to NAT gateway nat-1, which lets in only the replies to `+
					`connections the instances opened(: it drops a packet from the internet that answers none|, while they are tracked: `+
					`this packet's connection \(udp, opened outbound\) had been idle 39 s, past its 30 s timeout)$`, st[0].Explain())
				assert.Nil(t, p.Via(), "step %d: it reached nothing behind the gateway", k)
			}
		})
	}
}

// TestNATGatewayIdleTimeout: a NAT gateway drops a TCP connection idle
// for 350 s, whatever the instance's own table keeps (five days by
// default): the next packet from the instance is refused there (AWS
// answers it with a reset) and so is the next from the internet, while
// a new connection opens as ever. The gateway's table holds TCP alone:
// UDP goes by the instance's table. A capture that began mid-connection
// gets its connections picked up at the gateway too, with pickup on.
func TestNATGatewayIdleTimeout(t *testing.T) {
	allIn := nacl.Entry{RuleNumber: 100, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")}
	out := func(flags uint8) *eni.Packet { return tcp("10.0.2.10:40000", "198.51.100.7:443", flags) }
	back := func(flags uint8) *eni.Packet { return tcp("198.51.100.7:443", "10.0.2.10:40000", flags) }
	tests := []struct {
		name      string
		pkt       *eni.Packet
		at        float64
		handshake bool // the connection opened at 0 s
		pickup    bool
		allowed   bool
		idled     bool // refused as a connection the gateway dropped for idleness
	}{
		{"from inside, idle 300 s", out(eni.ACK | eni.PSH), 300, true, false, true, false},
		{"from the internet, idle 300 s", back(eni.ACK | eni.PSH), 300, true, false, true, false},
		{"from inside, idle 400 s", out(eni.ACK | eni.PSH), 400, true, false, false, true},
		{"from the internet, idle 400 s", back(eni.ACK | eni.PSH), 400, true, false, false, true},
		{"a SYN on the same ports, after 400 s", out(eni.SYN), 400, true, false, true, false},
		{"a new connection, after 400 s", tcp("10.0.2.10:40001", "198.51.100.7:443", eni.SYN), 400, true, false, true, false},
		{"UDP from inside, after 400 s", udp("10.0.2.10:40000", "198.51.100.7:443"), 400, true, false, true, false},
		{"from inside, no SYN seen", out(eni.ACK | eni.PSH), 0, false, false, false, false},
		{"from inside, no SYN seen, pickup on", out(eni.ACK | eni.PSH), 0, false, true, true, false},
		{"from inside, idle 400 s, pickup on", out(eni.ACK | eni.PSH), 400, true, true, true, false},
		// What a capture at the instance shows next: the gateway's reset,
		// in the far end's name.
		{"a reset from the internet's side, idle 400 s", back(eni.RST | eni.ACK), 400, true, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := natWorld(t, allIn)
			nat := w.net.Interface("eni-nat")
			cfg := nat.ConnTrackConfig()
			require.Equal(t, eni.NATGatewayIdleTimeout, cfg.TCPEstablished, "the gateway's fixed timeout")
			if tt.pickup {
				cfg.TCPPickup = true
				require.NoError(t, nat.SetConnTrackConfig(cfg))
			}
			if tt.handshake {
				for k, p := range []*eni.Packet{out(eni.SYN), back(eni.SYN | eni.ACK), out(eni.ACK)} {
					path := w.net.Judge(p, at(float64(k)/100))
					require.True(t, path.Allowed(), "%s", path)
				}
				u := w.net.Judge(udp("10.0.2.10:40000", "198.51.100.7:443"), at(0))
				require.True(t, u.Allowed(), "%s", u)
			}
			path := w.net.Judge(tt.pkt, at(tt.at))
			require.Equal(t, tt.allowed, path.Allowed(), "%s", path)
			require.NotNil(t, path.Via(), "%s", path)
			if tt.pkt.TCPFlags&eni.RST != 0 {
				s := path.Stages()[1]
				assert.Equal(t, eni.StageApplianceIn, s.Kind)
				assert.Equal(t, eni.ReasonNATReset, s.Verdict.Reason)
				assert.Equal(t, "eni-nat inbound: NAT_GATEWAY_RESET: a reset, from the internet's side, of no TCP connection NAT gateway nat-1 "+
					"translates: the gateway resets a host inside that goes on with a connection it dropped, in the far end's name", s.Explain())
				last := path.Stages()[len(path.Stages())-1]
				assert.Equal(t, eni.ReasonTracked, last.Verdict.Reason, "the instance's table still holds the connection the reset ends")
			}
			if tt.allowed {
				return
			}
			refused := path.Refusals()
			require.Len(t, refused, 1, "%s", path)
			s := refused[0]
			assert.Equal(t, eni.StageApplianceIn, s.Kind)
			assert.Equal(t, eni.ReasonNoTranslation, s.Verdict.Reason)
			assert.Equal(t, tt.idled, s.Verdict.IdledOut)
			want := "eni-nat inbound: NAT_GATEWAY_NO_CONNECTION: NAT gateway nat-1 translates no TCP connection this packet belongs to: " +
				"only a SYN from a host inside opens one"
			if tt.idled {
				want += "; the gateway dropped its connection (tcp-established) when it had been idle 399 s, past the gateway's fixed 350 s timeout"
			}
			assert.Equal(t, want, s.Explain())
			if tt.pkt.Src == mustAddr("10.0.2.10") {
				// The instance's table still holds it: its group lets the
				// packet out, and the gateway drops it.
				first := path.Stages()[0]
				assert.Equal(t, eni.StageSourceGroups, first.Kind)
				assert.Equal(t, tt.handshake, first.Verdict.Reason == eni.ReasonTracked, "%s", path)
			}
		})
	}
}

// TestGatewayRefusalNamesBalancer: a target behind a NAT gateway gets
// the internet's packets from an internet-facing Network Load Balancer
// that keeps clients' addresses, by a way the files do not show; the
// gateway's refusal of such a packet says so when the VPC has one. An
// internal balancer, or one without IPv6 for an IPv6 packet, is no such
// way.
func TestGatewayRefusalNamesBalancer(t *testing.T) {
	open := nacl.Entry{RuleNumber: 100, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")}
	const clause = " (unless internet-facing Network Load Balancer net/web/50dc6c495c0c9188 brought it, keeping the client's address: " +
		"the files do not say which its targets are)"
	for _, tt := range []struct {
		name   string
		public bool
		want   string
	}{
		{"internet-facing", true, clause},
		{"internal", false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := natWorld(t, open)
			spec := eni.InterfaceSpec{ID: "eni-nlb", SubnetID: "subnet-public", Type: eni.TypeNetworkLoadBalancer, RequesterManaged: true,
				Description: "ELB net/web/50dc6c495c0c9188", PrivateIPv4: splitAddrs("10.0.1.20")}
			if tt.public {
				spec.PublicIPv4 = []eni.PublicIP{{Public: mustAddr("203.0.113.20"), Private: mustAddr("10.0.1.20")}}
			}
			_, err := w.net.AddInterface(spec)
			require.NoError(t, err)
			p := w.net.Judge(tcp("198.51.100.7:50000", "10.0.2.10:443", eni.SYN), at(0))
			require.False(t, p.Allowed(), "%s", p)
			s := p.Stages()[0]
			require.Equal(t, eni.StageRoute, s.Kind)
			assert.Equal(t, "NAT_GATEWAY_INBOUND: rtb-app routes 0.0.0.0/0 to NAT gateway nat-1, which lets in only the replies to "+
				"connections the instances opened: it drops a packet from the internet that answers none"+tt.want, s.Explain())
		})
	}
}

// TestBalancedTargets: an internet-facing Network Load Balancer that
// keeps its clients' addresses delivers their packets to its targets in
// a private subnet, whose route for the client goes to a NAT gateway;
// the replies go back by the balancer too. Neither meets the gateway,
// which refuses the same client on another port. The flow cache agrees
// with the long way, packet by packet.
// balancedWorld is natWorld with an internet-facing Network Load Balancer
// in the public subnet whose target group of the given protocol has
// app-1 (10.0.2.10, in the private subnet, behind the NAT gateway) on
// port 443; app-1's group lets in tcp 443 and 22 from anywhere.
func balancedWorld(t testing.TB, proto uint8) *world { return balancedWorldIdle(t, proto, 0) }

// balancedWorldIdle is balancedWorld whose listener's TCP idle timeout
// is tcpIdle (0: the default).
func balancedWorldIdle(t testing.TB, proto uint8, tcpIdle time.Duration) *world {
	t.Helper()
	w := natWorld(t, nacl.Entry{RuleNumber: 100, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")})
	_, err := w.reg.AuthorizeIngress("sg-app", tcpRule(443, "0.0.0.0/0"), tcpRule(22, "0.0.0.0/0"),
		sg.Rule{Protocol: sg.UDP, FromPort: 443, ToPort: 443, Peer: peer("0.0.0.0/0")})
	require.NoError(t, err)
	_, err = w.net.AddInterface(eni.InterfaceSpec{ID: "eni-nlb", SubnetID: "subnet-public", Type: eni.TypeNetworkLoadBalancer,
		RequesterManaged: true, Description: "ELB net/web/50dc6c495c0c9188", PrivateIPv4: splitAddrs("10.0.1.20"),
		PublicIPv4: []eni.PublicIP{{Public: mustAddr("203.0.113.20"), Private: mustAddr("10.0.1.20")}}})
	require.NoError(t, err)
	require.NoError(t, w.net.AddTargetGroup(eni.TargetGroupSpec{ID: "targetgroup/web/73e2d6bc24d8a067", Balancer: "net/web/50dc6c495c0c9188",
		Protocol: proto, Targets: []netip.AddrPort{mustAP("10.0.2.10:443")}, TCPIdleTimeout: tcpIdle}))
	return w
}

func TestBalancedTargets(t *testing.T) {
	build := func() *world { return balancedWorld(t, 6) }
	steps := []struct {
		pkt      *eni.Packet
		allowed  bool
		balancer string
	}{
		{tcp("198.51.100.7:50000", "10.0.2.10:443", eni.SYN), true, "net/web/50dc6c495c0c9188"},
		{tcp("10.0.2.10:443", "198.51.100.7:50000", eni.SYN|eni.ACK), true, "net/web/50dc6c495c0c9188"},
		{tcp("198.51.100.7:50000", "10.0.2.10:443", eni.ACK), true, "net/web/50dc6c495c0c9188"},
		{tcp("198.51.100.7:50000", "10.0.2.10:443", eni.ACK|eni.PSH), true, "net/web/50dc6c495c0c9188"},
		{tcp("10.0.2.10:443", "198.51.100.7:50000", eni.ACK|eni.PSH), true, "net/web/50dc6c495c0c9188"},
		{tcp("198.51.100.7:50001", "10.0.2.10:22", eni.SYN), false, ""}, // not a target: the NAT gateway refuses it
		{udp("198.51.100.7:50002", "10.0.2.10:443"), false, ""},         // a TCP group: UDP is no target
		{tcp("10.0.2.10:40000", "198.51.100.7:443", eni.SYN), true, ""}, // the server's own call goes by the NAT gateway
		{tcp("198.51.100.7:443", "10.0.2.10:40000", eni.SYN|eni.ACK), true, ""},
	}
	a, b := build(), build()
	fc := b.net.NewFlowCache()
	for k, st := range steps {
		var long, cached eni.Path
		a.net.JudgeInto(st.pkt, at(float64(k)), &long)
		fc.JudgeInto(st.pkt, at(float64(k)), &cached)
		require.Equal(t, st.allowed, long.Allowed(), "%s", long)
		assert.Equal(t, st.balancer, long.Balancer(), "%s", long)
		assert.Equal(t, long.String(), cached.String(), "step %d", k)
		if st.balancer != "" {
			assert.Empty(t, long.Vias(), "%s", long)
			last := long.Stages()[len(long.Stages())-1]
			if st.pkt.Dst == mustAddr("10.0.2.10") {
				assert.Equal(t, eni.StageDestGroups, last.Kind)
			}
		}
	}
	var p eni.Path
	a.net.JudgeInto(steps[5].pkt, at(20), &p)
	assert.NotContains(t, p.String(), "unless internet-facing Network Load Balancer",
		"the balancer's targets are known: its port 22 is none of them")
	a.net.JudgeInto(steps[0].pkt, at(20), &p)
	assert.Equal(t, "ALLOW tcp 198.51.100.7:50000 → 10.0.2.10:443 [SYN] (by Network Load Balancer net/web/50dc6c495c0c9188, "+
		"which keeps the client's address)", strings.SplitN(p.String(), "\n", 2)[0])
	a.net.JudgeInto(steps[1].pkt, at(20), &p)
	assert.Contains(t, p.String(), "(back by Network Load Balancer net/web/50dc6c495c0c9188, to the client's address)")

	// Bad specs are refused with the field at fault.
	w := build()
	for _, tc := range []struct {
		spec eni.TargetGroupSpec
		want string
	}{
		{eni.TargetGroupSpec{Balancer: "net/x/1"}, "TargetGroupArn: a target group needs an ID"},
		{eni.TargetGroupSpec{ID: "tg"}, "tg: LoadBalancerArns: the target group needs its load balancer"},
		{eni.TargetGroupSpec{ID: "tg", Balancer: "net/x/1", Protocol: 1}, `tg: Protocol: "1": a Network Load Balancer's targets take`},
		{eni.TargetGroupSpec{ID: "tg", Balancer: "net/x/1", Targets: []netip.AddrPort{mustAP("10.0.2.10:0")}}, "tg: Targets[0]"},
		{eni.TargetGroupSpec{ID: "targetgroup/web/73e2d6bc24d8a067", Balancer: "net/x/1"}, "a target group with this ID exists"},
		{eni.TargetGroupSpec{ID: "tg", Balancer: "net/x/1", TCPIdleTimeout: 30 * time.Second},
			`tg: tcp.idle_timeout.seconds: "30": a TCP listener's idle timeout is 60-6000 seconds`},
	} {
		err := w.net.AddTargetGroup(tc.spec)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
		assert.ErrorIs(t, err, eni.ErrInvalidTargetGroup)
	}
}

// TestBalancedFlowsAreTracked: AWS tracks every flow through a Network
// Load Balancer (§2.3), so a target whose rules are open to the world both
// ways, which would leave a flow from the internet gateway untracked,
// tracks what the balancer brings, and says why.
func TestBalancedFlowsAreTracked(t *testing.T) {
	for _, balanced := range []bool{false, true} {
		w := natWorld(t, nacl.Entry{RuleNumber: 100, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")})
		w.iface("eni-web", "subnet-public", "10.0.1.30", w.group("web", sg.Rule{Protocol: sg.TCP, FromPort: 0, ToPort: 65535, Peer: peer("0.0.0.0/0")}))
		if balanced {
			require.NoError(t, w.net.AddTargetGroup(eni.TargetGroupSpec{ID: "tg", Balancer: "net/web/1", Protocol: 6,
				Targets: []netip.AddrPort{mustAP("10.0.1.30:443")}}))
		}
		fc := w.net.NewFlowCache()
		var p eni.Path
		fc.JudgeInto(tcp("198.51.100.7:50000", "10.0.1.30:443", eni.SYN), at(0), &p)
		require.True(t, p.Allowed(), "%s", p)
		v := p.Stages()[len(p.Stages())-1].Verdict
		assert.Equal(t, !balanced, v.Untracked, "%s", p)
		assert.Equal(t, balanced, v.NewConn, "%s", p)
		if balanced {
			assert.Contains(t, v.Explain(), "new tracked connection: the rules are open to the world both ways, "+
				"but AWS tracks every flow through Network Load Balancer net/web/1")
		}
	}
}

// TestBalancerIdleTimeout: a Network Load Balancer drops a flow idle for
// 350 s (TCP) or 120 s (UDP), however long the target's own table keeps
// the connection (five days by default), and then refuses what comes on
// it, either way, until a client opens another.
func TestBalancerIdleTimeout(t *testing.T) {
	const nlb = "net/web/50dc6c495c0c9188"
	in := func(flags uint8) *eni.Packet { return tcp("198.51.100.7:50000", "10.0.2.10:443", flags) }
	out := func(flags uint8) *eni.Packet { return tcp("10.0.2.10:443", "198.51.100.7:50000", flags) }
	type step struct {
		at      float64
		pkt     *eni.Packet
		allowed bool
		want    []string // in the refusal's explanation
	}
	for _, tc := range []struct {
		name    string
		proto   uint8
		pickup  bool
		steps   []step
		tcpIdle time.Duration
	}{
		{"tcp", 6, false, []step{
			{0, in(eni.SYN), true, nil},
			{1, out(eni.SYN | eni.ACK), true, nil},
			{2, in(eni.ACK), true, nil},
			{300, out(eni.ACK | eni.PSH), true, nil}, // idle 298 s
			{660, in(eni.ACK | eni.PSH), false, []string{"NLB_NO_FLOW: Network Load Balancer " + nlb + " holds no flow for this packet from a client, " +
				"and only a SYN opens one: the flow (tcp-established, opened by the client) had been idle 360 s, past the balancer's 350 s idle timeout", "reset"}},
			{661, out(eni.ACK | eni.PSH), false, []string{"from its target, and sends a target's packets back only on a flow the client opened: " +
				"the flow (tcp-established, opened by the client) had been idle 361 s"}},
			{700, in(eni.SYN), true, nil}, // a new connection on the same ports
			{701, out(eni.SYN | eni.ACK), true, nil},
		}, 0},
		{"tcp listener of 900 s", 6, false, []step{
			{0, in(eni.SYN), true, nil},
			{1, out(eni.SYN | eni.ACK), true, nil},
			{2, in(eni.ACK), true, nil},
			{660, in(eni.ACK | eni.PSH), true, nil},
			{1561, out(eni.ACK | eni.PSH), false, []string{"had been idle 901 s, past the balancer's 900 s idle timeout"}},
		}, 900 * time.Second},
		{"tcp never opened", 6, false, []step{
			{0, in(eni.ACK), false, []string{"holds no flow for this packet from a client, and only a SYN opens one; it answers with a reset"}},
		}, 0},
		{"tcp pickup", 6, true, []step{
			{0, in(eni.ACK), true, nil},
			{1, out(eni.ACK), true, nil},
			{400, in(eni.ACK), true, nil}, // picked up again, as at the target
		}, 0},
		{"udp", 17, false, []step{
			{0, udp("198.51.100.7:50000", "10.0.2.10:443"), true, nil},
			{100, udp("10.0.2.10:443", "198.51.100.7:50000"), true, nil},
			{221, udp("10.0.2.10:443", "198.51.100.7:50000"), false, []string{"had been idle 121 s, past the balancer's 120 s idle timeout"}},
			{230, udp("198.51.100.7:50000", "10.0.2.10:443"), true, nil}, // a new flow
			{231, udp("10.0.2.10:443", "198.51.100.7:50000"), true, nil},
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := balancedWorldIdle(t, tc.proto, tc.tcpIdle), balancedWorldIdle(t, tc.proto, tc.tcpIdle)
			a.net.SetTCPPickup(tc.pickup)
			b.net.SetTCPPickup(tc.pickup)
			fc := b.net.NewFlowCache()
			for k, st := range tc.steps {
				var long, cached eni.Path
				a.net.JudgeInto(st.pkt, at(st.at), &long)
				fc.JudgeInto(st.pkt, at(st.at), &cached)
				require.Equal(t, st.allowed, long.Allowed(), "step %d: %s", k, long)
				assert.Equal(t, long.String(), cached.String(), "step %d", k)
				assert.Equal(t, nlb, long.Balancer(), "step %d", k)
				if st.allowed {
					continue
				}
				stages := long.Stages()
				last := stages[len(stages)-1]
				require.Equal(t, eni.StageRoute, last.Kind, "%s", long)
				require.NotNil(t, last.Route)
				assert.True(t, last.Route.NoBalancerFlow)
				assert.Equal(t, eni.ReasonNoBalancerFlow, last.Route.Reason())
				assert.Equal(t, nlb, last.Route.Balancer)
				if st.pkt.Src == mustAddr("198.51.100.7") {
					assert.Len(t, stages, 1, "the target never sees it: %s", long)
					assert.Equal(t, eni.Inbound, last.Verdict.Direction)
				} else {
					assert.Equal(t, []eni.StageKind{eni.StageSourceGroups, eni.StageSourceACL, eni.StageRoute},
						[]eni.StageKind{stages[0].Kind, stages[1].Kind, stages[2].Kind}, "%s", long)
					assert.True(t, stages[0].Allowed, "the target's groups let its packet out: %s", long)
					assert.Equal(t, eni.Outbound, last.Verdict.Direction)
				}
				assert.Equal(t, len(st.want) > 0 && strings.Contains(st.want[0], "idle"), last.Verdict.IdledOut)
				for _, w := range st.want {
					assert.Contains(t, last.Explain(), w)
				}
			}
			// Both networks judged the same packets: the same figures.
			stats := a.net.BalancerStats()
			assert.Equal(t, stats, b.net.BalancerStats())
			require.Len(t, stats, 1)
			refused, idled := 0, 0
			for _, st := range tc.steps {
				if !st.allowed {
					refused++
					if strings.Contains(st.want[0], "idle") {
						idled++
					}
				}
			}
			assert.Equal(t, nlb, stats[0].Name)
			assert.Equal(t, cmp.Or(tc.tcpIdle, eni.BalancerTCPIdleTimeout), stats[0].TCPIdleTimeout)
			assert.Equal(t, uint64(refused), stats[0].Refused)
			assert.Equal(t, uint64(idled), stats[0].IdledOut)
			assert.Equal(t, idled > 0 || tc.pickup, stats[0].Tracking.Expired > 0, "%+v", stats[0].Tracking)
		})
	}
}

// TestBalancerOpensBeforeTarget: a client's SYN opens the balancer's flow
// as it reaches the balancer, though the target's groups refuse it.
func TestBalancerOpensBeforeTarget(t *testing.T) {
	w := balancedWorld(t, 6)
	require.NoError(t, w.reg.RevokeIngress("sg-app", tcpRule(443, "0.0.0.0/0")))
	syn := tcp("198.51.100.7:50000", "10.0.2.10:443", eni.SYN)
	var p eni.Path
	w.net.JudgeInto(syn, at(0), &p)
	require.False(t, p.Allowed(), "%s", p)
	assert.Equal(t, eni.StageDestGroups, p.Refusals()[0].Kind, "refused by the target, not the balancer")
	stats := w.net.BalancerStats()
	require.Len(t, stats, 1)
	assert.Equal(t, uint64(1), stats[0].Tracking.Created, "the balancer's flow opened")
	assert.Zero(t, stats[0].Refused)
}
