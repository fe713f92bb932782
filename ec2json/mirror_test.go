package ec2json_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
)

// The three describe-traffic-mirror-* outputs, as the CLI prints them:
// eni-1 is mirrored to eni-2 by two sessions; a third session's source
// is in another VPC that no file gives.
const (
	mirrorSessions = `{"TrafficMirrorSessions":[
		{"TrafficMirrorSessionId":"tms-1","TrafficMirrorTargetId":"tmt-1","TrafficMirrorFilterId":"tmf-1","NetworkInterfaceId":"eni-1",
		 "OwnerId":"111122223333","PacketLength":100,"SessionNumber":1,"VirtualNetworkId":7001,"Description":"web","Tags":[]},
		{"TrafficMirrorSessionId":"tms-2","TrafficMirrorTargetId":"tmt-1","TrafficMirrorFilterId":"tmf-2","NetworkInterfaceId":"eni-1",
		 "OwnerId":"111122223333","SessionNumber":"2","VirtualNetworkId":7002,"Tags":[]},
		{"TrafficMirrorSessionId":"tms-9","TrafficMirrorTargetId":"tmt-1","TrafficMirrorFilterId":"tmf-2","NetworkInterfaceId":"eni-0other",
		 "SessionNumber":1,"VirtualNetworkId":7009}]}`
	mirrorFilters = `{"TrafficMirrorFilters":[
		{"TrafficMirrorFilterId":"tmf-1","IngressFilterRules":[
			{"TrafficMirrorFilterRuleId":"tmfr-1","TrafficMirrorFilterId":"tmf-1","TrafficDirection":"ingress","RuleNumber":100,
			 "RuleAction":"accept","Protocol":6,"DestinationPortRange":{"FromPort":443,"ToPort":443},
			 "DestinationCidrBlock":"0.0.0.0/0","SourceCidrBlock":"0.0.0.0/0","Description":"HTTPS in"}],
		 "EgressFilterRules":[],"NetworkServices":[],"Tags":[]},
		{"TrafficMirrorFilterId":"tmf-2","IngressFilterRules":[
			{"TrafficDirection":"ingress","RuleNumber":10,"RuleAction":"reject","Protocol":6,"SourcePortRange":{"FromPort":0,"ToPort":1023},
			 "DestinationCidrBlock":"0.0.0.0/0","SourceCidrBlock":"0.0.0.0/0"},
			{"TrafficDirection":"ingress","RuleNumber":20,"RuleAction":"accept","DestinationCidrBlock":"::/0","SourceCidrBlock":"::/0"},
			{"TrafficDirection":"ingress","RuleNumber":30,"RuleAction":"accept","Protocol":0,"DestinationCidrBlock":"0.0.0.0/0","SourceCidrBlock":"0.0.0.0/0"}],
		 "EgressFilterRules":[
			{"TrafficDirection":"egress","RuleNumber":10,"RuleAction":"accept","Protocol":17,"DestinationCidrBlock":"10.0.0.0/8","SourceCidrBlock":"10.0.0.0/8"}],
		 "NetworkServices":["amazon-dns"]}]}`
	mirrorTargets = `{"TrafficMirrorTargets":[
		{"TrafficMirrorTargetId":"tmt-1","NetworkInterfaceId":"eni-2","Type":"network-interface","Description":"sensor","OwnerId":"111122223333","Tags":[]},
		{"TrafficMirrorTargetId":"tmt-nlb","NetworkLoadBalancerArn":"arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/ids/0123","Type":"network-load-balancer"}]}`
)

func mirrorBase(extra ...ec2json.Source) []ec2json.Source {
	return append([]ec2json.Source{src("vpcs.json", vpcs), src("subnets.json", subnets),
		src("sgs.json", sgs(`{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}`)), src("enis.json", fourENIs("", ""))}, extra...)
}

