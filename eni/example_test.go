package eni_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/sg"
)

// A web server's group admits HTTPS from anywhere and SSH from one
// address; packets are judged as they arrive, with their own timestamps.
func ExampleNetwork() {
	n := eni.NewNetwork()
	n.AddVPC(eni.VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	n.AddSubnet(eni.SubnetSpec{ID: "subnet-1", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")})
	web, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-web", Name: "web", VpcID: "vpc-1"})
	n.Groups().AuthorizeIngress(web,
		sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: sg.MustParsePeer("0.0.0.0/0")},
		sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: sg.MustParsePeer("203.0.113.7/32")})
	server, _ := n.AddInterface(eni.InterfaceSpec{ID: "eni-web", SubnetID: "subnet-1",
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.10")}, Groups: []string{web}})

	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, p := range []eni.Packet{
		eni.TCP(netip.MustParseAddrPort("198.51.100.1:50000"), netip.MustParseAddrPort("10.0.1.10:443"), eni.SYN),
		eni.TCP(netip.MustParseAddrPort("203.0.113.7:50001"), netip.MustParseAddrPort("10.0.1.10:22"), eni.SYN),
		eni.TCP(netip.MustParseAddrPort("198.51.100.1:50002"), netip.MustParseAddrPort("10.0.1.10:22"), eni.SYN),
	} {
		fmt.Println(server.Evaluate(eni.Inbound, &p, now))
	}
	// Output:
	// ALLOW inbound eni-web tcp 198.51.100.1:50000 → 10.0.1.10:443 [SYN]: allowed by sg-web rule sgr-00000000000000004 (tcp 443 from 0.0.0.0/0); untracked flow (rules open to the world both ways), so replies are judged by rules
	// ALLOW inbound eni-web tcp 203.0.113.7:50001 → 10.0.1.10:22 [SYN]: allowed by sg-web rule sgr-00000000000000005 (tcp 22 from 203.0.113.7/32); new tracked connection
	// DENY inbound eni-web tcp 198.51.100.1:50002 → 10.0.1.10:22 [SYN]: ENI_SG_RULES_MISMATCH: no inbound rule of sg-web allows tcp port 22 from 198.51.100.1
}

// A replay judges every packet through one FlowCache: the answers are
// Network.JudgeInto's, and later packets of a flow cost less.
func ExampleFlowCache() {
	n := eni.NewNetwork()
	n.AddVPC(eni.VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	n.AddSubnet(eni.SubnetSpec{ID: "subnet-1", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")})
	db, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-db", Name: "db", VpcID: "vpc-1"})
	n.Groups().AuthorizeIngress(db, sg.Rule{Protocol: sg.TCP, FromPort: 5432, ToPort: 5432, Peer: sg.MustParsePeer("10.0.1.0/24")})
	for id, addr := range map[string]string{"eni-app": "10.0.1.10", "eni-db": "10.0.1.20"} {
		n.AddInterface(eni.InterfaceSpec{ID: id, SubnetID: "subnet-1",
			PrivateIPv4: []netip.Addr{netip.MustParseAddr(addr)}, Groups: []string{db}})
	}

	fc := n.NewFlowCache()
	var path eni.Path // reused: judging allocates nothing
	app, server := netip.MustParseAddrPort("10.0.1.10:40000"), netip.MustParseAddrPort("10.0.1.20:5432")
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for k, p := range []eni.Packet{
		eni.TCP(app, server, eni.SYN),
		eni.TCP(server, app, eni.SYN|eni.ACK),
		eni.TCP(app, server, eni.ACK),
		eni.TCP(app, server, eni.ACK|eni.PSH),
	} {
		fc.JudgeInto(&p, now.Add(time.Duration(k)*time.Millisecond), &path)
		last := path.Stages()[len(path.Stages())-1]
		fmt.Println(path.Action, last.Verdict.Reason)
	}
	// Output:
	// ALLOW SG_RULE_MATCH
	// ALLOW TRACKED_CONNECTION
	// ALLOW TRACKED_CONNECTION
	// ALLOW TRACKED_CONNECTION
}

// A batch of packets, decoded into the paths that will hold their
// verdicts, is judged under one acquisition of the network.
func ExampleFlowCache_JudgeEach() {
	n := eni.NewNetwork()
	n.AddVPC(eni.VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	n.AddSubnet(eni.SubnetSpec{ID: "subnet-1", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")})
	web, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-web", Name: "web", VpcID: "vpc-1"})
	n.Groups().AuthorizeIngress(web, sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: sg.MustParsePeer("203.0.113.0/24")})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-web", SubnetID: "subnet-1",
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.10")}, Groups: []string{web}})

	client, server := netip.MustParseAddrPort("203.0.113.7:50000"), netip.MustParseAddrPort("10.0.1.10:443")
	batch := []eni.Packet{
		eni.TCP(client, server, eni.SYN),
		eni.TCP(server, client, eni.SYN|eni.ACK),
		eni.TCP(client, netip.AddrPortFrom(server.Addr(), 22), eni.SYN),
	}
	paths := make([]eni.Path, len(batch))
	ptrs := make([]*eni.Path, len(batch))
	times := make([]time.Time, len(batch))
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for k := range batch {
		paths[k].Packet = batch[k] // a decoder would write it here
		ptrs[k], times[k] = &paths[k], t0.Add(time.Duration(k)*time.Millisecond)
	}
	n.NewFlowCache().JudgeEach(ptrs, times)
	for _, p := range paths {
		for _, s := range p.Stages() { // the web server's groups, not the subnet's ACL
			if s.Kind == eni.StageSourceGroups || s.Kind == eni.StageDestGroups {
				fmt.Println(p.Action, s.Verdict.Reason)
			}
		}
	}
	// Output:
	// ALLOW SG_RULE_MATCH
	// ALLOW TRACKED_CONNECTION
	// DENY ENI_SG_RULES_MISMATCH
}

// A test of a design: the app tier reaches the database on 5432, request
// and reply, and nothing else reaches it. Exchange judges a connection's
// first packet and its reply; Err explains a refusal stage by stage.
func ExampleNetwork_Exchange() {
	n := eni.NewNetwork()
	n.AddVPC(eni.VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	n.AddSubnet(eni.SubnetSpec{ID: "subnet-app", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.2.0/24")})
	n.AddSubnet(eni.SubnetSpec{ID: "subnet-db", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.3.0/24")})
	app, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-app", Name: "app", VpcID: "vpc-1"})
	db, _ := n.Groups().CreateEmptyGroup(sg.GroupSpec{ID: "sg-db", Name: "db", VpcID: "vpc-1"}) // nothing out
	n.Groups().AuthorizeIngress(db, sg.Rule{Protocol: sg.TCP, FromPort: 5432, ToPort: 5432, Peer: sg.GroupPeer(app)})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-app", SubnetID: "subnet-app", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.2.10")}, Groups: []string{app}})
	other, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-other", Name: "other", VpcID: "vpc-1"})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-other", SubnetID: "subnet-app", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.2.11")}, Groups: []string{other}})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-db", SubnetID: "subnet-db", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.3.10")}, Groups: []string{db}})

	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	syn := eni.TCP(netip.MustParseAddrPort("10.0.2.10:40000"), netip.MustParseAddrPort("10.0.3.10:5432"), eni.SYN)
	req, rep := n.Exchange(&syn, now)
	fmt.Println("app to db:", req.Err(), rep.Err())

	stray := eni.TCP(netip.MustParseAddrPort("10.0.2.11:40001"), netip.MustParseAddrPort("10.0.3.10:5432"), eni.SYN)
	req, _ = n.Exchange(&stray, now)
	fmt.Println(req.Err())
	// Output:
	// app to db: <nil> <nil>
	// DENY tcp 10.0.2.11:40001 → 10.0.3.10:5432 [SYN]
	//   1. ALLOW eni-other outbound: allowed by sg-other rule sgr-00000000000000005 (all traffic to 0.0.0.0/0); new tracked connection
	//   2. ALLOW acl-00000000000000001 (subnet-app) outbound: entry 100 allow all traffic to 0.0.0.0/0
	//   3. ALLOW acl-00000000000000001 (subnet-db) inbound: entry 100 allow all traffic from 0.0.0.0/0
	//   4. DENY  eni-db inbound: ENI_SG_RULES_MISMATCH: no inbound rule of sg-db allows tcp port 5432 from 10.0.2.11
}

// A route that sends the app subnet's traffic for the database subnet
// through a firewall puts the firewall on the path; the database's rule
// referencing the app's group no longer matches what the firewall
// forwards, while a rule naming the app subnet's block does.
func ExampleNetwork_AddRouteTable() {
	n := eni.NewNetwork()
	n.AddVPC(eni.VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	for _, s := range []string{"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"} {
		p := netip.MustParsePrefix(s)
		n.AddSubnet(eni.SubnetSpec{ID: fmt.Sprintf("subnet-%d", p.Addr().As4()[2]), VpcID: "vpc-1", CIDR: p})
	}
	fw, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-fw", Name: "fw", VpcID: "vpc-1"})
	n.Groups().AuthorizeIngress(fw, sg.Rule{Protocol: sg.AllProtocols, Peer: sg.MustParsePeer("10.0.0.0/16")})
	app, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-app", Name: "app", VpcID: "vpc-1"})
	db, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-db", Name: "db", VpcID: "vpc-1"})
	n.Groups().AuthorizeIngress(db,
		sg.Rule{Protocol: sg.TCP, FromPort: 5432, ToPort: 5432, Peer: sg.GroupPeer(app)},
		sg.Rule{Protocol: sg.TCP, FromPort: 6432, ToPort: 6432, Peer: sg.MustParsePeer("10.0.2.0/24")})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-fw", SubnetID: "subnet-1", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.5")},
		Groups: []string{fw}, DisableSourceDestCheck: true})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-app", SubnetID: "subnet-2", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.2.10")}, Groups: []string{app}})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-db", SubnetID: "subnet-3", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.3.10")}, Groups: []string{db}})

	err := n.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1", Subnets: []string{"subnet-2"},
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.3.0/24"), Interface: "eni-fw"}}})
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, port := range []uint16{5432, 6432} {
		syn := eni.TCP(netip.MustParseAddrPort("10.0.2.10:40000"), netip.AddrPortFrom(netip.MustParseAddr("10.0.3.10"), port), eni.SYN)
		p := n.Judge(&syn, now)
		fmt.Println(port, p.Action, "via", p.Via().ID())
	}
	// Output:
	// 5432 DENY via eni-fw
	// 6432 ALLOW via eni-fw
}

