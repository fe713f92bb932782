package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
)

// sampleRoutes are route tables for the sample: the public subnet's (the
// main table) sends the internet to the internet gateway, IPv6 too; the
// app subnet's sends it through the NAT gateway; the data subnet's has
// only the local route.
const sampleRoutes = `{"RouteTables":[
	{"RouteTableId":"rtb-0a1b2c3d4e5f60001","VpcId":"vpc-0a1b2c3d4e5f60001","Associations":[{"Main":true}],
	 "Routes":[{"DestinationCidrBlock":"10.20.0.0/16","GatewayId":"local","State":"active"},
	  {"DestinationIpv6CidrBlock":"2001:db8:20::/56","GatewayId":"local","State":"active"},
	  {"DestinationCidrBlock":"0.0.0.0/0","GatewayId":"igw-0a1b2c3d4e5f60001","State":"active"},
	  {"DestinationIpv6CidrBlock":"::/0","GatewayId":"igw-0a1b2c3d4e5f60001","State":"active"}]},
	{"RouteTableId":"rtb-0a1b2c3d4e5f60002","VpcId":"vpc-0a1b2c3d4e5f60001","Associations":[{"Main":false,"SubnetId":"subnet-0a1b2c3d4e5f60002"}],
	 "Routes":[{"DestinationCidrBlock":"10.20.0.0/16","GatewayId":"local","State":"active"},
	  {"DestinationCidrBlock":"0.0.0.0/0","NatGatewayId":"nat-0a1b2c3d4e5f60001","State":"active"}]},
	{"RouteTableId":"rtb-0a1b2c3d4e5f60003","VpcId":"vpc-0a1b2c3d4e5f60001","Associations":[{"Main":false,"SubnetId":"subnet-0a1b2c3d4e5f60003"}],
	 "Routes":[{"DestinationCidrBlock":"10.20.0.0/16","GatewayId":"local","State":"active"}]}]}`

// egressOnlyRoutes are sampleRoutes with the public subnet's IPv6 sent to
// an egress-only internet gateway.
var egressOnlyRoutes = strings.Replace(sampleRoutes, `{"DestinationIpv6CidrBlock":"::/0","GatewayId":"igw-0a1b2c3d4e5f60001","State":"active"}`,
	`{"DestinationIpv6CidrBlock":"::/0","EgressOnlyInternetGatewayId":"eigw-0a1b2c3d4e5f60001","State":"active"}`, 1)

