package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/flowlog"
	"github.com/sgsim/sgsim/internal/sample"
	"github.com/sgsim/sgsim/replay"
)

func replayCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay")
	var configs multiFlag
	fs.Var(&configs, "config", "a `FILE` that aws ec2 (or elbv2) describe-* printed, or AWS's ip-ranges.json (repeatable)")
	pcap := fs.String("pcap", "", "the capture `FILE` (pcap or pcapng; - reads standard input)")
	format := fs.String("format", "summary", "output `FORMAT`: summary, jsonl or flowlog")
	vxlan := fs.Bool("vxlan", false, "judge the frames inside VPC Traffic Mirroring (VXLAN) copies")
	window := fs.Duration("window", time.Minute, "flow log aggregation window, a `DURATION` such as 60s or 10m")
	trafficType := fs.String("traffic-type", "", "the `TYPE` of traffic the flow log captures, as create-flow-logs --traffic-type takes it: ACCEPT, REJECT or ALL (default ALL)")
	logFormat := fs.String("log-format", "", "flow log `FIELDS`, as create-flow-logs --log-format takes them ('${version} ${vpc-id} ...'); default: AWS's default format")
	pickup := fs.Bool("tcp-pickup", false, "let TCP packets other than SYN open tracked connections, for captures that begin mid-connection")
	flowlogDir := fs.String("flowlog-dir", "", "write each flow log of the configuration (describe-flow-logs) to `DIR`/ID.log")
	mirrorOut := fs.String("mirror-out", "", "write the VXLAN copies the configuration's traffic mirror sessions send, as their targets receive them, to `FILE` (pcap)")
	only := fs.String("only", "", "with --format jsonl, print only the frames of these `VERDICTS` (ACCEPT, REJECT, SKIP; comma-separated)")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch *format {
	case "summary", "jsonl", "flowlog":
	default:
		return bad("replay: --format %q: use summary, jsonl or flowlog", *format)
	}
	for _, f := range []struct{ name, value string }{{"log-format", *logFormat}, {"traffic-type", *trafficType}, {"flowlog-dir", *flowlogDir}} {
		if f.value != "" && *format != "flowlog" {
			return bad("replay: --%s goes with --format flowlog", f.name)
		}
	}
	printed := [3]bool{true, true, true} // by replay.Verdict
	if *only != "" {
		if *format != "jsonl" {
			return bad("replay: --only goes with --format jsonl")
		}
		printed = [3]bool{}
		for _, v := range strings.Split(*only, ",") {
			switch strings.ToUpper(strings.TrimSpace(v)) {
			case "ACCEPT":
				printed[replay.Accept] = true
			case "REJECT":
				printed[replay.Reject] = true
			case "SKIP":
				printed[replay.Skip] = true
			default:
				return bad("replay: --only %q: use ACCEPT, REJECT or SKIP, comma-separated", v)
			}
		}
	}
	fields, traffic := flowlog.DefaultFormat, flowlog.TrafficAll
	var err error
	if *logFormat != "" {
		if fields, err = flowlog.ParseFormat(*logFormat); err != nil {
			return bad("replay: --log-format: %v", err)
		}
	}
	if *trafficType != "" {
		if traffic, err = flowlog.ParseTrafficType(*trafficType); err != nil {
			return bad("replay: --traffic-type %v", err)
		}
	}
	if *window <= 0 {
		return bad("replay: --window %v: must be positive", *window)
	}
	if (len(configs) == 0) != (*pcap == "") {
		return bad("replay: --config and --pcap go together (with neither, the embedded sample is replayed)")
	}

	res, err := loadConfig(configs, true, stderr)
	if err != nil {
		return err
	}
	if *format == "flowlog" {
		if err := checkFlowLogFlags(fs, res.FlowLogs, *flowlogDir); err != nil {
			return err
		}
		if len(res.FlowLogs) == 0 && *window > time.Minute {
			unknown := 0
			for _, i := range res.Network.Interfaces() {
				if res.TypeUnknown(i) {
					unknown++
				}
			}
			if unknown > 0 {
				fmt.Fprintf(stderr, "sgsim: warning: --window %v: records of interfaces at instances of unknown type (%d) cover up to %v, "+
					"but AWS aggregates over 60 s at most at Nitro instances: give describe-instances and describe-instance-types output to tell which those are\n",
					*window, unknown, *window)
			}
		}
	}
	if *pickup {
		// AWS opens tracked TCP connections on a SYN; a capture that starts
		// after the handshake would show their replies refused.
		res.Network.SetTCPPickup(true)
	}
	var in io.Reader
	name := *pcap
	var size int64
	if name == "" {
		name = sample.CaptureName
		in = bytes.NewReader(sample.Capture())
	} else {
		var c io.Closer
		var err error
		if in, name, size, c, err = openCapture(name); err != nil {
			return err
		}
		defer c.Close()
	}
	counter := &countingReader{r: in}
	rd, err := capture.NewReader(counter)
	if err != nil {
		return bad("%s: %v", name, err)
	}

	out := bufio.NewWriterSize(stdout, 1<<16)
	defer out.Flush()
	rp := replay.New(res.Network, replay.Options{VXLAN: *vxlan, Mirror: res.Mirror})
	prog := newProgress(stderr, size, counter)
	var fn func(*replay.Result) error
	var logs []flowOutput
	switch *format {
	case "jsonl":
		enc := newJSONL(out)
		fn = func(r *replay.Result) error {
			prog.tick()
			if !printed[r.Verdict] {
				return nil // not encoded at all: the encoding is most of the cost
			}
			return enc.write(r)
		}
	case "flowlog":
		var fl *flowLogger
		if len(res.FlowLogs) == 0 {
			agg := flowlog.NewAggregator(*window)
			agg.SetFormat(fields)
			agg.SetTrafficType(traffic)
			agg.SetAWSRanges(res.AWSRanges)
			logs = []flowOutput{{agg: agg, w: out}}
			fl = newFlowLogger(agg)
		} else {
			if logs, err = openFlowLogs(res.FlowLogs, res.AWSRanges, *flowlogDir, out); err != nil {
				return err
			}
			defer closeFlowLogs(logs)
			fl = newFlowLoggerOf(res.FlowLogs, logs)
		}
		fl.peering = res.Peering
		fn = func(r *replay.Result) error {
			prog.tick()
			fl.add(r)
			// Records whose windows closed go out as the capture goes, so
			// memory holds only the open windows.
			if r.Frame.Number%4096 == 0 {
				for _, l := range logs {
					if err := l.agg.WriteClosed(l.w); err != nil {
						return err
					}
				}
			}
			return nil
		}
	default:
		// The summary needs no results one by one: without fn, the replay
		// counts verdicts off the judging goroutine.
		if prog.enabled {
			fn = func(*replay.Result) error { prog.tick(); return nil }
		}
	}
	// An error of fn's is the output's: nothing more can be written. Any
	// other is the capture's, after every frame before it was judged, and
	// those frames are reported in full before the error is.
	outFailed := false
	closeMirror := func() error { return nil }
	if *mirrorOut != "" {
		if res.Mirror == nil || res.Mirror.Len() == 0 {
			return bad("replay: --mirror-out needs traffic mirror sessions in the --config files (describe-traffic-mirror-sessions, -filters, -targets)")
		}
		if *vxlan {
			fmt.Fprintln(stderr, "sgsim: warning: --mirror-out with --vxlan: the capture's VXLAN copies are not copied again; only its other frames are")
		}
		f, err := os.Create(*mirrorOut)
		if err != nil {
			return bad("replay: --mirror-out %s: cannot write: %v", *mirrorOut, unwrapPath(err))
		}
		bw := bufio.NewWriterSize(f, 1<<16)
		mw, err := newMirrorWriter(bw, res.Network, res.Mirror)
		if err != nil {
			f.Close()
			return bad("replay: --mirror-out %s: %v", *mirrorOut, err)
		}
		defer f.Close() // after an error; closeMirror closes it otherwise
		closeMirror = func() error {
			mw.done(stderr, *mirrorOut)
			if err := bw.Flush(); err != nil {
				return err
			}
			return f.Close()
		}
		inner := fn
		fn = func(r *replay.Result) error {
			if err := mw.add(r); err != nil {
				return err
			}
			if inner == nil {
				prog.tick()
				return nil
			}
			return inner(r)
		}
	}
	run := fn
	if fn != nil {
		run = func(r *replay.Result) error {
			err := fn(r)
			outFailed = err != nil
			return err
		}
	}
	runErr := rp.Run(rd, run)
	prog.done()
	if outFailed {
		return fmt.Errorf("writing the output: %w", runErr)
	}
	if err := closeMirror(); err != nil {
		return fmt.Errorf("writing %s: %w", *mirrorOut, err)
	}
	switch *format {
	case "flowlog":
		for k := range logs {
			l := &logs[k]
			if err := l.agg.Write(l.w); err != nil {
				return fmt.Errorf("writing the output: %w", err)
			}
			if err := l.flush(); err != nil {
				return fmt.Errorf("writing the output: %w", err)
			}
		}
	case "summary":
		writeSummary(out, res, name, rd.Format(), rp)
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	var trunc *capture.TruncatedError
	switch {
	case errors.As(runErr, &trunc):
		return &exitError{code: 1, msg: fmt.Sprintf("%s: %v", name, trunc)}
	case runErr != nil:
		return bad("%s: %v", name, runErr)
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// countingReader counts the bytes read, for the progress bar. The replay
// reads on a goroutine of its own, so the count is atomic.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// flowLogger records frames as each interface on their path would log
// them: the source interface logs what it sent (refused by its group or
// its subnet's ACL on the way out: REJECT), the destination interface logs
// what reached its subnet (refused by the ACL or its group: REJECT).
// Traffic AWS never logs (Amazon DNS, IMDS, Time Sync, DHCP, Windows
// activation, the VPC router) is left out.
type flowLogger struct {
	all    []*flowlog.Aggregator                    // every log
	logs   map[*eni.Interface][]*flowlog.Aggregator // the logs at each interface; nil: all of them, at every interface
	ifaces map[*eni.Interface]*logOwner             // read once per interface, not per frame, with its logs
	// peering looks up the peering connections of the configuration, for
	// traffic-path through one (nil: none known).
	peering func(id string) (ec2json.Peering, bool)
}

// newFlowLogger logs every interface to agg.
func newFlowLogger(agg *flowlog.Aggregator) *flowLogger {
	return &flowLogger{all: []*flowlog.Aggregator{agg}, ifaces: map[*eni.Interface]*logOwner{}}
}

// newFlowLoggerOf logs each interface to the flow logs of the
// configuration that cover it (logs[k] for fls[k]), and the others to
// none.
func newFlowLoggerOf(fls []ec2json.FlowLog, logs []flowOutput) *flowLogger {
	fl := &flowLogger{ifaces: map[*eni.Interface]*logOwner{}, logs: map[*eni.Interface][]*flowlog.Aggregator{}}
	for k, f := range fls {
		fl.all = append(fl.all, logs[k].agg)
		for _, i := range f.Interfaces {
			fl.logs[i] = append(fl.logs[i], logs[k].agg)
		}
	}
	return fl
}

// flowOutput is a flow log being written: to the command's output, or to
// a file of its own.
type flowOutput struct {
	agg  *flowlog.Aggregator
	w    *bufio.Writer
	file *os.File // nil: w is the command's output
}

func (o *flowOutput) flush() error {
	if err := o.w.Flush(); err != nil {
		return err
	}
	if f := o.file; f != nil {
		o.file = nil
		return f.Close()
	}
	return nil
}

// checkFlowLogFlags checks the flow log flags against the configuration's
// flow logs: with some, they set format, traffic type and window, and two
// or more need a directory to be written to.
func checkFlowLogFlags(fs *flag.FlagSet, fls []ec2json.FlowLog, dir string) error {
	ids := make([]string, len(fls))
	for k, f := range fls {
		ids[k] = f.ID
	}
	if len(fls) == 0 {
		if dir != "" {
			return bad("replay: --flowlog-dir: the configuration has no flow logs (describe-flow-logs)")
		}
		return nil
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "log-format", "traffic-type", "window":
			if err == nil {
				err = bad("replay: --%s: the configuration's flow logs (%s) set their own", f.Name, strings.Join(ids, ", "))
			}
		}
	})
	if err == nil && len(fls) > 1 && dir == "" {
		err = bad("replay: the configuration has %d flow logs (%s): give --flowlog-dir DIR to write each to DIR/ID.log", len(fls), strings.Join(ids, ", "))
	}
	return err
}

