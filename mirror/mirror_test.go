package mirror_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/sg"
)

var (
	any4   = netip.MustParsePrefix("0.0.0.0/0")
	any6   = netip.MustParsePrefix("::/0")
	vpc    = netip.MustParsePrefix("10.0.0.0/16")
	web    = netip.MustParseAddr("10.0.1.10")
	app    = netip.MustParseAddr("10.0.1.20")
	sensor = netip.MustParseAddr("10.0.2.50")
	client = netip.MustParseAddr("198.51.100.1")
	t0     = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
)

// network is a web server (eni-web) mirrored to a sensor (eni-sensor) in
// another subnet, and an application server beside it (eni-app) whose
// group sends only HTTPS and UDP 5000 within the VPC.
func network(t *testing.T) *eni.Network {
	t.Helper()
	n := eni.NewNetwork()
	_, err := n.AddVPC(eni.VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{vpc}})
	require.NoError(t, err)
	for id, cidr := range map[string]string{"subnet-1": "10.0.1.0/24", "subnet-2": "10.0.2.0/24"} {
		_, err := n.AddSubnet(eni.SubnetSpec{ID: id, VpcID: "vpc-1", CIDR: netip.MustParsePrefix(cidr)})
		require.NoError(t, err)
	}
	g := n.Groups()
	sgWeb, err := g.CreateGroup(sg.GroupSpec{ID: "sg-web", Name: "web", VpcID: "vpc-1"})
	require.NoError(t, err)
	_, err = g.AuthorizeIngress(sgWeb,
		sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: sg.MustParsePeer("0.0.0.0/0")},
		sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: sg.MustParsePeer("10.0.0.0/16")},
		sg.Rule{Protocol: sg.UDP, FromPort: 5000, ToPort: 5000, Peer: sg.MustParsePeer("10.0.0.0/16")})
	require.NoError(t, err)
	sgApp, err := g.CreateEmptyGroup(sg.GroupSpec{ID: "sg-app", Name: "app", VpcID: "vpc-1"})
	require.NoError(t, err)
	_, err = g.AuthorizeEgress(sgApp,
		sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: sg.MustParsePeer("10.0.0.0/16")},
		sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: sg.MustParsePeer("10.0.0.0/16")},
		sg.Rule{Protocol: sg.UDP, FromPort: 5000, ToPort: 5000, Peer: sg.MustParsePeer("10.0.0.0/16")})
	require.NoError(t, err)
	for _, x := range []struct {
		id, subnet string
		addr       netip.Addr
		group      string
	}{{"eni-web", "subnet-1", web, sgWeb}, {"eni-app", "subnet-1", app, sgApp}, {"eni-sensor", "subnet-2", sensor, sgWeb}} {
		_, err := n.AddInterface(eni.InterfaceSpec{ID: x.id, SubnetID: x.subnet, PrivateIPv4: []netip.Addr{x.addr}, Groups: []string{x.group}})
		require.NoError(t, err)
	}
	return n
}

// config has two sessions on eni-web: session 10 copies inbound HTTPS,
// session 20 everything but inbound SSH, and Amazon DNS.
func config() mirror.Config {
	return mirror.Config{
		Filters: []mirror.Filter{
			{ID: "tmf-https", Ingress: []mirror.Rule{
				{Number: 10, Action: mirror.Accept, Protocol: 6, Source: any4, Destination: any4, DestinationPorts: &mirror.PortRange{From: 443, To: 443}},
			}},
			{ID: "tmf-all", AmazonDNS: true,
				Ingress: []mirror.Rule{ // out of order: rules go by number
					{Number: 20, Action: mirror.Accept, Protocol: mirror.AnyProtocol, Source: any4, Destination: any4},
					{Number: 10, Action: mirror.Reject, Protocol: 6, Source: any4, Destination: any4, DestinationPorts: &mirror.PortRange{From: 22, To: 22}},
				},
				Egress: []mirror.Rule{{Number: 10, Action: mirror.Accept, Protocol: mirror.AnyProtocol, Source: any4, Destination: any4}},
			},
		},
		Targets: []mirror.Target{{ID: "tmt-sensor", Type: mirror.TargetInterface, Interface: "eni-sensor"}},
		Sessions: []mirror.Session{
			{ID: "tms-20", Source: "eni-web", Number: 20, Filter: "tmf-all", Target: "tmt-sensor", VNI: 20},
			{ID: "tms-10", Source: "eni-web", Number: 10, Filter: "tmf-https", Target: "tmt-sensor", VNI: 10},
			{ID: "tms-gone", Source: "eni-elsewhere", Number: 1, Filter: "tmf-all", Target: "tmt-sensor", VNI: 30},
		},
	}
}

