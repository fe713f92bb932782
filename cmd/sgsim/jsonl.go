package main

import (
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/replay"
	"github.com/sgsim/sgsim/sg"
)

// The JSON Lines shape is a contract: one object per frame, in capture
// order. Fields are only ever added.
type jsonFrame struct {
	Frame                int         `json:"frame"`
	Time                 time.Time   `json:"time"` // UTC
	Verdict              string      `json:"verdict"`
	Reason               string      `json:"reason"`
	Protocol             string      `json:"protocol,omitempty"`
	ProtocolNumber       *int        `json:"protocol_number,omitempty"`
	Src                  netip.Addr  `json:"src,omitzero"`
	Dst                  netip.Addr  `json:"dst,omitzero"`
	PublicSrc            netip.Addr  `json:"public_src,omitzero"` // the public address src stands for, translated by the internet gateway
	PublicDst            netip.Addr  `json:"public_dst,omitzero"`
	Hairpin              bool        `json:"hairpin,omitempty"` // from one interface to another's public address, out through the internet gateway and back: the source side saw public_dst, the destination side public_src
	SrcPort              *int        `json:"sport,omitempty"`
	DstPort              *int        `json:"dport,omitempty"`
	ICMPType             *int        `json:"icmp_type,omitempty"`
	ICMPCode             *int        `json:"icmp_code,omitempty"`
	TCPFlags             string      `json:"tcp_flags,omitempty"`
	Bytes                int         `json:"bytes,omitempty"`
	Mirrored             bool        `json:"mirrored,omitempty"`
	SourceInterface      string      `json:"source_interface,omitempty"`
	DestinationInterface string      `json:"destination_interface,omitempty"`
	ViaInterface         string      `json:"via_interface,omitempty"`  // the appliance a route sent the frame through (the first, when two)
	ViaInterfaces        []string    `json:"via_interfaces,omitempty"` // both appliances, in path order, when a route took the frame through two
	Balancer             string      `json:"balancer,omitempty"`       // the Network Load Balancer that took the frame to its target or back, keeping the client's address
	DecidedBy            *jsonStage  `json:"decided_by,omitempty"`
	Stages               []jsonStage `json:"stages,omitempty"`
	// With traffic mirror sessions in the configuration: what they made
	// of the frame at each session source on its path and, for a VXLAN
	// copy (mirrored), the session that sent it, its VXLAN network
	// identifier, and why AWS would not have made it with these files.
	MirrorCopies   []jsonMirror `json:"mirror_copies,omitempty"`
	MirrorCopy     bool         `json:"mirror_copy,omitempty"` // a copy judged as it is (not --vxlan): past its source's groups
	MirrorSession  string       `json:"mirror_session,omitempty"`
	MirrorVNI      *int         `json:"mirror_vni,omitempty"`
	MirrorMismatch string       `json:"mirror_mismatch,omitempty"`
}

// jsonMirror is what one session source made of a frame.
type jsonMirror struct {
	Interface   string `json:"interface"`
	Direction   string `json:"direction"`
	Result      string `json:"result"` // copied, dropped (refused at or before the source), not_selected, never_mirrored
	Session     string `json:"session,omitempty"`
	Target      string `json:"target,omitempty"`
	FilterRule  *int   `json:"filter_rule,omitempty"` // the filter rule that accepted it; absent for amazon-dns
	Explanation string `json:"explanation"`
}

type jsonStage struct {
	Stage         string    `json:"stage"`
	Interface     string    `json:"interface,omitempty"`
	ACL           string    `json:"acl,omitempty"`
	Subnet        string    `json:"subnet,omitempty"`
	RouteTable    string    `json:"route_table,omitempty"` // a route stage's table: a blackhole route's, one with no route, or one sending the source to an egress-only internet gateway
	Direction     string    `json:"direction"`
	Result        string    `json:"result"`
	Code          string    `json:"code"`
	Group         string    `json:"group,omitempty"`
	Rule          string    `json:"rule,omitempty"`
	RuleText      string    `json:"rule_text,omitempty"`
	ACLEntry      *int      `json:"acl_entry,omitempty"`
	ACLEntryText  string    `json:"acl_entry_text,omitempty"`
	Connection    *jsonConn `json:"connection,omitempty"`
	NewConnection bool      `json:"new_connection,omitempty"`
	Untracked     bool      `json:"untracked,omitempty"`
	Service       string    `json:"service,omitempty"`
	NotReached    bool      `json:"not_reached,omitempty"`
	IdledOut      bool      `json:"idled_out,omitempty"` // refused: connection is the one the packet belonged to until it went idle past its timeout
	Explanation   string    `json:"explanation"`
}

