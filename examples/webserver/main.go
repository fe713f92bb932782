// Command webserver replays the classic web-server scenario against a
// security group and prints each verdict with its reason: HTTPS open to the
// world, SSH from the admin's address only, and what happens to a live SSH
// session when its rule is revoked.
//
//	go run ./examples/webserver
package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"text/tabwriter"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/sg"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webserver:", err)
		os.Exit(1)
	}
}

// event is one step of the story: either a frame crossing the server's
// interface, or a change to the configuration.
type event struct {
	at     time.Duration
	note   string
	dir    eni.Direction
	pkt    eni.Packet
	change func(*eni.Network) error
}

var (
	server = netip.MustParseAddr("10.0.1.10")
	admin  = netip.MustParseAddr("203.0.113.7")
	client = netip.MustParseAddr("198.51.100.20")
	probe  = netip.MustParseAddr("192.0.2.66")
	ssh22  = sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: sg.MustParsePeer("203.0.113.7/32"), Description: "admin"}
)

func ap(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

func story() []event {
	return []event{
		{note: "a visitor opens HTTPS", dir: eni.Inbound, pkt: eni.TCP(ap(client, 51000), ap(server, 443), eni.SYN)},
		{at: 20 * time.Millisecond, dir: eni.Outbound, pkt: eni.TCP(ap(server, 443), ap(client, 51000), eni.SYN|eni.ACK)},
		{at: 40 * time.Millisecond, dir: eni.Inbound, pkt: eni.TCP(ap(client, 51000), ap(server, 443), eni.ACK)},
		{at: 1 * time.Second, note: "the admin logs in over SSH", dir: eni.Inbound, pkt: eni.TCP(ap(admin, 52000), ap(server, 22), eni.SYN)},
		{at: 1020 * time.Millisecond, dir: eni.Outbound, pkt: eni.TCP(ap(server, 22), ap(admin, 52000), eni.SYN|eni.ACK)},
		{at: 1040 * time.Millisecond, dir: eni.Inbound, pkt: eni.TCP(ap(admin, 52000), ap(server, 22), eni.ACK)},
		{at: 2 * time.Second, note: "someone else tries SSH", dir: eni.Inbound, pkt: eni.TCP(ap(probe, 40000), ap(server, 22), eni.SYN)},
		{at: 3 * time.Second, note: "and MySQL", dir: eni.Inbound, pkt: eni.TCP(ap(probe, 40001), ap(server, 3306), eni.SYN)},
		{at: 4 * time.Second, note: "the admin pings the server", dir: eni.Inbound, pkt: eni.ICMP(admin, server, 8, 0, 7)},
		{at: 4*time.Second + 10*time.Millisecond, dir: eni.Outbound, pkt: eni.ICMP(server, admin, 0, 0, 7)},
		{at: 5 * time.Second, note: "the server resolves a name (Amazon DNS is never filtered)", dir: eni.Outbound,
			pkt: eni.UDP(ap(server, 33000), ap(netip.MustParseAddr("10.0.0.2"), 53))},
		{at: 6 * time.Second, note: "the server fetches updates", dir: eni.Outbound, pkt: eni.TCP(ap(server, 41000), ap(probe, 443), eni.SYN)},
		{at: 6*time.Second + 30*time.Millisecond, dir: eni.Inbound, pkt: eni.TCP(ap(probe, 443), ap(server, 41000), eni.SYN|eni.ACK)},
		{at: 10 * time.Second, note: "the SSH rule is revoked", change: func(n *eni.Network) error {
			return n.Groups().RevokeIngress("sg-web", ssh22)
		}},
		{at: 11 * time.Second, note: "the admin's session is tracked, so it goes on", dir: eni.Inbound,
			pkt: eni.TCP(ap(admin, 52000), ap(server, 22), eni.ACK|eni.PSH)},
		{at: 12 * time.Second, note: "but a new SSH connection is refused", dir: eni.Inbound, pkt: eni.TCP(ap(admin, 52001), ap(server, 22), eni.SYN)},
		{at: 13 * time.Second, note: "the visitor's HTTPS flow is untracked: judged by rules each time", dir: eni.Inbound,
			pkt: eni.TCP(ap(client, 51000), ap(server, 443), eni.ACK|eni.PSH)},
	}
}

func build() (*eni.Network, *eni.Interface, error) {
	n := eni.NewNetwork()
	if _, err := n.AddVPC(eni.VPCSpec{ID: "vpc-demo", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}); err != nil {
		return nil, nil, err
	}
	if _, err := n.AddSubnet(eni.SubnetSpec{ID: "subnet-public", VpcID: "vpc-demo", CIDR: netip.MustParsePrefix("10.0.1.0/24")}); err != nil {
		return nil, nil, err
	}
	web, err := n.Groups().CreateGroup(sg.GroupSpec{ID: "sg-web", Name: "web", Description: "web server", VpcID: "vpc-demo"})
	if err != nil {
		return nil, nil, err
	}
	_, err = n.Groups().AuthorizeIngress(web,
		sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: sg.MustParsePeer("0.0.0.0/0"), Description: "https"},
		ssh22,
		sg.Rule{Protocol: sg.ICMP, FromPort: 8, ToPort: -1, Peer: sg.MustParsePeer("203.0.113.0/24"), Description: "ping from the office"})
	if err != nil {
		return nil, nil, err
	}
	i, err := n.AddInterface(eni.InterfaceSpec{ID: "eni-web", SubnetID: "subnet-public",
		PrivateIPv4: []netip.Addr{server}, Groups: []string{web}})
	return n, i, err
}

