// Package flowlog writes VPC Flow Logs records in AWS's default format
// (version 2):
//
//	version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
//
// An [Aggregator] collects packets into one record per interface, per
// direction of a flow (its 5-tuple), per action, per aggregation window,
// as AWS does; a flow's window opens with its first packet, as in AWS's
// examples (start 1418530010, end 1418530070). Following AWS, a record's srcaddr (outbound) or dstaddr
// (inbound) is the interface's primary private IPv4 address when the
// packet used a secondary one, ICMP records carry 0 for both ports, and
// start and end are the Unix seconds of the first and last packet in the
// window.
//
// At interfaces of instances built on the Nitro System, AWS aggregates
// over 60 s at most, whatever the flow log's maximum aggregation interval
// ([Packet.MaxWindow] bounds an interface's windows).
//
// Records are written in the order their windows opened, a window after
// they close when written as the capture goes; AWS, too, publishes a
// record once its window has closed.
//
// An interface's aggregation windows in which the log captured nothing
// are NODATA records, as in AWS's example:
//
//	2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA
//
// AWS says neither when an interface's windows start nor how one is
// told to be empty; sgsim starts them with the first packet the log
// captures there (AWS writes nothing for an interface before it has
// traffic), one window after another, and writes NODATA for each window
// that captured no packet. Start and end are its first and last second.
// Under a traffic type of ACCEPT or REJECT, a window with only the other
// action's packets captured nothing. At the end of a capture, windows
// that had not ended by its last frame are left out (the aggregator knows
// the capture's time from the packets it is given and from
// [Aggregator.Advance]). A quiet spell has
// NODATA records for a day at most ([NoDataSpan]).
//
// A [Format] writes custom records instead, with fields of versions 2 to
// 10 as create-flow-logs --log-format names them ([ParseFormat]); records
// carry the version of the format's newest field. traffic-path is what
// the caller knows of the route ([Packet.TrafficPath]). Fields for what
// sgsim does not model (AWS service address ranges, Local Zones and
// Outposts, ECS, Block Public Access, encryption) are "-", AWS's mark for
// a value not computed.
package flowlog

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"
)

// Header is the field-name line AWS writes first to S3, for the default
// format.
const Header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// Record is one flow log record.
type Record struct {
	AccountID   string
	InterfaceID string
	Src, Dst    netip.Addr // as the record shows them: the interface's primary address for a secondary one
	SrcPort     uint16
	DstPort     uint16
	Protocol    uint8
	Packets     uint64
	Bytes       uint64
	Start, End  int64 // Unix seconds
	Accept      bool

	// The fields of later versions, for custom formats ([Format]).
	VpcID, SubnetID, InstanceID string
	Region, AZID                string
	PktSrc, PktDst              netip.Addr // the packets' own addresses; zero: Src and Dst
	TCPFlags                    uint8      // FIN 1, SYN 2, RST 4, and ACK 16 with SYN, OR-ed over the window
	Egress                      bool       // flow-direction: the interface sent the packets
	InVPC                       bool       // the packets stay in the interface's VPC (traffic-path 1, egress)
	TrafficPath                 uint8      // traffic-path (egress) when known beyond InVPC: 1-8 as AWS numbers them; 0 for "-"
	// PktSrcAWSService and PktDstAWSService name the AWS service whose
	// address range holds pkt-srcaddr and pkt-dstaddr ("" for "-"), from
	// the aggregator's ranges ([Aggregator.SetAWSRanges]).
	PktSrcAWSService, PktDstAWSService string

	// NoData marks a record of an aggregation window in which the log
	// captured nothing at the interface (log-status NODATA): only the
	// interface's own fields, Start and End are set.
	NoData bool
}

// String formats the record in the default format.
func (r Record) String() string {
	return string(r.AppendFormat(nil, DefaultFormat))
}

// key is what tells one record from another: the interface, the
// packets' own 5-tuple, the direction and the action.
type key struct {
	iface            string
	src, dst         netip.Addr
	srcPort, dstPort uint16
	proto            uint8
	egress           bool
	accept           bool
}