func TestLoadMirror(t *testing.T) {
	r, err := ec2json.Load(mirrorBase(src("sessions.json", mirrorSessions), src("filters.json", mirrorFilters), src("targets.json", mirrorTargets))...)
	require.NoError(t, err)
	require.NotNil(t, r.Mirror)
	assert.Contains(t, r.Files, "sessions.json: 3 traffic mirror sessions")
	assert.Contains(t, r.Files, "filters.json: 2 traffic mirror filters")
	assert.Contains(t, r.Files, "targets.json: 2 traffic mirror targets")
	assert.Contains(t, r.Warnings, "sessions.json: tms-9: its source eni-0other is in no --config file; the session is left out")
	assert.Equal(t, []mirror.Session{
		{ID: "tms-1", Source: "eni-1", Number: 1, Filter: "tmf-1", Target: "tmt-1", VNI: 7001, PacketLength: 100, Description: "web"},
		{ID: "tms-2", Source: "eni-1", Number: 2, Filter: "tmf-2", Target: "tmt-1", VNI: 7002},
	}, r.Mirror.Sessions())
	f, ok := r.Mirror.FilterOf("tms-2")
	require.True(t, ok)
	assert.True(t, f.AmazonDNS)
	require.Len(t, f.Ingress, 3)
	assert.Equal(t, mirror.Reject, f.Ingress[0].Action)
	assert.Equal(t, &mirror.PortRange{From: 0, To: 1023}, f.Ingress[0].SourcePorts)
	assert.Equal(t, mirror.AnyProtocol, f.Ingress[1].Protocol, "no protocol is every protocol")
	assert.Equal(t, mirror.AnyProtocol, f.Ingress[2].Protocol, "so is 0")
	assert.Equal(t, netip.MustParsePrefix("::/0"), f.Ingress[1].Source)
	tg, ok := r.Mirror.TargetOf("tms-1")
	require.True(t, ok)
	assert.Equal(t, mirror.Target{ID: "tmt-1", Type: mirror.TargetInterface, Interface: "eni-2", Description: "sensor"}, tg)

	// What the loaded sessions copy: HTTPS into eni-1 by tms-1; SSH from
	// a client's low port is rejected by tms-2's rule 10.
	n := r.Network
	var buf [mirror.MaxDecisions]mirror.Decision
	for _, tt := range []struct {
		pkt  eni.Packet
		want string
	}{
		{eni.TCP(netip.MustParseAddrPort("198.51.100.1:40000"), netip.MustParseAddrPort("10.0.1.10:443"), eni.SYN), "tms-1"},
		{eni.TCP(netip.MustParseAddrPort("198.51.100.1:1000"), netip.MustParseAddrPort("10.0.1.10:22"), eni.SYN), ""},
		{eni.TCP(netip.MustParseAddrPort("198.51.100.1:40000"), netip.MustParseAddrPort("10.0.1.10:22"), eni.SYN), "tms-2"},
	} {
		path := n.Judge(&tt.pkt, time.Unix(0, 0))
		ds := r.Mirror.Decide(&path, buf[:0])
		require.Len(t, ds, 1)
		got := ""
		if ds[0].Session != nil {
			got = ds[0].Session.ID
		}
		assert.Equal(t, tt.want, got, ds[0].Explain())
	}
}

func TestLoadMirrorBareLists(t *testing.T) {
	// --query 'TrafficMirrorSessions' and the like print bare lists.
	bare := func(s, key string) string {
		s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), `{"`+key+`":`))
		return strings.TrimSuffix(s, "}")
	}
	r, err := ec2json.Load(mirrorBase(src("sessions.json", bare(mirrorSessions, "TrafficMirrorSessions")),
		src("filters.json", bare(mirrorFilters, "TrafficMirrorFilters")), src("targets.json", bare(mirrorTargets, "TrafficMirrorTargets")))...)
	require.NoError(t, err)
	assert.Equal(t, 2, r.Mirror.Len())
}

func TestLoadWithoutMirror(t *testing.T) {
	r, err := ec2json.Load(mirrorBase()...)
	require.NoError(t, err)
	assert.Nil(t, r.Mirror)
}