// frame serialises a packet summary as the Ethernet frame a capture holds.
func frame(p eni.Packet) ([]byte, error) {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocol(p.Proto), SrcIP: p.Src.AsSlice(), DstIP: p.Dst.AsSlice()}
	ls := []gopacket.SerializableLayer{
		&layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}, ip}
	switch p.Proto {
	case 6:
		t := &layers.TCP{SrcPort: layers.TCPPort(p.SrcPort), DstPort: layers.TCPPort(p.DstPort), Window: 65535,
			SYN: p.TCPFlags&eni.SYN != 0, ACK: p.TCPFlags&eni.ACK != 0, PSH: p.TCPFlags&eni.PSH != 0,
			FIN: p.TCPFlags&eni.FIN != 0, RST: p.TCPFlags&eni.RST != 0}
		if err := t.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, err
		}
		ls = append(ls, t)
	case 17:
		u := &layers.UDP{SrcPort: layers.UDPPort(p.SrcPort), DstPort: layers.UDPPort(p.DstPort)}
		if err := u.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, err
		}
		ls = append(ls, u)
	case 1:
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(p.ICMPType, p.ICMPCode), Id: p.ICMPID, Seq: 1})
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...)
	return buf.Bytes(), err
}

func run(w io.Writer) error {
	n, iface, err := build()
	if err != nil {
		return err
	}
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for k, e := range story() {
		if e.note != "" {
			fmt.Fprintf(w, "\n# %s\n", e.note)
		}
		if e.change != nil {
			if err := e.change(n); err != nil {
				return err
			}
			continue
		}
		f, err := frame(e.pkt)
		if err != nil {
			return err
		}
		v := iface.EvaluateFrame(e.dir, f, start.Add(e.at))
		fmt.Fprintf(w, "%2d  +%-7s %s\n", k+1, e.at, v)
	}
	fmt.Fprintln(w, "\nrule hits (packets decided, connections opened):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range n.Groups().Rules() {
		state := "used"
		if r.Packets == 0 {
			state = "UNUSED"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%s\n", r.GroupID, r.ID, r.Direction, r.Rule.Describe(r.Direction),
			r.Packets, r.Connections, state)
	}
	tw.Flush()
	st := iface.Stats()
	fmt.Fprintf(w, "\n%s: %d allowed, %d denied; %d connections tracked (peak %d)\n", iface.ID(),
		st.Allowed[0]+st.Allowed[1], st.Denied[0]+st.Denied[1], st.Tracking.Created, st.Tracking.Peak)
	return nil
}
