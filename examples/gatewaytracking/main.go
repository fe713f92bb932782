// Command gatewaytracking shows that the route can decide whether a
// security group tracks a flow. A group open to the world both ways
// tracks nothing, so when an inbound rule goes, the replies of its
// outbound flows stop at once; but AWS tracks every flow through a NAT
// gateway (and an egress-only internet gateway, a transit gateway, a
// firewall endpoint), so behind one the same flow outlives the rule.
//
//	go run ./examples/gatewaytracking
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

func main() { teach.Main("gatewaytracking", lesson) }

// inbound is the rule that makes the group open to the world both ways.
var inbound = sg.Rule{Protocol: sg.TCP, FromPort: 0, ToPort: 65535, Peer: teach.Peer("0.0.0.0/0")}

// build makes a VPC with a server (eni-app, 10.0.2.10) whose group lets
// in all TCP and out everything, from and to anywhere; its subnet sends
// the internet to the internet gateway (and the server has a public
// address, 203.0.113.10), or through a NAT gateway.
func build(throughNAT bool) (*eni.Network, string, error) {
	n, err := teach.VPC([2]string{"subnet-public", "10.0.1.0/24"}, [2]string{"subnet-app", "10.0.2.0/24"})
	if err != nil {
		return nil, "", err
	}
	g, err := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-open", Name: "open", VpcID: "vpc-lab"}) // all out
	if err != nil {
		return nil, "", err
	}
	if _, err := n.Groups().AuthorizeIngress(g, inbound); err != nil {
		return nil, "", err
	}
	for _, i := range []eni.InterfaceSpec{
		appSpec(g, throughNAT),
		{ID: "eni-nat", SubnetID: "subnet-public", Type: eni.TypeNATGateway, RequesterManaged: true,
			Description: "Interface for NAT Gateway nat-lab", PrivateIPv4: []netip.Addr{teach.Addr("10.0.1.5")}},
	} {
		if _, err := n.AddInterface(i); err != nil {
			return nil, "", err
		}
	}
	app := eni.Route{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-lab"}
	if throughNAT {
		app = eni.Route{Dest: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eni-nat", Target: "nat-lab"}
	}
	for _, t := range []eni.RouteTableSpec{
		{ID: "rtb-public", VpcID: "vpc-lab", Main: true, Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-lab"}}},
		{ID: "rtb-app", VpcID: "vpc-lab", Subnets: []string{"subnet-app"}, Routes: []eni.Route{app}},
	} {
		if err := n.AddRouteTable(t); err != nil {
			return nil, "", err
		}
	}
	return n, g, nil
}

func appSpec(group string, throughNAT bool) eni.InterfaceSpec {
	s := eni.InterfaceSpec{ID: "eni-app", SubnetID: "subnet-app", PrivateIPv4: []netip.Addr{teach.Addr("10.0.2.10")}, Groups: []string{group}}
	if !throughNAT {
		s.PublicIPv4 = []eni.PublicIP{{Public: teach.Addr("203.0.113.10"), Private: teach.Addr("10.0.2.10")}}
	}
	return s
}

func lesson(w io.Writer) error {
	title := "The route decides whether a flow is tracked"
	fmt.Fprintf(w, "%s\n%s\n", title, strings.Repeat("=", len(title)))
	fmt.Fprintf(w, "eni-app (10.0.2.10) calls an HTTPS server on the internet. Its group lets in all TCP and lets out\n"+
		"everything, from and to anywhere: open to the world both ways, the case in which AWS tracks nothing.\n"+
		"Mid-connection, the inbound rule is removed.\n")
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		throughNAT bool
		heading    string
	}{
		{false, "Through an internet gateway: the flow is untracked, so the rules judge the reply."},
		{true, "Through a NAT gateway: AWS tracks every flow through one, so the reply rides the connection."},
	} {
		n, g, err := build(c.throughNAT)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n# %s\n", c.heading)
		syn := eni.TCP(teach.AP("10.0.2.10:40000"), teach.AP("198.51.100.7:443"), eni.SYN)
		fmt.Fprintf(w, "\n%s\n", n.Judge(&syn, start))
		if err := n.Groups().RevokeIngress(g, inbound); err != nil {
			return err
		}
		fmt.Fprintf(w, "\n# The inbound rule is removed; the HTTPS server answers.\n")
		// The internet answers the address it saw: the server's public one,
		// or (translated back by the NAT gateway) its private one.
		to := teach.AP("203.0.113.10:40000")
		if c.throughNAT {
			to = teach.AP("10.0.2.10:40000")
		}
		reply := eni.TCP(teach.AP("198.51.100.7:443"), to, eni.SYN|eni.ACK)
		fmt.Fprintf(w, "\n%s\n", n.Judge(&reply, start.Add(time.Second)))
	}
	fmt.Fprintf(w, "\nA group open to the world both ways tracks nothing, and a rule change cuts such flows at once.\n"+
		"A NAT gateway, an egress-only internet gateway, a transit gateway or a firewall endpoint has no\n"+
		"group of its own, and AWS tracks every flow through it: the instance's group tracks it whatever\n"+
		"its rules say, so the same change leaves the connection working.\n")
	return nil
}