// A subnet that sends IPv6 to the internet through an egress-only
// internet gateway: its server can open connections out, and their
// replies come back; but the internet opens none to it, whatever its
// group allows.
func ExampleRouteDrop_egressOnly() {
	n := eni.NewNetwork()
	n.AddVPC(eni.VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("2001:db8:1::/56")}})
	n.AddSubnet(eni.SubnetSpec{ID: "subnet-1", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24"),
		IPv6CIDR: netip.MustParsePrefix("2001:db8:1:1::/64")})
	open, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-open", Name: "open", VpcID: "vpc-1"})
	n.Groups().AuthorizeIngress(open, sg.Rule{Protocol: sg.AllProtocols, Peer: sg.MustParsePeer("::/0")})
	n.Groups().AuthorizeEgress(open, sg.Rule{Protocol: sg.AllProtocols, Peer: sg.MustParsePeer("::/0")})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-app", SubnetID: "subnet-1", Groups: []string{open},
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.10")}, IPv6: []netip.Addr{netip.MustParseAddr("2001:db8:1:1::10")}})
	err := n.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1", Main: true,
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("::/0"), Target: "eigw-1"}}})
	if err != nil {
		panic(err)
	}
	server, host := netip.MustParseAddrPort("[2001:db8:1:1::10]:40000"), netip.MustParseAddrPort("[2600:1f18::7]:443")
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	out := eni.TCP(server, host, eni.SYN)
	req, rep := n.Exchange(&out, now)
	fmt.Println("out:", req.Action, "reply:", rep.Action)

	in := eni.TCP(netip.MustParseAddrPort("[2600:1f18::7]:50000"), netip.MustParseAddrPort("[2001:db8:1:1::10]:22"), eni.SYN)
	p := n.Judge(&in, now)
	if st := p.Stages(); st[0].Route != nil {
		fmt.Println("in:", p.Action, st[0].Route.Reason(), st[0].Route.Target)
	}
	// Output:
	// out: ALLOW reply: ALLOW
	// in: DENY EGRESS_ONLY_GATEWAY_INBOUND eigw-1
}

