package audit_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/audit"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

// lab is a VPC with one subnet (default allow-all ACL) and one interface
// carrying group sg-x, whose inbound rules each test sets.
type lab struct {
	t   *testing.T
	net *eni.Network
}

func newLab(t *testing.T, ingress ...sg.Rule) *lab {
	n := eni.NewNetwork()
	_, err := n.AddVPC(eni.VPCSpec{ID: "vpc-1", DefaultGroupID: "sg-default", DefaultACLID: "acl-default",
		CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("2001:db8::/56")}})
	require.NoError(t, err)
	_, err = n.AddSubnet(eni.SubnetSpec{ID: "subnet-1", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24"),
		IPv6CIDR: netip.MustParsePrefix("2001:db8::/64")})
	require.NoError(t, err)
	_, err = n.Groups().CreateEmptyGroup(sg.GroupSpec{ID: "sg-x", Name: "x", Description: "under test", VpcID: "vpc-1"})
	require.NoError(t, err)
	if len(ingress) > 0 {
		_, err = n.Groups().AuthorizeIngress("sg-x", ingress...)
		require.NoError(t, err)
	}
	_, err = n.AddInterface(eni.InterfaceSpec{ID: "eni-1", SubnetID: "subnet-1",
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.10")}, Groups: []string{"sg-x"}})
	require.NoError(t, err)
	return &lab{t: t, net: n}
}

func rule(proto sg.Protocol, from, to int32, peer string) sg.Rule {
	return sg.Rule{Protocol: proto, FromPort: from, ToPort: to, Peer: sg.MustParsePeer(peer), Description: "test"}
}

func (l *lab) findings(opts audit.Options) map[string][]audit.Finding {
	out := map[string][]audit.Finding{}
	for _, f := range audit.Run(l.net, opts) {
		out[f.ID] = append(out[f.ID], f)
	}
	return out
}

// denyACL gives the subnet an ACL that denies port from the internet
// first and allows everything after.
func (l *lab) denyACL(port int32) {
	a, err := l.net.CreateACL("acl-deny", "vpc-1")
	require.NoError(l.t, err)
	for _, e := range []nacl.Entry{
		{RuleNumber: 50, Protocol: 6, Action: nacl.Deny, CIDR: netip.MustParsePrefix("0.0.0.0/0"), FromPort: port, ToPort: port},
		{RuleNumber: 51, Protocol: 6, Action: nacl.Deny, CIDR: netip.MustParsePrefix("::/0"), FromPort: port, ToPort: port},
		{RuleNumber: 100, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")},
		{RuleNumber: 101, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("::/0")},
	} {
		require.NoError(l.t, a.CreateEntry(e))
	}
	require.NoError(l.t, l.net.AssociateACL("subnet-1", "acl-deny"))
}

// TestExposureChecks: each check fires on a configuration written to
// trigger it and stays quiet on its near misses.
func TestExposureChecks(t *testing.T) {
	tests := []struct {
		name   string
		rules  []sg.Rule
		acl    int32 // deny this port from the internet in the ACL
		check  string
		fires  bool
		detail string
	}{
		{"ssh from the world", []sg.Rule{rule(sg.TCP, 22, 22, "0.0.0.0/0")}, 0, "EC2.13", true, "tcp 22 (SSH) is open to 0.0.0.0/0 on eni-1"},
		{"ssh from ::/0", []sg.Rule{rule(sg.TCP, 22, 22, "::/0")}, 0, "EC2.13", true, "open to ::/0"},
		{"a range containing 22", []sg.Rule{rule(sg.TCP, 0, 1024, "0.0.0.0/0")}, 0, "EC2.13", true, ""},
		{"protocol -1", []sg.Rule{{Protocol: sg.AllProtocols, Peer: sg.MustParsePeer("0.0.0.0/0")}}, 0, "EC2.13", true, ""},
		{"near miss: ssh from a /32", []sg.Rule{rule(sg.TCP, 22, 22, "203.0.113.7/32")}, 0, "EC2.13", false, ""},
		{"near miss: a range stopping at 21", []sg.Rule{rule(sg.TCP, 0, 21, "0.0.0.0/0")}, 0, "EC2.13", false, ""},
		{"near miss: udp 22", []sg.Rule{rule(sg.UDP, 22, 22, "10.0.0.0/8")}, 0, "EC2.13", false, ""},
		{"near miss: the ACL denies 22 first", []sg.Rule{rule(sg.TCP, 22, 22, "0.0.0.0/0")}, 22, "EC2.13", false, ""},
		{"rdp", []sg.Rule{rule(sg.TCP, 3389, 3389, "0.0.0.0/0")}, 0, "EC2.14", true, "RDP"},
		{"near miss: rdp from a /24", []sg.Rule{rule(sg.TCP, 3389, 3389, "198.51.100.0/24")}, 0, "EC2.14", false, ""},
		{"high-risk ports in a range", []sg.Rule{rule(sg.TCP, 3000, 6000, "0.0.0.0/0")}, 0, "EC2.19", true, "3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601"},
		{"near miss: https only", []sg.Rule{rule(sg.TCP, 443, 443, "0.0.0.0/0")}, 0, "EC2.19", false, ""},
		{"unauthorized port", []sg.Rule{rule(sg.TCP, 8443, 8443, "0.0.0.0/0")}, 0, "EC2.18", true, "tcp 8443 open to 0.0.0.0/0"},
		{"range around authorized ports", []sg.Rule{rule(sg.TCP, 79, 81, "0.0.0.0/0")}, 0, "EC2.18", true, "tcp 79, 81 open"},
		{"near miss: 80 and 443", []sg.Rule{rule(sg.TCP, 80, 80, "0.0.0.0/0"), rule(sg.TCP, 443, 443, "::/0")}, 0, "EC2.18", false, ""},
		{"mongodb", []sg.Rule{rule(sg.TCP, 27017, 27017, "0.0.0.0/0")}, 0, "SGSIM.MONGODB", true, ""},
		{"netbios over udp in a range", []sg.Rule{rule(sg.UDP, 137, 139, "0.0.0.0/0")}, 0, "SGSIM.NETBIOS", true, "udp 139"},
		{"near miss: netbios inside the VPC", []sg.Rule{rule(sg.TCP, 139, 139, "10.0.0.0/16")}, 0, "SGSIM.NETBIOS", false, ""},
		{"all protocols in", []sg.Rule{{Protocol: sg.AllProtocols, Peer: sg.MustParsePeer("::/0")}}, 0, "SGSIM.ALL_PROTOCOLS_IN", true, ""},
		{"near miss: all protocols from the VPC", []sg.Rule{{Protocol: sg.AllProtocols, Peer: sg.MustParsePeer("10.0.0.0/16")}}, 0, "SGSIM.ALL_PROTOCOLS_IN", false, ""},
		{"wide range", []sg.Rule{rule(sg.TCP, 1000, 2000, "10.0.0.0/16")}, 0, "SGSIM.WIDE_RANGE", true, "opens 1001 ports"},
		{"near miss: 100 ports", []sg.Rule{rule(sg.TCP, 1000, 1099, "10.0.0.0/16")}, 0, "SGSIM.WIDE_RANGE", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t, tt.rules...)
			if tt.acl != 0 {
				l.denyACL(tt.acl)
			}
			got := l.findings(audit.Options{})[tt.check]
			if !tt.fires {
				assert.Empty(t, got)
				return
			}
			require.NotEmpty(t, got)
			assert.Contains(t, got[0].Message, tt.detail)
			assert.Equal(t, "sg-x", got[0].GroupID)
			assert.NotEmpty(t, got[0].Fix)
		})
	}
}

