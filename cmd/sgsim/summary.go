package main

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/nacl"
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
		first, last := s.First.UTC(), s.Last.UTC()
		end := last.Format("15:04:05")
		if first.YearDay() != last.YearDay() || first.Year() != last.Year() {
			end = last.Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(w, " from %s to %s (%s)", first.Format("2006-01-02 15:04:05"), end, roundSpan(span))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %d accepted, %d rejected, %d skipped", s.Accepted, s.Rejected, s.Skipped)
	switch {
	case s.NotIP > 0 && s.Malformed > 0:
		fmt.Fprintf(w, " (%d not IP, %d malformed)", s.NotIP, s.Malformed)
	case s.NotIP > 0:
		fmt.Fprintf(w, " (%d not IP)", s.NotIP)
	case s.Malformed > 0:
		fmt.Fprintf(w, " (%d malformed)", s.Malformed)
	}
	if s.Unwrapped > 0 {
		fmt.Fprintf(w, "; %d VXLAN mirror copies unwrapped", s.Unwrapped)
	}
	fmt.Fprintln(w)
	if s.Malformed > 0 {
		fmt.Fprintf(w, "  the malformed frames' headers do not decode: corrupt, or cut by the capture's snapshot length "+
			"(a TCP header needs its first 14 bytes; --format jsonl says which)\n")
	}

	fmt.Fprintln(w, "\nINTERFACES (frames on paths through each interface)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  interface\tdescription\taddress\tgroups\tin accepted\tin rejected\tout accepted\tout rejected\ttracked peak\ttable full")
	var quiet []string // interfaces no frame's path went through: a large account has thousands
	for _, c := range s.Interfaces {
		i := c.Interface
		if c.InAccepted+c.InRejected+c.OutAccepted+c.OutRejected == 0 && c.TrackedPeak == 0 {
			quiet = append(quiet, i.ID())
			continue
		}
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
	switch {
	case len(quiet) == len(s.Interfaces) && len(quiet) > 0:
		fmt.Fprintf(w, "  none of the %d interfaces had frames: %s\n", len(quiet), fewIDs(quiet, 5))
	case len(quiet) > 0:
		tw.Flush()
		fmt.Fprintf(w, "  and %d with no frames: %s\n", len(quiet), fewIDs(quiet, 5))
	default:
		tw.Flush()
	}
	writeSkipped(w, res.Network, s)

	flows := s.RejectedFlows()
	rows := rejectedRows(flows)
	fmt.Fprintf(w, "\nREJECTED FLOWS (%d; most frames first", len(flows))
	if len(rows) < len(flows) {
		fmt.Fprintf(w, "; flows refused alike between two addresses, %d or more ports, share a row", minPortsPerRow)
	}
	fmt.Fprintln(w, ")")
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
	for k, r := range rows {
		if k == maxRejectedFlows {
			fmt.Fprintf(tw, "  …\t%d more rows\t\n", len(rows)-k)
			break
		}
		also := ""
		if r.also > 0 {
			also = fmt.Sprintf(" (+%d more stage(s))", r.also)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s%s\n", r.frames, r.flow, r.refusal, also)
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
	switch {
	case len(rules) == 0:
		fmt.Fprintln(w, "\nUNUSED RULES: none; the groups have no rules")
	case len(unused) == 0:
		fmt.Fprintf(w, "\nUNUSED RULES: none; every one of the %d rules decided a frame\n", len(rules))
	default:
		fmt.Fprintf(w, "\nUNUSED RULES (%d of %d: no frame in these %s of capture needed them; a short capture proves little)\n",
			len(unused), len(rules), roundSpan(span))
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, u := range unused {
		fmt.Fprintln(tw, u)
	}
	tw.Flush()

	writeACLUsage(w, res.Network, span)

	fmt.Fprintln(w, "\nCONNECTION TRACKING")
	var peak int
	var full, idled, natIdled uint64
	for _, c := range s.Interfaces {
		peak = max(peak, c.TrackedPeak)
		full += c.TableFull
		if c.Interface.Spec().Type == eni.TypeNATGateway {
			natIdled += c.IdledOut
		} else {
			idled += c.IdledOut
		}
	}
	fmt.Fprintf(w, "  busiest interface peaked at %d tracked connections; %d packets refused for a full table\n", peak, full)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  interface\topened\tpeak\tidled out, then refused\ttable full\tidle timeouts: tcp established / udp / udp stream")
	tracked := 0
	for _, c := range s.Interfaces {
		if c.Opened == 0 && c.IdledOut == 0 && c.TableFull == 0 {
			continue
		}
		tracked++
		cfg := c.Interface.ConnTrackConfig()
		timeouts := fmt.Sprintf("%d / %d / %d s", int64(cfg.TCPEstablished/time.Second), int64(cfg.UDP/time.Second), int64(cfg.UDPStream/time.Second))
		spec := c.Interface.Spec()
		switch {
		case spec.Type == eni.TypeNATGateway:
			// Its table holds the TCP connections it translates alone.
			timeouts = fmt.Sprintf("%d s, tcp only (NAT gateway, fixed)", int64(cfg.TCPEstablished/time.Second))
		case spec.InstanceType != "":
			timeouts += " (" + spec.InstanceType + ")"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%s\n", c.Interface.ID(), c.Opened, c.TrackedPeak, c.IdledOut, c.TableFull, timeouts)
	}
	// The balancers' own flows, which idle out whatever their targets'
	// tables keep.
	var nlbIdled uint64
	for _, b := range res.Network.BalancerStats() {
		if b.Tracking.Created == 0 && b.Refused == 0 {
			continue
		}
		tracked++
		nlbIdled += b.IdledOut
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d / %d / %d s (Network Load Balancer, flows)\n", b.Name, b.Tracking.Created, b.Tracking.Peak,
			b.IdledOut, b.Tracking.Exceeded, int64(b.TCPIdleTimeout/time.Second), int64(eni.BalancerUDPIdleTimeout/time.Second),
			int64(eni.BalancerUDPIdleTimeout/time.Second))
	}
	if tracked > 0 { // no table of nothing
		tw.Flush()
	}
	if idled > 0 {
		fmt.Fprintf(w, "  %d packets were refused because their connection had gone idle past its timeout: keepalives more often "+
			"than the timeout, or a longer one (ConnectionTrackingSpecification on the interface), keep such connections\n", idled)
	}
	if natIdled > 0 {
		fmt.Fprintf(w, "  %d packets were refused at a NAT gateway, which had dropped their TCP connection idle for %d s: "+
			"TCP keepalives more often than that keep such connections\n", natIdled, int64(eni.NATGatewayIdleTimeout/time.Second))
	}
	if nlbIdled > 0 {
		fmt.Fprintf(w, "  %d packets were refused at a Network Load Balancer, which had dropped their flow idle past its timeout (above), "+
			"whatever the target's table keeps: keepalives more often than that, or a longer tcp.idle_timeout.seconds on the TCP listener, "+
			"keep such connections\n", nlbIdled)
	}
	if s.Mirror != nil {
		writeMirror(w, s.Mirror)
	}
}

// writeMirror shows what the traffic mirror sessions copied, what their
// sources did not copy and why, and the capture's copies that the files
// cannot account for.
func writeMirror(w io.Writer, m *replay.MirrorSummary) {
	fmt.Fprintln(w, "\nTRAFFIC MIRRORING (frames each session copied, by direction at its source)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  session\tsource\tnumber\tfilter\ttarget\tin\tout\tbytes to the target")
	for _, c := range m.Sessions {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\n", c.Session.ID, c.Session.Source, c.Session.Number, c.Session.Filter,
			mirrorTargetText(c.Target), c.Frames[eni.Inbound], c.Frames[eni.Outbound], c.Bytes[eni.Inbound]+c.Bytes[eni.Outbound])
	}
	tw.Flush()
	if len(m.Sources) > 0 {
		fmt.Fprintln(w, "  what became of the frames at each source (in / out): AWS copies only what the source lets through")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  source\tcopied\trefused at or before it\tchosen by no filter\tnever mirrored")
		for _, c := range m.Sources {
			pair := func(v [2]int) string { return fmt.Sprintf("%d / %d", v[eni.Inbound], v[eni.Outbound]) }
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Interface.ID(), pair(c.Copied), pair(c.Dropped), pair(c.NotSelected), pair(c.Never))
		}
		tw.Flush()
	}
	if len(m.Rules) > 0 {
		fmt.Fprintln(w, "  filter rules (frames each decided, copied or not; a rule that decided none may be worth a look)")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  filter\tdirection\trule\tframes")
		for _, r := range m.Rules {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\n", r.Filter, r.Direction, r.Rule, r.Frames)
		}
		tw.Flush()
	}
	if m.Wrapped > 0 {
		fmt.Fprintf(w, "  %d frames are VXLAN copies from the sessions, judged as AWS judges copies: past their source's security groups, "+
			"and left out of flow logs (--vxlan judges the frames inside them instead)\n", m.Wrapped)
	}
	if m.Copies == 0 {
		return
	}
	fmt.Fprintf(w, "  %d VXLAN copies in the capture; %d the files cannot account for", m.Copies, m.Unexpected)
	if m.Unexpected == 0 {
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintln(w, " (AWS would not have made them: are the files those of the capture's time?)")
	for _, u := range m.UnexpectedCopies {
		from := fmt.Sprintf("from %s, VNI %d", u.Header.Src, u.Header.VNI)
		if u.Session != nil {
			from = u.Session.ID
		}
		fmt.Fprintf(w, "    frame %d (%s): %s\n", u.Frame, from, u.Why)
	}
	if m.Unexpected > len(m.UnexpectedCopies) {
		fmt.Fprintf(w, "    … and %d more\n", m.Unexpected-len(m.UnexpectedCopies))
	}
}

func mirrorTargetText(t mirror.Target) string {
	switch t.Type {
	case mirror.TargetInterface:
		return t.ID + " (" + t.Interface + ")"
	case mirror.TargetLoadBalancer:
		return t.ID + " (Network Load Balancer)"
	}
	return t.ID + " (" + t.Endpoint + ")"
}

// writeACLUsage lists the entries of the ACLs that modelled subnets use,
// with the packets each decided, then the numbered entries no packet
// needed. The "*" entries cannot be changed: they are counted, never
// called unused.
func writeACLUsage(w io.Writer, n *eni.Network, span time.Duration) {
	used := n.ACLSubnets()
	fmt.Fprintln(w, "\nNETWORK ACL ENTRIES (packets decided, allowed or refused there; ACLs of the modelled subnets)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  acl\tsubnets\tdirection\tentry\tpackets")
	var unused []string
	numbered := 0
	for _, a := range n.ACLs() {
		subnets := used[a.ID]
		if len(subnets) == 0 {
			continue
		}
		where := strings.Join(subnets[:min(2, len(subnets))], ",")
		if len(subnets) > 2 {
			where += fmt.Sprintf(" (+%d)", len(subnets)-2)
		}
		label := a.ID
		for _, u := range n.ACLUsage(a.ID) {
			dir := "inbound"
			if u.Egress {
				dir = "outbound"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\n", label, where, dir, u.Entry, u.Packets)
			label, where = "", "" // the ACL's first line names it
			if u.RuleNumber < nacl.DenyAllIPv4 {
				numbered++
				if u.Packets == 0 {
					unused = append(unused, fmt.Sprintf("  %s\t%s\t%s", a.ID, dir, u.Entry))
				}
			}
		}
	}
	tw.Flush()
	switch {
	case numbered == 0:
		fmt.Fprintln(w, "\nUNUSED ACL ENTRIES: none; the ACLs have no numbered entries")
		return
	case len(unused) == 0:
		fmt.Fprintf(w, "\nUNUSED ACL ENTRIES: none; every one of the %d numbered entries decided a frame\n", numbered)
		return
	}
	fmt.Fprintf(w, "\nUNUSED ACL ENTRIES (%d of %d numbered entries: no frame in these %s of capture needed them; a short capture proves little)\n",
		len(unused), numbered, roundSpan(span))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, u := range unused {
		fmt.Fprintln(tw, u)
	}
	tw.Flush()
}

func flowText(f replay.RejectedFlow) string { return flowLabel(f.Proto, f.Src, f.Dst, f.DstPort) }

// roundSpan rounds a capture's span for people: to the second once it
// is a minute or more.
func roundSpan(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// minPortsPerRow is how many TCP or UDP flows between the same two
// addresses, refused at the same place for the same reason, take one row
// of the summary between them. A client's replies refused by an ACL
// without the ephemeral ports, or a port scan, is one cause: a row a
// port would push every other refusal out of sight.
const minPortsPerRow = 4

// rejectedRow is a row of the summary's refused flows: one flow, or
// flows that differ only in their destination port.
type rejectedRow struct {
	frames           int
	flow, refusal    string
	also             int
	minPort, maxPort uint16
}

// rejectedRows turns the refused flows, most frames first, into the
// summary's rows, most frames first.
func rejectedRows(flows []replay.RejectedFlow) []rejectedRow {
	type group struct {
		proto    uint8
		src, dst netip.Addr
		refusal  string
	}
	refusals := make([]string, len(flows))
	members := map[group][]int{}
	for k, f := range flows {
		refusals[k] = refusalText(f.Stage)
		if f.Proto == 6 || f.Proto == 17 {
			g := group{f.Proto, f.Src, f.Dst, refusals[k]}
			members[g] = append(members[g], k)
		}
	}
	var rows []rejectedRow
	for k, f := range flows {
		g := group{f.Proto, f.Src, f.Dst, refusals[k]}
		m := members[g]
		if len(m) < minPortsPerRow {
			rows = append(rows, rejectedRow{frames: f.Frames, flow: flowText(f), refusal: refusals[k], also: f.Also})
			continue
		}
		if m[0] != k {
			continue // in the row of the group's first flow
		}
		r := rejectedRow{refusal: refusals[k], minPort: f.DstPort, maxPort: f.DstPort}
		for _, j := range m {
			o := flows[j]
			r.frames += o.Frames
			r.also = max(r.also, o.Also)
			r.minPort, r.maxPort = min(r.minPort, o.DstPort), max(r.maxPort, o.DstPort)
		}
		r.flow = fmt.Sprintf("%s %s → %s:%d-%d (%d ports)", eni.ProtoName(f.Proto), f.Src, f.Dst, r.minPort, r.maxPort, len(m))
		rows = append(rows, r)
	}
	// A group's row sits at its first flow's place: move it up to its
	// frames' place, ties staying in order.
	slices.SortStableFunc(rows, func(a, b rejectedRow) int { return b.frames - a.frames })
	return rows
}

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
	if s.Kind == eni.StageRoute && s.Route != nil {
		if s.Route.NoRoute {
			return fmt.Sprintf("%s %s", eni.ReasonNoRoute, s.Route.Table)
		}
		if s.Route.NoBalancerFlow {
			text := fmt.Sprintf("%s %s %s", eni.ReasonNoBalancerFlow, s.Route.Balancer, s.Verdict.Direction)
			if s.Verdict.IdledOut {
				text += fmt.Sprintf(" (its flow idled out: %d s timeout)", int64(s.Verdict.Conn.Timeout/time.Second))
			}
			return text
		}
		return fmt.Sprintf("%s %s %s to %s", s.Route.Reason(), s.Route.Table, s.Route.Dest, s.Route.Target) // a blackhole route or an egress-only gateway
	}
	if s.ACL != nil {
		dir := "inbound"
		if s.Kind.Outbound() {
			dir = "outbound"
		}
		num := fmt.Sprint(s.ACLResult.RuleNumber)
		if s.ACLResult.RuleNumber >= 32767 {
			num = "*"
		}
		return fmt.Sprintf("%s %s (%s) %s entry %s", eni.ReasonSubnetACL, s.ACL.ID, s.Subnet, dir, num)
	}
	v := s.Verdict
	text := fmt.Sprintf("%s %s %s", v.Reason, v.Interface.ID(), v.Direction)
	if v.IdledOut {
		text += fmt.Sprintf(" (its connection idled out: %d s timeout)", int64(v.Conn.Timeout/time.Second))
	}
	return text
}

// fewIDs lists the first few IDs and counts the rest.
func fewIDs(ids []string, most int) string {
	if len(ids) <= most {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:most], ", "), len(ids)-most)
}

// writeSkipped lists the addresses that the IP frames skipped named (no
// modelled interface or subnet at either end) and, when no frame touched
// the configuration at all, says what the configuration does hold: a
// capture and files of different networks look like that.
func writeSkipped(w io.Writer, n *eni.Network, s *replay.Summary) {
	addrs := s.SkippedAddrs()
	if len(addrs) == 0 {
		return
	}
	ip := s.Skipped - s.NotIP - s.Malformed
	fmt.Fprintf(w, "\nSKIPPED FRAMES (%d IP frames with no modelled interface or subnet at either end; the addresses they named most)\n", ip)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  address\tframes")
	for _, a := range addrs[:min(5, len(addrs))] {
		fmt.Fprintf(tw, "  %s\t%d\n", a.Addr, a.Frames)
	}
	tw.Flush()
	if s.Accepted+s.Rejected > 0 {
		return
	}
	var mine []string
	for _, i := range n.Interfaces() {
		for _, a := range i.Addrs() {
			mine = append(mine, a.String())
		}
	}
	var blocks []string
	for _, sn := range n.Subnets() {
		if sn.CIDR.IsValid() {
			blocks = append(blocks, sn.CIDR.String())
		}
	}
	fmt.Fprintf(w, "  No frame touched the configuration: were the --config files exported from the network the capture was taken in?\n")
	if len(mine) > 0 {
		fmt.Fprintf(w, "  Its interfaces' addresses are %s", fewIDs(mine, 5))
		if len(blocks) > 0 {
			fmt.Fprintf(w, "; its subnets %s", fewIDs(blocks, 5))
		}
		fmt.Fprintln(w, ".")
	}
}
