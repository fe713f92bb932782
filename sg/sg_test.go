package sg_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/sg"
)

var (
	mustAddr   = netip.MustParseAddr
	mustPrefix = netip.MustParsePrefix
	peer       = sg.MustParsePeer
)

func tcp(from, to int32, p string) sg.Rule {
	return sg.Rule{Protocol: sg.TCP, FromPort: from, ToPort: to, Peer: peer(p)}
}

func newGroup(t testing.TB, reg *sg.Registry, name string) string {
	t.Helper()
	id, err := reg.CreateEmptyGroup(sg.GroupSpec{ID: "sg-" + name, Name: name, VpcID: "vpc-1", OwnerID: "111122223333"})
	require.NoError(t, err)
	return id
}

func TestParseProtocol(t *testing.T) {
	tests := []struct {
		in   string
		want sg.Protocol
		err  bool
	}{
		{"tcp", sg.TCP, false}, {"TCP", sg.TCP, false}, {"6", sg.TCP, false},
		{"udp", sg.UDP, false}, {"17", sg.UDP, false},
		{"icmp", sg.ICMP, false}, {"1", sg.ICMP, false},
		{"icmpv6", sg.ICMPv6, false}, {"58", sg.ICMPv6, false},
		{"-1", sg.AllProtocols, false}, {"47", 47, false}, {"0", 0, false}, {"255", 255, false},
		{"256", 0, true}, {"-2", 0, true}, {"gre", 0, true}, {"", 0, true},
	}
	for _, tt := range tests {
		got, err := sg.ParseProtocol(tt.in)
		if tt.err {
			assert.ErrorIs(t, err, sg.ErrInvalidProtocol, "ParseProtocol(%q)", tt.in)
			continue
		}
		require.NoError(t, err, "ParseProtocol(%q)", tt.in)
		assert.Equal(t, tt.want, got, "ParseProtocol(%q)", tt.in)
	}
	assert.Equal(t, "tcp", sg.Protocol(6).String())
	assert.Equal(t, "47", sg.Protocol(47).String())
	assert.Equal(t, "-1", sg.AllProtocols.String())
}

func TestAuthorizeErrors(t *testing.T) {
	tests := []struct {
		name string
		rule sg.Rule
		code *sg.Code
		text string
	}{
		{"reversed ports", tcp(80, 22, "0.0.0.0/0"), sg.ErrInvalidPortRange, `"80-22"`},
		{"port too big", tcp(0, 70000, "0.0.0.0/0"), sg.ErrInvalidPortRange, "0-70000"},
		{"negative port", tcp(-1, 22, "0.0.0.0/0"), sg.ErrInvalidPortRange, "-1-22"},
		{"icmp all types with a code", sg.Rule{Protocol: sg.ICMP, FromPort: -1, ToPort: 0, Peer: peer("0.0.0.0/0")},
			sg.ErrInvalidPortRange, "all codes"},
		{"icmp type too big", sg.Rule{Protocol: sg.ICMP, FromPort: 300, ToPort: -1, Peer: peer("0.0.0.0/0")},
			sg.ErrInvalidPortRange, "300--1"},
		{"unknown protocol", sg.Rule{Protocol: 300, Peer: peer("0.0.0.0/0")}, sg.ErrInvalidProtocol, "300"},
		{"bad cidr", sg.Rule{Protocol: sg.TCP, FromPort: 1, ToPort: 1, Peer: sg.CIDR(netip.Prefix{})}, sg.ErrInvalidCIDR, "malformed"},
		{"missing group", tcp(22, 22, "sg-nothere"), sg.ErrInvalidGroup, "sg-nothere"},
		{"missing prefix list", tcp(22, 22, "pl-nothere"), sg.ErrInvalidPrefixList, "pl-nothere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := sg.NewRegistry()
			id := newGroup(t, reg, "web")
			_, err := reg.AuthorizeIngress(id, tt.rule)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.code)
			var e *sg.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "sg-web", e.Group)
			assert.Contains(t, err.Error(), "sg-web")
			assert.Contains(t, err.Error(), tt.text)
		})
	}
	_, err := sg.ParsePeer("10.0.0/24")
	assert.ErrorIs(t, err, sg.ErrInvalidCIDR)
	assert.Contains(t, err.Error(), "10.0.0/24")
}