func TestHygieneChecks(t *testing.T) {
	l := newLab(t,
		rule(sg.TCP, 22, 22, "203.0.113.7/32"), // redundant: the /24 below covers it
		rule(sg.TCP, 22, 22, "203.0.113.0/24"),
		sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: sg.MustParsePeer("10.0.0.0/8")}, // no description
		sg.Rule{Protocol: sg.TCP, FromPort: 5432, ToPort: 5432, Description: "old peer",
			Peer: sg.Peer{Kind: sg.PeerGroup, GroupID: "sg-gone", PeeringConnectionID: "pcx-1", PeeringStatus: "deleted"}},
	)
	_, err := l.net.Groups().CreateEmptyGroup(sg.GroupSpec{ID: "sg-unused", Name: "unused", Description: "nothing", VpcID: "vpc-1"})
	require.NoError(t, err)
	require.NoError(t, l.net.Groups().SetQuotas(sg.Quotas{RulesPerGroup: 4, GroupsPerInterface: 5, GroupsPerRegion: 100}))
	f := l.findings(audit.Options{})

	require.Len(t, f["SGSIM.REDUNDANT_RULE"], 1)
	assert.Contains(t, f["SGSIM.REDUNDANT_RULE"][0].Message, "203.0.113.7/32")
	assert.Contains(t, f["SGSIM.REDUNDANT_RULE"][0].Message, "already allows it")
	require.Len(t, f["EC2.22"], 1)
	assert.Equal(t, "sg-unused", f["EC2.22"][0].GroupID)
	require.Len(t, f["SGSIM.STALE_REFERENCE"], 1)
	assert.Contains(t, f["SGSIM.STALE_REFERENCE"][0].Message, "sg-gone")
	require.NotEmpty(t, f["SGSIM.QUOTA"], "4 inbound IPv4 rules with a quota of 4")
	assert.Contains(t, f["SGSIM.QUOTA"][0].Message, "weigh 4 of the quota's 4")
	var mine []audit.Finding
	for _, x := range f["SGSIM.NO_DESCRIPTION"] {
		if x.GroupID == "sg-x" {
			mine = append(mine, x)
		}
	}
	require.Len(t, mine, 1, "the default group's rules lack descriptions too, as AWS creates them")
	assert.Contains(t, mine[0].Message, "tcp 443 from 10.0.0.0/8")
	require.Len(t, f["EC2.2"], 1, "the VPC's default group keeps AWS's rules")
	assert.Empty(t, f["EC2.13"], "the SSH rules are narrow")
}