// openFlowLogs starts an aggregator for each of the configuration's flow
// logs, written to dir/ID.log, or to out when dir is "", naming the AWS
// services of ranges in the fields that name them.
func openFlowLogs(fls []ec2json.FlowLog, ranges *flowlog.AWSRanges, dir string, out *bufio.Writer) ([]flowOutput, error) {
	logs := make([]flowOutput, 0, len(fls))
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, bad("replay: --flowlog-dir %s: %v", dir, unwrapPath(err))
		}
	}
	for _, f := range fls {
		agg := flowlog.NewAggregator(f.Window)
		agg.SetFormat(f.Format)
		agg.SetTrafficType(f.Traffic)
		agg.SetAWSRanges(ranges)
		o := flowOutput{agg: agg, w: out}
		if dir != "" {
			name := filepath.Join(dir, f.ID+".log")
			file, err := os.Create(name)
			if err != nil {
				closeFlowLogs(logs)
				return nil, bad("replay: %s: cannot write: %v", name, unwrapPath(err))
			}
			o.file, o.w = file, bufio.NewWriterSize(file, 1<<16)
		}
		logs = append(logs, o)
	}
	return logs, nil
}

// closeFlowLogs closes the files of flow logs not written to the end.
func closeFlowLogs(logs []flowOutput) {
	for _, l := range logs {
		if l.file != nil {
			_ = l.file.Close()
		}
	}
}

