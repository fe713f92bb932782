package ec2json

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/sgsim/sgsim/mirror"
)

// trafficMirrorSession is one of describe-traffic-mirror-sessions'.
type trafficMirrorSession struct {
	TrafficMirrorSessionID string  `json:"TrafficMirrorSessionId"`
	TrafficMirrorTargetID  string  `json:"TrafficMirrorTargetId"`
	TrafficMirrorFilterID  string  `json:"TrafficMirrorFilterId"`
	NetworkInterfaceID     string  `json:"NetworkInterfaceId"`
	PacketLength           flexInt `json:"PacketLength"`
	SessionNumber          flexInt `json:"SessionNumber"`
	VirtualNetworkID       flexInt `json:"VirtualNetworkId"`
	Description            string  `json:"Description"`
}

// trafficMirrorFilter is one of describe-traffic-mirror-filters'.
type trafficMirrorFilter struct {
	TrafficMirrorFilterID string                    `json:"TrafficMirrorFilterId"`
	IngressFilterRules    []trafficMirrorFilterRule `json:"IngressFilterRules"`
	EgressFilterRules     []trafficMirrorFilterRule `json:"EgressFilterRules"`
	NetworkServices       []string                  `json:"NetworkServices"`
	Description           string                    `json:"Description"`
}

type trafficMirrorFilterRule struct {
	TrafficMirrorFilterRuleID string          `json:"TrafficMirrorFilterRuleId"`
	TrafficDirection          string          `json:"TrafficDirection"`
	RuleNumber                flexInt         `json:"RuleNumber"`
	RuleAction                string          `json:"RuleAction"`
	Protocol                  flexInt         `json:"Protocol"`
	DestinationPortRange      *mirrorPortsRaw `json:"DestinationPortRange"`
	SourcePortRange           *mirrorPortsRaw `json:"SourcePortRange"`
	DestinationCidrBlock      string          `json:"DestinationCidrBlock"`
	SourceCidrBlock           string          `json:"SourceCidrBlock"`
	Description               string          `json:"Description"`
}

type mirrorPortsRaw struct {
	FromPort flexInt `json:"FromPort"`
	ToPort   flexInt `json:"ToPort"`
}

// trafficMirrorTarget is one of describe-traffic-mirror-targets'.
type trafficMirrorTarget struct {
	TrafficMirrorTargetID         string `json:"TrafficMirrorTargetId"`
	NetworkInterfaceID            string `json:"NetworkInterfaceId"`
	NetworkLoadBalancerArn        string `json:"NetworkLoadBalancerArn"`
	GatewayLoadBalancerEndpointID string `json:"GatewayLoadBalancerEndpointId"`
	Type                          string `json:"Type"`
	Description                   string `json:"Description"`
}

// buildMirror binds the traffic mirror sessions, filters and targets to
// the network. Sessions of interfaces no file gives are left out with a
// warning: describe-traffic-mirror-sessions lists the whole account's.
func (l *loader) buildMirror() error {
	if len(l.mirrorSessions)+len(l.mirrorFilters)+len(l.mirrorTargets) == 0 {
		return nil
	}
	var c mirror.Config
	for _, x := range l.mirrorFilters {
		f, err := mirrorFilter(x.file, x.v)
		if err != nil {
			return err
		}
		c.Filters = append(c.Filters, f)
	}
	for _, x := range l.mirrorTargets {
		t := x.v
		c.Targets = append(c.Targets, mirror.Target{ID: t.TrafficMirrorTargetID, Type: mirror.TargetType(t.Type),
			Interface: t.NetworkInterfaceID, LoadBalancer: t.NetworkLoadBalancerArn, Endpoint: t.GatewayLoadBalancerEndpointID,
			Description: t.Description})
	}
	for _, x := range l.mirrorSessions {
		s, file := x.v, x.file
		obj := s.TrafficMirrorSessionID
		out := mirror.Session{ID: obj, Source: s.NetworkInterfaceID, Filter: s.TrafficMirrorFilterID, Target: s.TrafficMirrorTargetID,
			Description: s.Description}
		if !s.SessionNumber.set {
			return &Error{File: file, Object: obj, Field: "SessionNumber", Msg: "is missing"}
		}
		if n := s.SessionNumber.v; n < 1 || n > 32766 {
			return &Error{File: file, Object: obj, Field: "SessionNumber", Msg: fmt.Sprintf("%d is not a session number (1-32766)", n)}
		}
		out.Number = int(s.SessionNumber.v)
		if v := s.VirtualNetworkID.v; v < 0 || v >= 1<<24 {
			return &Error{File: file, Object: obj, Field: "VirtualNetworkId", Msg: fmt.Sprintf("%d is not a VXLAN network identifier (0-16777215)", v)}
		}
		out.VNI = uint32(s.VirtualNetworkID.v)
		if v := s.PacketLength.v; v < 0 || v > 65535 {
			return &Error{File: file, Object: obj, Field: "PacketLength", Msg: fmt.Sprintf("%d is not a packet length", v)}
		}
		out.PacketLength = int(s.PacketLength.v)
		c.Sessions = append(c.Sessions, out)
	}
	set, err := mirror.New(l.net, c)
	if err != nil {
		var me *mirror.Error
		if errors.As(err, &me) {
			return &Error{File: l.seen[me.Object], Object: me.Object, Field: me.Field, Msg: me.Msg}
		}
		return err
	}
	for _, id := range set.Unbound() {
		for _, x := range l.mirrorSessions {
			if x.v.TrafficMirrorSessionID == id {
				l.warn("%s: %s: its source %s is in no --config file; the session is left out", x.file, id, x.v.NetworkInterfaceID)
			}
		}
	}
	l.mirror = set
	return nil
}