type jsonConn struct {
	State    string `json:"state"`
	OpenedBy string `json:"opened"`
	Since    string `json:"since"`
}

type jsonl struct {
	w   io.Writer
	buf []byte
	// Sentences and rule texts that depend only on the configuration,
	// which does not change during a replay: every packet of a flow
	// repeats them, and making them is most of the cost of a line.
	rules   map[sg.RuleRef]ruleTexts
	acls    map[aclKey]aclTexts
	allowed map[allowKey]string
	// What a frame's object points to, reused from frame to frame: each
	// object is written before the next is built.
	nums   [12]int
	nnums  int
	stages []jsonStage
	conns  [4]jsonConn
	nconns int
	mirror [mirror.MaxDecisions]jsonMirror
	vias   []string
	// mirrorTexts caches mirror decisions' explanations: every frame of
	// a flow repeats its flow's.
	mirrorTexts map[mirrorKey]string
}

// mirrorKey is everything a mirror decision's explanation depends on.
type mirrorKey struct {
	src      *eni.Interface
	dir      eni.Direction
	outcome  mirror.Outcome
	session  *mirror.Session
	rule     int
	stage    eni.StageKind
	atSource bool
	service  eni.Service
	tries    [mirror.MaxSessionsPerSource]mirror.Try
}

type ruleTexts struct{ group, id, text string }

type aclKey struct {
	acl     *nacl.ACL
	kind    eni.StageKind
	number  int
	allowed bool
	subnet  string
}

type aclTexts struct{ entry, explanation string }

// allowKey is everything a rule-allowed security group stage's
// explanation depends on.
type allowKey struct {
	iface                   *eni.Interface
	dir                     eni.Direction
	rule                    sg.RuleRef
	untracked, newConn, tcp bool
}

func newJSONL(w io.Writer) *jsonl {
	return &jsonl{w: w, rules: map[sg.RuleRef]ruleTexts{}, acls: map[aclKey]aclTexts{}, allowed: map[allowKey]string{}}
}

func intp(v int) *int { return &v }

// num is intp for the frame being built, without allocating.
func (j *jsonl) num(v int) *int {
	if j.nnums == len(j.nums) {
		return intp(v)
	}
	p := &j.nums[j.nnums]
	*p = v
	j.nnums++
	return p
}

// conn is new(jsonConn) for the frame being built, without allocating.
func (j *jsonl) conn() *jsonConn {
	if j.nconns == len(j.conns) {
		return new(jsonConn)
	}
	c := &j.conns[j.nconns]
	j.nconns++
	return c
}

func (j *jsonl) write(r *replay.Result) error {
	f := j.frame(r)
	j.buf = append(appendFrame(j.buf[:0], &f), '\n')
	_, err := j.w.Write(j.buf)
	return err
}