func TestDuplicateAndRevoke(t *testing.T) {
	reg := sg.NewRegistry()
	id := newGroup(t, reg, "web")
	_, err := reg.AuthorizeIngress(id, tcp(22, 22, "10.1.2.3/8"))
	require.NoError(t, err)

	g, _ := reg.Group(id)
	assert.Equal(t, mustPrefix("10.0.0.0/8"), g.Ingress[0].Rule.Peer.CIDR, "host bits are masked, as AWS stores them")

	_, err = reg.AuthorizeIngress(id, tcp(22, 22, "10.0.0.0/8"))
	assert.ErrorIs(t, err, sg.ErrDuplicate)
	assert.Contains(t, err.Error(), "tcp 22 from 10.0.0.0/8")

	_, err = reg.AuthorizeIngress(id, tcp(80, 80, "0.0.0.0/0"), tcp(80, 80, "0.0.0.0/0"))
	assert.ErrorIs(t, err, sg.ErrDuplicateInRequest)
	g, _ = reg.Group(id)
	assert.Len(t, g.Ingress, 1, "a failed request adds nothing")

	// The same rule in the other direction is not a duplicate.
	_, err = reg.AuthorizeEgress(id, tcp(22, 22, "10.0.0.0/8"))
	require.NoError(t, err)

	err = reg.RevokeIngress(id, tcp(443, 443, "0.0.0.0/0"))
	assert.ErrorIs(t, err, sg.ErrNotFound)
	assert.Contains(t, err.Error(), "tcp 443 from 0.0.0.0/0")

	gen := reg.Generation()
	require.NoError(t, reg.RevokeIngress(id, tcp(22, 22, "10.9.9.9/8")), "revoke matches the canonical CIDR")
	assert.NotEqual(t, gen, reg.Generation())
	g, _ = reg.Group(id)
	assert.Empty(t, g.Ingress)
	assert.True(t, func() bool { ri, _ := reg.Rule(1); return ri.Revoked }(), "revoked rules stay readable by ref")
}

func TestPortlessProtocolsIgnorePorts(t *testing.T) {
	reg := sg.NewRegistry()
	id := newGroup(t, reg, "x")
	_, err := reg.AuthorizeIngress(id,
		sg.Rule{Protocol: sg.AllProtocols, FromPort: 22, ToPort: 22, Peer: peer("10.0.0.0/8")},
		sg.Rule{Protocol: 47, FromPort: 1000, ToPort: 2000, Peer: peer("10.0.0.0/8")})
	require.NoError(t, err)
	g, _ := reg.Group(id)
	for _, r := range g.Ingress {
		assert.Equal(t, int32(-1), r.Rule.FromPort)
		assert.Equal(t, int32(-1), r.Rule.ToPort)
	}
}

func TestDefaultGroups(t *testing.T) {
	reg := sg.NewRegistry()
	def, err := reg.CreateDefaultGroup(sg.GroupSpec{ID: "sg-def", VpcID: "vpc-1", OwnerID: "111122223333"}, true)
	require.NoError(t, err)
	g, _ := reg.Group(def)
	assert.Equal(t, "default", g.Name)
	assert.True(t, g.IsDefault)
	require.Len(t, g.Ingress, 1)
	assert.Equal(t, "sg-def", g.Ingress[0].Rule.Peer.GroupID, "inbound all from itself")
	require.Len(t, g.Egress, 2, "0.0.0.0/0 and ::/0 when the VPC has IPv6")
	assert.ErrorIs(t, reg.DeleteGroup(def), sg.ErrCannotDelete)

	v4only, err := reg.CreateDefaultGroup(sg.GroupSpec{ID: "sg-def2", VpcID: "vpc-2"}, false)
	require.NoError(t, err)
	g, _ = reg.Group(v4only)
	assert.Len(t, g.Egress, 1)

	custom, err := reg.CreateGroup(sg.GroupSpec{Name: "app", VpcID: "vpc-1"})
	require.NoError(t, err)
	g, _ = reg.Group(custom)
	assert.Empty(t, g.Ingress)
	require.Len(t, g.Egress, 1)
	assert.Contains(t, g.Egress[0].String(), "egress all traffic to 0.0.0.0/0")
	assert.True(t, g.Egress[0].Rule.Peer.IsWorld())

	_, err = reg.CreateGroup(sg.GroupSpec{Name: "APP", VpcID: "vpc-1"})
	assert.ErrorIs(t, err, sg.ErrDuplicateGroup, "names are unique per VPC, not case-sensitive")
	_, err = reg.CreateGroup(sg.GroupSpec{Name: "app", VpcID: "vpc-2"})
	assert.NoError(t, err, "the same name in another VPC is fine")
	_, err = reg.CreateGroup(sg.GroupSpec{Name: "sg-web", VpcID: "vpc-1"})
	assert.ErrorIs(t, err, sg.ErrInvalidGroupName)

	empty := newGroup(t, reg, "tf")
	g, _ = reg.Group(empty)
	assert.Empty(t, g.Ingress)
	assert.Empty(t, g.Egress)
}

