// Package teach runs the teaching examples: the same packets judged by a
// security group (stateful) and by a network ACL (stateless), side by
// side, with a plain-words reason wherever the two disagree.
package teach

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

// Lab is one interface with one security group in a subnet with its own
// network ACL.
type Lab struct {
	Net   *eni.Network
	Group string
	ACL   *nacl.ACL
	Iface *eni.Interface
	Addr  netip.Addr
	start time.Time
}

// NewLab builds the lab: a VPC 10.0.0.0/16, a subnet 10.0.1.0/24 with a
// custom ACL (deny all until entries are added) and an interface at
// 10.0.1.10 whose only group has no rules at all.
func NewLab() (*Lab, error) {
	n := eni.NewNetwork()
	if _, err := n.AddVPC(eni.VPCSpec{ID: "vpc-lab", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}); err != nil {
		return nil, err
	}
	if _, err := n.AddSubnet(eni.SubnetSpec{ID: "subnet-lab", VpcID: "vpc-lab", CIDR: netip.MustParsePrefix("10.0.1.0/24")}); err != nil {
		return nil, err
	}
	acl, err := n.CreateACL("acl-lab", "vpc-lab")
	if err != nil {
		return nil, err
	}
	if err := n.AssociateACL("subnet-lab", "acl-lab"); err != nil {
		return nil, err
	}
	g, err := n.Groups().CreateEmptyGroup(sg.GroupSpec{ID: "sg-lab", Name: "lab", VpcID: "vpc-lab"})
	if err != nil {
		return nil, err
	}
	addr := netip.MustParseAddr("10.0.1.10")
	i, err := n.AddInterface(eni.InterfaceSpec{ID: "eni-lab", SubnetID: "subnet-lab", PrivateIPv4: []netip.Addr{addr}, Groups: []string{g}})
	if err != nil {
		return nil, err
	}
	return &Lab{Net: n, Group: g, ACL: acl, Iface: i, Addr: addr, start: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}, nil
}

// Allow adds inbound (egress false) or outbound security group rules.
func (l *Lab) Allow(egress bool, rules ...sg.Rule) error {
	var err error
	if egress {
		_, err = l.Net.Groups().AuthorizeEgress(l.Group, rules...)
	} else {
		_, err = l.Net.Groups().AuthorizeIngress(l.Group, rules...)
	}
	return err
}

// Entries adds network ACL entries to the lab's ACL, in order.
func (l *Lab) Entries(es ...nacl.Entry) error {
	for _, e := range es {
		if err := l.ACL.CreateEntry(e); err != nil {
			return err
		}
	}
	return nil
}

// Step is one line of a lesson: a change to the configuration, or a
// packet crossing the interface.
type Step struct {
	At     time.Duration
	Note   string // printed before the step
	Change func(*Lab) error
	Dir    eni.Direction
	Packet eni.Packet
	Why    string // the lesson, printed when the two verdicts differ
}

// Run judges each step's packet by the group and by the ACL and prints
// them side by side.
func (l *Lab) Run(w io.Writer, title string, steps []Step) error {
	fmt.Fprintf(w, "%s\n%s\n", title, strings.Repeat("=", len(title)))
	fmt.Fprintf(w, "interface %s (%s), security group %s, network ACL %s\n", l.Iface.ID(), l.Addr, l.Group, l.ACL.ID)
	frame := 0
	for _, s := range steps {
		if s.Note != "" {
			fmt.Fprintf(w, "\n# %s\n", s.Note)
		}
		if s.Change != nil {
			if err := s.Change(l); err != nil {
				return err
			}
			continue
		}
		if !s.Packet.Src.IsValid() {
			continue // a note on its own
		}
		frame++
		p := s.Packet
		v := l.Iface.Evaluate(s.Dir, &p, l.start.Add(s.At))
		remote := p.Src
		if s.Dir == eni.Outbound {
			remote = p.Dst
		}
		r := l.ACL.Evaluate(s.Dir == eni.Outbound, p.Proto, p.DstPort, p.ICMPType, p.ICMPCode, remote)
		tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
		fmt.Fprintf(tw, "%2d  +%-6s %-8s\t%s\n", frame, s.At, s.Dir, p)
		fmt.Fprintf(tw, "      security group\t%s %s\n", v.Action, sgText(v))
		fmt.Fprintf(tw, "      network ACL\t%s %s\n", aclAction(r), l.entryText(s.Dir == eni.Outbound, r))
		tw.Flush()
		if v.Allowed() != r.Allowed() {
			why := s.Why
			if why == "" {
				why = defaultWhy(v, r)
			}
			fmt.Fprintf(w, "      → they differ: %s\n", why)
		}
	}
	fmt.Fprintln(w)
	return nil
}

