// Command additivity shows the /32-plus-0.0.0.0/0 trap: security group
// rules add up, so a narrow SSH rule next to a wide one lets everyone in,
// while in a network ACL the lower-numbered entry decides.
//
//	go run ./examples/additivity
package main

import (
	"io"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/examples/internal/teach"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

func main() { teach.Main("additivity", lesson) }

func lesson(w io.Writer) error {
	lab, err := teach.NewLab()
	if err != nil {
		return err
	}
	// Someone meant "SSH only from the office" but a second rule, added
	// for a quick test and forgotten, opens it to the world.
	if err := lab.Allow(false,
		sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: teach.Peer("203.0.113.7/32"), Description: "office"},
		sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: teach.Peer("0.0.0.0/0"), Description: "temporary"},
	); err != nil {
		return err
	}
	// The ACL reads the same two lines as entries 100 (allow the office)
	// and 200 (deny everyone else); order decides.
	if err := lab.Entries(
		teach.Entry(100, false, 6, nacl.Allow, "203.0.113.7/32", 22, 22),
		teach.Entry(200, false, 6, nacl.Deny, "0.0.0.0/0", 22, 22),
	); err != nil {
		return err
	}
	srv := teach.AP("10.0.1.10:22")
	return lab.Run(w, "Additivity: security group rules add up; ACL entries do not", []teach.Step{
		{Note: "From the office."},
		{Dir: eni.Inbound, Packet: eni.TCP(teach.AP("203.0.113.7:50000"), srv, eni.SYN)},
		{Note: "From anywhere else."},
		{At: time.Second, Dir: eni.Inbound, Packet: eni.TCP(teach.AP("192.0.2.66:50001"), srv, eni.SYN),
			Why: "the group's rules form one set and any match allows: the /32 rule does not restrict the 0.0.0.0/0 one; " +
				"in the ACL the first matching entry (200, deny) decides"},
		{Note: "Revoke the forgotten rule: now the group alone keeps the door shut.", Change: func(l *teach.Lab) error {
			return l.Net.Groups().RevokeIngress(l.Group, sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: teach.Peer("0.0.0.0/0")})
		}},
		{At: 2 * time.Second, Dir: eni.Inbound, Packet: eni.TCP(teach.AP("192.0.2.66:50002"), srv, eni.SYN)},
	})
}