// Edge 14: a group in another account of a peered VPC may be referenced as
// account/sg-id even though it is outside the model; an unknown group of
// the same account may not.
func TestCrossAccountReference(t *testing.T) {
	reg := sg.NewRegistry()
	id := newGroup(t, reg, "db")
	_, err := reg.AuthorizeIngress(id, tcp(5432, 5432, "444455556666/sg-0cc3333333333333c"))
	assert.NoError(t, err)
	_, err = reg.AuthorizeIngress(id, tcp(5432, 5432, "111122223333/sg-0dd"))
	assert.ErrorIs(t, err, sg.ErrInvalidGroup, "same account, unknown group")
	g, _ := reg.Group(id)
	assert.Equal(t, "444455556666/sg-0cc3333333333333c", g.Ingress[0].Rule.Peer.String())
}

func TestDeleteReferencedGroup(t *testing.T) {
	reg := sg.NewRegistry()
	app := newGroup(t, reg, "app")
	db := newGroup(t, reg, "db")
	_, err := reg.AuthorizeIngress(db, tcp(5432, 5432, app))
	require.NoError(t, err)
	assert.ErrorIs(t, reg.DeleteGroup(app), sg.ErrDependencyViolation)
	require.NoError(t, reg.RevokeIngress(db, tcp(5432, 5432, app)))
	assert.NoError(t, reg.DeleteGroup(app))
	assert.False(t, reg.HasGroup(app))
}

func TestRuleQuota(t *testing.T) {
	reg := sg.NewRegistry()
	id := newGroup(t, reg, "big")
	for i := 0; i < 60; i++ {
		_, err := reg.AuthorizeIngress(id, tcp(int32(1000+i), int32(1000+i), "10.0.0.0/8"))
		require.NoError(t, err)
	}
	_, err := reg.AuthorizeIngress(id, tcp(2000, 2000, "10.0.0.0/8"))
	assert.ErrorIs(t, err, sg.ErrRulesLimit, "61st inbound IPv4 rule")
	assert.Contains(t, err.Error(), "sg-big")
	_, err = reg.AuthorizeIngress(id, tcp(2000, 2000, "2001:db8::/32"))
	assert.NoError(t, err, "IPv6 rules count in their own bucket")
	_, err = reg.AuthorizeEgress(id, tcp(2000, 2000, "10.0.0.0/8"))
	assert.NoError(t, err, "outbound rules count in their own bucket")
}

func TestPrefixListWeight(t *testing.T) {
	reg := sg.NewRegistry()
	require.NoError(t, reg.CreatePrefixList(sg.PrefixList{ID: "pl-office", MaxEntries: 20, Entries: []sg.PrefixListEntry{
		{CIDR: mustPrefix("198.51.100.0/24")}, {CIDR: mustPrefix("203.0.113.0/25")}, {CIDR: mustPrefix("192.0.2.7/32")}}}))
	require.NoError(t, reg.CreatePrefixList(sg.PrefixList{ID: "pl-cloudfront", OwnerID: "AWS", Weight: 55,
		Entries: []sg.PrefixListEntry{{CIDR: mustPrefix("13.32.0.0/15")}}}))

	id := newGroup(t, reg, "edge")
	_, err := reg.AuthorizeIngress(id, tcp(443, 443, "pl-cloudfront"))
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		_, err = reg.AuthorizeIngress(id, tcp(int32(10+i), int32(10+i), "10.0.0.0/8"))
		require.NoError(t, err, "CloudFront weighs 55 and leaves 5 rules")
	}
	_, err = reg.AuthorizeIngress(id, tcp(99, 99, "10.0.0.0/8"))
	assert.ErrorIs(t, err, sg.ErrRulesLimit)

	id2 := newGroup(t, reg, "office")
	for i := 0; i < 3; i++ {
		_, err = reg.AuthorizeIngress(id2, tcp(int32(22+i), int32(22+i), "pl-office"))
		require.NoError(t, err)
	}
	_, err = reg.AuthorizeIngress(id2, tcp(99, 99, "pl-office"))
	assert.ErrorIs(t, err, sg.ErrRulesLimit, "a list of MaxEntries 20 weighs 20, not its 3 entries: three fill 60")

	err = reg.SetPrefixListEntries("pl-office", []sg.PrefixListEntry{{CIDR: mustPrefix("2001:db8::/32")}})
	assert.ErrorIs(t, err, sg.ErrPrefixListFamily)
}