func aclAction(r nacl.Result) string {
	if r.Allowed() {
		return "ALLOW"
	}
	return "DENY"
}

func sgText(v eni.Verdict) string {
	switch v.Reason {
	case eni.ReasonTracked:
		return fmt.Sprintf("(tracked connection, %s)", v.Conn.State)
	case eni.ReasonRule:
		ri, _ := v.Interface.Network().Groups().Rule(v.Rule)
		s := "(rule: " + ri.Rule.Describe(ri.Direction)
		switch {
		case v.Untracked:
			s += "; untracked"
		case v.NewConn:
			s += "; starts a tracked connection"
		}
		return s + ")"
	case eni.ReasonNoRule:
		if v.IdledOut {
			return fmt.Sprintf("(no rule allows it; its tracked connection idled out after %d s)", int64(v.Conn.Timeout/time.Second))
		}
		return "(no rule allows it)"
	}
	return "(" + v.Reason.String() + ")"
}

func (l *Lab) entryText(egress bool, r nacl.Result) string {
	e, ok := l.ACL.Entry(egress, r.RuleNumber)
	if !ok {
		return ""
	}
	return "(entry " + e.String() + ")"
}

func defaultWhy(v eni.Verdict, r nacl.Result) string {
	switch {
	case v.Reason == eni.ReasonTracked && !r.Allowed():
		return "the security group is stateful and lets the reply of a connection it tracks through; " +
			"the ACL is stateless and judges every packet on its own, so the reply needs an entry of its own"
	case v.Allowed() && !r.Allowed():
		return "a security group rule allows it, but the ACL's first matching entry denies it"
	case !v.Allowed() && r.Allowed():
		return "an ACL entry allows it, but no security group rule does (and no tracked connection covers it)"
	}
	return "the two layers see the packet differently"
}

// VPC returns a network with the VPC vpc-lab, 10.0.0.0/16, and its
// subnets, given as ID and CIDR block pairs.
func VPC(subnets ...[2]string) (*eni.Network, error) {
	n := eni.NewNetwork()
	if _, err := n.AddVPC(eni.VPCSpec{ID: "vpc-lab", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}); err != nil {
		return nil, err
	}
	for _, s := range subnets {
		if _, err := n.AddSubnet(eni.SubnetSpec{ID: s[0], VpcID: "vpc-lab", CIDR: netip.MustParsePrefix(s[1])}); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// NATGateway adds eni-nat, the interface of NAT gateway nat-lab, in
// subnet-public (10.0.1.5), and the route tables of a VPC from VPC: the
// main one sends the internet to the internet gateway igw-lab, and
// rtb-private sends the private subnet's to the NAT gateway.
func NATGateway(n *eni.Network, private string) error {
	if _, err := n.AddInterface(eni.InterfaceSpec{ID: "eni-nat", SubnetID: "subnet-public", Type: eni.TypeNATGateway, RequesterManaged: true,
		Description: "Interface for NAT Gateway nat-lab", PrivateIPv4: []netip.Addr{Addr("10.0.1.5")}}); err != nil {
		return err
	}
	for _, t := range []eni.RouteTableSpec{
		{ID: "rtb-public", VpcID: "vpc-lab", Main: true, Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Target: "igw-lab"}}},
		{ID: "rtb-private", VpcID: "vpc-lab", Subnets: []string{private},
			Routes: []eni.Route{{Dest: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eni-nat", Target: "nat-lab"}}},
	} {
		if err := n.AddRouteTable(t); err != nil {
			return err
		}
	}
	return nil
}

// Peer parses a CIDR peer for rules in lessons.
func Peer(s string) sg.Peer { return sg.MustParsePeer(s) }

// AP parses an address and port.
func AP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// Addr parses an address.
func Addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// Entry builds an ACL entry; ports double as ICMP type and code.
func Entry(n int, egress bool, proto int16, action nacl.Action, cidr string, from, to int32) nacl.Entry {
	return nacl.Entry{RuleNumber: n, Egress: egress, Protocol: proto, Action: action, CIDR: netip.MustParsePrefix(cidr),
		FromPort: from, ToPort: to, ICMPType: from, ICMPCode: to}
}
