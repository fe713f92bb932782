// Command ephemeral shows the most common network ACL mistake: allowing
// HTTPS in and forgetting that the replies go out to the client's
// ephemeral port, which the security group never needed to be told about.
//
//	go run ./examples/ephemeral
package main

import (
	"io"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/examples/internal/teach"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

func main() { teach.Main("ephemeral", lesson) }

func lesson(w io.Writer) error {
	lab, err := teach.NewLab()
	if err != nil {
		return err
	}
	// The group: HTTPS in. Nothing about replies: it is stateful.
	if err := lab.Allow(false, sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: teach.Peer("0.0.0.0/0")}); err != nil {
		return err
	}
	// The ACL: HTTPS in, and "HTTPS out" — which is not what replies use.
	if err := lab.Entries(
		teach.Entry(100, false, 6, nacl.Allow, "0.0.0.0/0", 443, 443),
		teach.Entry(100, true, 6, nacl.Allow, "0.0.0.0/0", 443, 443),
	); err != nil {
		return err
	}
	client, server := teach.AP("198.51.100.7:50123"), teach.AP("10.0.1.10:443")
	ms := time.Millisecond
	return lab.Run(w, "Ephemeral ports: replies need their own ACL entry", []teach.Step{
		{Note: "A browser at 198.51.100.7 opens HTTPS. Its kernel picked source port 50123."},
		{At: 0, Dir: eni.Inbound, Packet: eni.TCP(client, server, eni.SYN)},
		{At: 1 * ms, Dir: eni.Outbound, Packet: eni.TCP(server, client, eni.SYN|eni.ACK),
			Why: "the SYN-ACK goes to port 50123, not 443; the group lets it out because it tracks the connection, " +
				"the ACL's outbound entry 100 only covers destination port 443, so the * entry denies it"},
		{Note: "The fix: an outbound ACL entry for the clients' ephemeral ports (1024-65535 covers every OS).",
			Change: func(l *teach.Lab) error {
				return l.ACL.CreateEntry(teach.Entry(110, true, 6, nacl.Allow, "0.0.0.0/0", 1024, 65535))
			}},
		{At: 1000 * ms, Dir: eni.Outbound, Packet: eni.TCP(server, client, eni.SYN|eni.ACK)},
		{At: 1010 * ms, Dir: eni.Inbound, Packet: eni.TCP(client, server, eni.ACK)},
		{Note: "Both layers now agree for the rest of the connection."},
		{At: 1020 * ms, Dir: eni.Inbound, Packet: eni.TCP(client, server, eni.ACK|eni.PSH)},
		{At: 1030 * ms, Dir: eni.Outbound, Packet: eni.TCP(server, client, eni.ACK|eni.PSH)},
	})
}
