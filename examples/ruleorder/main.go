// Command ruleorder shows that network ACL entries are read in number
// order and the first match wins, while security group rules have no order
// and no deny at all.
//
//	go run ./examples/ruleorder
package main

import (
	"io"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/examples/internal/teach"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

func main() { teach.Main("ruleorder", lesson) }

func lesson(w io.Writer) error {
	lab, err := teach.NewLab()
	if err != nil {
		return err
	}
	if err := lab.Allow(false, sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: teach.Peer("0.0.0.0/0")}); err != nil {
		return err
	}
	if err := lab.Entries(
		teach.Entry(90, false, 6, nacl.Deny, "198.51.100.0/24", 22, 22),
		teach.Entry(100, false, -1, nacl.Allow, "0.0.0.0/0", 0, 0),
	); err != nil {
		return err
	}
	bad, good, server := teach.AP("198.51.100.5:40000"), teach.AP("203.0.113.9:40001"), teach.AP("10.0.1.10:22")
	return lab.Run(w, "Rule order: the ACL's first match wins; security groups only allow", []teach.Step{
		{Note: "ACL: 90 deny SSH from 198.51.100.0/24, then 100 allow everything. The group allows SSH from anywhere."},
		{Dir: eni.Inbound, Packet: eni.TCP(bad, server, eni.SYN),
			Why: "entry 90 matches first and denies; a security group cannot deny anything, so only the ACL can block this network"},
		{At: time.Second, Dir: eni.Inbound, Packet: eni.TCP(good, server, eni.SYN)},
		{Note: "Move the deny to 110, after the allow at 100: it can never match.",
			Change: func(l *teach.Lab) error {
				if err := l.ACL.DeleteEntry(false, 90); err != nil {
					return err
				}
				return l.ACL.CreateEntry(teach.Entry(110, false, 6, nacl.Deny, "198.51.100.0/24", 22, 22))
			}},
		{At: 2 * time.Second, Dir: eni.Inbound, Packet: eni.TCP(teach.AP("198.51.100.5:40002"), server, eni.SYN)},
	})
}
