// Command egressonly shows what an egress-only internet gateway adds to a
// security group. The server's group lets everything in and out, over
// IPv6, from and to anywhere; its subnet sends IPv6 to the internet
// through an egress-only internet gateway, which lets the server open
// connections and stops the internet opening any: the group never sees
// what the gateway drops. The gateway is stateful as the group is: it
// lets in the replies to the connections the server opened, for as long
// as they are tracked.
//
//	go run ./examples/egressonly
package main

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/examples/internal/teach"
	"github.com/sgsim/sgsim/sg"
)

func main() { teach.Main("egressonly", lesson) }

// build makes a dual-stack VPC with a server (eni-app, 10.0.2.10 and
// 2001:db8:1234:2::10) whose group lets in and out everything, from and to
// anywhere, and whose subnet sends ::/0 to the egress-only internet
// gateway given (or to the internet gateway, for target igw-lab).
func build(target string) (*eni.Network, error) {
	n := eni.NewNetwork()
	if _, err := n.AddVPC(eni.VPCSpec{ID: "vpc-lab", CIDRs: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("2001:db8:1234::/56")}}); err != nil {
		return nil, err
	}
	if _, err := n.AddSubnet(eni.SubnetSpec{ID: "subnet-app", VpcID: "vpc-lab", CIDR: netip.MustParsePrefix("10.0.2.0/24"),
		IPv6CIDR: netip.MustParsePrefix("2001:db8:1234:2::/64")}); err != nil {
		return nil, err
	}
	g, err := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-open", Name: "open", VpcID: "vpc-lab"})
	if err != nil {
		return nil, err
	}
	all := sg.Rule{Protocol: sg.AllProtocols, Peer: teach.Peer("::/0")}
	if _, err := n.Groups().AuthorizeIngress(g, all); err != nil {
		return nil, err
	}
	if _, err := n.Groups().AuthorizeEgress(g, all); err != nil {
		return nil, err
	}
	if _, err := n.AddInterface(eni.InterfaceSpec{ID: "eni-app", SubnetID: "subnet-app", Groups: []string{g},
		PrivateIPv4: []netip.Addr{teach.Addr("10.0.2.10")}, IPv6: []netip.Addr{teach.Addr("2001:db8:1234:2::10")}}); err != nil {
		return nil, err
	}
	err = n.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-lab", Main: true, Routes: []eni.Route{
		{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-lab"},
		{Dest: netip.MustParsePrefix("::/0"), Target: target},
	}})
	return n, err
}

func lesson(w io.Writer) error {
	title := "An egress-only internet gateway lets connections out, and none in"
	fmt.Fprintf(w, "%s\n%s\n", title, strings.Repeat("=", len(title)))
	fmt.Fprintf(w, "eni-app (2001:db8:1234:2::10) has a group that lets in and out everything, over IPv6, from and\n"+
		"to anywhere. A host on the internet, 2600:1f18::7, tries to reach it over SSH; then eni-app calls an\n"+
		"HTTPS server there, which answers at once, and once more ten minutes on, when the handshake it never\n"+
		"finished has idled out.\n")
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	server, host := "[2001:db8:1234:2::10]", "[2600:1f18::7]"
	for _, c := range []struct {
		target, heading string
	}{
		{"igw-lab", "The subnet sends ::/0 to the internet gateway: the group alone decides."},
		{"eigw-lab", "The subnet sends ::/0 to an egress-only internet gateway."},
	} {
		n, err := build(c.target)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n# %s\n", c.heading)
		for _, s := range []struct {
			at  time.Duration
			pkt eni.Packet
		}{
			{0, eni.TCP(teach.AP(host+":50000"), teach.AP(server+":22"), eni.SYN)},
			{time.Second, eni.TCP(teach.AP(server+":40000"), teach.AP(host+":443"), eni.SYN)},
			{time.Second + 20*time.Millisecond, eni.TCP(teach.AP(host+":443"), teach.AP(server+":40000"), eni.SYN|eni.ACK)},
			// The handshake never completed: AWS forgets it after two minutes
			// (sgsim's choice, as Linux's; see the conntrack package).
			{10 * time.Minute, eni.TCP(teach.AP(host+":443"), teach.AP(server+":40000"), eni.ACK)},
		} {
			fmt.Fprintf(w, "\n%s\n", n.Judge(&s.pkt, start.Add(s.at)))
		}
	}
	fmt.Fprintf(w, "\nThe group lets in anything, so through an internet gateway the internet's SSH gets in, and the\n"+
		"group tracks nothing (it is open to the world both ways): any packet from port 443 is let in, even\n"+
		"ten minutes on. An egress-only internet gateway stops what the internet opens before the group sees\n"+
		"it, and AWS tracks every flow through one: the server's own connection is tracked, its reply rides\n"+
		"it, and once the connection has idled out the gateway lets nothing of it back in.\n")
	return nil
}