func TestQuotas(t *testing.T) {
	q := sg.DefaultQuotas()
	assert.NoError(t, q.Validate())
	q.GroupsPerInterface = 16
	assert.NoError(t, q.Validate(), "60 × 16 = 960 fits under 1000")
	q.RulesPerGroup = 63
	assert.ErrorIs(t, q.Validate(), sg.ErrInvalidQuota, "63 × 16 > 1000")
	q = sg.Quotas{RulesPerGroup: 200, GroupsPerInterface: 5, GroupsPerRegion: 2500}
	assert.NoError(t, q.Validate())
	q.GroupsPerInterface = 17
	assert.ErrorIs(t, q.Validate(), sg.ErrInvalidQuota)

	reg := sg.NewRegistry()
	require.NoError(t, reg.SetQuotas(sg.Quotas{RulesPerGroup: 60, GroupsPerInterface: 5, GroupsPerRegion: 2}))
	newGroup(t, reg, "a")
	newGroup(t, reg, "b")
	_, err := reg.CreateEmptyGroup(sg.GroupSpec{Name: "c", VpcID: "vpc-1"})
	assert.ErrorIs(t, err, sg.ErrGroupsLimit)
}

type probe struct {
	dir      sg.Direction
	proto    uint8
	port     uint16
	typ, cod uint8
	remote   string
}

func lookup(t *testing.T, reg *sg.Registry, groups []string, members sg.Members, p probe) (sg.RuleRef, bool, bool) {
	t.Helper()
	rs := reg.Compile(groups, members)
	m := rs.Lookup(p.dir, p.proto, sg.Key(p.proto, p.port, p.typ, p.cod), mustAddr(p.remote))
	return rs.Ref(m), m.World, m.OK()
}

func TestCompiledMatching(t *testing.T) {
	reg := sg.NewRegistry()
	a := newGroup(t, reg, "a")
	b := newGroup(t, reg, "b")
	refs, err := reg.AuthorizeIngress(a,
		tcp(22, 22, "10.0.0.0/8"),
		sg.Rule{Protocol: sg.AllProtocols, FromPort: 22, ToPort: 22, Peer: peer("192.0.2.0/24")},
		sg.Rule{Protocol: 47, FromPort: 1000, ToPort: 2000, Peer: peer("198.51.100.0/24")},
		sg.Rule{Protocol: sg.ICMPv6, FromPort: -1, ToPort: -1, Peer: peer("::/0")},
		sg.Rule{Protocol: sg.ICMP, FromPort: 8, ToPort: -1, Peer: peer("0.0.0.0/0")},
		tcp(80, 80, "::/0"),
	)
	require.NoError(t, err)
	refsB, err := reg.AuthorizeIngress(b, tcp(22, 22, "0.0.0.0/0"))
	require.NoError(t, err)
	groups := []string{a, b}

	tests := []struct {
		name  string
		p     probe
		ref   sg.RuleRef
		world bool
		ok    bool
	}{
		{"ssh from 10/8 picks the more specific rule", probe{sg.Ingress, 6, 22, 0, 0, "10.1.1.1"}, refs[0], true, true},
		{"union: ssh from anywhere via group b", probe{sg.Ingress, 6, 22, 0, 0, "203.0.113.9"}, refsB[0], true, true},
		{"-1 with ports allows every protocol and port", probe{sg.Ingress, 17, 9999, 0, 0, "192.0.2.5"}, refs[1], false, true},
		{"GRE ignores ports", probe{sg.Ingress, 47, 0, 0, 0, "198.51.100.7"}, refs[2], false, true},
		{"GRE from elsewhere", probe{sg.Ingress, 47, 0, 0, 0, "203.0.113.7"}, 0, false, false},
		{"icmpv6 without ports allows all types", probe{sg.Ingress, 58, 0, 135, 0, "2001:db8::1"}, refs[3], true, true},
		{"icmp echo any code", probe{sg.Ingress, 1, 0, 8, 5, "203.0.113.1"}, refs[4], true, true},
		{"icmp other type", probe{sg.Ingress, 1, 0, 3, 4, "203.0.113.1"}, 0, false, false},
		{"IPv6 rule does not match IPv4", probe{sg.Ingress, 6, 80, 0, 0, "203.0.113.1"}, 0, false, false},
		{"IPv4 rule does not match IPv6", probe{sg.Ingress, 6, 22, 0, 0, "2001:db8::1"}, 0, false, false},
		{"IPv6 http", probe{sg.Ingress, 6, 80, 0, 0, "2001:db8::1"}, refs[5], true, true},
		{"no egress rules", probe{sg.Egress, 6, 443, 0, 0, "203.0.113.1"}, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, world, ok := lookup(t, reg, groups, nil, tt.p)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.ref, ref)
			assert.Equal(t, tt.world, world)
		})
	}
}

