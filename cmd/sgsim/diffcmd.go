package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/replay"
	"github.com/sgsim/sgsim/sg"
)

// diffCmd replays one capture against two configurations and lists every
// flow whose verdict changes.
func diffCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("diff")
	var before, after multiFlag
	fs.Var(&before, "config", "a `FILE` that aws ec2 (or elbv2) describe-* printed, as things are (repeatable)")
	fs.Var(&after, "against", "a `FILE` of the proposed configuration, in the same form (repeatable)")
	pcap := fs.String("pcap", "", "the capture `FILE` (pcap or pcapng) to replay against both")
	failOn := fs.String("fail-on", "", "exit 1 when a frame's verdict changes this `WAY`: newly-rejected (the change breaks traffic), newly-accepted (it lets more in) or any")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(before) == 0 || len(after) == 0 || *pcap == "" {
		return bad("diff: --config, --against and --pcap are required")
	}
	if *pcap == "-" {
		return bad("diff: --pcap -: diff reads the capture twice, side by side: give a file")
	}
	switch *failOn {
	case "", "newly-rejected", "newly-accepted", "any":
	default:
		return bad("diff: --fail-on %q: use newly-rejected, newly-accepted or any", *failOn)
	}
	resA, err := loadConfig(before, false, stderr)
	if err != nil {
		return err
	}
	resB, err := loadConfig(after, false, stderr)
	if err != nil {
		return err
	}
	// The capture is read twice side by side, each from its own handle:
	// a capture larger than memory streams like any other.
	fa, err := os.Open(*pcap)
	if err != nil {
		return bad("%s: cannot read: %v", *pcap, unwrapPath(err))
	}
	defer fa.Close()
	fb, err := os.Open(*pcap)
	if err != nil {
		return bad("%s: cannot read: %v", *pcap, unwrapPath(err))
	}
	defer fb.Close()
	ra, err := capture.NewReader(bufio.NewReaderSize(fa, 1<<16))
	if err != nil {
		return bad("%s: %v", *pcap, err)
	}
	rb, err := capture.NewReader(bufio.NewReaderSize(fb, 1<<16))
	if err != nil {
		return bad("%s: %v", *pcap, err)
	}
	pa, pb := replay.New(resA.Network, replay.Options{}), replay.New(resB.Network, replay.Options{})

	type key struct {
		flow          string
		before, after string
		beforeVerdict replay.Verdict
		afterVerdict  replay.Verdict
	}
	groups := map[key]*struct{ frames, first int }{}
	var order []key
	frames, changed := 0, 0
	newlyRejected, newlyAccepted := 0, 0 // frames
	var readErr error
	for {
		fra, err := ra.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		a := pa.Judge(&fra)
		va, da := a.Verdict, decision(a)
		flow := pathFlow(&a.Path)
		frb, err := rb.Next()
		if err != nil {
			// The same bytes read a second time: only a file changed
			// under us gets here.
			readErr = fmt.Errorf("frame %d: the file changed while it was read: %w", fra.Number, err)
			break
		}
		b := pb.Judge(&frb)
		frames++
		if va == b.Verdict {
			continue
		}
		changed++
		switch {
		case b.Verdict == replay.Reject:
			newlyRejected++
		case b.Verdict == replay.Accept:
			newlyAccepted++
		}
		k := key{flow: flow, before: da, after: decision(b), beforeVerdict: va, afterVerdict: b.Verdict}
		g := groups[k]
		if g == nil {
			g = &struct{ frames, first int }{first: fra.Number}
			groups[k] = g
			order = append(order, k)
		}
		g.frames++
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].before < order[j].before })
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	fmt.Fprintf(out, "%d of %d frames change verdict, in %d flows", changed, frames, len(order))
	if changed > 0 {
		fmt.Fprintf(out, ": %d frames newly rejected, %d newly accepted", newlyRejected, newlyAccepted)
	}
	fmt.Fprintln(out)
	if len(order) > 0 {
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\nframes\tfirst\tflow\tbefore\tafter")
		for _, k := range order {
			g := groups[k]
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s %s\t%s %s\n", g.frames, g.first, k.flow, k.beforeVerdict, k.before, k.afterVerdict, k.after)
		}
		tw.Flush()
	}
	if readErr != nil {
		out.Flush()
		var trunc *capture.TruncatedError
		if errors.As(readErr, &trunc) {
			return &exitError{code: 1, msg: fmt.Sprintf("%s: %v", *pcap, trunc)}
		}
		return bad("%s: %v", *pcap, readErr)
	}
	if fail := (*failOn == "newly-rejected" && newlyRejected > 0) || (*failOn == "newly-accepted" && newlyAccepted > 0) ||
		(*failOn == "any" && changed > 0); fail {
		return &exitError{code: 1}
	}
	return nil
}

func pathFlow(p *eni.Path) string {
	pk := &p.Packet
	if pk.Status != eni.Decoded {
		return pk.String()
	}
	return flowLabel(pk.Proto, pk.Src, pk.Dst, sg.Key(pk.Proto, pk.DstPort, pk.ICMPType, pk.ICMPCode))
}

// decision names what decided a frame: the refusing stage, or the stage
// that let it in.
func decision(r *replay.Result) string {
	if r.Verdict == replay.Skip {
		return "(nothing modelled)"
	}
	k := decidingStage(r)
	if k < 0 {
		return ""
	}
	s := r.Path.Stages()[k]
	if !s.Allowed {
		return refusalText(s)
	}
	if s.ACL != nil {
		return fmt.Sprintf("%s entry %d", s.ACL.ID, s.ACLResult.RuleNumber)
	}
	v := s.Verdict
	switch v.Reason {
	case eni.ReasonRule, eni.ReasonTracked:
		// A rule and the connections it opened count as one decision:
		// that is what a change to the rule affects.
		if ri, ok := v.Interface.Network().Groups().Rule(v.Rule); ok {
			return fmt.Sprintf("%s %s: %s %s (%s)", v.Interface.ID(), v.Direction, ri.GroupID, ri.ID, ri.Rule.Describe(ri.Direction))
		}
	}
	return fmt.Sprintf("%s %s: %s", v.Interface.ID(), v.Direction, v.Reason)
}
