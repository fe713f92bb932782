// Command mirroring shows what VPC Traffic Mirroring copies to an
// intrusion-detection sensor, and what it cannot: AWS copies a packet
// only once the source has let it through, so a probe the security group
// or the subnet's network ACL refuses never reaches the sensor. Of two
// sessions whose filters both accept a packet, the one with the lower
// session number copies it, once.
//
//	go run ./examples/mirroring
package main

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/examples/internal/teach"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

func main() { teach.Main("mirroring", lesson) }

func lesson(w io.Writer) error {
	lab, err := teach.NewLab()
	if err != nil {
		return err
	}
	if err := lab.Allow(false, sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: teach.Peer("0.0.0.0/0")}); err != nil {
		return err
	}
	if err := lab.Allow(true, sg.Rule{Protocol: sg.AllProtocols, Peer: teach.Peer("0.0.0.0/0")}); err != nil {
		return err
	}
	if err := lab.Entries(teach.Entry(100, false, -1, nacl.Allow, "0.0.0.0/0", 0, 0),
		teach.Entry(100, true, -1, nacl.Allow, "0.0.0.0/0", 0, 0)); err != nil {
		return err
	}
	if _, err := lab.Net.AddInterface(eni.InterfaceSpec{ID: "eni-sensor", SubnetID: "subnet-lab",
		PrivateIPv4: []netip.Addr{teach.Addr("10.0.1.50")}, Groups: []string{lab.Group}}); err != nil {
		return err
	}
	all := netip.MustParsePrefix("0.0.0.0/0")
	set, err := mirror.New(lab.Net, mirror.Config{
		Filters: []mirror.Filter{
			{ID: "tmf-https", Ingress: []mirror.Rule{{Number: 100, Action: mirror.Accept, Protocol: 6, Source: all, Destination: all,
				DestinationPorts: &mirror.PortRange{From: 443, To: 443}}}},
			{ID: "tmf-everything",
				Ingress: []mirror.Rule{{Number: 100, Action: mirror.Accept, Protocol: mirror.AnyProtocol, Source: all, Destination: all}},
				Egress:  []mirror.Rule{{Number: 100, Action: mirror.Accept, Protocol: mirror.AnyProtocol, Source: all, Destination: all}}},
		},
		Targets: []mirror.Target{{ID: "tmt-sensor", Type: mirror.TargetInterface, Interface: "eni-sensor"}},
		Sessions: []mirror.Session{
			{ID: "tms-https", Source: lab.Iface.ID(), Number: 10, Filter: "tmf-https", Target: "tmt-sensor", VNI: 10},
			{ID: "tms-everything", Source: lab.Iface.ID(), Number: 20, Filter: "tmf-everything", Target: "tmt-sensor", VNI: 20},
		},
	})
	if err != nil {
		return err
	}

	title := "Traffic Mirroring: the sensor sees what the source let through"
	fmt.Fprintf(w, "%s\n%s\n", title, strings.Repeat("=", len(title)))
	fmt.Fprintf(w, "%s (10.0.1.10) admits tcp 443 from anywhere and sends anything. Two sessions copy its packets to eni-sensor:\n"+
		"  session 10, tms-https:      inbound tcp 443\n"+
		"  session 20, tms-everything: everything, in and out\n", lab.Iface.ID())
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	k := 0
	show := func(note string, p eni.Packet) {
		path := lab.Net.Judge(&p, start.Add(time.Duration(k)*time.Second))
		k++
		fmt.Fprintf(w, "\n# %s\n%s %s\n", note, path.Action, p)
		var buf [mirror.MaxDecisions]mirror.Decision
		for _, d := range set.Decide(&path, buf[:0]) {
			fmt.Fprintf(w, "  mirror: %s\n", d.Explain())
		}
	}
	server := teach.Addr("10.0.1.10")
	https := eni.TCP(teach.AP("198.51.100.7:50000"), netip.AddrPortFrom(server, 443), eni.SYN)
	show("HTTPS from the internet: both filters accept it; session 10 copies it, once.", https)
	show("The server's answer: session 10 has no outbound rules, so session 20 copies it.", https.Reply())
	show("SSH from the internet: the group refuses it, so there is nothing to copy. The sensor never sees the probe.",
		eni.TCP(teach.AP("203.0.113.66:61000"), netip.AddrPortFrom(server, 22), eni.SYN))
	show("Instance metadata: never mirrored, whatever the filters say.",
		eni.TCP(netip.AddrPortFrom(server, 40000), teach.AP("169.254.169.254:80"), eni.SYN))
	fmt.Fprintf(w, "\n# Now the subnet's network ACL denies 198.51.100.0/24 ahead of everything else.\n")
	if err := lab.Entries(teach.Entry(50, false, -1, nacl.Deny, "198.51.100.0/24", 0, 0)); err != nil {
		return err
	}
	https2 := eni.TCP(teach.AP("198.51.100.7:50001"), netip.AddrPortFrom(server, 443), eni.SYN)
	show("HTTPS from that network: the ACL refuses it before the group sees it; not copied either.", https2)
	fmt.Fprintf(w, "\nA sensor behind Traffic Mirroring sees what reached the source and what it sent: it cannot\n"+
		"tell you what your security groups and ACLs kept out. For that, replay a capture taken in front\n"+
		"of them, or read the REJECT records of a flow log.\n")
	return nil
}