func decide(t *testing.T, n *eni.Network, s *mirror.Set, p eni.Packet) []mirror.Decision {
	t.Helper()
	path := n.Judge(&p, t0)
	var buf [mirror.MaxDecisions]mirror.Decision
	return s.Decide(&path, buf[:0])
}

func TestDecide(t *testing.T) {
	tcp := func(src netip.Addr, sport uint16, dst netip.Addr, dport uint16) eni.Packet {
		return eni.TCP(netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport), eni.SYN)
	}
	udp := func(src netip.Addr, sport uint16, dst netip.Addr, dport uint16) eni.Packet {
		return eni.UDP(netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport))
	}
	for _, tt := range []struct {
		name    string
		pkt     eni.Packet
		dir     eni.Direction
		outcome mirror.Outcome
		session string
		rule    int
		explain string
	}{
		{"both filters accept: the lower session copies it once (§11 case 43)", tcp(client, 40000, web, 443), eni.Inbound,
			mirror.Mirrored, "tms-10", 10, "received by eni-web: copied by tms-10 (session 10) to tmt-sensor (eni-sensor): its filter tmf-https's inbound rule 10 accepts it"},
		{"dropped by the source's group is not copied (§11 case 42)", tcp(client, 40000, web, 22), eni.Inbound,
			mirror.Dropped, "", 0, "received by eni-web: not copied: its security groups refused the packet (inbound), and AWS mirrors only what the source lets through"},
		{"the first filter has no match, the second accepts", udp(app, 40000, web, 5000), eni.Inbound,
			mirror.Mirrored, "tms-20", 20, "filter tmf-all's inbound rule 20 accepts it"},
		{"a reject rule and no match", tcp(app, 40000, web, 22), eni.Inbound,
			mirror.NotSelected, "", 0, "received by eni-web: not copied: no inbound rule of tms-10's filter tmf-https matches it; tms-20's filter tmf-all rejects it (inbound rule 10)"},
		{"outbound: a filter without egress rules copies nothing that way", tcp(web, 40000, client, 443), eni.Outbound,
			mirror.Mirrored, "tms-20", 10, "tms-20 (session 20)"},
		{"Amazon DNS goes by amazon-dns, not the rules", udp(web, 40000, netip.MustParseAddr("10.0.0.2"), 53), eni.Outbound,
			mirror.Mirrored, "tms-20", 0, "copies Amazon DNS traffic (amazon-dns)"},
		{"instance metadata is never mirrored", tcp(web, 40000, netip.MustParseAddr("169.254.169.254"), 80), eni.Outbound,
			mirror.NeverMirrored, "", 0, "AWS never mirrors instance metadata (IMDS) traffic"},
		{"refused before it reached the source", tcp(app, 40000, web, 8080), eni.Inbound,
			mirror.Dropped, "", 0, "bound for eni-web: not copied: the packet never reached it (the source security groups refused it)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := network(t)
			s, err := mirror.New(n, config())
			require.NoError(t, err)
			ds := decide(t, n, s, tt.pkt)
			require.Len(t, ds, 1, "one source on the path")
			d := ds[0]
			assert.Equal(t, "eni-web", d.Source.ID())
			assert.Equal(t, tt.dir, d.Direction)
			assert.Equal(t, tt.outcome, d.Outcome, d.Explain())
			if tt.session != "" {
				require.NotNil(t, d.Session)
				assert.Equal(t, tt.session, d.Session.ID)
				assert.Equal(t, "tmt-sensor", d.Target.ID)
			} else {
				assert.Nil(t, d.Session)
			}
			assert.Equal(t, tt.rule, d.Rule)
			assert.Contains(t, d.Explain(), tt.explain)
		})
	}
}

func TestDecideTries(t *testing.T) {
	n := network(t)
	s, err := mirror.New(n, config())
	require.NoError(t, err)
	ds := decide(t, n, s, eni.TCP(netip.AddrPortFrom(app, 40000), netip.AddrPortFrom(web, 22), eni.SYN))
	require.Len(t, ds, 1)
	tries := ds[0].Tries()
	require.Len(t, tries, 2)
	assert.Equal(t, "tms-10", tries[0].Session.ID)
	assert.Zero(t, tries[0].Rule)
	assert.Equal(t, "tms-20", tries[1].Session.ID)
	assert.Equal(t, 10, tries[1].Rule)
	assert.Equal(t, mirror.Reject, tries[1].Action)
}