// An app server in a private subnet, whose way to the internet is a NAT
// gateway, behind an internet-facing Network Load Balancer that keeps
// its clients' addresses: the balancer brings the clients' HTTPS and
// takes the replies back, past the route; the NAT gateway still refuses
// what the internet opens on any other port.
func ExampleNetwork_AddTargetGroup() {
	n := eni.NewNetwork()
	n.AddVPC(eni.VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	n.AddSubnet(eni.SubnetSpec{ID: "subnet-public", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")})
	n.AddSubnet(eni.SubnetSpec{ID: "subnet-app", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.2.0/24")})
	app, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-app", Name: "app", VpcID: "vpc-1"})
	n.Groups().AuthorizeIngress(app,
		sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: sg.MustParsePeer("0.0.0.0/0")},
		sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: sg.MustParsePeer("0.0.0.0/0")})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-app", SubnetID: "subnet-app", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.2.10")},
		Groups: []string{app}})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-nat", SubnetID: "subnet-public", Type: eni.TypeNATGateway, RequesterManaged: true,
		Description: "Interface for NAT Gateway nat-1", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.5")}})
	n.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1", Subnets: []string{"subnet-app"},
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eni-nat", Target: "nat-1"}}})
	err := n.AddTargetGroup(eni.TargetGroupSpec{ID: "targetgroup/app/73e2d6bc24d8a067", Balancer: "net/app/50dc6c495c0c9188",
		Protocol: 6, Targets: []netip.AddrPort{netip.MustParseAddrPort("10.0.2.10:443")}})
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, port := range []uint16{443, 22} {
		syn := eni.TCP(netip.MustParseAddrPort("198.51.100.7:50000"), netip.AddrPortFrom(netip.MustParseAddr("10.0.2.10"), port), eni.SYN)
		req, rep := n.Exchange(&syn, now)
		fmt.Printf("%d: %s by %q, reply %s by %q\n", port, req.Action, req.Balancer(), rep.Action, rep.Balancer())
		if !req.Allowed() {
			fmt.Println(req.Refusals()[0].Route.Reason())
		}
	}
	// Six minutes later the client goes on: the target's table still
	// holds the connection, but the balancer dropped its flow at 350 s.
	ack := eni.TCP(netip.MustParseAddrPort("198.51.100.7:50000"), netip.MustParseAddrPort("10.0.2.10:443"), eni.ACK)
	var p eni.Path
	n.JudgeInto(&ack, now.Add(time.Millisecond), &p) // the handshake's end: established
	data := ack
	data.TCPFlags |= eni.PSH
	n.JudgeInto(&data, now.Add(6*time.Minute), &p)
	fmt.Println(p.Action, p.Refusals()[0].Route.Reason())
	fmt.Println(p.Refusals()[0].Explain())
	for _, b := range n.BalancerStats() {
		fmt.Printf("%s: %d flows opened, %d packets refused, %d of them on a flow that idled out\n",
			b.Name, b.Tracking.Created, b.Refused, b.IdledOut)
	}
	// Output:
	// 443: ALLOW by "net/app/50dc6c495c0c9188", reply ALLOW by "net/app/50dc6c495c0c9188"
	// 22: DENY by "", reply DENY by ""
	// NAT_GATEWAY_INBOUND
	// DENY NLB_NO_FLOW
	// NLB_NO_FLOW: Network Load Balancer net/app/50dc6c495c0c9188 holds no flow for this packet from a client, and only a SYN opens one: the flow (tcp-established, opened by the client) had been idle 359 s, past the balancer's 350 s idle timeout, whatever the target's own table keeps; it answers with a reset
	// net/app/50dc6c495c0c9188: 1 flows opened, 1 packets refused, 1 of them on a flow that idled out
}
