package replay

import (
	"fmt"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
)

// MirrorSummary is what the traffic mirror sessions made of a replay's
// frames (with Options.Mirror).
type MirrorSummary struct {
	// Sessions are the bound sessions, by source and session number, with
	// the frames each copied.
	Sessions []SessionCounts
	// Sources are the sessions' source interfaces, with what became of
	// the frames that passed them.
	Sources []SourceCounts
	// Copies counts the capture's VXLAN copies (Options.VXLAN);
	// Unexpected those that AWS would not have made with these files: a
	// copy of a frame the source refused, or that its filter leaves out,
	// or from no session of the files. Each is a sign that the files are
	// not those of the capture's time. The first MaxUnexpectedCopies are
	// kept in UnexpectedCopies.
	Copies, Unexpected int
	UnexpectedCopies   []UnexpectedCopy
	// Rules are the sessions' filters' rules, filter by filter, with the
	// frames each decided: those it matched first, copied or not. A rule
	// that decided nothing may be worth a look, as an unused security
	// group rule is.
	Rules []FilterRuleCounts
	// Wrapped counts the copies of the files' sessions judged as they are,
	// without Options.VXLAN: as AWS judges copies, past their source's
	// security groups ([eni.Packet.MirrorCopy]); the frames inside them go
	// unjudged.
	Wrapped int
}

// FilterRuleCounts is one filter rule and the frames it decided.
type FilterRuleCounts struct {
	Filter    string
	Direction eni.Direction // Inbound: an ingress rule
	Rule      mirror.Rule
	Frames    int
}

// MaxUnexpectedCopies bounds the unexpected copies a summary keeps.
const MaxUnexpectedCopies = 20

// SessionCounts are the frames one session copied, by direction at its
// source (eni.Inbound: the source received them).
type SessionCounts struct {
	Session mirror.Session
	Target  mirror.Target
	Frames  [2]int
	// Bytes are what the copies bring the target: each mirrored frame (its
	// IP packet behind an Ethernet header), cut to the session's
	// PacketLength, behind the copy's own Ethernet, IPv4, UDP and VXLAN
	// headers (CopyOverhead).
	Bytes [2]uint64
}

// SourceCounts are what became of the frames that passed one session
// source, by direction: copied by a session; refused at the source, or
// before they reached it (AWS copies only what the source lets through);
// chosen by no session's filter; traffic AWS never mirrors.
type SourceCounts struct {
	Interface                           *eni.Interface
	Copied, Dropped, NotSelected, Never [2]int
}

// UnexpectedCopy is a VXLAN copy in the capture that AWS would not have
// made with these files, and why.
type UnexpectedCopy struct {
	Frame int
	// Session is the session the copy came from, by its outer source and
	// VXLAN network identifier, or nil when no session of the files
	// matches them.
	Session *mirror.Session
	Header  eni.VXLANHeader
	Why     string
}

// mirrorCounts keeps a MirrorSummary as frames are judged. Its sessions
// are the set's, in the set's order, so that a decision's session index
// finds its counts.
type mirrorCounts struct {
	sum MirrorSummary
	// rulesAt gives, by session index and direction, where the session's
	// filter's rules of that direction start in sum.Rules.
	rulesAt  [][2]int
	bySource []int32 // Sources' index plus one, by eni.Interface.Index; 0: none yet
}

func newMirrorCounts(set *mirror.Set) *mirrorCounts {
	m := &mirrorCounts{}
	filters := map[string][2]int{} // a filter's rules' places, for the sessions that share it
	for _, s := range set.Sessions() {
		t, _ := set.TargetOf(s.ID)
		m.sum.Sessions = append(m.sum.Sessions, SessionCounts{Session: s, Target: t})
		at, ok := filters[s.Filter]
		if !ok {
			f, _ := set.FilterOf(s.ID)
			for dir, rules := range [2][]mirror.Rule{eni.Inbound: f.Ingress, eni.Outbound: f.Egress} {
				at[dir] = len(m.sum.Rules)
				for _, r := range rules {
					m.sum.Rules = append(m.sum.Rules, FilterRuleCounts{Filter: f.ID, Direction: eni.Direction(dir), Rule: r})
				}
			}
			filters[s.Filter] = at
		}
		m.rulesAt = append(m.rulesAt, at)
	}
	return m
}

