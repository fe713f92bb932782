// Command middlebox puts a firewall appliance on the route between two
// subnets and shows what changes: the packet meets the firewall's subnet's
// network ACL and its security groups on the way, and at the database a
// rule that references the app tier's security group stops matching,
// because the traffic now comes from the firewall's interface. A rule
// naming the app subnet's block still matches.
//
//	go run ./examples/middlebox
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

func main() { teach.Main("middlebox", lesson) }

func lesson(w io.Writer) error {
	n, err := teach.VPC([2]string{"subnet-fw", "10.0.1.0/24"}, [2]string{"subnet-app", "10.0.2.0/24"}, [2]string{"subnet-db", "10.0.3.0/24"})
	if err != nil {
		return err
	}
	reg := n.Groups()
	fw, err := reg.CreateGroup(sg.GroupSpec{ID: "sg-fw", Name: "fw", VpcID: "vpc-lab"})
	if err != nil {
		return err
	}
	app, err := reg.CreateGroup(sg.GroupSpec{ID: "sg-app", Name: "app", VpcID: "vpc-lab"})
	if err != nil {
		return err
	}
	db, err := reg.CreateEmptyGroup(sg.GroupSpec{ID: "sg-db", Name: "db", VpcID: "vpc-lab"})
	if err != nil {
		return err
	}
	byGroup := sg.Rule{Protocol: sg.TCP, FromPort: 5432, ToPort: 5432, Peer: sg.GroupPeer(app)}
	byBlock := sg.Rule{Protocol: sg.TCP, FromPort: 6432, ToPort: 6432, Peer: sg.MustParsePeer("10.0.2.0/24")}
	if _, err := reg.AuthorizeIngress(fw, sg.Rule{Protocol: sg.AllProtocols, Peer: sg.MustParsePeer("10.0.0.0/16")}); err != nil {
		return err
	}
	if _, err := reg.AuthorizeIngress(db, byGroup, byBlock); err != nil {
		return err
	}
	for _, i := range []eni.InterfaceSpec{
		{ID: "eni-fw", SubnetID: "subnet-fw", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.5")}, Groups: []string{fw}, DisableSourceDestCheck: true},
		{ID: "eni-app", SubnetID: "subnet-app", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.2.10")}, Groups: []string{app}},
		{ID: "eni-db", SubnetID: "subnet-db", PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.3.10")}, Groups: []string{db}},
	} {
		if _, err := n.AddInterface(i); err != nil {
			return err
		}
	}

	title := "Routing through an appliance: group references stop matching"
	fmt.Fprintf(w, "%s\n%s\n", title, strings.Repeat("=", len(title)))
	fmt.Fprintf(w, "sg-db admits tcp 5432 from sg-app (a group reference) and tcp 6432 from 10.0.2.0/24 (the app subnet)\n")
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	try := func(k int, port uint16) {
		syn := eni.TCP(netip.MustParseAddrPort(fmt.Sprintf("10.0.2.10:%d", 40000+k)), netip.AddrPortFrom(netip.MustParseAddr("10.0.3.10"), port), eni.SYN)
		fmt.Fprintf(w, "\n%s\n", n.Judge(&syn, start.Add(time.Duration(k)*time.Second)))
	}
	fmt.Fprintf(w, "\n# The app subnet routes to the database subnet directly (the local route).\n")
	try(0, 5432)
	try(1, 6432)
	fmt.Fprintf(w, "\n# Now the app subnet's route table sends the database subnet through the firewall, eni-fw.\n")
	if err := n.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-lab", Subnets: []string{"subnet-app"},
		Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.3.0/24"), Interface: "eni-fw"}}}); err != nil {
		return err
	}
	try(2, 5432)
	try(3, 6432)
	fmt.Fprintf(w, "\nThe group reference matched traffic from the app tier's interface; through the firewall, the\n"+
		"traffic comes from the firewall's interface, which is not in sg-app. The rule naming the app subnet's\n"+
		"block matches either way: behind an appliance, allow addresses or subnets, not groups.\n")
	return nil
}
