// Command idletimeout lets tracked connections go quiet: a security group
// forgets a connection once it has been idle for its timeout, and the
// next reply meets the rules alone. A network ACL, which never knew the
// connection, judges every packet the same way throughout.
//
//	go run ./examples/idletimeout
package main

import (
	"io"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/examples/internal/teach"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

func main() { teach.Main("idletimeout", lesson) }

func lesson(w io.Writer) error {
	lab, err := teach.NewLab()
	if err != nil {
		return err
	}
	// Inbound only: every reply leaves on a tracked connection or not at all.
	if err := lab.Allow(false,
		sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: teach.Peer("203.0.113.7/32")},
		sg.Rule{Protocol: sg.UDP, FromPort: 5000, ToPort: 5000, Peer: teach.Peer("198.51.100.0/24")}); err != nil {
		return err
	}
	if err := lab.Entries(
		teach.Entry(100, false, -1, nacl.Allow, "0.0.0.0/0", 0, 0),
		teach.Entry(100, true, -1, nacl.Allow, "0.0.0.0/0", 0, 0),
	); err != nil {
		return err
	}
	// The interface's instance is a Nitro v6 type: established TCP
	// connections idle out after 350 s, not the 5 days of other types.
	cfg := lab.Iface.ConnTrackConfig()
	if cfg, err = cfg.WithAWSTimeouts(350, 0, 0); err != nil {
		return err
	}
	if err := lab.Iface.SetConnTrackConfig(cfg); err != nil {
		return err
	}
	ssh, srv22 := teach.AP("203.0.113.7:50000"), teach.AP("10.0.1.10:22")
	one, two, srv5000 := teach.AP("198.51.100.9:40000"), teach.AP("198.51.100.9:40001"), teach.AP("10.0.1.10:5000")
	s := time.Second
	return lab.Run(w, "Idle timeouts: a quiet connection is forgotten, and its next reply meets the rules alone", []teach.Step{
		{Note: "An SSH session (tracked: its rule names one address); the group allows nothing out, the ACL everything."},
		{Dir: eni.Inbound, Packet: eni.TCP(ssh, srv22, eni.SYN)},
		{At: s / 100, Dir: eni.Outbound, Packet: eni.TCP(srv22, ssh, eni.SYN|eni.ACK)},
		{At: s / 50, Dir: eni.Inbound, Packet: eni.TCP(ssh, srv22, eni.ACK)},
		{Note: "After 300 s of quiet, within the 350 s timeout, the server sends: the connection carries it."},
		{At: 300 * s, Dir: eni.Outbound, Packet: eni.TCP(srv22, ssh, eni.ACK|eni.PSH)},
		{Note: "Then 360 s of quiet, past the timeout."},
		{At: 660 * s, Dir: eni.Outbound, Packet: eni.TCP(srv22, ssh, eni.ACK|eni.PSH),
			Why: "360 s of quiet is past the 350 s timeout: the group has forgotten the connection, and no outbound rule " +
				"allows the packet; keepalives more often than the timeout would have kept it"},
		{Note: "UDP: a single request and reply idles out after 30 s; a stream of exchanges lasts 180 s."},
		{At: 700 * s, Dir: eni.Inbound, Packet: eni.UDP(one, srv5000)},
		{At: 701 * s, Dir: eni.Outbound, Packet: eni.UDP(srv5000, one)},
		{At: 740 * s, Dir: eni.Outbound, Packet: eni.UDP(srv5000, one),
			Why: "39 s after one request and its reply: past the 30 s UDP timeout, so the late answer is refused"},
		{At: 800 * s, Dir: eni.Inbound, Packet: eni.UDP(two, srv5000)},
		{At: 801 * s, Dir: eni.Outbound, Packet: eni.UDP(srv5000, two)},
		{At: 802 * s, Dir: eni.Inbound, Packet: eni.UDP(two, srv5000)},
		{At: 803 * s, Dir: eni.Outbound, Packet: eni.UDP(srv5000, two)},
		{Note: "Two exchanges made a stream: 100 s of quiet is within its 180 s timeout."},
		{At: 903 * s, Dir: eni.Outbound, Packet: eni.UDP(srv5000, two)},
	})
}
