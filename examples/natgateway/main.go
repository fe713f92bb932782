// Command natgateway sends a private server's HTTPS request out through a
// NAT gateway and shows why its public subnet's network ACL must let in
// the replies' ports: the server's security group remembers the
// connection (stateful), the ACL does not (stateless), and a NAT gateway
// has no security group to remember anything for it. Then the connection
// goes quiet for six minutes, longer than the gateway keeps one (350 s),
// though the server's group keeps it for days. Last, the internet tries
// to open a connection to the server: the NAT gateway lets in only
// replies.
//
//	go run ./examples/natgateway
package main

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/examples/internal/teach"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

func main() { teach.Main("natgateway", lesson) }

func lesson(w io.Writer) error {
	n, err := teach.VPC([2]string{"subnet-public", "10.0.1.0/24"}, [2]string{"subnet-private", "10.0.2.0/24"})
	if err != nil {
		return err
	}
	app, err := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-app", Name: "app", VpcID: "vpc-lab"}) // no inbound rules; all out
	if err != nil {
		return err
	}
	if _, err := n.AddInterface(eni.InterfaceSpec{ID: "eni-app", SubnetID: "subnet-private", PrivateIPv4: []netip.Addr{teach.Addr("10.0.2.10")},
		Groups: []string{app}}); err != nil {
		return err
	}
	if err := teach.NATGateway(n, "subnet-private"); err != nil {
		return err
	}
	acl, err := n.CreateACL("acl-public", "vpc-lab")
	if err != nil {
		return err
	}
	for _, e := range []nacl.Entry{
		teach.Entry(100, false, 6, nacl.Allow, "10.0.2.0/24", 443, 443), // HTTPS from the private subnet, to go out
		teach.Entry(100, true, 6, nacl.Allow, "0.0.0.0/0", 443, 443),    // HTTPS out to the internet
		teach.Entry(110, true, 6, nacl.Allow, "10.0.2.0/24", 1024, 65535),
	} {
		if err := acl.CreateEntry(e); err != nil {
			return err
		}
	}
	if err := n.AssociateACL("subnet-public", "acl-public"); err != nil {
		return err
	}

	title := "A NAT gateway's subnet ACL must let the replies in"
	fmt.Fprintf(w, "%s\n%s\n", title, strings.Repeat("=", len(title)))
	fmt.Fprintf(w, "eni-app (10.0.2.10, private) reaches the internet through eni-nat, the NAT gateway in subnet-public,\n"+
		"whose ACL lets in HTTPS from the private subnet and lets out HTTPS to anywhere, and the replies to the private subnet.\n")
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	try := func(k int) {
		syn := eni.TCP(netip.AddrPortFrom(teach.Addr("10.0.2.10"), uint16(40000+k)), teach.AP("198.51.100.7:443"), eni.SYN)
		req, rep := n.Exchange(&syn, start.Add(time.Duration(k)*time.Second))
		fmt.Fprintf(w, "\n%s\n\n%s\n", req, rep)
	}
	fmt.Fprintf(w, "\n# The request goes out; its reply comes back from the internet to the NAT gateway's subnet.\n")
	try(0)
	fmt.Fprintf(w, "\n# eni-app's group tracked the connection and would let the reply in; the ACL judges the reply\n"+
		"# on its own, and has no entry for it. Add one for the replies' ports, 1024-65535, from anywhere.\n")
	if err := acl.CreateEntry(teach.Entry(110, false, 6, nacl.Allow, "0.0.0.0/0", 1024, 65535)); err != nil {
		return err
	}
	try(1)
	fmt.Fprintf(w, "\n# The connection goes on, then is quiet for six minutes before eni-app sends more. Its group\n"+
		"# keeps the connection for five days; the NAT gateway forgets a TCP connection quiet for 350 s.\n")
	app40001, web := netip.AddrPortFrom(teach.Addr("10.0.2.10"), 40001), teach.AP("198.51.100.7:443")
	ack := eni.TCP(app40001, web, eni.ACK)
	if p := n.Judge(&ack, start.Add(time.Second+time.Millisecond)); !p.Allowed() {
		return fmt.Errorf("the handshake's last packet: %s", p)
	}
	more := eni.TCP(app40001, web, eni.ACK|eni.PSH)
	fmt.Fprintf(w, "\n%s\n", n.Judge(&more, start.Add(time.Second+time.Millisecond+6*time.Minute)))
	fmt.Fprintf(w, "\n# The other way round: eni-app's group now lets in SSH from anywhere, and a host on the internet\n"+
		"# tries it. eni-app has no public address; its way to the internet is the NAT gateway.\n")
	if _, err := n.Groups().AuthorizeIngress(app, sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: teach.Peer("0.0.0.0/0")}); err != nil {
		return err
	}
	ssh := eni.TCP(teach.AP("198.51.100.7:50000"), teach.AP("10.0.2.10:22"), eni.SYN)
	fmt.Fprintf(w, "\n%s\n", n.Judge(&ssh, start.Add(time.Minute)))
	fmt.Fprintf(w, "\nA security group remembers what went out and lets its replies in; a network ACL judges every\n"+
		"packet alone, so the subnet a NAT gateway is in must let in the replies' ports as well as the requests.\n"+
		"The NAT gateway remembers too, in its way: it lets in only the replies to what went out through it, so\n"+
		"the internet opens nothing to the server behind it, whatever the server's group allows. It forgets\n"+
		"sooner than a group does: a TCP connection quiet for 350 s is gone, and AWS answers the server's next\n"+
		"packet with a reset. TCP keepalives more often than that keep a quiet connection through it.\n")
	return nil
}
