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
// Records are written in the order their windows opened, a window after
// they close when written as the capture goes; AWS, too, publishes a
// record once its window has closed.
//
// A [Format] writes custom records instead, with fields of versions 2 to
// 10 as create-flow-logs --log-format names them ([ParseFormat]); records
// carry the version of the format's newest field. Fields for what sgsim
// does not model (AWS service address ranges, routes out of the VPC,
// Local Zones and Outposts, ECS, Block Public Access, encryption) are "-",
// AWS's mark for a value not computed.
package flowlog

import (
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
	window  int64       // nanoseconds
	records map[key]int // the flow's open record: base + its place in out
	out     []Record    // records not yet written, in the order their windows opened
	first   []int64     // first packet time of each record: its window opens then
	keys    []key       // each record's key, to forget it once written
	base    int         // how many records were written before out[0]
	header  bool        // the header line was written
	latest  int64       // the latest packet time seen
	format  Format
	traffic TrafficType
}

// NewAggregator returns an aggregator with the given aggregation window
// (AWS: 60 s or 600 s; Nitro instances always 60 s or less).
func NewAggregator(window time.Duration) *Aggregator {
	if window <= 0 {
		window = time.Minute
	}
	return &Aggregator{window: int64(window), records: map[key]int{}, format: DefaultFormat}
}

// SetFormat sets the fields records are written with; the default is
// [DefaultFormat]. Set it before writing: the header line names them.
func (a *Aggregator) SetFormat(f Format) { a.format = f }

// SetTrafficType sets what the log captures; the default is [TrafficAll].
// Packets of the other action are not recorded.
func (a *Aggregator) SetTrafficType(t TrafficType) { a.traffic = t }

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
}

// Add counts a packet, unless the log does not capture its action.
func (a *Aggregator) Add(p Packet) {
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
	ns := p.Time.UnixNano()
	a.latest = max(a.latest, ns)
	k := key{p.InterfaceID, p.PktSrc, p.PktDst, p.SrcPort, p.DstPort, p.Protocol, p.Egress, p.Accept}
	i, ok := a.records[k]
	i -= a.base
	if ok && (ns-a.first[i] >= a.window || ns < a.first[i]) {
		ok = false // the window has closed: the next record starts here
	}
	if !ok {
		i = len(a.out)
		a.records[k] = a.base + i
		a.out = append(a.out, Record{AccountID: p.AccountID, InterfaceID: p.InterfaceID, Src: p.Src, Dst: p.Dst,
			SrcPort: p.SrcPort, DstPort: p.DstPort, Protocol: p.Protocol, Start: p.Time.Unix(), Accept: p.Accept,
			VpcID: p.VpcID, SubnetID: p.SubnetID, InstanceID: p.InstanceID, Region: p.Region, AZID: p.AZID,
			PktSrc: p.PktSrc, PktDst: p.PktDst, Egress: p.Egress, InVPC: p.InVPC})
		a.first = append(a.first, ns)
		a.keys = append(a.keys, k)
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
// windows opened.
func (a *Aggregator) Records() []Record {
	return a.sorted(len(a.out))
}

// sorted returns the first n records in the order their windows opened.
func (a *Aggregator) sorted(n int) []Record {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		switch {
		case a.first[x] < a.first[y]:
			return -1
		case a.first[x] > a.first[y]:
			return 1
		}
		return x - y
	})
	out := make([]Record, len(idx))
	for k, i := range idx {
		out[k] = a.out[i]
	}
	return out
}

// WriteClosed writes the header line (once) and the records that no
// packet can add to any more: those whose window closed a whole window
// before the latest packet seen, so that packets up to a window out of
// order still count. It keeps the order of Write: by window opening.
func (a *Aggregator) WriteClosed(w io.Writer) error {
	n := 0
	for n < len(a.out) && a.latest-a.first[n] >= 2*a.window {
		n++
	}
	return a.write(w, n)
}

// Write writes the header line (unless WriteClosed did) and every record
// not yet written.
func (a *Aggregator) Write(w io.Writer) error {
	return a.write(w, len(a.out))
}

// write writes the first n records and forgets them.
func (a *Aggregator) write(w io.Writer, n int) error {
	if !a.header {
		if _, err := fmt.Fprintln(w, a.format.Header()); err != nil {
			return err
		}
		a.header = true
	}
	if n == 0 {
		return nil
	}
	var line []byte
	for _, r := range a.sorted(n) {
		line = append(r.AppendFormat(line[:0], a.format), '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	for j, k := range a.keys[:n] {
		if a.records[k] == a.base+j {
			delete(a.records, k)
		}
	}
	m := copy(a.out, a.out[n:])
	clear(a.out[m:])
	a.out = a.out[:m]
	a.first = a.first[:copy(a.first, a.first[n:])]
	m = copy(a.keys, a.keys[n:])
	clear(a.keys[m:])
	a.keys = a.keys[:m]
	a.base += n
	return nil
}
