package audit_test

import (
	"fmt"
	"net/netip"

	"github.com/sgsim/sgsim/audit"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/sg"
)

// A rule for "the first thousand ports" from anywhere exposes SSH, even
// though no rule says 22.
func ExampleRun() {
	n := eni.NewNetwork()
	n.AddVPC(eni.VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}, NoDefaultGroup: true})
	n.AddSubnet(eni.SubnetSpec{ID: "subnet-1", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")})
	g, _ := n.Groups().CreateEmptyGroup(sg.GroupSpec{ID: "sg-1", Name: "legacy", Description: "old app", VpcID: "vpc-1"})
	n.Groups().AuthorizeIngress(g, sg.Rule{Protocol: sg.TCP, FromPort: 1, ToPort: 1024,
		Peer: sg.MustParsePeer("0.0.0.0/0"), Description: "old app ports"})
	n.AddInterface(eni.InterfaceSpec{ID: "eni-1", SubnetID: "subnet-1",
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.10")}, Groups: []string{g}})
	for _, f := range audit.Run(n, audit.Options{}) {
		if f.Severity >= audit.High {
			fmt.Println(f.Severity, f.ID, "-", f.Message)
		}
	}
	// Output:
	// critical EC2.19 - high-risk tcp port(s) 20, 21, 22, 23, 25, 110, 135, 143, 445 open to 0.0.0.0/0 on eni-1
	// high EC2.13 - tcp 22 (SSH) is open to 0.0.0.0/0 on eni-1
	// high EC2.18 - tcp 1-79, 81-442, 444-1024 open to 0.0.0.0/0 on eni-1 (authorized: 80, 443)
	// high SGSIM.NETBIOS - tcp 139 (NetBIOS) is open to 0.0.0.0/0 on eni-1
}