func TestRuleMatching(t *testing.T) {
	// One session whose single ingress rule is the case's; a packet from
	// app to web on UDP 5000 (or as given), which web's group admits.
	for _, tt := range []struct {
		name string
		rule mirror.Rule
		pkt  eni.Packet
		want bool
	}{
		{"any protocol", mirror.Rule{Protocol: mirror.AnyProtocol, Source: any4, Destination: any4}, eni.Packet{}, true},
		{"other protocol", mirror.Rule{Protocol: 6, Source: any4, Destination: any4}, eni.Packet{}, false},
		{"IPv6 blocks never match IPv4", mirror.Rule{Protocol: mirror.AnyProtocol, Source: any6, Destination: any6}, eni.Packet{}, false},
		{"source block", mirror.Rule{Protocol: 17, Source: netip.MustParsePrefix("10.0.1.20/32"), Destination: any4}, eni.Packet{}, true},
		{"source block excludes", mirror.Rule{Protocol: 17, Source: netip.MustParsePrefix("10.0.1.21/32"), Destination: any4}, eni.Packet{}, false},
		{"destination block", mirror.Rule{Protocol: 17, Source: any4, Destination: netip.MustParsePrefix("10.0.2.0/24")}, eni.Packet{}, false},
		{"source ports", mirror.Rule{Protocol: 17, Source: any4, Destination: any4, SourcePorts: &mirror.PortRange{From: 1024, To: 65535}}, eni.Packet{}, true},
		{"source ports exclude", mirror.Rule{Protocol: 17, Source: any4, Destination: any4, SourcePorts: &mirror.PortRange{From: 1, To: 1023}}, eni.Packet{}, false},
		{"destination ports", mirror.Rule{Protocol: 17, Source: any4, Destination: any4, DestinationPorts: &mirror.PortRange{From: 5000, To: 5000}}, eni.Packet{}, true},
		{"ports never match a protocol without them", mirror.Rule{Protocol: mirror.AnyProtocol, Source: any4, Destination: any4,
			DestinationPorts: &mirror.PortRange{From: 0, To: 65535}}, eni.ICMP(app, web, 8, 0, 1), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := network(t)
			if tt.pkt.Proto == 1 {
				sgID := "sg-web"
				_, err := n.Groups().AuthorizeIngress(sgID, sg.Rule{Protocol: sg.ICMP, FromPort: -1, ToPort: -1, Peer: sg.MustParsePeer("10.0.0.0/16")})
				require.NoError(t, err)
				_, err = n.Groups().AuthorizeEgress("sg-app", sg.Rule{Protocol: sg.ICMP, FromPort: -1, ToPort: -1, Peer: sg.MustParsePeer("10.0.0.0/16")})
				require.NoError(t, err)
			}
			tt.rule.Number, tt.rule.Action = 1, mirror.Accept
			s, err := mirror.New(n, mirror.Config{
				Filters:  []mirror.Filter{{ID: "tmf-1", Ingress: []mirror.Rule{tt.rule}}},
				Targets:  []mirror.Target{{ID: "tmt-1", Type: mirror.TargetInterface, Interface: "eni-sensor"}},
				Sessions: []mirror.Session{{ID: "tms-1", Source: "eni-web", Number: 1, Filter: "tmf-1", Target: "tmt-1"}},
			})
			require.NoError(t, err)
			pkt := tt.pkt
			if pkt.Proto == 0 {
				pkt = eni.UDP(netip.AddrPortFrom(app, 40000), netip.AddrPortFrom(web, 5000))
			}
			ds := decide(t, n, s, pkt)
			require.Len(t, ds, 1)
			assert.Equal(t, tt.want, ds[0].Outcome == mirror.Mirrored, ds[0].Explain())
		})
	}
}