func TestGroupReferencesAndPrefixLists(t *testing.T) {
	reg := sg.NewRegistry()
	app := newGroup(t, reg, "app")
	db := newGroup(t, reg, "db")
	require.NoError(t, reg.CreatePrefixList(sg.PrefixList{ID: "pl-1", MaxEntries: 5,
		Entries: []sg.PrefixListEntry{{CIDR: mustPrefix("198.51.100.0/24")}}}))
	refs, err := reg.AuthorizeIngress(db, tcp(5432, 5432, app), tcp(22, 22, "pl-1"),
		sg.Rule{Protocol: sg.TCP, FromPort: 3306, ToPort: 3306,
			Peer: sg.Peer{Kind: sg.PeerGroup, GroupID: "sg-peer", PeeringConnectionID: "pcx-1", PeeringStatus: "deleted"}})
	require.NoError(t, err)
	members := map[string][]netip.Addr{app: {mustAddr("10.0.1.10"), mustAddr("2001:db8::10")}, "sg-peer": {mustAddr("10.9.0.1")}}
	mf := func(id string) []netip.Prefix { return hosts(members[id]...) }

	ref, _, ok := lookup(t, reg, []string{db}, mf, probe{sg.Ingress, 6, 5432, 0, 0, "10.0.1.10"})
	assert.True(t, ok)
	assert.Equal(t, refs[0], ref)
	_, _, ok = lookup(t, reg, []string{db}, mf, probe{sg.Ingress, 6, 5432, 0, 0, "2001:db8::10"})
	assert.True(t, ok, "group references include members' IPv6 addresses")
	_, _, ok = lookup(t, reg, []string{db}, mf, probe{sg.Ingress, 6, 5432, 0, 0, "10.0.1.11"})
	assert.False(t, ok)
	_, _, ok = lookup(t, reg, []string{db}, mf, probe{sg.Ingress, 6, 3306, 0, 0, "10.9.0.1"})
	assert.False(t, ok, "a stale reference matches nothing")

	_, _, ok = lookup(t, reg, []string{db}, mf, probe{sg.Ingress, 6, 22, 0, 0, "198.51.100.20"})
	assert.True(t, ok)
	require.NoError(t, reg.SetPrefixListEntries("pl-1", []sg.PrefixListEntry{{CIDR: mustPrefix("192.0.2.0/24")}}))
	_, _, ok = lookup(t, reg, []string{db}, mf, probe{sg.Ingress, 6, 22, 0, 0, "198.51.100.20"})
	assert.False(t, ok, "rules use the list's current entries")
	_, _, ok = lookup(t, reg, []string{db}, mf, probe{sg.Ingress, 6, 22, 0, 0, "192.0.2.1"})
	assert.True(t, ok)
}

func TestOpenToWorld(t *testing.T) {
	reg := sg.NewRegistry()
	id := newGroup(t, reg, "w")
	_, err := reg.AuthorizeEgress(id, sg.Rule{Protocol: sg.AllProtocols, Peer: peer("0.0.0.0/0")},
		sg.Rule{Protocol: sg.UDP, FromPort: 0, ToPort: 65535, Peer: peer("::/0")},
		sg.Rule{Protocol: sg.TCP, FromPort: 0, ToPort: 65534, Peer: peer("::/0")})
	require.NoError(t, err)
	rs := reg.Compile([]string{id}, nil)
	assert.True(t, rs.OpenToWorld(sg.Egress, 6, false))
	assert.True(t, rs.OpenToWorld(sg.Egress, 17, false))
	assert.False(t, rs.OpenToWorld(sg.Egress, 6, true), "0-65534 is not all ports")
	assert.True(t, rs.OpenToWorld(sg.Egress, 17, true))
	assert.False(t, rs.OpenToWorld(sg.Ingress, 6, false))
	assert.False(t, rs.OpenToWorld(sg.Egress, 47, false), "only TCP and UDP flows can be untracked")
}

func TestHitCounters(t *testing.T) {
	reg := sg.NewRegistry()
	id := newGroup(t, reg, "w")
	refs, err := reg.AuthorizeIngress(id, tcp(443, 443, "0.0.0.0/0"))
	require.NoError(t, err)
	rs := reg.Compile([]string{id}, nil)
	m := rs.Lookup(sg.Ingress, 6, 443, mustAddr("203.0.113.1"))
	rs.Count(m, true)
	rs.Count(m, false)
	ri, ok := reg.Rule(refs[0])
	require.True(t, ok)
	assert.Equal(t, uint64(2), ri.Packets)
	assert.Equal(t, uint64(1), ri.Connections)
	reg.ResetCounters()
	ri, _ = reg.Rule(refs[0])
	assert.Zero(t, ri.Packets)
}

