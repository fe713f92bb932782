// Package replay runs a capture through a modelled VPC, frame by frame, in
// capture order and on the capture's clock, and keeps the figures a
// report needs: verdicts per interface, the refused flows, connection
// tracking peaks.
//
// Each frame is judged on the path AWS would take ([eni.Network.Judge]):
// the source interface's outbound check if the source address belongs to a
// modelled interface, the subnets' network ACLs it leaves and enters, and
// the destination interface's inbound check. A frame with no modelled
// interface or subnet on its path, or with no IP packet in it, is skipped.
//
// With traffic mirror sessions ([Options.Mirror]), each frame also says
// what the sessions on its path copied ([Result.Mirror]), the summary
// counts it ([MirrorSummary]), and a capture's VXLAN copies are tied to
// the sessions that sent them.
package replay

import (
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"net/netip"
	"runtime"
	"slices"
	"time"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

// Verdict is a frame's outcome. The zero value is Skip.
type Verdict uint8

const (
	Skip   Verdict = iota // not IP, or nothing modelled on its path
	Accept                // it reached its destination
	Reject                // a stage refused it
)

func (v Verdict) String() string {
	switch v {
	case Accept:
		return "ACCEPT"
	case Reject:
		return "REJECT"
	}
	return "SKIP"
}

// Result is the outcome for one frame. It is reused from frame to frame.
type Result struct {
	Frame     capture.Frame
	Verdict   Verdict
	Unwrapped bool // the frame was a VXLAN (Traffic Mirroring) copy, judged by its inner frame
	Path      eni.Path
	hash      uint64 // the packet's FlowHash
	// Outer is the outer packet of a VXLAN copy (Unwrapped), with
	// Options.Mirror.
	Outer eni.VXLANHeader
	// Mirror says, with Options.Mirror, what the traffic mirror sessions
	// copied of the frame at each session source on its path.
	Mirror []mirror.Decision
	// Copy is, for a VXLAN copy with Options.Mirror, the session that
	// sent it (nil when no session of the files did), and CopyMismatch
	// why AWS would not have made the copy with these files ("" when it
	// would have).
	Copy         *mirror.Session
	CopyMismatch string
	// mirrorBuf holds Mirror, made on first need: most replays have no
	// sessions, and a Result is kept small for the judging loop's cache.
	mirrorBuf *[mirror.MaxDecisions]mirror.Decision
}

// Options tune a replay.
type Options struct {
	// VXLAN unwraps VPC Traffic Mirroring copies (VXLAN, UDP 4789) and
	// judges the mirrored frame.
	VXLAN bool
	// Mirror, when not nil, is the traffic mirror sessions to judge each
	// frame by (Result.Mirror, Summary.Mirror): what they copy, and, with
	// VXLAN, whether the files account for each copy the capture holds.
	Mirror *mirror.Set
}

// Replayer replays captures through a network. It is not safe for
// concurrent use.
type Replayer struct {
	net  *eni.Network
	fc   *eni.FlowCache
	opts Options
	dec  *eni.Decoder
	res  Result
	sum  Summary
	// counts are the figures of each frame alone, kept by the judging
	// goroutine; Summary copies them into sum.
	counts frameCounts
	flow   map[flowKey]int
	mirror *mirrorCounts // with Options.Mirror
	// lastFlows remembers refused flows' places by flowKey.slot, in
	// front of flow.
	lastFlows [256]recentFlow

	// Run's batches of decoded frames (1.5 MB, made by the first Run,
	// so that a replayer used only through Judge goes without), and the
	// results it judges them into, a few at a time; reused from run to
	// run.
	batches *[batchCount]batch
	judged  [judgeSize]Result
	paths   [judgeSize]*eni.Path
}

// vxlanCopy is a VXLAN copy's frame number and outer packet.
type vxlanCopy struct {
	number int
	hdr    eni.VXLANHeader
}

// A batch is frames read and decoded together, handed from the reading
// goroutine to the judging one. It holds only what judging needs, not
// whole results, so that little memory passes between the two.
type batch struct {
	frames    [batchSize]capture.Frame // read into only when there is an fn to pass them to
	packets   [batchSize]eni.Packet
	times     [batchSize]time.Time // the frames' times, as JudgeEachHashed takes them
	hashes    [batchSize]uint64    // the packets' FlowHash, worked out on whichever goroutine has time for it
	hashed    bool                 // hashes are set
	unwrapped [batchSize]bool
	copies    *[batchSize]vxlanCopy // of the copies among the frames, with Options.Mirror (made with the batch then)
	data      []byte                // the frames' bytes, one after another, kept for fn while the reader moves on
	n         int
	err       error // the reader's, after the n frames
}

const (
	// batchSize is how many frames pass at once from reading to judging:
	// enough that waking the other goroutine costs little per frame.
	batchSize = 1024
	// batchBytes bounds the frames' bytes a batch keeps for fn: a capture
	// of 64 KB frames (a host's, with segmentation offload) fills a batch
	// with fewer of them.
	batchBytes = 1 << 20
	// batchCount is how many batches are in flight: enough that the
	// stages' differences from frame to frame even out, so that neither
	// waits for the other.
	batchCount = 8
	// judgeSize is how many frames are judged together: enough that
	// taking the network's evaluation lock costs little per frame, few
	// enough that the results stay in cache.
	judgeSize = 16
)

// New returns a replayer for the network.
func New(n *eni.Network, opts Options) *Replayer {
	r := &Replayer{net: n, fc: n.NewFlowCache(), opts: opts, dec: eni.NewDecoder(), flow: map[flowKey]int{}}
	if opts.Mirror != nil {
		r.mirror = newMirrorCounts(opts.Mirror)
	}
	for k := range r.judged {
		r.paths[k] = &r.judged[k].Path
	}
	return r
}

// Run judges every frame of the capture, calling fn (when not nil) with
// each result, in capture order; the result is valid only during the
// call. It returns fn's first error, or the reader's (a
// *capture.TruncatedError for a capture cut short, after every complete
// frame was judged), or nil at the end.
//
// Reading and decoding run on a goroutine of their own, up to eight
// thousand frames ahead of judging, which runs on the caller's: decoding
// is the larger part of a replay, and on a machine with a core to spare
// the frames are judged while the next ones are read. Judging stays in
// capture order on one goroutine, so the results are those of judging
// one frame at a time. The packets' hashes, which need nothing but the
// packet, are worked out by the reading goroutine unless free batches are
// waiting for it. Each frame is counted as it is judged: passing its
// verdict and interfaces back in the batch for the reading goroutine to
// count cost more, in stores to cache lines that goroutine's core had
// last read, than the counting. When fn fails, the few frames judged with
// its frame are counted in the summary but not passed to fn, and those
// read ahead are neither; Run returns once the reading goroutine has
// stopped, so the reader is the caller's again.
func (r *Replayer) Run(rd *capture.Reader, fn func(*Result) error) error {
	free := make(chan *batch, batchCount)
	full := make(chan *batch, batchCount) // room for every batch: sending never blocks
	stop := make(chan struct{})
	done := make(chan struct{})
	if r.batches == nil {
		r.batches = new([batchCount]batch)
		if r.mirror != nil {
			for k := range r.batches {
				r.batches[k].copies = new([batchSize]vxlanCopy)
			}
		}
	}
	for b := range r.batches {
		free <- &r.batches[b]
	}
	go func() {
		defer close(done)
		wait := newSpinner()
		for {
			select {
			case <-stop: // before another batch, though one is free
				return
			default:
			}
			b := wait.take(free, stop)
			if b == nil {
				return
			}
			// Other free batches waiting mean judging is ahead: it can
			// hash the packets itself.
			last := r.read(b, rd, fn != nil, len(free) == 0)
			full <- b
			if last {
				return
			}
		}
	}()
	// The reader and the batches are the reading goroutine's until it has
	// returned.
	defer func() {
		close(stop)
		<-done
	}()
	wait := newSpinner()
	for {
		b := wait.take(full, nil)
		if err := r.judge(b, fn); err != nil {
			return err
		}
		if err := b.err; err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		free <- b
	}
}

// A spinner is one of Run's goroutines waiting for batches: before it
// blocks, it looks again and again, yielding in between, up to its budget
// of looks. A goroutine that blocks leaves its thread asleep and its core
// idle, and waking them for the next batch is slow on a shared virtual
// machine, slow enough to stall the pipeline when the other goroutine is
// only a moment behind. But when the other goroutine's thread is not
// running at all (the host or other programs have the cores), looking
// only takes time from it: beside a program that kept one core busy, a
// replay that always looked took a fifth longer than one that blocked.
// So the budget follows what looking earned: it doubles when a batch came
// while looking, and halves when none did and the goroutine blocked all
// the same. Waiting on a slow reader (a pipe) costs a few looks per batch
// once the budget has fallen.
type spinner struct{ budget int }

const (
	// maxLooks is the most a spinner looks before blocking: about a
	// tenth of a millisecond.
	maxLooks = 1000
	// minLooks keeps a few looks, so that a budget that has fallen can
	// rise again when batches come quickly once more.
	minLooks = 8
)

func newSpinner() spinner { return spinner{budget: maxLooks} }

// take returns the next batch from ch, or nil once stop (which may be
// nil) is closed, looking up to the budget before it blocks.
func (s *spinner) take(ch <-chan *batch, stop <-chan struct{}) *batch {
	for k := range s.budget {
		select {
		case b := <-ch:
			s.found(k)
			return b
		case <-stop:
			return nil
		default:
			runtime.Gosched()
		}
	}
	s.blocked()
	select {
	case b := <-ch:
		return b
	case <-stop:
		return nil
	}
}

// found adjusts the budget for a batch found after looks fruitless
// looks: looking paid if there were any.
func (s *spinner) found(looks int) {
	if looks > 0 {
		s.budget = min(maxLooks, 2*s.budget)
	}
}

// blocked adjusts the budget for a wait that looking did not end.
func (s *spinner) blocked() { s.budget = max(minLooks, s.budget/2) }

// read reads and decodes up to a batch of frames into b, keeping a copy
// of each frame's bytes when keep is set and working out the packets'
// hashes when hash is. It reports whether the reader failed (io.EOF at
// the end), after the frames in b.
func (r *Replayer) read(b *batch, rd *capture.Reader, keep, hash bool) (failed bool) {
	b.n, b.err, b.data, b.hashed = 0, nil, b.data[:0], hash
	// Without fn, judging needs the frames' times only: the frames are
	// read into one place, so that the batch's frames stay out of cache.
	var scratch capture.Frame
	// The batch's memory was last read by the judging goroutine, on
	// another core: each first store to one of its cache lines waits for
	// that core to give the line up, and the stores behind it wait too,
	// since stores complete in order. Decoding a frame stores often, so
	// frames are decoded here, in memory of this goroutine's own, and
	// copied into the batch a few at a time: one copy's stores wait for
	// their lines together instead of one frame's decoding at a time.
	var pend pendingFrames
	// The replayer's fields this loop reads, read once: its counts, which
	// the judging goroutine writes on every frame, may share their cache
	// lines, and each read would take a line back from that core.
	dec, vxlan, mirrored := r.dec, r.opts.VXLAN, r.mirror != nil
	for b.n+pend.n < batchSize && len(b.data) < batchBytes {
		f := &scratch
		if keep {
			f = &b.frames[b.n+pend.n]
		}
		if err := rd.ReadFrame(f); err != nil {
			pend.flush(b)
			b.err = err
			return true
		}
		if keep {
			// The reader reuses its buffer; fn may look at the bytes. Once
			// the batch's buffer has grown, a copy is an append in place;
			// frames kept from before a growth keep the old buffer.
			at := len(b.data)
			b.data = append(b.data, f.Data...)
			f.Data = b.data[at:len(b.data):len(b.data)]
		}
		k := pend.n
		p := &pend.packets[k]
		pend.unwrapped[k] = capture.Decode(dec, f, vxlan, p)
		if mirrored {
			if pend.unwrapped[k] {
				b.copies[b.n+k] = vxlanCopy{f.Number, dec.VXLAN()}
			} else if h, ok := r.copyOf(p); ok {
				b.copies[b.n+k] = vxlanCopy{f.Number, h}
			}
		}
		pend.times[k] = f.Time
		if hash {
			pend.hashes[k] = p.FlowHash()
		}
		if pend.n++; pend.n == pendingSize {
			pend.flush(b)
		}
	}
	pend.flush(b)
	return false
}

// pendingSize is how many decoded frames read keeps before it copies them
// into the batch.
const pendingSize = 16

// pendingFrames are the frames read has decoded and not yet copied into
// their batch.
type pendingFrames struct {
	packets   [pendingSize]eni.Packet
	times     [pendingSize]time.Time
	hashes    [pendingSize]uint64
	unwrapped [pendingSize]bool
	n         int
}

// flush copies the pending frames to the end of the batch.
func (pend *pendingFrames) flush(b *batch) {
	n := pend.n
	copy(b.packets[b.n:b.n+n], pend.packets[:n])
	copy(b.times[b.n:b.n+n], pend.times[:n])
	if b.hashed {
		copy(b.hashes[b.n:b.n+n], pend.hashes[:n])
	}
	copy(b.unwrapped[b.n:b.n+n], pend.unwrapped[:n])
	b.n += n
	pend.n = 0
}

// copyOf reports whether p, just decoded and not unwrapped, is a VXLAN
// copy that one of the sessions sends, and marks it so: it is judged as
// AWS judges copies, past its source's groups.
func (r *Replayer) copyOf(p *eni.Packet) (eni.VXLANHeader, bool) {
	h, ok := r.dec.VXLANOf(p)
	if !ok || r.opts.Mirror.CopyOf(r.net, h.Src, h.VNI) == nil {
		return eni.VXLANHeader{}, false
	}
	p.MirrorCopy = true
	return h, true
}

// judge judges the batch's frames, a few at a time, counting each and
// passing it to fn (when not nil). It returns fn's first error.
func (r *Replayer) judge(b *batch, fn func(*Result) error) error {
	if !b.hashed {
		for k := range b.n {
			b.hashes[k] = b.packets[k].FlowHash()
		}
		b.hashed = true
	}
	for at := 0; at < b.n; at += judgeSize {
		n := min(judgeSize, b.n-at)
		for k := range n {
			res := &r.judged[k]
			if fn != nil {
				res.Frame = b.frames[at+k]
			} else {
				res.Frame.Time = b.times[at+k]
			}
			res.Unwrapped, res.Path.Packet, res.hash = b.unwrapped[at+k], b.packets[at+k], b.hashes[at+k]
			if r.mirror != nil && (res.Unwrapped || res.Path.Packet.MirrorCopy) {
				c := &b.copies[at+k]
				res.Frame.Number, res.Outer = c.number, c.hdr
			}
		}
		r.fc.JudgeEachHashed(r.paths[:n], b.times[at:at+n], b.hashes[at:at+n])
		for k := range n {
			res := &r.judged[k]
			r.finish(res)
			if fn == nil {
				continue
			}
			if err := fn(res); err != nil {
				for j := k + 1; j < n; j++ {
					r.finish(&r.judged[j])
				}
				return err
			}
		}
	}
	return nil
}

// Judge decodes and judges one frame and returns the result, which is
// valid until the next call. It allocates nothing once the replay's tables
// have grown.
func (r *Replayer) Judge(f *capture.Frame) *Result {
	res := &r.res
	r.decode(res, f)
	r.fc.JudgeIntoHashed(&res.Path.Packet, f.Time, &res.Path, res.hash)
	r.finish(res)
	return res
}

// decode starts res for frame f, decoding it straight into the path,
// which then need not copy it.
func (r *Replayer) decode(res *Result, f *capture.Frame) {
	res.Frame = *f
	res.Unwrapped = capture.Decode(r.dec, f, r.opts.VXLAN, &res.Path.Packet)
	if res.Unwrapped {
		res.Outer = r.dec.VXLAN()
	} else if r.mirror != nil {
		if h, ok := r.copyOf(&res.Path.Packet); ok {
			res.Outer = h
		}
	}
	res.hash = res.Path.Packet.FlowHash()
}

// finish gives a judged result its verdict and counts it.
func (r *Replayer) finish(res *Result) {
	res.Verdict = verdictOf(&res.Path)
	p := &res.Path
	r.counts.add(res.Frame.Time, res.Unwrapped, p.Packet.Status == eni.NotIP, res.Verdict, p.Src, p.Dst, viasOf(p))
	r.countFlow(res)
	if r.mirror != nil {
		r.mirrorFrame(res, res.Outer)
	}
}

// countFlow counts a refused frame's flow, or a skipped frame's
// addresses, in capture order.
func (r *Replayer) countFlow(res *Result) {
	switch res.Verdict {
	case Reject:
		r.countRefused(res)
	case Skip:
		r.countSkipped(res)
	}
}

func verdictOf(p *eni.Path) Verdict {
	switch {
	case p.Skip():
		return Skip
	case p.Action == eni.Allow: // not Allowed(): it copies the whole path
		return Accept
	}
	return Reject
}

// Summary returns the figures so far.
func (r *Replayer) Summary() *Summary {
	s := &r.sum
	c := &r.counts
	s.Frames, s.Accepted, s.Rejected, s.Skipped = c.frames, c.accepted, c.rejected, c.skipped
	s.NotIP, s.Unwrapped, s.First, s.Last = c.notIP, c.unwrapped, c.first, c.last
	if r.mirror != nil {
		s.Mirror = &r.mirror.sum
	}
	s.Interfaces = s.Interfaces[:0]
	for _, i := range r.net.Interfaces() {
		c := InterfaceCounts{Interface: i}
		if k := i.Index(); k < len(r.counts.ifaces) && r.counts.ifaces[k].Interface == i {
			c = r.counts.ifaces[k]
		}
		st := i.Stats()
		c.TrackedPeak, c.TableFull = st.Tracking.Peak, st.Tracking.Exceeded
		c.Opened, c.IdledOut = st.Tracking.Created, st.IdledOut
		s.Interfaces = append(s.Interfaces, c)
	}
	return s
}

// Summary holds a replay's figures.
type Summary struct {
	Frames, Accepted, Rejected, Skipped int
	NotIP, Unwrapped                    int
	// Malformed counts the frames skipped because their headers do not
	// decode: corrupt, or cut by the capture's snapshot length.
	Malformed   int
	First, Last time.Time
	Interfaces  []InterfaceCounts
	// Mirror is what the traffic mirror sessions copied, with
	// Options.Mirror; nil without.
	Mirror *MirrorSummary
	// OtherRejected counts refused frames of flows beyond the first
	// MaxRejectedFlows distinct ones, which are not kept one by one.
	OtherRejected int
	flows         []RejectedFlow
	// skipped counts, for the IP frames skipped, each address they named
	// (the first MaxSkippedAddrs distinct ones).
	skipped map[netip.Addr]int
}

// MaxSkippedAddrs bounds the distinct addresses of skipped frames a
// summary counts.
const MaxSkippedAddrs = 10_000

// SkippedAddr is an address that skipped frames named, and how many did.
type SkippedAddr struct {
	Addr   netip.Addr
	Frames int
}

// SkippedAddrs returns the addresses that IP frames skipped for want of
// any modelled interface or subnet named, most frames first: what tells a
// capture and a configuration of different networks apart.
func (s *Summary) SkippedAddrs() []SkippedAddr {
	out := make([]SkippedAddr, 0, len(s.skipped))
	for a, n := range s.skipped {
		out = append(out, SkippedAddr{a, n})
	}
	slices.SortFunc(out, func(x, y SkippedAddr) int {
		if x.Frames != y.Frames {
			return y.Frames - x.Frames
		}
		return x.Addr.Compare(y.Addr)
	})
	return out
}

// countSkipped counts the addresses of a skipped IP frame.
func (r *Replayer) countSkipped(res *Result) {
	p := &res.Path.Packet
	if p.Status == eni.Malformed {
		r.sum.Malformed++
	}
	if p.Status != eni.Decoded {
		return
	}
	if r.sum.skipped == nil {
		r.sum.skipped = map[netip.Addr]int{}
	}
	for _, a := range [2]netip.Addr{p.Src, p.Dst} {
		if _, ok := r.sum.skipped[a]; ok || len(r.sum.skipped) < MaxSkippedAddrs {
			r.sum.skipped[a]++
		}
	}
}

// frameCounts are the figures that each frame adds to on its own,
// whatever came before it.
type frameCounts struct {
	frames, accepted, rejected, skipped int
	notIP, unwrapped                    int
	first, last                         time.Time
	firstNs, lastNs                     int64
	ifaces                              []InterfaceCounts // by Interface.Index
}

// add counts a frame of time t with verdict v, leaving the interface
// src and entering dst (either may be nil).
func (c *frameCounts) add(t time.Time, unwrapped, notIP bool, v Verdict, src, dst *eni.Interface, vias [2]*eni.Interface) {
	c.frames++
	// Compare nanoseconds: time.Time's Before and After cost several
	// integer compares each, on every frame.
	if ns := t.UnixNano(); c.frames == 1 || ns < c.firstNs {
		c.first, c.firstNs = t, ns
		if c.frames == 1 {
			c.last, c.lastNs = t, ns
		}
	} else if ns > c.lastNs {
		c.last, c.lastNs = t, ns
	}
	if unwrapped {
		c.unwrapped++
	}
	switch v {
	case Skip:
		c.skipped++
		if notIP {
			c.notIP++
		}
		return
	case Accept:
		c.accepted++
	case Reject:
		c.rejected++
	}
	accept := v == Accept
	if src != nil {
		n := c.iface(src)
		if accept {
			n.OutAccepted++
		} else {
			n.OutRejected++
		}
	}
	if dst != nil {
		n := c.iface(dst)
		if accept {
			n.InAccepted++
		} else {
			n.InRejected++
		}
	}
	for k := 0; k < len(vias) && vias[k] != nil; k++ {
		via := vias[k]
		// An appliance's frames go in and out again: counted both ways,
		// by the frame's verdict.
		n := c.iface(via)
		if accept {
			n.InAccepted++
			n.OutAccepted++
		} else {
			n.InRejected++
			n.OutRejected++
		}
	}
}

// viasOf returns the appliances on a path, as the counts take them.
func viasOf(p *eni.Path) (v [2]*eni.Interface) {
	switch vs := p.Vias(); len(vs) { // not copy: a typed copy of pointers costs more than two stores
	case 2:
		v[1] = vs[1]
		fallthrough
	case 1:
		v[0] = vs[0]
	}
	return v
}

// InterfaceCounts are one interface's frames by direction and verdict.
type InterfaceCounts struct {
	Interface                *eni.Interface
	InAccepted, InRejected   int
	OutAccepted, OutRejected int
	TrackedPeak              int
	TableFull                uint64
	Opened                   uint64 // tracked connections opened
	IdledOut                 uint64 // packets refused once their connection had idled out (eni.Stats.IdledOut)
}

// MaxRejectedFlows bounds the distinct refused flows a summary keeps.
const MaxRejectedFlows = 100_000

// RejectedFlow is a refused flow: frames with the same addresses,
// protocol and destination port refused at the same stage for the same
// reason.
type RejectedFlow struct {
	Src, Dst netip.Addr
	Proto    uint8
	// DstPort is the destination port for TCP and UDP, type<<8|code for
	// ICMP and ICMPv6 (as the rules match them), 0 for other protocols.
	DstPort     uint16
	Stage       eni.Stage // the first refusal, as of the flow's first frame
	Also        int       // how many later stages would refuse it too
	Frames      int
	First, Last time.Time
}

// recentFlow is a refused flow's place in Summary.flows, by its key.
type recentFlow struct {
	key flowKey
	k   int
	set bool
}

type flowKey struct {
	src, dst netip.Addr
	dport    uint16
	proto    uint8
	stage    eni.StageKind
	iface    *eni.Interface // the refusing interface, or
	acl      *nacl.ACL      // ACL: pointers hash faster than their IDs
	reason   eni.Reason
	entry    int
}

// slot is a cheap hash of the key's addresses, port and protocol, for
// Replayer.lastFlows. Not the packet's hash, which differs with the
// source port: most of a refused flow's frames are new attempts from new
// ports.
func (k *flowKey) slot() uint64 {
	s, d := k.src.As16(), k.dst.As16()
	a := binary.LittleEndian.Uint64(s[8:]) ^ binary.LittleEndian.Uint64(s[:8])*0x9e3779b97f4a7c15
	b := binary.LittleEndian.Uint64(d[8:]) ^ binary.LittleEndian.Uint64(d[:8])*0xc2b2ae3d27d4eb4f
	hi, lo := bits.Mul64(a^uint64(k.dport)<<48^uint64(k.proto)<<40^uint64(k.stage)<<32, b^0xa0761d6478bd642f)
	return hi ^ lo
}

// countRefused counts a refused frame in its refused flow, in capture
// order: a flow's first frame sets its stage and times.
func (r *Replayer) countRefused(res *Result) {
	s := &r.sum
	t := res.Frame.Time
	stages := res.Path.Stages()
	first := -1
	also := 0
	for k := range stages { // by index: a Stage is large to copy
		if !stages[k].Allowed {
			if first < 0 {
				first = k
			} else {
				also++
			}
		}
	}
	st := &stages[first]
	p := &res.Path.Packet
	// The flow's key within its protocol, as rules see it: the destination
	// port, or the ICMP type and code.
	fk := flowKey{src: p.Src, dst: p.Dst, dport: sg.Key(p.Proto, p.DstPort, p.ICMPType, p.ICMPCode), proto: p.Proto, stage: st.Kind}
	if st.ACL != nil {
		fk.acl, fk.entry = st.ACL, st.ACLResult.RuleNumber
	} else if st.Verdict.Interface != nil {
		fk.iface, fk.reason = st.Verdict.Interface, st.Verdict.Reason
	}
	// A refused flow's frames come again and again (retries, scans of
	// one port): a small table answers most of them without hashing the
	// whole key for the map.
	m := &r.lastFlows[fk.slot()&uint64(len(r.lastFlows)-1)]
	k, ok := m.k, m.set && m.key == fk
	if !ok {
		k, ok = r.flow[fk]
		if ok {
			*m = recentFlow{key: fk, k: k, set: true}
		}
	}
	if !ok && len(s.flows) >= MaxRejectedFlows {
		s.OtherRejected++ // a scan of the whole internet must not take all memory
		return
	}
	if !ok {
		k = len(s.flows)
		r.flow[fk] = k
		s.flows = append(s.flows, RejectedFlow{Src: p.Src, Dst: p.Dst, Proto: p.Proto, DstPort: fk.dport, Stage: *st,
			Also: also, First: t})
		*m = recentFlow{key: fk, k: k, set: true}
	}
	f := &s.flows[k]
	f.Frames++
	f.Last = t
}

// iface returns the interface's counters, indexed by Interface.Index.
func (c *frameCounts) iface(i *eni.Interface) *InterfaceCounts {
	k := i.Index()
	if k < len(c.ifaces) && c.ifaces[k].Interface == i {
		return &c.ifaces[k]
	}
	for len(c.ifaces) <= k {
		c.ifaces = append(c.ifaces, InterfaceCounts{})
	}
	n := &c.ifaces[k]
	n.Interface = i
	return n
}

// RejectedFlows returns the refused flows, most frames first.
func (s *Summary) RejectedFlows() []RejectedFlow {
	out := slices.Clone(s.flows)
	slices.SortStableFunc(out, func(a, b RejectedFlow) int { return b.Frames - a.Frames })
	return out
}