// Aggregator collects packets into records. Records whose windows have
// closed can be written as the capture goes ([Aggregator.WriteClosed]),
// so that memory holds only the open windows, however long the capture.
type Aggregator struct {
	window  int64           // nanoseconds
	records map[key]int     // the flow's open record: base + its place in out
	out     []Record        // records not yet written, in the order their windows opened
	first   []int64         // first packet time of each record: its window opens then
	keys    []key           // each record's key, to forget it once written
	wins    []*ifaceWindows // each record's interface's windows: a packet of an open record finds them there
	base    int             // how many records were written before out[0]
	header  bool            // the header line was written
	latest  int64           // the latest packet time seen
	format  Format
	traffic TrafficType
	ranges  *AWSRanges

	// Each interface's windows, for its NODATA records, in the order the
	// interfaces were first seen; and the NODATA records not yet written,
	// in the order of their windows.
	ifaces     map[string]*ifaceWindows
	ifaceOrder []*ifaceWindows
	nodata     []noData
}

// noData is a NODATA record and the start of its window.
type noData struct {
	first int64
	rec   Record
}

// ifaceWindows follows one interface's aggregation windows, which start
// with the first packet the log captures there, to tell which of them
// captured nothing.
type ifaceWindows struct {
	id     Record // the interface's own fields, for its NODATA records
	window int64  // nanoseconds: the aggregator's, or less at Nitro instances
	at     int64  // the first packet's time: window g is [at+g·window, at+(g+1)·window)
	next   int64  // the first window not yet closed
	seen   uint64 // bit k: window next+k captured a packet
	quiet  int64  // how many windows before next in a row captured nothing
}

// NoDataSpan bounds the NODATA records of one quiet spell at an
// interface: a day's windows. A capture whose clock jumps, as with one
// frame's bad timestamp, would otherwise have millions of them.
const NoDataSpan = 24 * time.Hour

// NewAggregator returns an aggregator with the given aggregation window
// (AWS: 60 s or 600 s; Nitro instances always 60 s or less).
func NewAggregator(window time.Duration) *Aggregator {
	if window <= 0 {
		window = time.Minute
	}
	return &Aggregator{window: int64(window), records: map[key]int{}, format: DefaultFormat, ifaces: map[string]*ifaceWindows{}}
}

// SetFormat sets the fields records are written with; the default is
// [DefaultFormat]. Set it before writing: the header line names them.
func (a *Aggregator) SetFormat(f Format) { a.format = f }

// SetTrafficType sets what the log captures; the default is [TrafficAll].
// Packets of the other action are not recorded.
func (a *Aggregator) SetTrafficType(t TrafficType) { a.traffic = t }

// SetAWSRanges gives the AWS service address ranges that
// pkt-src-aws-service and pkt-dst-aws-service name; without them, those
// fields are "-".
func (a *Aggregator) SetAWSRanges(r *AWSRanges) { a.ranges = r }

// Packet is what a record needs of one packet seen at one interface.
type Packet struct {
	AccountID, InterfaceID string
	Src, Dst               netip.Addr // as the record shows them (see [Record])
	SrcPort, DstPort       uint16
	Protocol               uint8
	Bytes                  uint32
	Time                   time.Time
	Accept                 bool

	// For the fields of later versions (see [Record]).
	VpcID, SubnetID, InstanceID string
	Region, AZID                string
	PktSrc, PktDst              netip.Addr
	TCPFlags                    uint8 // the TCP header's flags byte
	Egress                      bool
	InVPC                       bool
	TrafficPath                 uint8 // see Record

	// MaxWindow bounds the interface's aggregation windows below the
	// aggregator's, as AWS bounds them at 60 s at interfaces of instances
	// built on the Nitro System; zero for no bound of its own. An
	// interface keeps the window its first packet gave it.
	MaxWindow time.Duration
}