// randomRegistry builds groups with random rules over a small address and
// port space, so that overlaps are frequent.
func randomRegistry(t testing.TB, rng *rand.Rand, groups, rules int) (*sg.Registry, []string, sg.Members) {
	reg := sg.NewRegistry()
	require.NoError(t, reg.SetQuotas(sg.Quotas{RulesPerGroup: 200, GroupsPerInterface: 5, GroupsPerRegion: 2500}))
	require.NoError(t, reg.CreatePrefixList(sg.PrefixList{ID: "pl-r", MaxEntries: 1, Entries: []sg.PrefixListEntry{{CIDR: mustPrefix("10.1.0.0/16")}}}))
	members := map[string][]netip.Addr{}
	var ids []string
	for g := 0; g < groups; g++ {
		id := newGroup(t, reg, fmt.Sprintf("g%d", g))
		ids = append(ids, id)
		members[id] = []netip.Addr{randAddr(rng, false), randAddr(rng, true)}
	}
	protos := []sg.Protocol{sg.TCP, sg.UDP, sg.ICMP, sg.ICMPv6, sg.AllProtocols, 47}
	for _, id := range ids {
		for i := 0; i < rules; i++ {
			r := sg.Rule{Protocol: protos[rng.IntN(len(protos))]}
			switch {
			case r.Protocol.HasPorts():
				r.FromPort = int32(rng.IntN(40))
				r.ToPort = r.FromPort + int32(rng.IntN(10))
				if rng.IntN(10) == 0 {
					r.FromPort, r.ToPort = 0, 65535
				}
			case r.Protocol.IsICMP():
				r.FromPort, r.ToPort = int32(rng.IntN(4))-1, int32(rng.IntN(3))-1
				if r.FromPort == -1 {
					r.ToPort = -1
				}
			}
			switch rng.IntN(6) {
			case 0:
				r.Peer = sg.GroupPeer(ids[rng.IntN(len(ids))])
			case 1:
				r.Peer = sg.PrefixListPeer("pl-r")
			default:
				is6 := rng.IntN(3) == 0
				a := randAddr(rng, is6)
				bits := rng.IntN(a.BitLen() + 1)
				if rng.IntN(8) == 0 {
					bits = 0
				}
				r.Peer = sg.CIDR(netip.PrefixFrom(a, bits))
			}
			dir := sg.Direction(rng.IntN(2))
			if dir == sg.Ingress {
				_, _ = reg.AuthorizeIngress(id, r) // duplicates are expected and skipped
			} else {
				_, _ = reg.AuthorizeEgress(id, r)
			}
		}
	}
	return reg, ids, func(id string) []netip.Prefix { return hosts(members[id]...) }
}

// randAddr returns an address in a small space: 10.0-3.x.x or 2001:db8::/126-ish.
func randAddr(rng *rand.Rand, is6 bool) netip.Addr {
	if is6 {
		var b [16]byte
		copy(b[:], []byte{0x20, 0x01, 0x0d, 0xb8})
		b[15] = byte(rng.IntN(8))
		b[7] = byte(rng.IntN(2))
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(8))})
}

func checkAgainstOracle(t testing.TB, reg *sg.Registry, rs *sg.Ruleset, ids []string, members sg.Members, p probe) {
	remote := mustAddr(p.remote)
	want, wantWorld, wantOK := oracleExpect(oracle(reg, ids, members, p.dir, p.proto, p.port, p.typ, p.cod, remote))
	m := rs.Lookup(p.dir, p.proto, sg.Key(p.proto, p.port, p.typ, p.cod), remote)
	if m.OK() != wantOK || rs.Ref(m) != want || (wantOK && m.World != wantWorld) {
		t.Fatalf("Lookup(%+v) = ref %d world %v ok %v; oracle says ref %d world %v ok %v",
			p, rs.Ref(m), m.World, m.OK(), want, wantWorld, wantOK)
	}
}

func TestCompiledAgreesWithOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	protos := []uint8{6, 17, 1, 58, 47, 50}
	for round := 0; round < 30; round++ {
		reg, ids, members := randomRegistry(t, rng, 1+rng.IntN(4), 5+rng.IntN(40))
		rs := reg.Compile(ids, members)
		for i := 0; i < 400; i++ {
			p := probe{dir: sg.Direction(rng.IntN(2)), proto: protos[rng.IntN(len(protos))],
				port: uint16(rng.IntN(55)), typ: uint8(rng.IntN(4)), cod: uint8(rng.IntN(3)),
				remote: randAddr(rng, rng.IntN(3) == 0).String()}
			checkAgainstOracle(t, reg, rs, ids, members, p)
		}
	}
}

