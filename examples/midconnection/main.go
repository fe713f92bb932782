// Command midconnection removes rules in the middle of connections: a
// tracked connection keeps going, an untracked one stops at once, and a
// network ACL change stops everything at once.
//
//	go run ./examples/midconnection
package main

import (
	"io"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/examples/internal/teach"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

func main() { teach.Main("midconnection", lesson) }

func lesson(w io.Writer) error {
	lab, err := teach.NewLab()
	if err != nil {
		return err
	}
	admin := sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: teach.Peer("203.0.113.7/32")}
	web := sg.Rule{Protocol: sg.TCP, FromPort: 80, ToPort: 80, Peer: teach.Peer("0.0.0.0/0")}
	if err := lab.Allow(false, admin, web); err != nil {
		return err
	}
	if err := lab.Allow(true, sg.Rule{Protocol: sg.AllProtocols, Peer: teach.Peer("0.0.0.0/0")}); err != nil {
		return err
	}
	if err := lab.Entries(
		teach.Entry(100, false, -1, nacl.Allow, "0.0.0.0/0", 0, 0),
		teach.Entry(100, true, -1, nacl.Allow, "0.0.0.0/0", 0, 0),
	); err != nil {
		return err
	}
	ssh, srv22 := teach.AP("203.0.113.7:50000"), teach.AP("10.0.1.10:22")
	http, srv80 := teach.AP("198.51.100.9:50001"), teach.AP("10.0.1.10:80")
	s := time.Second
	return lab.Run(w, "Removing rules mid-connection: tracked flows survive, untracked and ACL-blocked ones do not", []teach.Step{
		{Note: "An admin's SSH session (rule from a /32: tracked) and a visitor's HTTP download (open to the world both ways: untracked)."},
		{Dir: eni.Inbound, Packet: eni.TCP(ssh, srv22, eni.SYN)},
		{At: s / 100, Dir: eni.Outbound, Packet: eni.TCP(srv22, ssh, eni.SYN|eni.ACK)},
		{At: s / 50, Dir: eni.Inbound, Packet: eni.TCP(ssh, srv22, eni.ACK)},
		{At: 1 * s, Dir: eni.Inbound, Packet: eni.TCP(http, srv80, eni.SYN)},
		{At: s + s/100, Dir: eni.Outbound, Packet: eni.TCP(srv80, http, eni.SYN|eni.ACK)},
		{At: s + s/50, Dir: eni.Inbound, Packet: eni.TCP(http, srv80, eni.ACK)},
		{Note: "Both inbound rules are revoked.", Change: func(l *teach.Lab) error {
			return l.Net.Groups().RevokeIngress(l.Group, admin, web)
		}},
		{At: 10 * s, Dir: eni.Inbound, Packet: eni.TCP(ssh, srv22, eni.ACK|eni.PSH),
			Why: "the SSH connection is tracked: removing the rule does not cut it, it lives until it idles out; the ACL still allows it"},
		{At: 11 * s, Dir: eni.Inbound, Packet: eni.TCP(http, srv80, eni.ACK),
			Why: "the HTTP flow was untracked: each packet is judged by the rules, and the rule is gone, so it stops at once"},
		{At: 12 * s, Dir: eni.Inbound, Packet: eni.TCP(teach.AP("203.0.113.7:50002"), srv22, eni.SYN),
			Why: "a new SSH connection needs a rule; the ACL still allows everything"},
		{Note: "Now an ACL entry denies the admin's address.", Change: func(l *teach.Lab) error {
			return l.ACL.CreateEntry(teach.Entry(50, false, -1, nacl.Deny, "203.0.113.7/32", 0, 0))
		}},
		{At: 20 * s, Dir: eni.Inbound, Packet: eni.TCP(ssh, srv22, eni.ACK|eni.PSH),
			Why: "tracking does not help against an ACL: it is stateless and judges every packet, so the session breaks at once"},
	})
}