// Add counts a packet, unless the log does not capture its action.
func (a *Aggregator) Add(p Packet) {
	ns := p.Time.UnixNano()
	a.latest = max(a.latest, ns) // the capture's clock, whatever the log captures: windows close with time
	if !a.traffic.captures(p.Accept) {
		return
	}
	if p.Protocol != 6 && p.Protocol != 17 {
		p.SrcPort, p.DstPort = 0, 0
	}
	if !p.PktSrc.IsValid() {
		p.PktSrc = p.Src
	}
	if !p.PktDst.IsValid() {
		p.PktDst = p.Dst
	}
	k := key{p.InterfaceID, p.PktSrc, p.PktDst, p.SrcPort, p.DstPort, p.Protocol, p.Egress, p.Accept}
	i, ok := a.records[k]
	i -= a.base
	var w *ifaceWindows
	if ok {
		w = a.wins[i]
	} else {
		w = a.windowsOf(&p, ns)
	}
	a.saw(w, ns)
	if ok && (ns-a.first[i] >= w.window || ns < a.first[i]) {
		ok = false // the window has closed: the next record starts here
	}
	if !ok {
		i = len(a.out)
		a.records[k] = a.base + i
		a.out = append(a.out, Record{AccountID: p.AccountID, InterfaceID: p.InterfaceID, Src: p.Src, Dst: p.Dst,
			SrcPort: p.SrcPort, DstPort: p.DstPort, Protocol: p.Protocol, Start: p.Time.Unix(), Accept: p.Accept,
			VpcID: p.VpcID, SubnetID: p.SubnetID, InstanceID: p.InstanceID, Region: p.Region, AZID: p.AZID,
			PktSrc: p.PktSrc, PktDst: p.PktDst, Egress: p.Egress, InVPC: p.InVPC, TrafficPath: p.TrafficPath})
		a.first = append(a.first, ns)
		a.keys = append(a.keys, k)
		a.wins = append(a.wins, w)
	}
	r := &a.out[i]
	r.Packets++
	r.Bytes += uint64(p.Bytes)
	if p.Protocol == 6 {
		r.TCPFlags |= recordedFlags(p.TCPFlags)
	}
	if s := p.Time.Unix(); s > r.End {
		r.End = s
	}
	if s := p.Time.Unix(); s < r.Start {
		r.Start = s
	}
}

// Advance tells the aggregator that the capture has reached t, as a
// packet at an interface the log does not cover, or that it does not
// capture, would: windows close with the capture's time, and at the end
// an interface's quiet windows up to the capture's last frame are NODATA
// records.
func (a *Aggregator) Advance(t time.Time) {
	a.latest = max(a.latest, t.UnixNano())
}

// windowsOf returns the windows of p's interface, starting them at ns
// if the log has captured nothing there before.
func (a *Aggregator) windowsOf(p *Packet, ns int64) *ifaceWindows {
	w := a.ifaces[p.InterfaceID]
	if w == nil {
		win := a.window
		if p.MaxWindow > 0 {
			win = min(win, int64(p.MaxWindow))
		}
		w = &ifaceWindows{at: ns, window: win, id: Record{AccountID: p.AccountID, InterfaceID: p.InterfaceID,
			VpcID: p.VpcID, SubnetID: p.SubnetID, InstanceID: p.InstanceID, Region: p.Region, AZID: p.AZID, NoData: true}}
		a.ifaces[p.InterfaceID] = w
		a.ifaceOrder = append(a.ifaceOrder, w)
	}
	return w
}

// saw notes that the log captured a packet at time ns at the interface
// whose windows w are.
func (a *Aggregator) saw(w *ifaceWindows, ns int64) {
	if ns < w.at {
		return // before the log's first packet here: no window of its own
	}
	g := (ns - w.at) / w.window
	if g < w.next {
		return // a window closed already: the packet is a window late
	}
	if g-w.next >= 64 {
		a.close(w, g-63) // windows long past, to make room
	}
	w.seen |= 1 << (g - w.next)
}

// close closes the interface's windows before window end, adding a
// NODATA record for each that captured nothing.
func (a *Aggregator) close(w *ifaceWindows, end int64) {
	most := max(1, int64(NoDataSpan)/w.window)
	for ; w.next < end; w.next++ {
		switch {
		case w.seen&1 != 0:
			w.quiet = 0
		case w.quiet >= most:
			if w.seen == 0 {
				w.next = end // quiet to the end, and past the bound
				return
			}
		default:
			w.quiet++
			start := w.at + w.next*w.window
			r := w.id
			r.Start, r.End = floorSeconds(start), floorSeconds(start+w.window-1)
			a.nodata = append(a.nodata, noData{start, r})
		}
		w.seen >>= 1
	}
}