func FuzzCompiledAgreesWithOracle(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(20), uint8(0), uint8(6), uint16(22), uint8(0), uint8(0), uint16(5), false)
	f.Add(uint64(7), uint8(1), uint8(60), uint8(1), uint8(1), uint16(0), uint8(8), uint8(0), uint16(77), false)
	f.Add(uint64(9), uint8(5), uint8(40), uint8(0), uint8(58), uint16(0), uint8(2), uint8(1), uint16(3), true)
	f.Fuzz(func(t *testing.T, seed uint64, groups, rules, dir, proto uint8, port uint16, typ, code uint8, addr uint16, is6 bool) {
		rng := rand.New(rand.NewPCG(seed, 99))
		reg, ids, members := randomRegistry(t, rng, 1+int(groups%5), int(rules%80))
		rs := reg.Compile(ids, members)
		a := netip.AddrFrom4([4]byte{10, byte(addr >> 12 & 3), byte(addr >> 8 & 3), byte(addr & 7)})
		if is6 {
			var b [16]byte
			copy(b[:], []byte{0x20, 0x01, 0x0d, 0xb8})
			b[7], b[15] = byte(addr>>8&1), byte(addr&7)
			a = netip.AddrFrom16(b)
		}
		checkAgainstOracle(t, reg, rs, ids, members, probe{sg.Direction(dir & 1), proto, port % 60, typ % 5, code % 4, a.String()})
	})
}

// TestForeignGroupPeer: a reference to a group outside the registry is
// accepted when the group is another account's or another VPC's (peered,
// or attached to the same transit gateway), and refused when nothing says
// it is not in the referencing group's own account and VPC.
func TestForeignGroupPeer(t *testing.T) {
	tests := []struct {
		name    string
		peer    sg.Peer
		foreign bool
	}{
		{"bare", sg.Peer{Kind: sg.PeerGroup, GroupID: "sg-x"}, false},
		{"same account", sg.Peer{Kind: sg.PeerGroup, GroupID: "sg-x", UserID: "111122223333"}, false},
		{"same account and VPC", sg.Peer{Kind: sg.PeerGroup, GroupID: "sg-x", UserID: "111122223333", VpcID: "vpc-1"}, false},
		{"another account", sg.Peer{Kind: sg.PeerGroup, GroupID: "sg-x", UserID: "444455556666"}, true},
		{"peered VPC", sg.Peer{Kind: sg.PeerGroup, GroupID: "sg-x", VpcID: "vpc-2", PeeringConnectionID: "pcx-1"}, true},
		{"transit gateway", sg.Peer{Kind: sg.PeerGroup, GroupID: "sg-x", UserID: "111122223333", VpcID: "vpc-3"}, true},
		{"not a group", sg.Peer{Kind: sg.PeerCIDR, VpcID: "vpc-3"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.foreign, tt.peer.Foreign("111122223333", "vpc-1"))
			if tt.peer.Kind != sg.PeerGroup {
				return
			}
			reg := sg.NewRegistry()
			db := newGroup(t, reg, "db")
			_, err := reg.AuthorizeIngress(db, sg.Rule{Protocol: sg.TCP, FromPort: 5432, ToPort: 5432, Peer: tt.peer})
			if tt.foreign {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, sg.ErrInvalidGroup)
			}
		})
	}
}

// TestCountLock: with the lock Count runs under named, the registry's
// snapshots read the counters while packets are counted; run with -race.
func TestCountLock(t *testing.T) {
	reg := sg.NewRegistry()
	var mu sync.Mutex
	reg.SetCountLock(&mu)
	id := newGroup(t, reg, "w")
	_, err := reg.AuthorizeIngress(id, tcp(443, 443, "0.0.0.0/0"))
	require.NoError(t, err)
	rs := reg.Compile([]string{id}, nil)
	m := rs.Lookup(sg.Ingress, 6, 443, mustAddr("203.0.113.1"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			mu.Lock()
			rs.Count(m, false)
			mu.Unlock()
		}
	}()
	for range 100 {
		_ = reg.Rules()
		_, _ = reg.Group(id)
	}
	<-done
	assert.Equal(t, uint64(1000), reg.Rules()[0].Packets)
	reg.ResetCounters()
	assert.Zero(t, reg.Rules()[0].Packets)
}

