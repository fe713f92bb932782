package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/replay"
)

// The JSON Lines shape is a contract: one object per frame, in capture
// order. Fields are only ever added.
type jsonFrame struct {
	Frame                int         `json:"frame"`
	Time                 string      `json:"time"`
	Verdict              string      `json:"verdict"`
	Reason               string      `json:"reason"`
	Protocol             string      `json:"protocol,omitempty"`
	ProtocolNumber       *int        `json:"protocol_number,omitempty"`
	Src                  string      `json:"src,omitempty"`
	Dst                  string      `json:"dst,omitempty"`
	SrcPort              *int        `json:"sport,omitempty"`
	DstPort              *int        `json:"dport,omitempty"`
	ICMPType             *int        `json:"icmp_type,omitempty"`
	ICMPCode             *int        `json:"icmp_code,omitempty"`
	TCPFlags             string      `json:"tcp_flags,omitempty"`
	Bytes                int         `json:"bytes,omitempty"`
	Mirrored             bool        `json:"mirrored,omitempty"`
	SourceInterface      string      `json:"source_interface,omitempty"`
	DestinationInterface string      `json:"destination_interface,omitempty"`
	DecidedBy            *jsonStage  `json:"decided_by,omitempty"`
	Stages               []jsonStage `json:"stages,omitempty"`
}

type jsonStage struct {
	Stage         string    `json:"stage"`
	Interface     string    `json:"interface,omitempty"`
	ACL           string    `json:"acl,omitempty"`
	Subnet        string    `json:"subnet,omitempty"`
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
	Explanation   string    `json:"explanation"`
}

type jsonConn struct {
	State    string `json:"state"`
	OpenedBy string `json:"opened"`
	Since    string `json:"since"`
}

type jsonl struct{ enc *json.Encoder }

func newJSONL(w io.Writer) *jsonl {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonl{enc: enc}
}

func intp(v int) *int { return &v }

func (j *jsonl) write(r *replay.Result) error {
	p := &r.Path.Packet
	f := jsonFrame{Frame: r.Frame.Number, Time: r.Frame.Time.UTC().Format(time.RFC3339Nano), Verdict: r.Verdict.String(),
		Mirrored: r.Unwrapped}
	if p.Status == eni.Decoded && p.Src.IsValid() {
		f.Protocol, f.ProtocolNumber = eni.ProtoName(p.Proto), intp(int(p.Proto))
		f.Src, f.Dst, f.Bytes = p.Src.String(), p.Dst.String(), int(p.Length)
		switch p.Proto {
		case 6, 17:
			f.SrcPort, f.DstPort = intp(int(p.SrcPort)), intp(int(p.DstPort))
		case 1, 58:
			f.ICMPType, f.ICMPCode = intp(int(p.ICMPType)), intp(int(p.ICMPCode))
		}
		if p.Proto == 6 {
			f.TCPFlags = eni.FlagNames(p.TCPFlags)
		}
	}
	if r.Path.Src != nil {
		f.SourceInterface = r.Path.Src.ID()
	}
	if r.Path.Dst != nil {
		f.DestinationInterface = r.Path.Dst.ID()
	}
	for _, s := range r.Path.Stages() {
		f.Stages = append(f.Stages, stageJSON(s))
	}
	f.Reason = frameReason(r)
	if k := decidingStage(r); k >= 0 {
		f.DecidedBy = &f.Stages[k]
	}
	return j.enc.Encode(&f)
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

func frameReason(r *replay.Result) string {
	p := &r.Path
	switch {
	case r.Verdict == replay.Skip && p.Packet.Status == eni.NotIP:
		return "not an IP packet"
	case r.Verdict == replay.Skip && p.Packet.Status == eni.Malformed:
		return "malformed packet: its headers do not decode"
	case r.Verdict == replay.Skip:
		return "no modelled interface or subnet at either end"
	case p.Service != eni.NoService:
		return p.Service.String() + ": security groups and network ACLs never filter this traffic"
	}
	st := p.Stages()
	if r.Verdict == replay.Reject {
		first := ""
		also := 0
		for _, s := range st {
			if !s.Allowed {
				if first == "" {
					first = s.Explain()
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
	return st[decidingStage(r)].Explain()
}

func stageJSON(s eni.Stage) jsonStage {
	j := jsonStage{Stage: s.Kind.String(), Result: "DENY", NotReached: s.Hypothetical, Explanation: s.Explain()}
	if s.Allowed {
		j.Result = "ALLOW"
	}
	switch s.Kind {
	case eni.StageSourceACL, eni.StageDestACL:
		j.ACL, j.Subnet = s.ACL.ID, s.Subnet
		j.Direction = "outbound"
		if s.Kind == eni.StageDestACL {
			j.Direction = "inbound"
		}
		j.ACLEntry = intp(s.ACLResult.RuleNumber)
		if e, ok := s.ACL.Entry(s.Kind == eni.StageSourceACL, s.ACLResult.RuleNumber); ok {
			j.ACLEntryText = e.String()
		}
		j.Code = "ACL_ENTRY_ALLOW"
		if !s.Allowed {
			j.Code = eni.ReasonSubnetACL
		}
		return j
	}
	v := s.Verdict
	j.Interface, j.Direction, j.Code = v.Interface.ID(), v.Direction.String(), v.Reason.String()
	j.NewConnection, j.Untracked = v.NewConn, v.Untracked
	if v.Service != eni.NoService {
		j.Service = v.Service.String()
	}
	if v.Rule != 0 {
		if ri, ok := v.Interface.Network().Groups().Rule(v.Rule); ok {
			j.Group, j.Rule, j.RuleText = ri.GroupID, ri.ID, ri.Rule.Describe(ri.Direction)
		}
	}
	if v.Reason == eni.ReasonTracked {
		j.Connection = &jsonConn{State: v.Conn.State.String(), OpenedBy: v.Conn.Origin.String(),
			Since: time.Unix(0, v.Conn.Created).UTC().Format(time.RFC3339Nano)}
	}
	return j
}
