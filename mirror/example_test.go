package mirror_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/sg"
)

// A web server's packets are copied to a sensor. The copy is made only
// of what the server's security group lets through: SSH from the
// internet, which the group refuses, never reaches the sensor.
func ExampleSet_Decide() {
	n := eni.NewNetwork()
	n.AddVPC(eni.VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	n.AddSubnet(eni.SubnetSpec{ID: "subnet-1", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")})
	web, _ := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-web", Name: "web", VpcID: "vpc-1"})
	n.Groups().AuthorizeIngress(web, sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: sg.MustParsePeer("0.0.0.0/0")})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-web", SubnetID: "subnet-1",
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.10")}, Groups: []string{web}})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-sensor", SubnetID: "subnet-1",
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.50")}, Groups: []string{web}})

	all := netip.MustParsePrefix("0.0.0.0/0")
	set, err := mirror.New(n, mirror.Config{
		Filters: []mirror.Filter{{ID: "tmf-tcp", Ingress: []mirror.Rule{
			{Number: 100, Action: mirror.Accept, Protocol: 6, Source: all, Destination: all}}}},
		Targets:  []mirror.Target{{ID: "tmt-sensor", Type: mirror.TargetInterface, Interface: "eni-sensor"}},
		Sessions: []mirror.Session{{ID: "tms-web", Source: "eni-web", Number: 1, Filter: "tmf-tcp", Target: "tmt-sensor", VNI: 7}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	client := netip.MustParseAddr("198.51.100.1")
	var buf [mirror.MaxDecisions]mirror.Decision
	for _, port := range []uint16{443, 22} {
		p := eni.TCP(netip.AddrPortFrom(client, 40000), netip.AddrPortFrom(netip.MustParseAddr("10.0.1.10"), port), eni.SYN)
		path := n.Judge(&p, now)
		for _, d := range set.Decide(&path, buf[:0]) {
			fmt.Printf("%s: %s\n", path.Action, d.Explain())
		}
	}
	// Output:
	// ALLOW: received by eni-web: copied by tms-web (session 1) to tmt-sensor (eni-sensor): its filter tmf-tcp's inbound rule 100 accepts it
	// DENY: received by eni-web: not copied: its security groups refused the packet (inbound), and AWS mirrors only what the source lets through
}