// mirrorFrame decides what the sessions copied of a judged frame, ties a
// VXLAN copy to its session, and counts both. hdr is the copy's outer
// packet when the frame was one.
func (r *Replayer) mirrorFrame(res *Result, hdr eni.VXLANHeader) {
	set := r.opts.Mirror
	if res.mirrorBuf == nil {
		res.mirrorBuf = new([mirror.MaxDecisions]mirror.Decision)
	}
	res.Mirror = set.Decide(&res.Path, res.mirrorBuf[:0])
	res.Copy, res.CopyMismatch = nil, ""
	m := r.mirror
	for k := range res.Mirror {
		d := &res.Mirror[k]
		sc := m.source(d.Source)
		tries := d.Tries()
		for _, t := range tries {
			if t.RuleIndex >= 0 {
				m.sum.Rules[m.rulesAt[t.SessionIndex][d.Direction]+t.RuleIndex].Frames++
			}
		}
		switch d.Outcome {
		case mirror.Mirrored:
			sc.Copied[d.Direction]++
			ses := &m.sum.Sessions[tries[len(tries)-1].SessionIndex] // the last session tried copied it
			ses.Frames[d.Direction]++
			ses.Bytes[d.Direction] += copyBytes(res.Path.Packet.Length, d.Session.PacketLength)
		case mirror.Dropped:
			sc.Dropped[d.Direction]++
		case mirror.NotSelected:
			sc.NotSelected[d.Direction]++
		case mirror.NeverMirrored:
			sc.Never[d.Direction]++
		}
	}
	if res.Path.Packet.MirrorCopy {
		m.sum.Wrapped++
		res.Copy = set.CopyOf(r.net, hdr.Src, hdr.VNI)
		return
	}
	if !res.Unwrapped || !r.opts.VXLAN {
		return
	}
	m.sum.Copies++
	res.Copy = set.CopyOf(r.net, hdr.Src, hdr.VNI)
	switch {
	case res.Path.Packet.Status != eni.Decoded:
		return // nothing to compare: the copy's own frame is not IP
	case res.Copy == nil:
		res.CopyMismatch = fmt.Sprintf("no session of the files sends copies from %s with VXLAN network identifier %d", hdr.Src, hdr.VNI)
	default:
		if ok, why := mirror.Made(res.Copy, res.Mirror); !ok {
			res.CopyMismatch = why
		}
	}
	if res.CopyMismatch != "" {
		m.sum.Unexpected++
		if len(m.sum.UnexpectedCopies) < MaxUnexpectedCopies {
			m.sum.UnexpectedCopies = append(m.sum.UnexpectedCopies, UnexpectedCopy{Frame: res.Frame.Number, Session: res.Copy,
				Header: hdr, Why: res.CopyMismatch})
		}
	}
}

// source returns the counts of a session source.
func (m *mirrorCounts) source(i *eni.Interface) *SourceCounts {
	k := i.Index()
	for len(m.bySource) <= k {
		m.bySource = append(m.bySource, 0)
	}
	if m.bySource[k] == 0 {
		m.sum.Sources = append(m.sum.Sources, SourceCounts{Interface: i})
		m.bySource[k] = int32(len(m.sum.Sources))
	}
	return &m.sum.Sources[m.bySource[k]-1]
}

// CopyOverhead is what a VXLAN copy adds to the mirrored frame: its own
// Ethernet (14), IPv4 (20), UDP (8) and VXLAN (8) headers. (AWS quotes 54
// bytes, the Ethernet trailer included.)
const CopyOverhead = 50

// copyBytes is the size of the copy of an IP packet of length n behind
// an Ethernet header, cut to packetLength when it is set.
func copyBytes(n uint32, packetLength int) uint64 {
	inner := uint64(n) + 14
	if packetLength > 0 && inner > uint64(packetLength) {
		inner = uint64(packetLength)
	}
	return inner + CopyOverhead
}
