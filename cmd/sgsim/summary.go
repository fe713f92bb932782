package main

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/replay"
)

const maxRejectedFlows = 15

// writeSummary prints what a person wants first: how many frames passed,
// per interface; the refused flows with the most frames; every rule with
// its hits and the rules nothing used; connection tracking figures.
func writeSummary(w io.Writer, res *ec2json.Result, name, format string, rp *replay.Replayer) {
	s := rp.Summary()
	span := s.Last.Sub(s.First)
	fmt.Fprintf(w, "Replayed %s (%s): %d frames", name, format, s.Frames)
	if s.Frames > 0 {
		fmt.Fprintf(w, " from %s to %s (%s)", s.First.UTC().Format("2006-01-02 15:04:05"), s.Last.UTC().Format("15:04:05"), span.Round(time.Millisecond))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %d accepted, %d rejected, %d skipped", s.Accepted, s.Rejected, s.Skipped)
	if s.NotIP > 0 {
		fmt.Fprintf(w, " (%d not IP)", s.NotIP)
	}
	if s.Unwrapped > 0 {
		fmt.Fprintf(w, "; %d VXLAN mirror copies unwrapped", s.Unwrapped)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "\nINTERFACES (frames on paths through each interface)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  interface\tdescription\taddress\tgroups\tin accepted\tin rejected\tout accepted\tout rejected\ttracked peak\ttable full")
	for _, c := range s.Interfaces {
		i := c.Interface
		sp := i.Spec()
		addr := ""
		if a := i.Addrs(); len(a) > 0 {
			addr = a[0].String()
		}
		groups := strings.Join(sp.Groups, ",")
		if groups == "" {
			groups = "(none: " + string(sp.Type) + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", i.ID(), sp.Description, addr, groups,
			c.InAccepted, c.InRejected, c.OutAccepted, c.OutRejected, c.TrackedPeak, c.TableFull)
	}
	tw.Flush()

	flows := s.RejectedFlows()
	fmt.Fprintf(w, "\nREJECTED FLOWS (%d; most frames first)\n", len(flows))
	if s.OtherRejected > 0 {
		fmt.Fprintf(w, "  (%d more refused frames of flows beyond the first %d are counted but not listed)\n", s.OtherRejected, replay.MaxRejectedFlows)
	}
	if len(flows) == 0 {
		fmt.Fprintln(w, "  none")
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(flows) > 0 {
		fmt.Fprintln(tw, "  frames\tflow\trefused by")
	}
	for k, f := range flows {
		if k == maxRejectedFlows {
			fmt.Fprintf(tw, "  …\t%d more\t\n", len(flows)-k)
			break
		}
		also := ""
		if f.Also > 0 {
			also = fmt.Sprintf(" (+%d more stage(s))", f.Also)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s%s\n", f.Frames, flowText(f), refusalText(f.Stage), also)
	}
	tw.Flush()

	rules := res.Network.Groups().Rules()
	fmt.Fprintln(w, "\nRULES (packets decided / tracked connections opened)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  group\trule\tdirection\tallows\tpackets\tconnections")
	var unused []string
	for _, r := range rules {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\n", r.GroupID, r.ID, r.Direction, r.Rule.Describe(r.Direction), r.Packets, r.Connections)
		if r.Packets == 0 {
			unused = append(unused, fmt.Sprintf("  %s\t%s\t%s\t%s", r.GroupID, r.ID, r.Direction, r.Rule.Describe(r.Direction)))
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nUNUSED RULES (%d of %d: no frame in these %s of capture needed them; a short capture proves little)\n",
		len(unused), len(rules), span.Round(time.Millisecond))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, u := range unused {
		fmt.Fprintln(tw, u)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nCONNECTION TRACKING")
	var peak int
	var full uint64
	for _, c := range s.Interfaces {
		peak = max(peak, c.TrackedPeak)
		full += c.TableFull
	}
	fmt.Fprintf(w, "  busiest interface peaked at %d tracked connections; %d packets refused for a full table\n", peak, full)
}

func flowText(f replay.RejectedFlow) string { return flowLabel(f.Proto, f.Src, f.Dst, f.DstPort) }

// flowLabel names a flow: key is the destination port for TCP and UDP,
// type<<8|code for ICMP.
func flowLabel(proto uint8, src, dst netip.Addr, key uint16) string {
	switch proto {
	case 6, 17:
		return fmt.Sprintf("%s %s → %s:%d", eni.ProtoName(proto), src, dst, key)
	case 1, 58:
		return fmt.Sprintf("%s %s → %s type %d code %d", eni.ProtoName(proto), src, dst, key>>8, key&0xff)
	}
	return fmt.Sprintf("%s %s → %s", eni.ProtoName(proto), src, dst)
}

func refusalText(s eni.Stage) string {
	if s.ACL != nil {
		dir := "outbound"
		if s.Kind == eni.StageDestACL {
			dir = "inbound"
		}
		num := fmt.Sprint(s.ACLResult.RuleNumber)
		if s.ACLResult.RuleNumber >= 32767 {
			num = "*"
		}
		return fmt.Sprintf("%s %s (%s) %s entry %s", eni.ReasonSubnetACL, s.ACL.ID, s.Subnet, dir, num)
	}
	v := s.Verdict
	return fmt.Sprintf("%s %s %s", v.Reason, v.Interface.ID(), v.Direction)
}