// logOwner is what an interface's records say of it.
type logOwner struct {
	account                           string
	primary                           netip.Addr // the primary private IPv4, which logs show for secondaries
	vpc, subnet, instance, region, az string
	vpcCIDRs                          []netip.Prefix
	logs                              []*flowlog.Aggregator // the flow logs at the interface
	maxWindow                         time.Duration         // 60 s at a Nitro instance: AWS aggregates no longer there
	iface                             *eni.Interface
	nitro                             bool
	peering                           func(id string) (ec2json.Peering, bool)
}

// trafficPath is traffic-path for an egress record to dst, outside the
// VPC, by the target of the route the interface's subnet has for it: 0
// ("-") when the files give no route table, or for a path AWS numbers by
// what they do not say (a peering connection describe-vpc-peering-connections
// does not give the Regions of).
func (o *logOwner) trafficPath(dst netip.Addr) uint8 {
	t := o.iface.RouteTarget(dst)
	nitroOr := func(nitro, other uint8) uint8 {
		if o.nitro {
			return nitro
		}
		return other
	}
	switch {
	case strings.HasPrefix(t, "igw-"):
		return nitroOr(8, 2)
	case strings.HasPrefix(t, "vpce-"):
		return nitroOr(7, 2)
	case strings.HasPrefix(t, "vgw-"):
		return 3
	case strings.HasPrefix(t, "lgw-"):
		return 6
	case strings.HasPrefix(t, "pcx-") && o.peering != nil:
		if p, ok := o.peering(t); ok {
			switch inter, known := p.InterRegion(); {
			case known && inter:
				return 5
			case known:
				return 4
			}
		}
	case t == "local" || strings.HasPrefix(t, "nat-") || strings.HasPrefix(t, "tgw-") || strings.HasPrefix(t, "eni-") || strings.HasPrefix(t, "i-"):
		return 1 // another resource of the VPC, or one with an interface in it
	}
	return 0
}