// frame builds the frame's object, valid until the next call: it points
// into the writer's buffers.
func (j *jsonl) frame(r *replay.Result) jsonFrame {
	p := &r.Path.Packet
	j.nnums, j.nconns = 0, 0
	f := jsonFrame{Frame: r.Frame.Number, Time: r.Frame.Time.UTC(), Verdict: r.Verdict.String(),
		Mirrored: r.Unwrapped}
	if p.Status == eni.Decoded && p.Src.IsValid() {
		f.Protocol, f.ProtocolNumber = eni.ProtoName(p.Proto), j.num(int(p.Proto))
		f.Src, f.Dst, f.Bytes = p.Src, p.Dst, int(p.Length)
		switch p.Proto {
		case 6, 17:
			f.SrcPort, f.DstPort = j.num(int(p.SrcPort)), j.num(int(p.DstPort))
		case 1, 58:
			f.ICMPType, f.ICMPCode = j.num(int(p.ICMPType)), j.num(int(p.ICMPCode))
		}
		if p.Proto == 6 {
			f.TCPFlags = eni.FlagNames(p.TCPFlags)
		}
		if src, dst, ok := r.Path.Public(); ok {
			f.PublicSrc, f.PublicDst = src, dst // invalid where that end was not translated: omitted
			_, _, f.Hairpin = r.Path.Hairpin()
		}
	}
	if r.Path.Src != nil {
		f.SourceInterface = r.Path.Src.ID()
	}
	if r.Path.Dst != nil {
		f.DestinationInterface = r.Path.Dst.ID()
	}
	if v := r.Path.Via(); v != nil {
		f.ViaInterface = v.ID()
	}
	f.Balancer = r.Path.Balancer()
	if vias := r.Path.Vias(); len(vias) > 1 {
		j.vias = j.vias[:0]
		for _, v := range vias {
			j.vias = append(j.vias, v.ID())
		}
		f.ViaInterfaces = j.vias
	}
	j.stages = j.stages[:0]
	for _, s := range r.Path.Stages() {
		j.stages = append(j.stages, j.stage(s))
	}
	if len(j.stages) > 0 {
		f.Stages = j.stages
	}
	for k := range r.Mirror {
		j.mirror[k] = mirrorCopy(&r.Mirror[k], j)
	}
	if len(r.Mirror) > 0 {
		f.MirrorCopies = j.mirror[:len(r.Mirror)]
	}
	f.MirrorCopy = r.Path.Packet.MirrorCopy
	if r.Unwrapped && r.Mirror != nil || f.MirrorCopy { // Result.Mirror is set only with mirror sessions
		f.MirrorVNI = j.num(int(r.Outer.VNI))
	}
	if r.Copy != nil {
		f.MirrorSession = r.Copy.ID
	}
	f.MirrorMismatch = r.CopyMismatch
	f.Reason = frameReason(r, f.Stages)
	if k := decidingStage(r); k >= 0 {
		f.DecidedBy = &f.Stages[k]
	}
	return f
}

var mirrorResults = [...]string{mirror.Mirrored: "copied", mirror.Dropped: "dropped", mirror.NotSelected: "not_selected",
	mirror.NeverMirrored: "never_mirrored"}

func mirrorCopy(d *mirror.Decision, j *jsonl) jsonMirror {
	k := mirrorKey{src: d.Source, dir: d.Direction, outcome: d.Outcome, session: d.Session, rule: d.Rule, stage: d.Stage,
		atSource: d.AtSource, service: d.Service}
	copy(k.tries[:], d.Tries())
	text, ok := j.mirrorTexts[k]
	if !ok {
		if j.mirrorTexts == nil {
			j.mirrorTexts = map[mirrorKey]string{}
		}
		text = d.Explain()
		j.mirrorTexts[k] = text
	}
	m := jsonMirror{Interface: d.Source.ID(), Direction: d.Direction.String(), Result: mirrorResults[d.Outcome], Explanation: text}
	if d.Session != nil {
		m.Session, m.Target = d.Session.ID, d.Target.ID
		if d.Rule != 0 {
			m.FilterRule = j.num(d.Rule)
		}
	}
	return m
}

// decidingStage is the first refusing stage of a rejected frame; for an
// accepted one, the security group stage that let it in (the
// destination's) or out (the source's), else the last stage.
func decidingStage(r *replay.Result) int {
	st := r.Path.Stages()
	if len(st) == 0 {
		return -1
	}
	if r.Verdict == replay.Reject {
		for k, s := range st {
			if !s.Allowed {
				return k
			}
		}
	}
	for _, kind := range []eni.StageKind{eni.StageDestGroups, eni.StageSourceGroups} {
		for k, s := range st {
			if s.Kind == kind {
				return k
			}
		}
	}
	return len(st) - 1
}

// frameReason says why in a sentence, from the stages' explanations.
func frameReason(r *replay.Result, stages []jsonStage) string {
	p := &r.Path
	switch {
	case r.Verdict == replay.Skip && p.Packet.Status == eni.NotIP:
		return "not an IP packet"
	case r.Verdict == replay.Skip && p.Packet.Status == eni.Malformed && r.Frame.WireLen > len(r.Frame.Data):
		return fmt.Sprintf("malformed packet: the capture kept %d of its %d bytes (its snapshot length), too few for the headers a verdict needs",
			len(r.Frame.Data), r.Frame.WireLen)
	case r.Verdict == replay.Skip && p.Packet.Status == eni.Malformed:
		return "malformed packet: its headers do not decode"
	case r.Verdict == replay.Skip:
		return "no modelled interface or subnet at either end"
	case p.Service != eni.NoService:
		return p.Service.String() + ": security groups and network ACLs never filter this traffic"
	}
	if r.Verdict == replay.Reject {
		first := ""
		also := 0
		for k, s := range p.Stages() {
			if !s.Allowed {
				if first == "" {
					first = stages[k].Explanation
				} else {
					also++
				}
			}
		}
		if also > 0 {
			first += fmt.Sprintf(" (and %d later stage(s) would refuse it too)", also)
		}
		return first
	}
	return stages[decidingStage(r)].Explanation
}