func TestLoadMirrorErrors(t *testing.T) {
	sessions := func(body string) ec2json.Source {
		return src("sessions.json", `{"TrafficMirrorSessions":[`+body+`]}`)
	}
	filters := func(rules string) ec2json.Source {
		return src("filters.json", `{"TrafficMirrorFilters":[{"TrafficMirrorFilterId":"tmf-1","IngressFilterRules":[`+rules+`]}]}`)
	}
	targets := src("targets.json", mirrorTargets)
	okSession := `{"TrafficMirrorSessionId":"tms-1","TrafficMirrorTargetId":"tmt-1","TrafficMirrorFilterId":"tmf-1","NetworkInterfaceId":"eni-1","SessionNumber":1,"VirtualNetworkId":1}`
	okRule := `{"RuleNumber":1,"RuleAction":"accept","DestinationCidrBlock":"0.0.0.0/0","SourceCidrBlock":"0.0.0.0/0"}`
	rule := func(fields string) string { return strings.TrimSuffix(okRule, "}") + "," + fields + "}" }
	for _, tt := range []struct {
		name    string
		sources []ec2json.Source
		want    string
	}{
		{"unknown filter", mirrorBase(sessions(okSession), targets),
			"sessions.json: tms-1: TrafficMirrorFilterId: tmf-1 is not defined by any file (run aws ec2 describe-traffic-mirror-filters)"},
		{"unknown target", mirrorBase(sessions(okSession), filters(okRule)),
			"sessions.json: tms-1: TrafficMirrorTargetId: tmt-1 is not defined by any file (run aws ec2 describe-traffic-mirror-targets)"},
		{"no session number", mirrorBase(sessions(strings.Replace(okSession, `"SessionNumber":1,`, "", 1)), filters(okRule), targets),
			"sessions.json: tms-1: SessionNumber: is missing"},
		{"session number", mirrorBase(sessions(strings.Replace(okSession, `"SessionNumber":1`, `"SessionNumber":40000`, 1)), filters(okRule), targets),
			"sessions.json: tms-1: SessionNumber: 40000 is not a session number (1-32766)"},
		{"VNI", mirrorBase(sessions(strings.Replace(okSession, `"VirtualNetworkId":1`, `"VirtualNetworkId":16777216`, 1)), filters(okRule), targets),
			"sessions.json: tms-1: VirtualNetworkId: 16777216 is not a VXLAN network identifier (0-16777215)"},
		{"session number twice", mirrorBase(sessions(okSession+","+strings.Replace(okSession, "tms-1", "tms-2", 1)), filters(okRule), targets),
			"sessions.json: tms-2: SessionNumber: 1 is tms-1's too, on the same source eni-1"},
		{"session twice", mirrorBase(sessions(okSession), sessions(okSession), filters(okRule), targets),
			"sessions.json: tms-1: is defined twice (also in sessions.json)"},
		{"rule action", mirrorBase(sessions(okSession), filters(strings.Replace(okRule, "accept", "allow", 1)), targets),
			`filters.json: tmf-1: IngressFilterRules[0].RuleAction: "allow" is neither accept nor reject`},
		{"rule number", mirrorBase(sessions(okSession), filters(strings.Replace(okRule, `"RuleNumber":1`, `"RuleNumber":0`, 1)), targets),
			"filters.json: tmf-1: IngressFilterRules[0].RuleNumber: 0 is not a rule number (1-32766)"},
		{"rule direction", mirrorBase(sessions(okSession), filters(rule(`"TrafficDirection":"egress"`)), targets),
			`filters.json: tmf-1: IngressFilterRules[0].TrafficDirection: "egress" in a list of ingress rules`},
		{"block", mirrorBase(sessions(okSession), filters(strings.Replace(okRule, `"SourceCidrBlock":"0.0.0.0/0"`, `"SourceCidrBlock":"10.0.0.0/33"`, 1)), targets),
			`filters.json: tmf-1: IngressFilterRules[0].SourceCidrBlock: "10.0.0.0/33" is not a CIDR block`},
		{"families", mirrorBase(sessions(okSession), filters(strings.Replace(okRule, `"SourceCidrBlock":"0.0.0.0/0"`, `"SourceCidrBlock":"::/0"`, 1)), targets),
			"filters.json: tmf-1: IngressFilterRules[0].DestinationCidrBlock: 0.0.0.0/0 and the source block ::/0 are of different families"},
		{"ports without TCP or UDP", mirrorBase(sessions(okSession), filters(rule(`"DestinationPortRange":{"FromPort":1,"ToPort":2}`)), targets),
			"filters.json: tmf-1: IngressFilterRules[0].DestinationPortRange: is only for TCP (6) and UDP (17) rules"},
		{"port", mirrorBase(sessions(okSession), filters(rule(`"Protocol":6,"DestinationPortRange":{"FromPort":1,"ToPort":70000}`)), targets),
			"filters.json: tmf-1: IngressFilterRules[0].DestinationPortRange.ToPort: 70000 is not a port"},
		{"port order", mirrorBase(sessions(okSession), filters(rule(`"Protocol":17,"SourcePortRange":{"FromPort":9,"ToPort":2}`)), targets),
			"filters.json: tmf-1: IngressFilterRules[0].SourcePortRange: FromPort 9 is above ToPort 2"},
		{"protocol", mirrorBase(sessions(okSession), filters(rule(`"Protocol":300`)), targets),
			"filters.json: tmf-1: IngressFilterRules[0].Protocol: 300 is not a protocol number"},
		{"network service", mirrorBase(sessions(okSession), src("filters.json", `{"TrafficMirrorFilters":[{"TrafficMirrorFilterId":"tmf-1","NetworkServices":["s3"]}]}`), targets),
			`filters.json: tmf-1: NetworkServices[0]: "s3" is not a network service (amazon-dns)`},
		{"target type", mirrorBase(sessions(okSession), filters(okRule), src("targets.json", `{"TrafficMirrorTargets":[{"TrafficMirrorTargetId":"tmt-1","Type":"instance"}]}`)),
			`targets.json: tmt-1: Type: "instance" is not network-interface, network-load-balancer or gateway-load-balancer-endpoint`},
		{"target is a source", mirrorBase(sessions(okSession), filters(okRule),
			src("targets.json", `{"TrafficMirrorTargets":[{"TrafficMirrorTargetId":"tmt-1","Type":"network-interface","NetworkInterfaceId":"eni-1"}]}`)),
			"sessions.json: tms-1: TrafficMirrorTargetId: tmt-1 sends the copies of eni-1 to eni-1 itself"},
		{"session without an ID", mirrorBase(sessions(`{"SessionNumber":1}`)), "sessions.json: TrafficMirrorSessions[0]: has no ID"},
		{"filter list not objects", mirrorBase(src("filters.json", `{"TrafficMirrorFilters":[3]}`)), "filters.json: TrafficMirrorFilters[0]:"},
		{"rule number not a number", mirrorBase(filters(rule(`"RuleNumber":"ten"`))), "filters.json: tmf-1:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ec2json.Load(tt.sources...)
			require.Error(t, err)
			if strings.HasSuffix(tt.want, ":") { // only the place: the rest is encoding/json's
				assert.True(t, strings.HasPrefix(err.Error(), tt.want), err.Error())
				return
			}
			assert.Equal(t, tt.want, err.Error())
		})
	}
}