func (fl *flowLogger) owner(i *eni.Interface) *logOwner {
	o, ok := fl.ifaces[i]
	if !ok {
		o = &logOwner{}
		s := i.Spec()
		o.account, o.vpc, o.subnet, o.instance = s.OwnerID, i.VpcID(), s.SubnetID, s.InstanceID
		if s.Nitro {
			o.maxWindow = time.Minute
		}
		o.iface, o.nitro, o.peering = i, s.Nitro, fl.peering
		if len(s.PrivateIPv4) > 0 {
			o.primary = s.PrivateIPv4[0]
		}
		if sn, ok := i.Network().Subnet(s.SubnetID); ok {
			o.region, o.az = sn.Region, sn.AvailabilityZoneID
		}
		if v, ok := i.Network().VPC(o.vpc); ok {
			o.vpcCIDRs = v.CIDRs
		}
		o.logs = fl.all
		if fl.logs != nil {
			o.logs = fl.logs[i]
		}
		fl.ifaces[i] = o
	}
	return o
}

// inVPC reports whether a stays in the owner's VPC.
func (o *logOwner) inVPC(a netip.Addr) bool {
	for _, p := range o.vpcCIDRs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (o *logOwner) fill(rec *flowlog.Packet, i *eni.Interface) {
	rec.AccountID, rec.InterfaceID = o.account, i.ID()
	rec.VpcID, rec.SubnetID, rec.InstanceID, rec.Region, rec.AZID = o.vpc, o.subnet, o.instance, o.region, o.az
	rec.MaxWindow = o.maxWindow
}

// add adds a packet seen at the interface to the flow logs there.
func (o *logOwner) add(rec flowlog.Packet) {
	for _, a := range o.logs {
		a.Add(rec)
	}
}

func (fl *flowLogger) add(r *replay.Result) {
	// Every frame is the capture's clock, for each log: windows close, and
	// quiet ones are NODATA records, up to the capture's end.
	for _, a := range fl.all {
		a.Advance(r.Frame.Time)
	}
	p := &r.Path
	if r.Verdict == replay.Skip || (p.Service != eni.NoService && p.Service != eni.ECSTaskMetadata) || p.Packet.MirrorCopy {
		return // not logged: traffic AWS never logs, and mirror copies
	}
	// Whether each place on the path let the packet through: the source,
	// each appliance a route took it through (in, out), the destination;
	// and whether a route dropped it on the way.
	srcOK, dstOK, dropped := true, true, false
	viaIn, viaOut := [2]bool{true, true}, [2]bool{true, true}
	for _, s := range p.Stages() {
		switch s.Kind {
		case eni.StageSourceGroups, eni.StageSourceACL:
			srcOK = srcOK && s.Allowed
		case eni.StageApplianceACLIn, eni.StageApplianceIn:
			viaIn[s.Hop] = viaIn[s.Hop] && s.Allowed
		case eni.StageApplianceOut, eni.StageApplianceACLOut:
			viaOut[s.Hop] = viaOut[s.Hop] && s.Allowed
		case eni.StageDestACL, eni.StageDestGroups:
			dstOK = dstOK && s.Allowed
		case eni.StageRoute:
			dropped = true // nothing further logs it
		}
	}
	// Each end logs the packet as it saw it: the same but for a hairpin,
	// which the destination receives from the source's public address.
	sent, received := p.Packet, p.Packet
	if out, in, ok := p.Hairpin(); ok {
		sent, received = out, in
	}
	rec := flowlog.Packet{SrcPort: sent.SrcPort, DstPort: sent.DstPort, Protocol: sent.Proto,
		Bytes: sent.Length, Time: r.Frame.Time, TCPFlags: sent.TCPFlags}
	if i := p.Src; i != nil {
		o := fl.owner(i)
		o.fill(&rec, i)
		rec.Src, rec.Dst, rec.PktSrc, rec.PktDst = sent.Src, sent.Dst, sent.Src, sent.Dst
		rec.Accept, rec.Egress, rec.InVPC, rec.TrafficPath = srcOK, true, o.inVPC(sent.Dst), 0
		if !rec.InVPC {
			rec.TrafficPath = o.trafficPath(sent.Dst)
		}
		if sent.Src.Is4() && o.primary.IsValid() {
			rec.Src = o.primary
		}
		o.add(rec)
	}
	reached := srcOK
	for k, i := range p.Vias() {
		if !reached {
			break
		}
		// The appliance logs the packet coming in and, if it let it in,
		// going out: as anything it receives and sends.
		o := fl.owner(i)
		o.fill(&rec, i)
		for _, leg := range []struct{ egress, accept bool }{{false, viaIn[k]}, {true, viaOut[k]}} {
			if leg.egress && !viaIn[k] {
				break
			}
			rec.Src, rec.Dst, rec.PktSrc, rec.PktDst = sent.Src, sent.Dst, sent.Src, sent.Dst
			rec.Accept, rec.Egress, rec.InVPC, rec.TrafficPath = leg.accept, leg.egress, leg.egress && o.inVPC(sent.Dst), 0
			if leg.egress && !rec.InVPC {
				rec.TrafficPath = o.trafficPath(sent.Dst)
			}
			switch {
			case leg.egress && sent.Src.Is4() && o.primary.IsValid():
				rec.Src = o.primary
			case !leg.egress && sent.Dst.Is4() && o.primary.IsValid():
				rec.Dst = o.primary
			}
			o.add(rec)
		}
		reached = viaIn[k] && viaOut[k]
	}
	if i := p.Dst; i != nil && reached && !dropped {
		o := fl.owner(i)
		o.fill(&rec, i)
		rec.Src, rec.Dst, rec.PktSrc, rec.PktDst = received.Src, received.Dst, received.Src, received.Dst
		rec.Accept, rec.Egress, rec.InVPC, rec.TrafficPath = dstOK, false, false, 0
		if received.Dst.Is4() && o.primary.IsValid() {
			rec.Dst = o.primary
		}
		o.add(rec)
	}
}
