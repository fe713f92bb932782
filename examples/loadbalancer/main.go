// Command loadbalancer puts a private web server behind an internet-facing
// Network Load Balancer that keeps its clients' addresses, and shows what
// that asks of the server's security group: the clients' packets arrive
// with the clients' own addresses, so the group must let the internet in,
// though the server's own way out is a NAT gateway that lets nothing in.
// Then a client goes quiet for six minutes: the server's group keeps the
// connection for days, but the balancer forgets a flow quiet for 350 s,
// unless its TCP listener's idle timeout says longer.
//
//	go run ./examples/loadbalancer
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

func main() { teach.Main("loadbalancer", lesson) }

func lesson(w io.Writer) error {
	title := "A Network Load Balancer brings the clients' own addresses, and forgets quiet flows"
	fmt.Fprintf(w, "%s\n%s\n", title, strings.Repeat("=", len(title)))
	fmt.Fprintf(w, "eni-web (10.0.2.10, private) serves HTTPS behind net/lab/1, an internet-facing Network Load Balancer\n"+
		"in subnet-public that keeps its clients' addresses; eni-web's own way to the internet is a NAT gateway.\n")
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	client, server := teach.AP("198.51.100.7:50000"), teach.AP("10.0.2.10:443")
	for _, idle := range []time.Duration{0, 900 * time.Second} {
		n, web, err := build(idle)
		if err != nil {
			return err
		}
		syn := eni.TCP(client, server, eni.SYN)
		anywhere := sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: teach.Peer("0.0.0.0/0")}
		if idle == 0 {
			fmt.Fprintf(w, "\n# A client opens a connection. eni-web's group lets HTTPS in from the VPC only.\n")
			fmt.Fprintf(w, "\n%s\n", n.Judge(&syn, start))
			fmt.Fprintf(w, "\n# The balancer passed the SYN on with the client's address, which the group does not admit.\n"+
				"# Let HTTPS in from anywhere: the balancer, not the group, is what faces the clients.\n")
			if _, err := n.Groups().AuthorizeIngress(web, anywhere); err != nil {
				return err
			}
			req, rep := n.Exchange(&syn, start.Add(time.Second))
			fmt.Fprintf(w, "\n%s\n\n%s\n", req, rep)
			fmt.Fprintf(w, "\n# The handshake ends; then the client is quiet for six minutes before it sends more.\n")
		} else {
			fmt.Fprintf(w, "\n# The same again, the group open to HTTPS from anywhere, with the balancer's TCP listener's\n"+
				"# idle timeout (tcp.idle_timeout.seconds) at 900 s.\n")
			if _, err := n.Groups().AuthorizeIngress(web, anywhere); err != nil {
				return err
			}
			if _, rep := n.Exchange(&syn, start.Add(time.Second)); !rep.Allowed() {
				return fmt.Errorf("the reply: %s", rep)
			}
		}
		ack := eni.TCP(client, server, eni.ACK)
		if p := n.Judge(&ack, start.Add(time.Second+time.Millisecond)); !p.Allowed() {
			return fmt.Errorf("the handshake's last packet: %s", p)
		}
		more := eni.TCP(client, server, eni.ACK|eni.PSH)
		fmt.Fprintf(w, "\n%s\n", n.Judge(&more, start.Add(time.Second+time.Millisecond+6*time.Minute)))
	}
	fmt.Fprintf(w, "\nWith client IP preservation, a target's group judges the clients, not the balancer: it must let in\n"+
		"the addresses the service is for. The balancer keeps each flow itself, and its idle timeout, 350 s for\n"+
		"TCP unless the listener says otherwise (120 s for UDP), is not the target's: a connection its group\n"+
		"would keep for days is reset at the balancer. Keepalives more often than the balancer's timeout, or a\n"+
		"longer listener timeout, keep a quiet connection.\n")
	return nil
}

// build makes the lesson's VPC: eni-web behind the balancer, whose TCP
// listener's idle timeout is idle (0: the default), with a NAT gateway
// for eni-web's own way out. It returns the network and eni-web's group.
func build(idle time.Duration) (*eni.Network, string, error) {
	n, err := teach.VPC([2]string{"subnet-public", "10.0.1.0/24"}, [2]string{"subnet-private", "10.0.2.0/24"})
	if err != nil {
		return nil, "", err
	}
	web, err := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-web", Name: "web", VpcID: "vpc-lab"})
	if err != nil {
		return nil, "", err
	}
	if _, err := n.Groups().AuthorizeIngress(web, sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: teach.Peer("10.0.0.0/16")}); err != nil {
		return nil, "", err
	}
	for _, i := range []eni.InterfaceSpec{
		{ID: "eni-web", SubnetID: "subnet-private", PrivateIPv4: []netip.Addr{teach.Addr("10.0.2.10")}, Groups: []string{web}},
		{ID: "eni-nlb", SubnetID: "subnet-public", Type: eni.TypeNetworkLoadBalancer, RequesterManaged: true,
			Description: "ELB net/lab/1", PrivateIPv4: []netip.Addr{teach.Addr("10.0.1.20")},
			PublicIPv4: []eni.PublicIP{{Public: teach.Addr("203.0.113.20"), Private: teach.Addr("10.0.1.20")}}},
	} {
		if _, err := n.AddInterface(i); err != nil {
			return nil, "", err
		}
	}
	if err := teach.NATGateway(n, "subnet-private"); err != nil {
		return nil, "", err
	}
	err = n.AddTargetGroup(eni.TargetGroupSpec{ID: "targetgroup/web/1", Balancer: "net/lab/1", Protocol: 6,
		Targets: []netip.AddrPort{teach.AP("10.0.2.10:443")}, TCPIdleTimeout: idle})
	return n, web, err
}
