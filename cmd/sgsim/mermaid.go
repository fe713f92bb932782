package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sgsim/sgsim/eni"
)

// writeMermaid draws the request and its reply as a Mermaid sequence
// diagram: one participant per host and per check on the path, a note
// with each check's outcome.
func writeMermaid(w io.Writer, n *eni.Network, req, rep *eni.Path) {
	fmt.Fprintln(w, "sequenceDiagram")
	fmt.Fprintln(w, "    autonumber")
	src, dst := host(req.Src, req.Packet.Src), host(req.Dst, req.Packet.Dst)
	fmt.Fprintf(w, "    participant S as %s\n", src)
	// Participants in path order: source checks, then destination checks.
	ids := map[string]string{}
	var order []string
	add := func(s eni.Stage) string {
		key, label := participant(s)
		if id, ok := ids[key]; ok {
			return id
		}
		id := fmt.Sprintf("P%d", len(ids)+1)
		ids[key] = id
		order = append(order, key)
		fmt.Fprintf(w, "    participant %s as %s\n", id, label)
		return id
	}
	for _, s := range req.Stages() {
		add(s)
	}
	for _, s := range rep.Stages() {
		add(s)
	}
	fmt.Fprintf(w, "    participant D as %s\n", dst)
	draw := func(p *eni.Path, from, to, label string, arrow string) {
		prev := from
		for _, s := range p.Stages() {
			id := add(s)
			fmt.Fprintf(w, "    %s%s%s: %s\n", prev, arrow, id, label)
			mark := "ALLOW"
			if !s.Allowed {
				mark = "DENY"
			}
			fmt.Fprintf(w, "    Note over %s: %s %s\n", id, mark, mermaidText(s.Explain()))
			if !s.Allowed {
				fmt.Fprintf(w, "    %s-x%s: dropped\n", id, to)
				return
			}
			prev = id
		}
		fmt.Fprintf(w, "    %s%s%s: %s\n", prev, arrow, to, label)
	}
	draw(req, "S", "D", mermaidText(packetLabel(&req.Packet)), "->>")
	draw(rep, "D", "S", mermaidText(packetLabel(&rep.Packet)), "-->>")
}

func host(i *eni.Interface, a fmt.Stringer) string {
	if i != nil {
		return fmt.Sprintf("%s (%s)", a, i.ID())
	}
	return a.String()
}

func participant(s eni.Stage) (key, label string) {
	if s.Kind == eni.StageRoute && s.Route != nil {
		if s.Route.NoBalancerFlow {
			return "nlb " + s.Route.Balancer, "Network Load Balancer " + s.Route.Balancer
		}
		return "route " + s.Route.Table, "route table " + s.Route.Table
	}
	if s.ACL != nil {
		return "acl " + s.ACL.ID, fmt.Sprintf("network ACL %s (%s)", s.ACL.ID, s.Subnet)
	}
	i := s.Verdict.Interface
	return "sg " + i.ID(), fmt.Sprintf("security groups of %s (%s)", i.ID(), strings.Join(i.Groups(), ", "))
}

func packetLabel(p *eni.Packet) string {
	switch p.Proto {
	case 6:
		return fmt.Sprintf("tcp %d → %d [%s]", p.SrcPort, p.DstPort, eni.FlagNames(p.TCPFlags))
	case 17:
		return fmt.Sprintf("udp %d → %d", p.SrcPort, p.DstPort)
	case 1, 58:
		return fmt.Sprintf("%s type %d", eni.ProtoName(p.Proto), p.ICMPType)
	}
	return eni.ProtoName(p.Proto)
}

// mermaidText keeps a label on one line and away from Mermaid's syntax:
// a semicolon ends a statement and a # starts an entity code, so both go
// as entity codes, which the diagram shows as the characters. Colons
// after a message's or note's first are text (IPv6 addresses keep theirs).
var mermaidText = strings.NewReplacer(";", "#59;", "#", "#35;", "\n", " ", "→", "to").Replace