func TestBothEndsMirrored(t *testing.T) {
	// The sensor's own traffic with web: a session on each end, each
	// copying the packet as its source saw it.
	n := network(t)
	c := config()
	c.Targets = append(c.Targets, mirror.Target{ID: "tmt-nlb", Type: mirror.TargetLoadBalancer, LoadBalancer: "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/ids/1"})
	c.Sessions = append(c.Sessions, mirror.Session{ID: "tms-app", Source: "eni-app", Number: 1, Filter: "tmf-all", Target: "tmt-nlb", VNI: 40})
	s, err := mirror.New(n, c)
	require.NoError(t, err)
	ds := decide(t, n, s, eni.UDP(netip.AddrPortFrom(app, 40000), netip.AddrPortFrom(web, 5000)))
	require.Len(t, ds, 2)
	assert.Equal(t, "eni-app", ds[0].Source.ID())
	assert.Equal(t, eni.Outbound, ds[0].Direction)
	assert.Equal(t, "tms-app", ds[0].Session.ID)
	assert.Contains(t, ds[0].Explain(), "tmt-nlb (a Network Load Balancer)")
	assert.Equal(t, "eni-web", ds[1].Source.ID())
	assert.Equal(t, "tms-20", ds[1].Session.ID)
}

func TestCopyOfAndMade(t *testing.T) {
	n := network(t)
	s, err := mirror.New(n, config())
	require.NoError(t, err)
	assert.Equal(t, []string{"tms-gone"}, s.Unbound())
	assert.Equal(t, 2, s.Len())
	sess := s.CopyOf(n, web, 10)
	require.NotNil(t, sess)
	assert.Equal(t, "tms-10", sess.ID)
	assert.Nil(t, s.CopyOf(n, web, 99), "no session of eni-web has that VNI")
	assert.Nil(t, s.CopyOf(n, app, 10), "eni-app is no session's source")

	https := eni.TCP(netip.AddrPortFrom(client, 40000), netip.AddrPortFrom(web, 443), eni.SYN)
	ok, why := mirror.Made(sess, decide(t, n, s, https))
	assert.True(t, ok, why)

	// A copy of SSH from the internet: web's group drops it, so AWS
	// would not have copied it; the files and the capture disagree.
	ssh := eni.TCP(netip.AddrPortFrom(client, 40000), netip.AddrPortFrom(web, 22), eni.SYN)
	ok, why = mirror.Made(sess, decide(t, n, s, ssh))
	assert.False(t, ok)
	assert.Contains(t, why, "its security groups refused the packet (inbound)")

	ok, why = mirror.Made(s.CopyOf(n, web, 20), decide(t, n, s, https))
	assert.False(t, ok)
	assert.Equal(t, "tms-10 copies it, not tms-20", why)

	other := eni.UDP(netip.AddrPortFrom(app, 40000), netip.AddrPortFrom(sensor, 5000))
	ok, why = mirror.Made(sess, decide(t, n, s, other))
	assert.False(t, ok)
	assert.Equal(t, "the packet neither leaves nor reaches eni-web, tms-10's source", why)
}

func TestNewErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*mirror.Config)
		want   string
	}{
		{"unknown filter", func(c *mirror.Config) { c.Sessions[0].Filter = "tmf-x" },
			"tms-20: TrafficMirrorFilterId: tmf-x is not defined by any file (run aws ec2 describe-traffic-mirror-filters)"},
		{"unknown target", func(c *mirror.Config) { c.Sessions[0].Target = "tmt-x" },
			"tms-20: TrafficMirrorTargetId: tmt-x is not defined by any file (run aws ec2 describe-traffic-mirror-targets)"},
		{"session number", func(c *mirror.Config) { c.Sessions[0].Number = 0 }, "tms-20: SessionNumber: 0 is not a session number (1-32766)"},
		{"session number twice", func(c *mirror.Config) { c.Sessions[0].Number = 10 }, "tms-10: SessionNumber: 10 is tms-20's too, on the same source eni-web"},
		{"too many sessions", func(c *mirror.Config) {
			c.Sessions = append(c.Sessions, mirror.Session{ID: "tms-30", Source: "eni-web", Number: 30, Filter: "tmf-all", Target: "tmt-sensor"},
				mirror.Session{ID: "tms-40", Source: "eni-web", Number: 40, Filter: "tmf-all", Target: "tmt-sensor"})
		}, "tms-40: NetworkInterfaceId: eni-web is the source of 3 sessions already, AWS's limit"},
		{"rule number", func(c *mirror.Config) { c.Filters[0].Ingress[0].Number = 32767 },
			"tmf-https: IngressFilterRules[0].RuleNumber: 32767 is not a rule number (1-32766)"},
		{"rule number twice", func(c *mirror.Config) { c.Filters[1].Ingress[1].Number = 20 },
			"tmf-all: IngressFilterRules[1].RuleNumber: 20 is used twice"},
		{"protocol", func(c *mirror.Config) { c.Filters[1].Egress[0].Protocol = 256 },
			"tmf-all: EgressFilterRules[0].Protocol: 256 is not a protocol number"},
		{"families", func(c *mirror.Config) { c.Filters[1].Egress[0].Destination = any6 },
			"tmf-all: EgressFilterRules[0].DestinationCidrBlock: ::/0 and the source block 0.0.0.0/0 are of different families"},
		{"missing block", func(c *mirror.Config) { c.Filters[1].Egress[0].Source = netip.Prefix{} },
			"tmf-all: EgressFilterRules[0].SourceCidrBlock: is missing"},
		{"ports", func(c *mirror.Config) {
			c.Filters[0].Ingress[0].DestinationPorts = &mirror.PortRange{From: 444, To: 443}
		},
			"tmf-https: IngressFilterRules[0].DestinationPortRange: FromPort 444 is above ToPort 443"},
		{"target type", func(c *mirror.Config) { c.Targets[0].Type = "instance" },
			`tmt-sensor: Type: "instance" is not network-interface, network-load-balancer or gateway-load-balancer-endpoint`},
		{"target without interface", func(c *mirror.Config) { c.Targets[0].Interface = "" },
			"tmt-sensor: NetworkInterfaceId: is missing for a target of type network-interface"},
		{"source is the target", func(c *mirror.Config) { c.Sessions[0].Source = "eni-sensor" },
			"tms-20: TrafficMirrorTargetId: tmt-sensor sends the copies of eni-sensor to eni-sensor itself"},
		{"target is a source", func(c *mirror.Config) {
			c.Targets = append(c.Targets, mirror.Target{ID: "tmt-web", Type: mirror.TargetInterface, Interface: "eni-web"})
		}, "tmt-web: NetworkInterfaceId: eni-web is the source of tms-20 too: an interface cannot be both"},
		{"VNI", func(c *mirror.Config) { c.Sessions[0].VNI = 1 << 24 }, "tms-20: VirtualNetworkId: 16777216 is not a VXLAN network identifier (0-16777215)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := config()
			tt.change(&c)
			_, err := mirror.New(network(t), c)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestNewKeepsCallerRules(t *testing.T) {
	c := config()
	_, err := mirror.New(network(t), c)
	require.NoError(t, err)
	assert.Equal(t, 20, c.Filters[1].Ingress[0].Number, "New sorts its own copy")
	assert.True(t, strings.HasPrefix(c.Sessions[0].ID, "tms-20"))
}

func TestDroppedBySourceSubnetACL(t *testing.T) {
	// web's subnet gets a new ACL, which denies everything: the packet
	// web sends to the sensor's subnet leaves web but not its subnet, and
	// AWS does not copy it.
	n := network(t)
	_, err := n.CreateACL("acl-closed", "vpc-1")
	require.NoError(t, err)
	require.NoError(t, n.AssociateACL("subnet-1", "acl-closed"))
	s, err := mirror.New(n, config())
	require.NoError(t, err)
	ds := decide(t, n, s, eni.UDP(netip.AddrPortFrom(web, 40000), netip.AddrPortFrom(sensor, 5000)))
	require.Len(t, ds, 1)
	assert.Equal(t, mirror.Dropped, ds[0].Outcome)
	assert.True(t, ds[0].AtSource)
	assert.Equal(t, eni.StageSourceACL, ds[0].Stage)
	assert.Equal(t, "sent by eni-web: not copied: its subnet's network ACL refused the packet (outbound), and AWS mirrors only what the source lets through",
		ds[0].Explain())
}

func TestAmazonDNSWithoutTheService(t *testing.T) {
	// Rules that match everything still leave Amazon DNS out: only the
	// network service copies it.
	n := network(t)
	c := config()
	c.Sessions = c.Sessions[:1]
	c.Filters[1].AmazonDNS = false
	s, err := mirror.New(n, c)
	require.NoError(t, err)
	ds := decide(t, n, s, eni.UDP(netip.AddrPortFrom(web, 40000), netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), 53)))
	require.Len(t, ds, 1)
	assert.Equal(t, mirror.NotSelected, ds[0].Outcome)
	assert.Equal(t, "sent by eni-web: not copied: tms-20's filter tmf-all does not copy Amazon DNS traffic (no amazon-dns)", ds[0].Explain())
}