// mirrorFilter converts a filter, its rules checked field by field with
// the file's own names.
func mirrorFilter(file string, x trafficMirrorFilter) (mirror.Filter, error) {
	obj := x.TrafficMirrorFilterID
	f := mirror.Filter{ID: obj, Description: x.Description}
	for k, s := range x.NetworkServices {
		if s != "amazon-dns" {
			return f, &Error{File: file, Object: obj, Field: fmt.Sprintf("NetworkServices[%d]", k), Msg: fmt.Sprintf("%q is not a network service (amazon-dns)", s)}
		}
		f.AmazonDNS = true
	}
	for _, dir := range []struct {
		name, want string
		raw        []trafficMirrorFilterRule
		into       *[]mirror.Rule
	}{{"IngressFilterRules", "ingress", x.IngressFilterRules, &f.Ingress}, {"EgressFilterRules", "egress", x.EgressFilterRules, &f.Egress}} {
		for k, r := range dir.raw {
			field := fmt.Sprintf("%s[%d]", dir.name, k)
			if r.TrafficDirection != "" && r.TrafficDirection != dir.want {
				return f, &Error{File: file, Object: obj, Field: field + ".TrafficDirection", Msg: fmt.Sprintf("%q in a list of %s rules", r.TrafficDirection, dir.want)}
			}
			rule, err := mirrorRule(file, obj, field, r)
			if err != nil {
				return f, err
			}
			*dir.into = append(*dir.into, rule)
		}
	}
	return f, nil
}

func mirrorRule(file, obj, field string, r trafficMirrorFilterRule) (mirror.Rule, error) {
	out := mirror.Rule{Description: r.Description, Protocol: mirror.AnyProtocol}
	if !r.RuleNumber.set {
		return out, &Error{File: file, Object: obj, Field: field + ".RuleNumber", Msg: "is missing"}
	}
	if n := r.RuleNumber.v; n < 1 || n > 32766 {
		return out, &Error{File: file, Object: obj, Field: field + ".RuleNumber", Msg: fmt.Sprintf("%d is not a rule number (1-32766)", n)}
	}
	out.Number = int(r.RuleNumber.v)
	switch strings.ToLower(r.RuleAction) {
	case "accept":
		out.Action = mirror.Accept
	case "reject":
		out.Action = mirror.Reject
	default:
		return out, &Error{File: file, Object: obj, Field: field + ".RuleAction", Msg: fmt.Sprintf("%q is neither accept nor reject", r.RuleAction)}
	}
	// No protocol, or 0, is every protocol, as the console's "All
	// protocols" writes it.
	if p := r.Protocol.v; r.Protocol.set && p != 0 {
		if p < 0 || p > 255 {
			return out, &Error{File: file, Object: obj, Field: field + ".Protocol", Msg: fmt.Sprintf("%d is not a protocol number", p)}
		}
		out.Protocol = int(p)
	}
	for _, b := range [][2]string{{"SourceCidrBlock", r.SourceCidrBlock}, {"DestinationCidrBlock", r.DestinationCidrBlock}} {
		if b[1] == "" {
			return out, &Error{File: file, Object: obj, Field: field + "." + b[0], Msg: "is missing"}
		}
	}
	var err error
	if out.Source, err = parseEitherPrefix(file, obj, field+".SourceCidrBlock", r.SourceCidrBlock); err != nil {
		return out, err
	}
	if out.Destination, err = parseEitherPrefix(file, obj, field+".DestinationCidrBlock", r.DestinationCidrBlock); err != nil {
		return out, err
	}
	if out.Source.Addr().Is4() != out.Destination.Addr().Is4() {
		return out, &Error{File: file, Object: obj, Field: field + ".DestinationCidrBlock",
			Msg: fmt.Sprintf("%s and the source block %s are of different families", out.Destination, out.Source)}
	}
	for _, pr := range []struct {
		name string
		raw  *mirrorPortsRaw
		into **mirror.PortRange
	}{{"SourcePortRange", r.SourcePortRange, &out.SourcePorts}, {"DestinationPortRange", r.DestinationPortRange, &out.DestinationPorts}} {
		if pr.raw == nil {
			continue
		}
		if out.Protocol != 6 && out.Protocol != 17 {
			return out, &Error{File: file, Object: obj, Field: field + "." + pr.name, Msg: "is only for TCP (6) and UDP (17) rules"}
		}
		var ends [2]uint16
		for k, v := range [2]flexInt{pr.raw.FromPort, pr.raw.ToPort} {
			name := [2]string{"FromPort", "ToPort"}[k]
			if !v.set {
				return out, &Error{File: file, Object: obj, Field: field + "." + pr.name + "." + name, Msg: "is missing"}
			}
			if v.v < 0 || v.v > 65535 {
				return out, &Error{File: file, Object: obj, Field: field + "." + pr.name + "." + name, Msg: fmt.Sprintf("%d is not a port", v.v)}
			}
			ends[k] = uint16(v.v)
		}
		if ends[0] > ends[1] {
			return out, &Error{File: file, Object: obj, Field: field + "." + pr.name, Msg: fmt.Sprintf("FromPort %d is above ToPort %d", ends[0], ends[1])}
		}
		*pr.into = &mirror.PortRange{From: ends[0], To: ends[1]}
	}
	return out, nil
}

// parseEitherPrefix parses an IPv4 or IPv6 CIDR block.
func parseEitherPrefix(file, obj, field, s string) (netip.Prefix, error) {
	return parsePrefix(file, obj, field, s, strings.Contains(s, ":"))
}