func (jl *jsonl) stage(s eni.Stage) jsonStage {
	j := jsonStage{Stage: s.Kind.String(), Result: "DENY", NotReached: s.Hypothetical}
	if s.Allowed {
		j.Result = "ALLOW"
	}
	if s.Kind == eni.StageRoute && s.Route != nil {
		j.Direction, j.Code, j.RouteTable, j.Explanation = "outbound", s.Route.Reason(), s.Route.Table, s.Explain()
		if s.Route.NoBalancerFlow {
			j.Direction = s.Verdict.Direction.String() // the frame names the balancer
			if s.Verdict.IdledOut {
				jl.connection(&j, &s.Verdict.Conn)
				j.IdledOut = true
			}
		}
		if s.Route.Unsolicited() {
			j.Direction = "inbound" // from the internet, at the gateway
			if s.Verdict.IdledOut {
				jl.connection(&j, &s.Verdict.Conn)
				j.IdledOut = true
			}
		}
		return j
	}
	if s.Kind.ACL() {
		j.ACL, j.Subnet = s.ACL.ID, s.Subnet
		j.Direction = "inbound"
		if s.Kind.Outbound() {
			j.Direction = "outbound"
		}
		j.ACLEntry = jl.num(s.ACLResult.RuleNumber)
		k := aclKey{acl: s.ACL, kind: s.Kind, number: s.ACLResult.RuleNumber, allowed: s.Allowed, subnet: s.Subnet}
		t, ok := jl.acls[k]
		if !ok {
			if e, ok := s.ACL.Entry(s.Kind.Outbound(), s.ACLResult.RuleNumber); ok {
				t.entry = e.String()
			}
			t.explanation = s.Explain()
			jl.acls[k] = t
		}
		j.ACLEntryText, j.Explanation = t.entry, t.explanation
		j.Code = "ACL_ENTRY_ALLOW"
		if !s.Allowed {
			j.Code = eni.ReasonSubnetACL
		}
		return j
	}
	v := &s.Verdict
	j.Interface, j.Direction, j.Code = v.Interface.ID(), v.Direction.String(), v.Reason.String()
	j.NewConnection, j.Untracked = v.NewConn, v.Untracked
	if v.Service != eni.NoService {
		j.Service = v.Service.String()
	}
	if v.Rule != 0 {
		r, ok := jl.rules[v.Rule]
		if !ok {
			if ri, found := v.Interface.Network().Groups().Rule(v.Rule); found {
				r = ruleTexts{ri.GroupID, ri.ID, ri.Rule.Describe(ri.Direction)}
			}
			jl.rules[v.Rule] = r
		}
		j.Group, j.Rule, j.RuleText = r.group, r.id, r.text
	}
	if v.Reason == eni.ReasonRule {
		k := allowKey{iface: v.Interface, dir: v.Direction, rule: v.Rule, untracked: v.Untracked, newConn: v.NewConn,
			tcp: v.Packet.Proto == 6}
		e, ok := jl.allowed[k]
		if !ok {
			e = s.Explain()
			jl.allowed[k] = e
		}
		j.Explanation = e
	} else {
		j.Explanation = s.Explain()
	}
	if v.Reason == eni.ReasonTracked || v.IdledOut {
		jl.connection(&j, &v.Conn)
		j.IdledOut = v.IdledOut
	}
	return j
}

// connection gives the stage the connection the packet rode, or the one
// it lost to idleness (for which the caller sets IdledOut).
func (jl *jsonl) connection(j *jsonStage, conn *conntrack.Conn) {
	c := jl.conn()
	*c = jsonConn{State: conn.State.String(), OpenedBy: conn.Origin.String(),
		Since: time.Unix(0, conn.Created).UTC().Format(time.RFC3339Nano)}
	j.Connection = c
}
