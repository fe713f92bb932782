// Command returntraffic shows replies: a security group lets the answers
// to what the instance asked for come back without an inbound rule; a
// network ACL needs inbound entries for them.
//
//	go run ./examples/returntraffic
package main

import (
	"io"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/examples/internal/teach"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

func main() { teach.Main("returntraffic", lesson) }

func lesson(w io.Writer) error {
	lab, err := teach.NewLab()
	if err != nil {
		return err
	}
	// Outbound only: HTTPS and NTP to anywhere, ping to anywhere. Nothing inbound.
	if err := lab.Allow(true,
		sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: teach.Peer("0.0.0.0/0")},
		sg.Rule{Protocol: sg.UDP, FromPort: 123, ToPort: 123, Peer: teach.Peer("0.0.0.0/0")},
		sg.Rule{Protocol: sg.ICMP, FromPort: 8, ToPort: -1, Peer: teach.Peer("0.0.0.0/0")},
	); err != nil {
		return err
	}
	// The ACL mirrors the group: outbound entries only.
	if err := lab.ACL.CreateEntry(teach.Entry(100, true, -1, nacl.Allow, "0.0.0.0/0", 0, 0)); err != nil {
		return err
	}
	me := teach.Addr("10.0.1.10")
	web, ntp, host := teach.AP("192.0.2.80:443"), teach.AP("192.0.2.123:123"), teach.Addr("192.0.2.1")
	ms := time.Millisecond
	return lab.Run(w, "Return traffic: stateful groups remember, stateless ACLs do not", []teach.Step{
		{Note: "The instance fetches a page over HTTPS."},
		{Dir: eni.Outbound, Packet: eni.TCP(teach.AP("10.0.1.10:41000"), web, eni.SYN)},
		{At: 20 * ms, Dir: eni.Inbound, Packet: eni.TCP(web, teach.AP("10.0.1.10:41000"), eni.SYN|eni.ACK)},
		{Note: "It asks a time server (UDP): one request, one answer."},
		{At: 100 * ms, Dir: eni.Outbound, Packet: eni.UDP(teach.AP("10.0.1.10:40123"), ntp)},
		{At: 130 * ms, Dir: eni.Inbound, Packet: eni.UDP(ntp, teach.AP("10.0.1.10:40123"))},
		{Note: "It pings a host: ICMP is always tracked by security groups."},
		{At: 200 * ms, Dir: eni.Outbound, Packet: eni.ICMP(me, host, 8, 0, 7)},
		{At: 210 * ms, Dir: eni.Inbound, Packet: eni.ICMP(host, me, 0, 0, 7)},
		{Note: "Unsolicited traffic from the same host is refused by both."},
		{At: 300 * ms, Dir: eni.Inbound, Packet: eni.TCP(teach.AP("192.0.2.80:443"), teach.AP("10.0.1.10:41999"), eni.SYN)},
		{Note: "The ACL fix: inbound entries for the replies: TCP and UDP to ephemeral ports, ICMP echo replies.",
			Change: func(l *teach.Lab) error {
				for _, e := range []nacl.Entry{
					teach.Entry(100, false, 6, nacl.Allow, "0.0.0.0/0", 1024, 65535),
					teach.Entry(110, false, 17, nacl.Allow, "0.0.0.0/0", 1024, 65535),
					teach.Entry(120, false, 1, nacl.Allow, "0.0.0.0/0", 0, -1),
				} {
					if err := l.ACL.CreateEntry(e); err != nil {
						return err
					}
				}
				return nil
			}},
		{At: 400 * ms, Dir: eni.Inbound, Packet: eni.TCP(web, teach.AP("10.0.1.10:41000"), eni.ACK|eni.PSH)},
		{At: 410 * ms, Dir: eni.Inbound, Packet: eni.ICMP(host, me, 0, 0, 7)},
		{Note: "But the ACL cannot tell a reply from a new connection to a high port; the group can.",
			At: 500 * ms, Dir: eni.Inbound, Packet: eni.TCP(teach.AP("192.0.2.80:443"), teach.AP("10.0.1.10:41999"), eni.SYN),
			Why: "the ACL entry for ephemeral ports admits any TCP packet to them, a new connection included; " +
				"the group admits only packets of connections it tracked"},
	})
}