// TestReplayNATGateway: with the sample's route tables, the app server's
// package downloads go out through the NAT gateway and their replies
// come back through it, its subnet's ACL judging them both ways; the
// database's attempts to reach the internet have no route at all.
func TestReplayNATGateway(t *testing.T) {
	cfg := sampleConfig(t)
	cfg = append(cfg, configWriter(t, filepath.Dir(cfg[1]))("rtbs.json", sampleRoutes)...)
	out, errOut, code := sgsim(t, append(append([]string{"replay", "--format", "jsonl"}, cfg...), "--pcap", writeSampleCapture(t))...)
	require.Equal(t, 0, code, errOut)
	var nat, db int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f struct {
			Verdict string `json:"verdict"`
			Src     string `json:"src"`
			Dst     string `json:"dst"`
			Via     string `json:"via_interface"`
			Stages  []struct {
				Stage, Code, ACL string
			} `json:"stages"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &f))
		switch {
		case f.Src == "10.20.2.10" && f.Dst == "151.101.0.223", f.Src == "151.101.0.223" && f.Dst == "10.20.2.10":
			nat++
			assert.Equal(t, "ACCEPT", f.Verdict, line)
			assert.Equal(t, "eni-0a1b2c3d4e5f60005", f.Via, line)
			var names []string
			for _, s := range f.Stages {
				names = append(names, s.Stage)
			}
			assert.Contains(t, names, "appliance subnet ACL in", line)
		case f.Src == "10.20.3.10" && f.Dst == "151.101.0.223":
			db++
			assert.Equal(t, "REJECT", f.Verdict)
			last := f.Stages[len(f.Stages)-1]
			assert.Equal(t, "NO_ROUTE_TO_DESTINATION", last.Code, line)
		}
	}
	assert.NotZero(t, nat)
	assert.NotZero(t, db)

	out, errOut, code = sgsim(t, append(append([]string{"replay"}, cfg...), "--pcap", writeSampleCapture(t))...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "eni-0a1b2c3d4e5f60005  Interface for NAT Gateway nat-0a1b2c3d4e5f60001", "the NAT gateway has frames now")
}

// TestCheckNATGatewayInbound: the app server has no public address and
// goes to the internet through the NAT gateway; check finds that the
// internet cannot open a connection to it (the gateway refuses it before
// the server's group is asked) while the server's own connection out
// works, its reply coming back through the gateway.
func TestCheckNATGatewayInbound(t *testing.T) {
	cfg := sampleConfig(t)
	cfg = append(cfg, configWriter(t, filepath.Dir(cfg[1]))("rtbs.json", sampleRoutes)...)
	out, errOut, code := sgsim(t, append(append([]string{"check"}, cfg...), "--src", "198.51.100.7", "--dst", "10.20.2.10",
		"--protocol", "tcp", "--port", "8080")...)
	require.Equal(t, 1, code, "%s%s", out, errOut)
	assert.Contains(t, out, "REQUEST  DENY tcp 198.51.100.7:32768 → 10.20.2.10:8080 [SYN]\n"+
		"  1. DENY  NAT_GATEWAY_INBOUND: rtb-0a1b2c3d4e5f60002 routes 0.0.0.0/0 to NAT gateway nat-0a1b2c3d4e5f60001, "+
		"which lets in only the replies to connections the instances opened: it drops a packet from the internet that answers none\n")
	out, errOut, code = sgsim(t, append(append([]string{"check"}, cfg...), "--src", "10.20.2.10", "--dst", "198.51.100.7",
		"--protocol", "tcp", "--port", "443")...)
	require.Equal(t, 0, code, "%s%s", out, errOut)
	assert.Contains(t, out, "eni-0a1b2c3d4e5f60002 inbound: tracked connection", "the reply rides the server's connection")
}

// TestReplayTwoAppliances: a VPC that inspects its traffic to the
// internet (a Gateway Load Balancer endpoint) before its NAT gateway: the
// request goes through both, in that order, and the reply the other way
// round; JSON Lines name both, both log the packets, the summary counts
// them.
func TestReplayTwoAppliances(t *testing.T) {
	dir := t.TempDir()
	write := configWriter(t, dir)
	var cfg []string
	for _, f := range [][2]string{
		{"vpcs.json", `{"Vpcs":[{"VpcId":"vpc-1","OwnerId":"111122223333","CidrBlock":"10.0.0.0/16"}]}`},
		{"subnets.json", `{"Subnets":[{"SubnetId":"subnet-public","VpcId":"vpc-1","CidrBlock":"10.0.1.0/24"},
			{"SubnetId":"subnet-app","VpcId":"vpc-1","CidrBlock":"10.0.2.0/24"},{"SubnetId":"subnet-inspect","VpcId":"vpc-1","CidrBlock":"10.0.3.0/24"}]}`},
		{"sgs.json", `{"SecurityGroups":[{"GroupId":"sg-app","GroupName":"app","VpcId":"vpc-1","IpPermissions":[],
			"IpPermissionsEgress":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}]}`},
		{"enis.json", `{"NetworkInterfaces":[
			{"NetworkInterfaceId":"eni-app","OwnerId":"111122223333","SubnetId":"subnet-app","VpcId":"vpc-1","PrivateIpAddress":"10.0.2.10","Groups":[{"GroupId":"sg-app"}]},
			{"NetworkInterfaceId":"eni-nat","OwnerId":"111122223333","SubnetId":"subnet-public","VpcId":"vpc-1","PrivateIpAddress":"10.0.1.5",
			 "InterfaceType":"nat_gateway","RequesterManaged":true,"Description":"Interface for NAT Gateway nat-1","Groups":[]},
			{"NetworkInterfaceId":"eni-gwlbe","OwnerId":"111122223333","SubnetId":"subnet-inspect","VpcId":"vpc-1","PrivateIpAddress":"10.0.3.5",
			 "InterfaceType":"gateway_load_balancer_endpoint","RequesterManaged":true,"Description":"VPC Endpoint Interface vpce-1","Groups":[]}]}`},
		{"rtbs.json", `{"RouteTables":[
			{"RouteTableId":"rtb-public","VpcId":"vpc-1","Associations":[{"Main":true}],
			 "Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local"},{"DestinationCidrBlock":"0.0.0.0/0","GatewayId":"igw-1"},
			  {"DestinationCidrBlock":"10.0.2.0/24","GatewayId":"vpce-1"}]},
			{"RouteTableId":"rtb-app","VpcId":"vpc-1","Associations":[{"SubnetId":"subnet-app"}],
			 "Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local"},{"DestinationCidrBlock":"0.0.0.0/0","GatewayId":"vpce-1"}]},
			{"RouteTableId":"rtb-inspect","VpcId":"vpc-1","Associations":[{"SubnetId":"subnet-inspect"}],
			 "Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local"},{"DestinationCidrBlock":"0.0.0.0/0","NatGatewayId":"nat-1"}]}]}`},
	} {
		cfg = append(cfg, write(f[0], f[1])...)
	}
	app := netip.MustParseAddrPort("10.0.2.10:40000")
	web := netip.MustParseAddrPort("198.51.100.7:443")
	p := writeCapture(t, timed{eni.TCP(app, web, eni.SYN), 0}, timed{eni.TCP(web, app, eni.SYN|eni.ACK), time.Millisecond})

	out, errOut, code := sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], `"verdict":"ACCEPT"`)
	assert.Contains(t, lines[0], `"via_interface":"eni-gwlbe","via_interfaces":["eni-gwlbe","eni-nat"]`)
	assert.Contains(t, lines[1], `"verdict":"ACCEPT"`)
	assert.Contains(t, lines[1], `"via_interface":"eni-nat","via_interfaces":["eni-nat","eni-gwlbe"]`)

	out, errOut, code = sgsim(t, append([]string{"replay", "--format", "flowlog", "--log-format",
		"${interface-id} ${flow-direction} ${pkt-srcaddr} ${pkt-dstaddr} ${action}", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{"eni-app egress 10.0.2.10 198.51.100.7 ACCEPT", "eni-gwlbe ingress 10.0.2.10 198.51.100.7 ACCEPT",
		"eni-gwlbe egress 10.0.2.10 198.51.100.7 ACCEPT", "eni-nat ingress 10.0.2.10 198.51.100.7 ACCEPT",
		"eni-nat egress 10.0.2.10 198.51.100.7 ACCEPT", "eni-nat ingress 198.51.100.7 10.0.2.10 ACCEPT",
		"eni-gwlbe egress 198.51.100.7 10.0.2.10 ACCEPT", "eni-app ingress 198.51.100.7 10.0.2.10 ACCEPT"} {
		assert.Contains(t, out, want+"\n")
	}

	out, errOut, code = sgsim(t, append([]string{"replay", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `eni-gwlbe .* 2 +0 +2 +0 `, out)
	assert.Regexp(t, `eni-nat .* 2 +0 +2 +0 `, out)
}

// TestAuditRoutes: with the sample's route tables changed so that the
// public subnet sends the internet to the NAT gateway, web-1's public
// address is reached and cannot answer; and the NAT gateway's subnet's
// ACL, which lets everything in, refuses no reply.
func TestAuditRoutes(t *testing.T) {
	cfg := sampleConfig(t)
	withPublicAddresses(t, cfg, map[string]string{"10.20.1.10": "203.0.113.10"})
	broken := strings.Replace(sampleRoutes, `{"DestinationCidrBlock":"0.0.0.0/0","GatewayId":"igw-0a1b2c3d4e5f60001","State":"active"}`,
		`{"DestinationCidrBlock":"0.0.0.0/0","NatGatewayId":"nat-0a1b2c3d4e5f60001","State":"active"}`, 1)
	require.NotEqual(t, sampleRoutes, broken)
	write := configWriter(t, filepath.Dir(cfg[1]))
	out, errOut, code := sgsim(t, append(append([]string{"audit"}, cfg...), write("rtbs.json", broken)...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "eni-0a1b2c3d4e5f60001 has the public address 203.0.113.10, but rtb-0a1b2c3d4e5f60001, the route table of its subnet "+
		"subnet-0a1b2c3d4e5f60001, sends the internet (0.0.0.0/0) to nat-0a1b2c3d4e5f60001")
	assert.NotContains(t, out, "SGSIM.NAT_REPLIES_REFUSED")

	out, errOut, code = sgsim(t, append(append([]string{"audit"}, cfg...), write("rtbs.json", sampleRoutes)...)...)
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "SGSIM.PUBLIC_WITHOUT_ROUTE", "the public subnet routes the internet to the internet gateway")
}

// TestCheckEgressOnlyGateway: a web server whose group is open to the
// world both ways, in a subnet that sends IPv4 to an internet gateway and
// IPv6 to an egress-only one. Its IPv4 connections are untracked, as the
// rules say; its IPv6 ones are tracked, as AWS tracks every flow through
// an egress-only internet gateway, and check says why.
func TestCheckEgressOnlyGateway(t *testing.T) {
	w := configWriter(t, t.TempDir())
	var cfg []string
	for _, f := range [][2]string{
		{"vpcs.json", `{"Vpcs":[{"VpcId":"vpc-1","OwnerId":"111122223333","CidrBlock":"10.0.0.0/16",
			"Ipv6CidrBlockAssociationSet":[{"Ipv6CidrBlock":"2001:db8:1234::/56","Ipv6CidrBlockState":{"State":"associated"}}]}]}`},
		{"subnets.json", `{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.1.0/24",
			"Ipv6CidrBlockAssociationSet":[{"Ipv6CidrBlock":"2001:db8:1234:1::/64","Ipv6CidrBlockState":{"State":"associated"}}]}]}`},
		{"sgs.json", `{"SecurityGroups":[{"GroupId":"sg-open","GroupName":"open","VpcId":"vpc-1","OwnerId":"111122223333",
			"IpPermissions":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}],"Ipv6Ranges":[{"CidrIpv6":"::/0"}]}],
			"IpPermissionsEgress":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}],"Ipv6Ranges":[{"CidrIpv6":"::/0"}]}]}]}`},
		{"enis.json", `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-web","SubnetId":"subnet-1","VpcId":"vpc-1",
			"PrivateIpAddress":"10.0.1.10","Ipv6Addresses":[{"Ipv6Address":"2001:db8:1234:1::10"}],"Groups":[{"GroupId":"sg-open"}]}]}`},
		{"acls.json", `{"NetworkAcls":[]}`},
		{"rtbs.json", `{"RouteTables":[{"RouteTableId":"rtb-main","VpcId":"vpc-1","Associations":[{"Main":true}],
			"Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local","State":"active"},
			{"DestinationIpv6CidrBlock":"2001:db8:1234::/56","GatewayId":"local","State":"active"},
			{"DestinationCidrBlock":"0.0.0.0/0","GatewayId":"igw-1","State":"active"},
			{"DestinationIpv6CidrBlock":"::/0","EgressOnlyInternetGatewayId":"eigw-0a1b","State":"active"}]}]}`},
	} {
		cfg = append(cfg, w(f[0], f[1])...)
	}
	check := func(dst string) string {
		out, errOut, code := sgsim(t, append(append([]string{"check"}, cfg...), "--src", "eni-web", "--dst", dst, "--protocol", "tcp", "--port", "443")...)
		require.Equal(t, 0, code, "%s%s", out, errOut)
		return out
	}
	out := check("2600:1f18::7")
	assert.Contains(t, out, "new tracked connection: the rules are open to the world both ways, but AWS tracks every flow through egress-only internet gateway eigw-0a1b")
	assert.Contains(t, out, "eni-web inbound: tracked connection", "the reply rides it")
	out = check("198.51.100.7")
	assert.Contains(t, out, "untracked flow (rules open to the world both ways)")
	assert.NotContains(t, out, "egress-only")

	// The other way round, the gateway refuses what the internet opens over
	// IPv6, before the subnet's ACL and the groups, which would let it in.
	out, errOut, code := sgsim(t, append(append([]string{"check"}, cfg...), "--src", "2600:1f18::7", "--dst", "eni-web",
		"--protocol", "tcp", "--port", "22")...)
	require.Equal(t, 1, code, "%s%s", out, errOut)
	assert.Contains(t, out, "REQUEST  DENY tcp [2600:1f18::7]:32768 → [2001:db8:1234:1::10]:22 [SYN]\n"+
		"  1. DENY  EGRESS_ONLY_GATEWAY_INBOUND: rtb-main routes ::/0 to egress-only internet gateway eigw-0a1b, "+
		"which lets in only the replies to connections the instances opened: it drops a packet from the internet that answers none\n")
	assert.Contains(t, out, "RESULT   the connection fails")
	out, errOut, code = sgsim(t, append(append([]string{"check"}, cfg...), "--src", "198.51.100.7", "--dst", "eni-web",
		"--protocol", "tcp", "--port", "22")...)
	require.Equal(t, 0, code, "IPv4 comes in through the internet gateway: %s%s", out, errOut)
}

// TestReplayEgressOnlyGateway: the sample with its public subnet's IPv6
// routed to an egress-only internet gateway. The visitors' IPv6 HTTPS
// connections to the web server are opened from the internet, which the
// gateway refuses before the subnet's ACL and the groups that would let
// them in: JSON Lines say so, no flow-log record has them (they never
// reached the interface), and the summary counts them among the refused
// flows. IPv4 visitors still come in through the internet gateway.
func TestReplayEgressOnlyGateway(t *testing.T) {
	require.NotEqual(t, sampleRoutes, egressOnlyRoutes)
	cfg := sampleConfig(t)
	cfg = append(cfg, configWriter(t, filepath.Dir(cfg[1]))("rtbs.json", egressOnlyRoutes)...)
	pcap := writeSampleCapture(t)
	out, errOut, code := sgsim(t, append(append([]string{"replay", "--format", "jsonl"}, cfg...), "--pcap", pcap)...)
	require.Equal(t, 0, code, errOut)
	var in6, in4 int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f struct {
			Verdict   string `json:"verdict"`
			Src       string `json:"src"`
			Dst       string `json:"dst"`
			DecidedBy struct {
				Stage, Code, Direction string
				RouteTable             string `json:"route_table"`
			} `json:"decided_by"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &f))
		src := netip.MustParseAddr(f.Src)
		switch {
		case f.Dst == "2001:db8:20:1::10" && netip.MustParsePrefix("2001:db8:ff00::/40").Contains(src):
			in6++
			assert.Equal(t, "REJECT", f.Verdict, line)
			assert.Equal(t, "route", f.DecidedBy.Stage, line)
			assert.Equal(t, "EGRESS_ONLY_GATEWAY_INBOUND", f.DecidedBy.Code, line)
			assert.Equal(t, "inbound", f.DecidedBy.Direction, line)
			assert.Equal(t, "rtb-0a1b2c3d4e5f60001", f.DecidedBy.RouteTable, line)
		case f.Dst == "10.20.1.10" && src.Is4() && !netip.MustParsePrefix("10.0.0.0/8").Contains(src) && strings.Contains(line, `"dport":443,`):
			in4++
			assert.Equal(t, "ACCEPT", f.Verdict, line)
		}
	}
	assert.NotZero(t, in6)
	assert.NotZero(t, in4)

	out, errOut, code = sgsim(t, append(append([]string{"replay", "--format", "flowlog"}, cfg...), "--pcap", pcap)...)
	require.Equal(t, 0, code, errOut)
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 6 && f[4] == "2001:db8:20:1::10" && f[6] == "443" {
			t.Errorf("a record of what the gateway refused: %s", line)
		}
	}

	out, errOut, code = sgsim(t, append(append([]string{"replay"}, cfg...), "--pcap", pcap)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "EGRESS_ONLY_GATEWAY_INBOUND rtb-0a1b2c3d4e5f60001 ::/0 to eigw-0a1b2c3d4e5f60001")

	// web-1 calls out over IPv6; the answer comes in at once, and again ten
	// minutes on, when the half-open connection has idled out: JSON Lines
	// give the connection the gateway no longer lets in.
	web, far := netip.MustParseAddrPort("[2001:db8:20:1::10]:50000"), netip.MustParseAddrPort("[2600:1f18::7]:443")
	pcap = writeCapture(t, timed{eni.TCP(web, far, eni.SYN), 0}, timed{eni.TCP(far, web, eni.SYN|eni.ACK), 10 * time.Millisecond},
		timed{eni.TCP(far, web, eni.ACK), 10 * time.Minute})
	out, errOut, code = sgsim(t, append(append([]string{"replay", "--format", "jsonl"}, cfg...), "--pcap", pcap)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[0], `"verdict":"ACCEPT"`)
	assert.Contains(t, lines[1], `"verdict":"ACCEPT"`)
	assert.Contains(t, lines[2], `"decided_by":{"stage":"route","route_table":"rtb-0a1b2c3d4e5f60001","direction":"inbound","result":"DENY",`+
		`"code":"EGRESS_ONLY_GATEWAY_INBOUND","connection":{"state":"tcp-syn-received","opened":"outbound","since":"2026-11-02T09:30:00Z"},"idled_out":true,`)
	assert.Contains(t, lines[2], "had been idle 599 s, past its 120 s timeout")
}