// TestHostPrefixes: one-address prefixes (a referenced group's members,
// /32 blocks) are kept by address, apart from the port intervals; a host
// still wins over a wider prefix, the lowest rule wins among rules naming
// the same address that cover the packet, and other addresses fall
// through to the prefixes, most specific first. The oracle says the same
// for every probe.
func TestHostPrefixes(t *testing.T) {
	reg := sg.NewRegistry()
	web := newGroup(t, reg, "web")
	app := newGroup(t, reg, "app")
	var members []netip.Addr
	for k := range 12 {
		members = append(members, netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + k)}), netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", 10+k)))
	}
	mf := func(id string) []netip.Prefix {
		if id == web {
			return hosts(members...)
		}
		return nil
	}
	refs, err := reg.AuthorizeIngress(app,
		tcp(443, 443, "10.0.0.0/16"),
		tcp(443, 443, web),
		tcp(443, 443, "10.0.1.0/24"),
		tcp(440, 450, "10.0.1.11/32"),
		tcp(443, 443, "2001:db8::/64"),
		tcp(443, 443, "0.0.0.0/0"),
		sg.Rule{Protocol: sg.UDP, FromPort: 53, ToPort: 53, Peer: sg.GroupPeer(web)})
	require.NoError(t, err)
	rs := reg.Compile([]string{app}, mf)
	for _, tt := range []struct {
		proto  uint8
		port   uint16
		remote string
		want   sg.RuleRef
		world  bool
	}{
		{6, 443, "10.0.1.10", refs[1], true},  // a member: its host prefix, beside a world rule
		{6, 443, "10.0.1.11", refs[1], true},  // a member and a /32 rule: the lower rule
		{6, 445, "10.0.1.11", refs[3], false}, // only the /32 rule covers 445
		{6, 445, "10.0.1.12", 0, false},       // no rule covers 445 for this member
		{6, 443, "10.0.1.99", refs[2], true},  // no host: the /24
		{6, 443, "10.0.7.1", refs[0], true},   // the /16
		{6, 443, "192.0.2.1", refs[5], true},  // the world
		{6, 443, "2001:db8::15", refs[1], false},
		{6, 443, "2001:db8::99", refs[4], false},
		{17, 53, "10.0.1.13", refs[6], false}, // the member's UDP rule
		{17, 443, "10.0.1.13", 0, false},      // not TCP's rules
	} {
		m := rs.Lookup(sg.Ingress, tt.proto, tt.port, mustAddr(tt.remote))
		assert.Equal(t, tt.want, rs.Ref(m), "%d %d %s", tt.proto, tt.port, tt.remote)
		assert.Equal(t, tt.world, m.World, "%d %d %s", tt.proto, tt.port, tt.remote)
		checkAgainstOracle(t, reg, rs, []string{app}, mf, probe{sg.Ingress, tt.proto, tt.port, 0, 0, tt.remote})
	}
	for k := range 40 {
		for _, port := range []uint16{53, 439, 440, 443, 450} {
			for _, proto := range []uint8{6, 17} {
				checkAgainstOracle(t, reg, rs, []string{app}, mf, probe{sg.Ingress, proto, port, 0, 0, fmt.Sprintf("10.0.1.%d", k)})
			}
		}
	}
}

// hosts gives addresses as Members does: one-address prefixes.
func hosts(addrs ...netip.Addr) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, sg.HostPrefix(a))
	}
	return out
}

// TestMemberPrefixes: a group's members may hold delegated prefixes, and
// a rule referencing the group matches every address in them.
func TestMemberPrefixes(t *testing.T) {
	reg := sg.NewRegistry()
	nodes := newGroup(t, reg, "nodes")
	_, err := reg.AuthorizeIngress(nodes, sg.Rule{Protocol: sg.AllProtocols, Peer: sg.GroupPeer(nodes)})
	require.NoError(t, err)
	rs := reg.Compile([]string{nodes}, func(string) []netip.Prefix {
		return []netip.Prefix{sg.HostPrefix(mustAddr("10.0.1.10")), mustPrefix("10.0.1.48/28"), mustPrefix("2001:db8:0:1:1::/80")}
	})
	for _, tt := range []struct {
		src string
		ok  bool
	}{
		{"10.0.1.10", true}, {"10.0.1.48", true}, {"10.0.1.63", true}, {"10.0.1.64", false}, {"10.0.1.11", false},
		{"2001:db8:0:1:1::99", true}, {"2001:db8:0:1:2::99", false},
	} {
		m := rs.Lookup(sg.Ingress, 6, sg.Key(6, 443, 0, 0), mustAddr(tt.src))
		assert.Equal(t, tt.ok, m.OK(), tt.src)
	}
}