// TestApplianceSource: a firewall on the path is a session's source too:
// it receives the packet and sends it on, and each is judged on its own.
func TestApplianceSource(t *testing.T) {
	n := network(t)
	_, err := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-fw", Name: "fw", VpcID: "vpc-1"})
	require.NoError(t, err)
	_, err = n.Groups().AuthorizeIngress("sg-fw", sg.Rule{Protocol: sg.UDP, FromPort: 5000, ToPort: 5000, Peer: sg.MustParsePeer("10.0.0.0/16")})
	require.NoError(t, err)
	_, err = n.AddInterface(eni.InterfaceSpec{ID: "eni-fw", SubnetID: "subnet-2", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.2.5")},
		Groups: []string{"sg-fw"}, DisableSourceDestCheck: true})
	require.NoError(t, err)
	require.NoError(t, n.AddRouteTable(eni.RouteTableSpec{ID: "rtb-1", VpcID: "vpc-1", Subnets: []string{"subnet-1"},
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.2.50/32"), Interface: "eni-fw"}}}))
	c := config()
	c.Sessions = []mirror.Session{{ID: "tms-fw", Source: "eni-fw", Number: 1, Filter: "tmf-all", Target: "tmt-sensor", VNI: 1}}
	c.Targets[0] = mirror.Target{ID: "tmt-sensor", Type: mirror.TargetLoadBalancer, LoadBalancer: "arn:nlb"}
	s, err := mirror.New(n, c)
	require.NoError(t, err)

	ds := decide(t, n, s, eni.UDP(netip.AddrPortFrom(web, 40000), netip.AddrPortFrom(sensor, 5000)))
	require.Len(t, ds, 2, "the firewall receives it and sends it on")
	assert.Equal(t, eni.Inbound, ds[0].Direction)
	assert.Equal(t, mirror.Mirrored, ds[0].Outcome, ds[0].Explain())
	assert.Equal(t, eni.Outbound, ds[1].Direction)
	assert.Equal(t, mirror.Mirrored, ds[1].Outcome, ds[1].Explain())

	// TCP 22 is refused by the firewall's group on the way in: copied
	// neither way.
	ds = decide(t, n, s, eni.TCP(netip.AddrPortFrom(web, 40000), netip.AddrPortFrom(sensor, 22), eni.SYN))
	require.Len(t, ds, 2)
	for _, d := range ds {
		assert.Equal(t, mirror.Dropped, d.Outcome)
	}
	assert.True(t, ds[0].AtSource, "its own group refused it coming in")
	assert.Equal(t, "never sent on by eni-fw: not copied: the appliance security groups in refused the packet first", ds[1].Explain())
}

func TestNewNilNetwork(t *testing.T) {
	_, err := mirror.New(nil, config())
	require.Error(t, err)
	assert.Equal(t, "network: is nil", err.Error())
	s, err := mirror.New(network(t), mirror.Config{})
	require.NoError(t, err)
	assert.Zero(t, s.Len())
	p := eni.TCP(netip.AddrPortFrom(client, 1), netip.AddrPortFrom(web, 443), eni.SYN)
	path := network(t).Judge(&p, t0)
	assert.Empty(t, s.Decide(&path, nil), "no sessions: nothing to decide")
}

func TestRuleString(t *testing.T) {
	for _, tt := range []struct {
		rule mirror.Rule
		want string
	}{
		{mirror.Rule{Number: 10, Action: mirror.Accept, Protocol: mirror.AnyProtocol, Source: any4, Destination: vpc}, "10 accept all traffic 0.0.0.0/0 → 10.0.0.0/16"},
		{mirror.Rule{Number: 20, Action: mirror.Reject, Protocol: 6, Source: any6, Destination: any6,
			SourcePorts: &mirror.PortRange{From: 1024, To: 65535}, DestinationPorts: &mirror.PortRange{From: 22, To: 22}},
			"20 reject tcp ::/0 ports 1024-65535 → ::/0 port 22"},
		{mirror.Rule{Number: 30, Action: mirror.Accept, Protocol: 47, Source: any4, Destination: any4}, "30 accept gre 0.0.0.0/0 → 0.0.0.0/0"},
	} {
		assert.Equal(t, tt.want, tt.rule.String())
	}
}