// TestReplayNATGatewayIdleTimeout: the app server's connection through
// the NAT gateway goes quiet for 400 s; the gateway has dropped it by
// then (350 s, fixed), though the server's own table keeps it for five
// days. The server's next packet and the internet's are refused at the
// gateway, and every output says so, but for the reset the gateway sends
// the server; a connection kept alive every 200 s works throughout.
func TestReplayNATGatewayIdleTimeout(t *testing.T) {
	cfg := sampleConfig(t)
	cfg = append(cfg, configWriter(t, filepath.Dir(cfg[1]))("rtbs.json", sampleRoutes)...)
	app, web := netip.MustParseAddrPort("10.20.2.10:50000"), netip.MustParseAddrPort("151.101.0.223:443")
	app2 := netip.MustParseAddrPort("10.20.2.10:50001")
	p := writeCapture(t,
		timed{eni.TCP(app, web, eni.SYN), 0},
		timed{eni.TCP(web, app, eni.SYN|eni.ACK), time.Millisecond},
		timed{eni.TCP(app, web, eni.ACK), 2 * time.Millisecond},
		timed{eni.TCP(app2, web, eni.SYN), 3 * time.Millisecond},
		timed{eni.TCP(web, app2, eni.SYN|eni.ACK), 4 * time.Millisecond},
		timed{eni.TCP(app2, web, eni.ACK), 5 * time.Millisecond},
		timed{eni.TCP(app2, web, eni.ACK), 200 * time.Second}, // a keepalive
		timed{eni.TCP(app, web, eni.ACK|eni.PSH), 400 * time.Second},
		timed{eni.TCP(web, app, eni.RST|eni.ACK), 400*time.Second + time.Millisecond}, // the gateway's, in the far end's name
		timed{eni.TCP(web, app, eni.ACK|eni.PSH), 401 * time.Second},
		timed{eni.TCP(app2, web, eni.ACK|eni.PSH), 402 * time.Second},
		timed{eni.TCP(web, app2, eni.ACK|eni.PSH), 403 * time.Second})

	out, errOut, code := sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 12)
	assert.Contains(t, lines[8], `"stage":"appliance security groups in","interface":"eni-0a1b2c3d4e5f60005","direction":"inbound","result":"ALLOW","code":"NAT_GATEWAY_RESET"`)
	for k, line := range lines {
		if k == 7 || k == 9 {
			assert.Contains(t, line, `"verdict":"REJECT"`, line)
			assert.Contains(t, line, `"decided_by":{"stage":"appliance security groups in","interface":"eni-0a1b2c3d4e5f60005","direction":"inbound",`+
				`"result":"DENY","code":"NAT_GATEWAY_NO_CONNECTION"`, line)
			assert.Contains(t, line, `"idled_out":true`, line)
			assert.Regexp(t, `the gateway dropped its connection \(tcp-established\) when it had been idle (399|400) s, past the gateway's fixed 350 s timeout`, line)
			continue
		}
		assert.Contains(t, line, `"verdict":"ACCEPT"`, line)
	}
	assert.Contains(t, lines[7], `"stage":"source security groups","interface":"eni-0a1b2c3d4e5f60002","direction":"outbound","result":"ALLOW","code":"TRACKED_CONNECTION"`,
		"the server's own table still holds the connection")

	out, errOut, code = sgsim(t, append([]string{"replay", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `tcp 10.20.2.10 → 151.101.0.223:443 +NAT_GATEWAY_NO_CONNECTION eni-0a1b2c3d4e5f60005 inbound \(its connection idled out: 350 s timeout\)`, out)
	assert.Regexp(t, `tcp 151.101.0.223 → 10.20.2.10:50000 +NAT_GATEWAY_NO_CONNECTION eni-0a1b2c3d4e5f60005 inbound`, out)
	assert.Regexp(t, `eni-0a1b2c3d4e5f60005 +2 +2 +2 +0 +350 s, tcp only \(NAT gateway, fixed\)`, out, "the gateway's table, with its timeout")
	assert.Contains(t, out, "2 packets were refused at a NAT gateway, which had dropped their TCP connection idle for 350 s: "+
		"TCP keepalives more often than that keep such connections")
	assert.NotContains(t, out, "ConnectionTrackingSpecification", "the gateway's timeout is fixed")

	out, _, _ = sgsim(t, append([]string{"audit", "--format", "json", "--pcap", p}, cfg...)...)
	assert.Contains(t, out, "2 packets of "+p+" through the NAT gateway at eni-0a1b2c3d4e5f60005 were refused because the gateway had dropped "+
		"their TCP connection, idle past its fixed 350 s: send TCP keepalives more often than that")
}

// TestReplayBalancedTargets: with the sample's route tables, the app
// servers' subnet sends the internet to the NAT gateway. Behind an
// internet-facing Network Load Balancer that keeps its clients'
// addresses, app-1 gets their requests on 8080 all the same, and answers
// them by the balancer. Without the target groups the gateway refuses
// the requests; with them, app-1's group judges them, and must allow the
// clients' addresses: a rule for the web tier's group does not.
func TestReplayBalancedTargets(t *testing.T) {
	const (
		tg  = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/app/73e2d6bc24d8a067"
		nlb = "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/net/app/50dc6c495c0c9188"
	)
	cfg := sampleConfig(t)
	write := configWriter(t, filepath.Dir(cfg[1]))
	cfg = append(cfg, write("rtbs.json", sampleRoutes)...)
	cfg = append(cfg, write("nlb-enis.json", `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-0a1b2c3d4e5f600aa",
		"SubnetId":"subnet-0a1b2c3d4e5f60001","VpcId":"vpc-0a1b2c3d4e5f60001","InterfaceType":"network_load_balancer",
		"RequesterManaged":true,"Description":"ELB net/app/50dc6c495c0c9188","PrivateIpAddress":"10.20.1.50",
		"PrivateIpAddresses":[{"Primary":true,"PrivateIpAddress":"10.20.1.50","Association":{"PublicIp":"203.0.113.50","IpOwnerId":"amazon"}}],
		"Groups":[]}]}`)...)
	client, app := netip.MustParseAddrPort("198.51.100.7:50000"), netip.MustParseAddrPort("10.20.2.10:8080")
	p := writeCapture(t,
		timed{eni.TCP(client, app, eni.SYN), 0},
		timed{eni.TCP(app, client, eni.SYN|eni.ACK), time.Millisecond},
		timed{eni.TCP(client, app, eni.ACK|eni.PSH), 2 * time.Millisecond})
	codes := func(args ...string) []string {
		out, errOut, code := sgsim(t, append(append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg...), args...)...)
		require.Equal(t, 0, code, errOut)
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			got = append(got, between(line, `"verdict":"`, `"`)+" "+between(between(line, `"decided_by":`, "}"), `"code":"`, `"`))
		}
		return got
	}
	// Without the target groups, the NAT gateway refuses what the internet opens.
	assert.Equal(t, []string{"REJECT NAT_GATEWAY_INBOUND", "REJECT NAT_GATEWAY_NO_CONNECTION", "REJECT NAT_GATEWAY_INBOUND"}, codes())

	cfg = append(cfg, write("tgs.json", `{"TargetGroups":[{"TargetGroupArn":"`+tg+`","TargetGroupName":"app","Protocol":"TCP","Port":8080,
		"VpcId":"vpc-0a1b2c3d4e5f60001","TargetType":"instance","LoadBalancerArns":["`+nlb+`"]}]}`)...)
	cfg = append(cfg, write("health-73e2d6bc24d8a067.json", `{"TargetHealthDescriptions":[
		{"Target":{"Id":"i-0a1b2c3d4e5f60002","Port":8080},"HealthCheckPort":"8080","TargetHealth":{"State":"healthy"}}]}`)...)
	// The balancer brings the request; app-1's group allows 8080 from the
	// web tier's group only.
	got := codes()
	assert.Equal(t, "REJECT ENI_SG_RULES_MISMATCH", got[0])

	// Its group lets the clients in: the connection works, by the balancer.
	sgs := filepath.Join(filepath.Dir(cfg[1]), "security-groups.json")
	data, err := os.ReadFile(sgs)
	require.NoError(t, err)
	opened := strings.Replace(string(data), `"FromPort": 9100,`,
		`"FromPort": 8080, "ToPort": 8080, "IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, {"FromPort": 9100,`, 1)
	require.NotEqual(t, string(data), opened, "the sample's groups changed: find the 9100 rule again")
	require.NoError(t, os.WriteFile(sgs, []byte(opened), 0o644))
	assert.Equal(t, []string{"ACCEPT SG_RULE_MATCH", "ACCEPT TRACKED_CONNECTION", "ACCEPT TRACKED_CONNECTION"}, codes())
	out, _, _ := sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg...)...)
	assert.Contains(t, strings.Split(out, "\n")[0], `"balancer":"net/app/50dc6c495c0c9188"`)

	// Six minutes quiet: the balancer has dropped the flow (350 s), while
	// app-1's table keeps it for days; a capture that starts mid-stream
	// has no flow at the balancer either, unless picked up.
	p = writeCapture(t,
		timed{eni.TCP(client, app, eni.SYN), 0},
		timed{eni.TCP(app, client, eni.SYN|eni.ACK), time.Millisecond},
		timed{eni.TCP(client, app, eni.ACK), 2 * time.Millisecond},
		timed{eni.TCP(client, app, eni.ACK|eni.PSH), 6*time.Minute + 2*time.Millisecond},
		timed{eni.TCP(app, client, eni.ACK|eni.PSH), 6*time.Minute + 3*time.Millisecond})
	assert.Equal(t, []string{"ACCEPT SG_RULE_MATCH", "ACCEPT TRACKED_CONNECTION", "ACCEPT TRACKED_CONNECTION",
		"REJECT NLB_NO_FLOW", "REJECT NLB_NO_FLOW"}, codes())
	out, _, _ = sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg...)...)
	lines := strings.Split(out, "\n")
	assert.Contains(t, lines[3], `"direction":"inbound","result":"DENY","code":"NLB_NO_FLOW"`)
	assert.Contains(t, lines[3], `"idled_out":true`)
	assert.Contains(t, lines[3], "had been idle 360 s, past the balancer's 350 s idle timeout")
	assert.Contains(t, lines[4], `"direction":"outbound","result":"DENY","code":"NLB_NO_FLOW"`)
	summary, _, _ := sgsim(t, append([]string{"replay", "--pcap", p}, cfg...)...)
	assert.Contains(t, summary, "NLB_NO_FLOW net/app/50dc6c495c0c9188 inbound (its flow idled out: 350 s timeout)")
	assert.Regexp(t, `net/app/50dc6c495c0c9188 +1 +1 +2 +0 +350 / 120 / 120 s \(Network Load Balancer, flows\)`, summary)
	assert.Contains(t, summary, "2 packets were refused at a Network Load Balancer, which had dropped their flow idle past its timeout")
	findings, _, _ := sgsim(t, append([]string{"audit", "--pcap", p}, cfg...)...)
	assert.Contains(t, findings, "SGSIM.IDLED_OUT")
	assert.Contains(t, findings, " through Network Load Balancer net/app/50dc6c495c0c9188 were refused because the balancer had dropped their flow")

	// A TCP listener whose idle timeout is 900 s keeps the quiet connection.
	const listener = "arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/net/app/50dc6c495c0c9188/f2f7dc8efc522ab2"
	withListener := append(slices.Clone(cfg), write("listeners.json", `{"Listeners":[{"ListenerArn":"`+listener+`","LoadBalancerArn":"`+nlb+`",
		"Port":80,"Protocol":"TCP","DefaultActions":[{"Type":"forward","TargetGroupArn":"`+tg+`"}]}]}`)...)
	withListener = append(withListener, "--config", listener+"="+write("attrs.json",
		`{"Attributes":[{"Key":"tcp.idle_timeout.seconds","Value":"900"}]}`)[1])
	out, errOut, code := sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", p}, withListener...)...)
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "NLB_NO_FLOW")
	summary, _, _ = sgsim(t, append([]string{"replay", "--pcap", p}, withListener...)...)
	assert.Regexp(t, `net/app/50dc6c495c0c9188 +1 +1 +0 +0 +900 / 120 / 120 s \(Network Load Balancer, flows\)`, summary)

	p = writeCapture(t,
		timed{eni.TCP(client, app, eni.ACK|eni.PSH), 0},
		timed{eni.TCP(app, client, eni.ACK|eni.PSH), time.Millisecond})
	// The reply leaves app-1 (its egress is open) for the balancer, which
	// has no flow for it either.
	assert.Equal(t, []string{"REJECT NLB_NO_FLOW", "REJECT NLB_NO_FLOW"}, codes())
	assert.Equal(t, []string{"ACCEPT SG_RULE_MATCH", "ACCEPT TRACKED_CONNECTION"}, codes("--tcp-pickup"))
}