// closeWindows closes every interface's windows that no packet can count
// in any more: those that ended a whole window before the latest packet,
// as for records; or, at the end of the capture (final), every window
// that ended by the latest packet.
func (a *Aggregator) closeWindows(final bool) {
	n := len(a.nodata)
	for _, w := range a.ifaceOrder {
		if a.latest < w.at {
			continue
		}
		end := (a.latest-w.at)/w.window - 1
		if final {
			end++ // the capture is over: every window that ended by its last packet
		}
		a.close(w, end)
	}
	if len(a.nodata) > n {
		// Interface by interface, each in window order: merge them.
		slices.SortStableFunc(a.nodata, func(x, y noData) int { return cmp.Compare(x.first, y.first) })
	}
}

// floorSeconds is Unix seconds, rounded down also before 1970.
func floorSeconds(ns int64) int64 {
	s := ns / 1e9
	if ns%1e9 < 0 {
		s--
	}
	return s
}

// recordedFlags is what tcp-flags shows of a packet's flags: FIN, SYN and
// RST, and ACK only beside SYN (SYN-ACK is 18); ACK, PSH and the rest
// alone show as 0.
func recordedFlags(flags uint8) uint8 {
	const fin, syn, rst, ack = 0x01, 0x02, 0x04, 0x10
	f := flags & (fin | syn | rst)
	if flags&(syn|ack) == syn|ack {
		f |= ack
	}
	return f
}

// Records returns the records not yet written, in the order their
// windows opened. NODATA records are among them once their windows have
// closed (see [Aggregator.WriteClosed] and [Aggregator.Write]).
func (a *Aggregator) Records() []Record {
	return a.sorted(len(a.out), len(a.nodata))
}

// sorted returns the first n records and the first m NODATA records, in
// the order their windows opened; a record before a NODATA record whose
// window opened at the same moment.
func (a *Aggregator) sorted(n, m int) []Record {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(a.first[x], a.first[y]) })
	out := make([]Record, 0, n+m)
	j := 0
	for _, i := range idx {
		for ; j < m && a.nodata[j].first < a.first[i]; j++ {
			out = append(out, a.nodata[j].rec)
		}
		out = append(out, a.out[i])
	}
	for _, nd := range a.nodata[j:m] {
		out = append(out, nd.rec)
	}
	return out
}

// WriteClosed writes the header line (once) and the records that no
// packet can add to any more: those whose window closed a whole window
// before the latest packet seen, so that packets up to a window out of
// order still count; and the NODATA records of interfaces' windows that
// closed as long ago with nothing captured. It keeps the order of Write:
// by window opening.
func (a *Aggregator) WriteClosed(w io.Writer) error {
	a.closeWindows(false)
	cutoff := a.latest - 2*a.window
	n := 0
	for n < len(a.out) && a.first[n] <= cutoff {
		n++
	}
	m := 0
	for m < len(a.nodata) && a.nodata[m].first <= cutoff {
		m++
	}
	return a.write(w, n, m)
}

// Write writes the header line (unless WriteClosed did) and every record
// not yet written, the capture having ended: each interface's windows
// that captured nothing, from its first packet until the latest packet,
// are NODATA records.
func (a *Aggregator) Write(w io.Writer) error {
	a.closeWindows(true)
	return a.write(w, len(a.out), len(a.nodata))
}

// write writes the first n records and the first m NODATA records, and
// forgets them.
func (a *Aggregator) write(w io.Writer, n, m int) error {
	if !a.header {
		if _, err := fmt.Fprintln(w, a.format.Header()); err != nil {
			return err
		}
		a.header = true
	}
	if n+m == 0 {
		return nil
	}
	var line []byte
	for _, r := range a.sorted(n, m) {
		if a.ranges != nil && !r.NoData {
			r.PktSrcAWSService, r.PktDstAWSService = a.ranges.Service(r.pktSrc()), a.ranges.Service(r.pktDst())
		}
		line = append(r.AppendFormat(line[:0], a.format), '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	a.nodata = dropFront(a.nodata, m)
	for j, k := range a.keys[:n] {
		if a.records[k] == a.base+j {
			delete(a.records, k)
		}
	}
	a.out, a.first, a.keys, a.wins = dropFront(a.out, n), dropFront(a.first, n), dropFront(a.keys, n), dropFront(a.wins, n)
	a.base += n
	return nil
}

// dropFront removes s's first n elements in place, clearing the ones
// left behind so that they hold nothing alive.
func dropFront[T any](s []T, n int) []T {
	k := copy(s, s[n:])
	clear(s[k:])
	return s[:k]
}