func TestACLChecks(t *testing.T) {
	l := newLab(t)
	a, err := l.net.CreateACL("acl-2", "vpc-1")
	require.NoError(t, err)
	for _, e := range []nacl.Entry{
		{RuleNumber: 100, Protocol: 6, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0"), FromPort: 0, ToPort: 1024},
		{RuleNumber: 110, Protocol: 6, Action: nacl.Deny, CIDR: netip.MustParsePrefix("198.51.100.0/24"), FromPort: 22, ToPort: 22},
		{RuleNumber: 120, Protocol: 6, Action: nacl.Allow, CIDR: netip.MustParsePrefix("10.0.0.0/8"), FromPort: 3389, ToPort: 3389},
	} {
		require.NoError(t, a.CreateEntry(e))
	}
	f := l.findings(audit.Options{})
	var acl2 []audit.Finding
	for _, x := range f["EC2.21"] {
		if x.ACLID == "acl-2" {
			acl2 = append(acl2, x)
		}
	}
	require.Len(t, acl2, 1, "22 admitted by entry 100; 3389 only from 10/8")
	assert.Equal(t, 100, acl2[0].ACLEntry)
	require.Len(t, f["SGSIM.SHADOWED_ACL_ENTRY"], 1)
	assert.Contains(t, f["SGSIM.SHADOWED_ACL_ENTRY"][0].Message, "entry 110 can never match: entry 100")

	// Near miss: a deny before the allow, and no shadowing.
	b, err := l.net.CreateACL("acl-3", "vpc-1")
	require.NoError(t, err)
	require.NoError(t, b.CreateEntry(nacl.Entry{RuleNumber: 90, Protocol: 6, Action: nacl.Deny, CIDR: netip.MustParsePrefix("0.0.0.0/0"), FromPort: 22, ToPort: 22}))
	require.NoError(t, b.CreateEntry(nacl.Entry{RuleNumber: 91, Protocol: 6, Action: nacl.Deny, CIDR: netip.MustParsePrefix("0.0.0.0/0"), FromPort: 3389, ToPort: 3389}))
	require.NoError(t, b.CreateEntry(nacl.Entry{RuleNumber: 100, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")}))
	for _, x := range l.findings(audit.Options{})["EC2.21"] {
		assert.NotEqual(t, "acl-3", x.ACLID, "%s", x.Message)
	}
}

func TestUnusedRules(t *testing.T) {
	l := newLab(t, rule(sg.TCP, 443, 443, "10.0.0.0/8"), rule(sg.TCP, 22, 22, "10.0.0.0/8"))
	p := eni.TCP(netip.MustParseAddrPort("10.0.2.5:5000"), netip.MustParseAddrPort("10.0.1.10:443"), eni.SYN)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.net.Interface("eni-1").Evaluate(eni.Inbound, &p, start)
	f := l.findings(audit.Options{Usage: &audit.Usage{Capture: "c.pcap", First: start, Last: start.Add(90 * time.Second)}})
	var msgs []string
	for _, x := range f["SGSIM.UNUSED_RULE"] {
		msgs = append(msgs, x.Message)
	}
	joined := strings.Join(msgs, "\n")
	assert.Contains(t, joined, "tcp 22 from 10.0.0.0/8")
	assert.NotContains(t, joined, "tcp 443")
	assert.Contains(t, joined, "c.pcap (1m30s, 2026-01-01T00:00:00Z to 2026-01-01T00:01:30Z)")
	assert.Empty(t, l.findings(audit.Options{})["SGSIM.UNUSED_RULE"], "no capture, no claim")
}

// TestUnusedACLEntries: the numbered entries of the ACLs subnets use that
// no judged packet reached are reported; the "*" entries and the entries
// of an ACL no subnet uses are not.
func TestUnusedACLEntries(t *testing.T) {
	l := newLab(t, rule(sg.TCP, 443, 443, "10.0.0.0/8"))
	spare, err := l.net.CreateACL("acl-spare", "vpc-1")
	require.NoError(t, err)
	require.NoError(t, spare.CreateEntry(nacl.Entry{RuleNumber: 100, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")}))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := eni.TCP(netip.MustParseAddrPort("10.0.2.5:5000"), netip.MustParseAddrPort("10.0.1.10:443"), eni.SYN)
	require.True(t, l.net.Judge(&p, start).Allowed()) // enters subnet-1 through acl-default's inbound 100
	usage := &audit.Usage{Capture: "c.pcap", First: start, Last: start.Add(time.Minute)}
	var got []string
	for _, x := range l.findings(audit.Options{Usage: usage})["SGSIM.UNUSED_ACL_ENTRY"] {
		assert.Equal(t, "acl-default", x.ACLID)
		assert.Contains(t, x.Message, "no frame of c.pcap (1m0s, ")
		got = append(got, x.Resource)
	}
	assert.ElementsMatch(t, []string{
		"acl-default inbound entry 101 allow all traffic from ::/0",
		"acl-default outbound entry 100 allow all traffic to 0.0.0.0/0",
		"acl-default outbound entry 101 allow all traffic to ::/0",
	}, got)
	assert.Empty(t, l.findings(audit.Options{})["SGSIM.UNUSED_ACL_ENTRY"], "no capture, no claim")
}

// TestIdledOut: a reply that comes after its connection has idled out is
// refused (the group allows nothing out), and the audit of the capture
// says where and with which timeouts; without a capture, nothing.
func TestIdledOut(t *testing.T) {
	l := newLab(t, rule(sg.TCP, 22, 22, "203.0.113.0/24"))
	i := l.net.Interface("eni-1")
	cfg, err := i.ConnTrackConfig().WithAWSTimeouts(350, 0, 0)
	require.NoError(t, err)
	require.NoError(t, i.SetConnTrackConfig(cfg))
	client, server := netip.MustParseAddrPort("203.0.113.5:50000"), netip.MustParseAddrPort("10.0.1.10:22")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []struct {
		p       eni.Packet
		at      time.Duration
		allowed bool
	}{
		{eni.TCP(client, server, eni.SYN), 0, true},
		{eni.TCP(server, client, eni.SYN|eni.ACK), time.Millisecond, true},
		{eni.TCP(client, server, eni.ACK), 2 * time.Millisecond, true},
		{eni.TCP(server, client, eni.ACK|eni.PSH), 400 * time.Second, false},
	} {
		require.Equal(t, s.allowed, l.net.Judge(&s.p, start.Add(s.at)).Allowed())
	}
	usage := &audit.Usage{Capture: "c.pcap", First: start, Last: start.Add(400 * time.Second)}
	f := l.findings(audit.Options{Usage: usage})["SGSIM.IDLED_OUT"]
	require.Len(t, f, 1)
	assert.Equal(t, "eni-1", f[0].Resource)
	assert.Equal(t, "1 packets of c.pcap at eni-1 were refused because their tracked connection had gone idle past its timeout "+
		"(TCP established 350 s, UDP 30 s, UDP stream 180 s)", f[0].Message)
	assert.Empty(t, l.findings(audit.Options{})["SGSIM.IDLED_OUT"], "no capture, no claim")
}

func TestSeverityOrder(t *testing.T) {
	l := newLab(t, rule(sg.TCP, 0, 65535, "0.0.0.0/0"))
	fs := audit.Run(l.net, audit.Options{})
	for k := 1; k < len(fs); k++ {
		assert.GreaterOrEqual(t, fs[k-1].Severity, fs[k].Severity, fmt.Sprint(k))
	}
	assert.Equal(t, audit.Critical, fs[0].Severity)
	s, err := audit.ParseSeverity("HIGH")
	require.NoError(t, err)
	assert.Equal(t, audit.High, s)
	_, err = audit.ParseSeverity("severe")
	assert.Error(t, err)
}

// TestRedundantOncePerGroups: a rule that another of the same groups
// covers is reported once, however many interfaces carry those groups,
// and whichever order they list them in; three identical rules in three
// groups are two redundant ones, not one per partner per interface.
func TestRedundantOncePerGroups(t *testing.T) {
	l := newLab(t, rule(sg.TCP, 22, 22, "203.0.113.0/24"))
	reg := l.net.Groups()
	for _, id := range []string{"sg-y", "sg-z"} {
		_, err := reg.CreateEmptyGroup(sg.GroupSpec{ID: id, Name: id[3:], Description: "under test", VpcID: "vpc-1"})
		require.NoError(t, err)
		_, err = reg.AuthorizeIngress(id, rule(sg.TCP, 22, 22, "203.0.113.0/24"))
		require.NoError(t, err)
	}
	for k, groups := range [][]string{{"sg-x", "sg-y", "sg-z"}, {"sg-z", "sg-y", "sg-x"}, {"sg-y", "sg-x", "sg-z"}} {
		_, err := l.net.AddInterface(eni.InterfaceSpec{ID: fmt.Sprintf("eni-%d", k+2), SubnetID: "subnet-1",
			PrivateIPv4: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 1, byte(20 + k)})}, Groups: groups})
		require.NoError(t, err)
	}
	var got []string
	for _, x := range l.findings(audit.Options{})["SGSIM.REDUNDANT_RULE"] {
		got = append(got, x.RuleID)
	}
	assert.Len(t, got, 2, "%v", got)
	assert.NotEqual(t, got[0], got[1])
}

// TestReferenceThroughAppliance: the database's rule referencing the app's
// group is useless once the app subnet's route to the database goes
// through a firewall; a rule naming the app's block is not reported.
func TestReferenceThroughAppliance(t *testing.T) {
	l := newLab(t)
	_, err := l.net.AddSubnet(eni.SubnetSpec{ID: "subnet-2", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.2.0/24")})
	require.NoError(t, err)
	_, err = l.net.AddSubnet(eni.SubnetSpec{ID: "subnet-3", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.3.0/24")})
	require.NoError(t, err)
	for _, g := range []string{"app", "db"} {
		_, err = l.net.Groups().CreateGroup(sg.GroupSpec{ID: "sg-" + g, Name: g, Description: "test", VpcID: "vpc-1"})
		require.NoError(t, err)
	}
	_, err = l.net.Groups().AuthorizeIngress("sg-db", rule(sg.TCP, 5432, 5432, "sg-app"), rule(sg.TCP, 6432, 6432, "10.0.2.0/24"))
	require.NoError(t, err)
	for _, i := range []eni.InterfaceSpec{
		{ID: "eni-app", SubnetID: "subnet-2", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.2.10")}, Groups: []string{"sg-app"}},
		{ID: "eni-db", SubnetID: "subnet-3", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.3.10")}, Groups: []string{"sg-db"}},
	} {
		_, err = l.net.AddInterface(i)
		require.NoError(t, err)
	}
	assert.Empty(t, l.findings(audit.Options{})["SGSIM.REFERENCE_THROUGH_APPLIANCE"], "no route through an appliance yet")

	// eni-1 (10.0.1.10) is the firewall.
	require.NoError(t, l.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1", Subnets: []string{"subnet-2"},
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.3.0/24"), Interface: "eni-1"}}}))
	f := l.findings(audit.Options{})["SGSIM.REFERENCE_THROUGH_APPLIANCE"]
	require.Len(t, f, 1)
	assert.Equal(t, "sg-db", f[0].GroupID)
	assert.Contains(t, f[0].Message, "tcp 5432 from sg-app): traffic from eni-app (subnet-2) to eni-db goes through eni-1, "+
		"and a group reference does not match what an appliance forwards")
}

// TestMirrorChecks: a sensor whose group refuses UDP 4789 from the
// mirrored interface never gets the copies; a filter without rules copies
// nothing.
func TestMirrorChecks(t *testing.T) {
	for _, tt := range []struct {
		name    string
		sensor  []sg.Rule
		filter  mirror.Filter
		want    map[string]string
		wantNot []string
	}{
		{"sensor refuses the copies", nil, mirror.Filter{ID: "tmf-1", AmazonDNS: true},
			map[string]string{"SGSIM.MIRROR_TARGET_REFUSES": "tms-1 sends copies of eni-1 to tmt-1 (eni-sensor), whose groups refuse them: " +
				"ENI_SG_RULES_MISMATCH: no inbound rule of sg-sensor allows udp port 4789 from 10.0.1.10"},
			[]string{"SGSIM.MIRROR_COPIES_NOTHING"}},
		{"sensor takes the copies, filter empty", []sg.Rule{rule(sg.UDP, 4789, 4789, "10.0.0.0/16")}, mirror.Filter{ID: "tmf-1"},
			map[string]string{"SGSIM.MIRROR_COPIES_NOTHING": "tms-1 copies nothing of eni-1: its filter tmf-1 has no rules, in or out, and no network service"},
			[]string{"SGSIM.MIRROR_TARGET_REFUSES"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			_, err := l.net.Groups().CreateEmptyGroup(sg.GroupSpec{ID: "sg-sensor", Name: "sensor", Description: "IDS", VpcID: "vpc-1"})
			require.NoError(t, err)
			if len(tt.sensor) > 0 {
				_, err = l.net.Groups().AuthorizeIngress("sg-sensor", tt.sensor...)
				require.NoError(t, err)
			}
			_, err = l.net.AddInterface(eni.InterfaceSpec{ID: "eni-sensor", SubnetID: "subnet-1",
				PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.50")}, Groups: []string{"sg-sensor"}})
			require.NoError(t, err)
			set, err := mirror.New(l.net, mirror.Config{Filters: []mirror.Filter{tt.filter},
				Targets:  []mirror.Target{{ID: "tmt-1", Type: mirror.TargetInterface, Interface: "eni-sensor"}},
				Sessions: []mirror.Session{{ID: "tms-1", Source: "eni-1", Number: 1, Filter: "tmf-1", Target: "tmt-1"}}})
			require.NoError(t, err)
			got := l.findings(audit.Options{Mirror: set})
			for id, msg := range tt.want {
				require.Len(t, got[id], 1, id)
				assert.Equal(t, msg, got[id][0].Message)
				assert.Equal(t, "tms-1", got[id][0].Resource)
			}
			for _, id := range tt.wantNot {
				assert.Empty(t, got[id], id)
			}
		})
	}
}

// TestRouteChecks: an interface with a public address in a subnet that
// sends the internet to a NAT gateway is reached but cannot answer; a NAT
// gateway whose subnet's ACL lets in only some of the replies' ports
// breaks the connections out of the subnets routed through it.
func TestRouteChecks(t *testing.T) {
	l := newLab(t)
	n := l.net
	_, err := n.AddSubnet(eni.SubnetSpec{ID: "subnet-2", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.2.0/24")})
	require.NoError(t, err)
	_, err = n.AddInterface(eni.InterfaceSpec{ID: "eni-nat", SubnetID: "subnet-1", Type: eni.TypeNATGateway, RequesterManaged: true,
		Description: "Interface for NAT Gateway nat-1", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.5")}})
	require.NoError(t, err)
	_, err = n.AddInterface(eni.InterfaceSpec{ID: "eni-web", SubnetID: "subnet-2", Groups: []string{"sg-x"},
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.2.10")},
		PublicIPv4:  []eni.PublicIP{{Public: netip.MustParseAddr("203.0.113.10"), Private: netip.MustParseAddr("10.0.2.10")}}})
	require.NoError(t, err)
	acl, err := n.CreateACL("acl-public", "vpc-1")
	require.NoError(t, err)
	for _, e := range []nacl.Entry{
		{RuleNumber: 100, Protocol: 6, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0"), FromPort: 32768, ToPort: 65535},
		{RuleNumber: 110, Protocol: 17, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0"), FromPort: 1024, ToPort: 65535},
		{RuleNumber: 100, Egress: true, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")},
	} {
		require.NoError(t, acl.CreateEntry(e))
	}
	require.NoError(t, n.AssociateACL("subnet-1", "acl-public"))
	require.NoError(t, n.AddRouteTable(eni.RouteTableSpec{ID: "rtb-public", VpcID: "vpc-1", Main: true,
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-1"}}}))
	require.NoError(t, n.AddRouteTable(eni.RouteTableSpec{ID: "rtb-private", VpcID: "vpc-1", Subnets: []string{"subnet-2"},
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eni-nat", Target: "nat-1"}}}))

	got := l.findings(audit.Options{})
	require.Len(t, got["SGSIM.PUBLIC_WITHOUT_ROUTE"], 1)
	assert.Equal(t, "eni-web has the public address 203.0.113.10, but rtb-private, the route table of its subnet subnet-2, "+
		"sends the internet (0.0.0.0/0) to nat-1: the internet's packets reach it through the internet gateway and its answers "+
		"do not go back that way", got["SGSIM.PUBLIC_WITHOUT_ROUTE"][0].Message)
	require.Len(t, got["SGSIM.NAT_REPLIES_REFUSED"], 1)
	f := got["SGSIM.NAT_REPLIES_REFUSED"][0]
	assert.Equal(t, "acl-public", f.ACLID)
	assert.Equal(t, "acl-public (Interface for NAT Gateway nat-1), the ACL of the NAT gateway eni-nat's subnet subnet-1, refuses "+
		"tcp 1024-32767 from the internet: replies to what subnet-2 send out through it come back to those ports, and are dropped", f.Message)

	// The replies' ports let in, the interface in a public subnet: nothing.
	require.NoError(t, acl.CreateEntry(nacl.Entry{RuleNumber: 90, Protocol: 6, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0"),
		FromPort: 1024, ToPort: 32767}))
	got = l.findings(audit.Options{})
	assert.Empty(t, got["SGSIM.NAT_REPLIES_REFUSED"])
	l2 := newLab(t)
	_, err = l2.net.AddInterface(eni.InterfaceSpec{ID: "eni-pub", SubnetID: "subnet-1", Groups: []string{"sg-x"},
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.20")},
		PublicIPv4:  []eni.PublicIP{{Public: netip.MustParseAddr("203.0.113.20"), Private: netip.MustParseAddr("10.0.1.20")}}})
	require.NoError(t, err)
	assert.Empty(t, l2.findings(audit.Options{})["SGSIM.PUBLIC_WITHOUT_ROUTE"], "no route tables: nothing to say")
	require.NoError(t, l2.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-public", VpcID: "vpc-1", Main: true,
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-1"}}}))
	assert.Empty(t, l2.findings(audit.Options{})["SGSIM.PUBLIC_WITHOUT_ROUTE"])
}

// TestUnusedMirrorRule: with a capture's usage, a filter rule no frame
// reached is reported, one that decided frames is not.
func TestUnusedMirrorRule(t *testing.T) {
	l := newLab(t)
	first := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	got := l.findings(audit.Options{Usage: &audit.Usage{Capture: "ids.pcap", First: first, Last: first.Add(time.Hour),
		MirrorRules: []audit.MirrorRuleUse{
			{Filter: "tmf-1", Direction: eni.Inbound, Rule: "100 accept tcp 0.0.0.0/0 → 0.0.0.0/0 port 22", Frames: 12},
			{Filter: "tmf-1", Direction: eni.Outbound, Rule: "200 reject udp 0.0.0.0/0 → 0.0.0.0/0", Frames: 0},
		}}})
	require.Len(t, got["SGSIM.UNUSED_MIRROR_RULE"], 1)
	f := got["SGSIM.UNUSED_MIRROR_RULE"][0]
	assert.Equal(t, "tmf-1 outbound rule 200 reject udp 0.0.0.0/0 → 0.0.0.0/0", f.Resource)
	assert.Equal(t, "no frame of ids.pcap (1h0m0s, 2026-01-01T09:00:00Z to 2026-01-01T10:00:00Z) was decided by "+
		"tmf-1 outbound rule 200 reject udp 0.0.0.0/0 → 0.0.0.0/0", f.Message)
}

// TestBalancerClientsRefused: a target of an internet-facing Network Load
// Balancer that keeps its clients' addresses, whose group lets in only
// the VPC (the balancer's own addresses, for its health checks), refuses
// every client; one that lets the internet in on the target's port is
// fine, as is a target on a port the group does allow.
func TestBalancerClientsRefused(t *testing.T) {
	for _, tt := range []struct {
		name    string
		ingress []sg.Rule
		port    uint16
		want    int
	}{
		{"the VPC only", []sg.Rule{rule(sg.TCP, 8080, 8080, "10.0.0.0/16")}, 8080, 1},
		{"the internet", []sg.Rule{rule(sg.TCP, 8080, 8080, "0.0.0.0/0")}, 8080, 0},
		{"another port", []sg.Rule{rule(sg.TCP, 8080, 8080, "0.0.0.0/0")}, 9090, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t, tt.ingress...)
			require.NoError(t, l.net.AddTargetGroup(eni.TargetGroupSpec{ID: "tg-1", Balancer: "net/web/1", Protocol: 6,
				Targets: []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("10.0.1.10"), tt.port)}}))
			got := l.findings(audit.Options{})["SGSIM.BALANCER_CLIENTS_REFUSED"]
			require.Len(t, got, tt.want)
			if tt.want > 0 {
				assert.Equal(t, "eni-1", got[0].Resource)
				assert.Equal(t, audit.High, got[0].Severity)
				assert.Equal(t, fmt.Sprintf("eni-1 (10.0.1.10:%d), a target of Network Load Balancer net/web/1 (tg-1), lets no client from the internet "+
					"at large in on tcp %d (45.33.32.156 stands for one): the balancer keeps its clients' addresses, so its health checks pass "+
					"and its clients are refused", tt.port, tt.port), got[0].Message)
			}
		})
	}
}
