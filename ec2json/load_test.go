package ec2json_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/flowlog"
	"github.com/sgsim/sgsim/internal/sample"
	"github.com/sgsim/sgsim/sg"
)

func src(name, body string) ec2json.Source { return ec2json.Source{Name: name, Data: []byte(body)} }

// minimal wraps objects into a security-groups + interfaces pair that loads.
const vpcs = `{"Vpcs":[{"VpcId":"vpc-1","OwnerId":"111122223333","CidrBlock":"10.0.0.0/16"}]}`
const subnets = `{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.1.0/24"}]}`

func sgs(perms string) string {
	return `{"SecurityGroups":[{"GroupId":"sg-web","GroupName":"web","OwnerId":"111122223333","VpcId":"vpc-1",
		"IpPermissions":[` + perms + `],"IpPermissionsEgress":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}]}`
}

func enis(extra string) string {
	return `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1","SubnetId":"subnet-1","VpcId":"vpc-1","InterfaceType":"interface",
		"PrivateIpAddress":"10.0.1.10","PrivateIpAddresses":[{"Primary":true,"PrivateIpAddress":"10.0.1.10"}],
		"Groups":[{"GroupId":"sg-web"}]` + extra + `}]}`
}

func TestLoadSample(t *testing.T) {
	r, err := ec2json.Load(sample.Configs()...)
	require.NoError(t, err)
	assert.Empty(t, r.Warnings)
	n := r.Network
	assert.Len(t, n.Interfaces(), 5)
	g, ok := n.Groups().Group("sg-0a1b2c3d4e5f60002")
	require.True(t, ok)
	assert.Len(t, g.Ingress, 4, "two peers in one permission make two rules")
	def, _ := n.Groups().Group("sg-0a1b2c3d4e5f60000")
	assert.True(t, def.IsDefault)
	s, ok := n.Subnet("subnet-0a1b2c3d4e5f60003")
	require.True(t, ok)
	assert.Equal(t, "acl-0a1b2c3d4e5f60002", s.ACLID)
	pl, _ := n.Groups().PrefixList("pl-0a1b2c3d4e5f60001")
	assert.Len(t, pl.Entries, 2)
	assert.Equal(t, 5, pl.MaxEntries)

	// The loaded network judges packets as the files say.
	ssh := eni.TCP(netip.MustParseAddrPort("203.0.113.5:50000"), netip.MustParseAddrPort("10.20.2.10:22"), eni.SYN)
	p := n.Judge(&ssh, time.Unix(0, 0))
	assert.True(t, p.Allowed(), "%s", p)
	file, line, ok := r.Origin("sg-0a1b2c3d4e5f60002")
	assert.True(t, ok)
	assert.Equal(t, "sample/security-groups.json", file)
	assert.Equal(t, 106, line)
	nat := n.Interface("eni-0a1b2c3d4e5f60005")
	assert.Equal(t, eni.TypeNATGateway, nat.Spec().Type)
}

func TestQuirksLoad(t *testing.T) {
	perms := `{"IpProtocol":"6","FromPort":"22","ToPort":"22","IpRanges":[{"CidrIp":"10.1.2.3/8"},{"CidrIp":"192.0.2.0/24"}]},
		{"IpProtocol":-1,"IpRanges":[],"Ipv6Ranges":[],"PrefixListIds":[],"UserIdGroupPairs":[{"GroupId":"sg-web","UserId":"111122223333"}]},
		{"IpProtocol":"icmpv6","Ipv6Ranges":[{"CidrIpv6":"::/0"}]},
		{"IpProtocol":"47","FromPort":1000,"ToPort":2000,"IpRanges":[{"CidrIp":"198.51.100.0/24"}]},
		{"IpProtocol":"tcp","FromPort":443,"ToPort":443,"UserIdGroupPairs":[{"GroupId":"sg-0peer","UserId":"444455556666","VpcPeeringConnectionId":"pcx-1","PeeringStatus":"active"}]}`
	r, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs(perms)),
		src("enis.json", enis(`,"SomethingNew":{"x":1}`)), src("empty.json", `{"NetworkAcls":[]}`))
	require.NoError(t, err)
	g, _ := r.Network.Groups().Group("sg-web")
	require.Len(t, g.Ingress, 6)
	assert.Equal(t, "tcp 22 from 10.0.0.0/8", g.Ingress[0].Rule.String())
	assert.Equal(t, sg.AllProtocols, g.Ingress[2].Rule.Protocol)
	assert.Equal(t, int32(-1), g.Ingress[3].Rule.FromPort, "icmpv6 without ports: all")
	assert.Equal(t, int32(-1), g.Ingress[4].Rule.FromPort, "GRE ports ignored")
	assert.NotEmpty(t, r.Warnings, "the peered group is outside the files")
}

func TestSecurityGroupRulesFile(t *testing.T) {
	rules := `{"SecurityGroupRules":[
		{"SecurityGroupRuleId":"sgr-0aaa","GroupId":"sg-web","IsEgress":false,"IpProtocol":"tcp","FromPort":443,"ToPort":443,"CidrIpv4":"0.0.0.0/0","Description":"https"},
		{"SecurityGroupRuleId":"sgr-0bbb","GroupId":"sg-web","IsEgress":false,"IpProtocol":"-1","FromPort":-1,"ToPort":-1,"ReferencedGroupInfo":{"GroupId":"sg-web","UserId":"111122223333"}},
		{"SecurityGroupRuleId":"sgr-0ccc","GroupId":"sg-web","IsEgress":true,"IpProtocol":"-1","FromPort":-1,"ToPort":-1,"CidrIpv6":"::/0"}]}`
	r, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")), src("rules.json", rules), src("enis.json", enis("")))
	require.NoError(t, err)
	g, _ := r.Network.Groups().Group("sg-web")
	require.Len(t, g.Ingress, 2)
	assert.Equal(t, "sgr-0aaa", g.Ingress[0].ID, "rule IDs come from the file")
	require.Len(t, g.Egress, 1, "rules files replace the groups' IpPermissions")
	assert.Equal(t, "sgr-0ccc", g.Egress[0].ID)
}

func TestInference(t *testing.T) {
	r, err := ec2json.Load(src("sgs.json", sgs(`{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"10.0.0.0/8"}]}`)),
		src("enis.json", enis("")))
	require.NoError(t, err)
	joined := strings.Join(r.Warnings, "\n")
	assert.Contains(t, joined, "subnet-1 taken to be 10.0.1.0/24")
	assert.Contains(t, joined, "vpc-1 taken to span 10.0.0.0/16")
	assert.Contains(t, joined, "allow-all default ACL")
	s, ok := r.Network.Subnet("subnet-1")
	require.True(t, ok)
	assert.Equal(t, netip.MustParsePrefix("10.0.1.0/24"), s.CIDR)
}

// TestFlowLogFields loads what flow logs of later versions show: the
// instance an interface is attached to, its subnet's zone ID and the
// region its ARN names; absent, they stay empty.
func TestFlowLogFields(t *testing.T) {
	withZone := strings.Replace(subnets, `"SubnetId":"subnet-1"`,
		`"SubnetId":"subnet-1","AvailabilityZone":"eu-west-1b","AvailabilityZoneId":"euw1-az2","SubnetArn":"arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-1"`, 1)
	attached := enis(`,"Attachment":{"AttachmentId":"eni-attach-1","DeviceIndex":0,"InstanceId":"i-0abc","InstanceOwnerId":"111122223333","Status":"attached"}`)
	tests := []struct {
		name                   string
		subnets, enis          string
		instance, zone, region string
	}{
		{"given", withZone, attached, "i-0abc", "euw1-az2", "eu-west-1"},
		{"absent", subnets, enis(""), "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", tt.subnets), src("sgs.json", sgs("")), src("enis.json", tt.enis))
			require.NoError(t, err)
			s, ok := r.Network.Subnet("subnet-1")
			require.True(t, ok)
			assert.Equal(t, tt.zone, s.AvailabilityZoneID)
			assert.Equal(t, tt.region, s.Region)
			assert.Equal(t, tt.instance, r.Network.Interface("eni-1").Spec().InstanceID)
		})
	}
}

// flowLogs is describe-flow-logs output with one flow log, fl-1, of the
// given fields.
func flowLogs(fields string) string {
	return `{"FlowLogs":[{"FlowLogId":"fl-1","FlowLogStatus":"ACTIVE","LogDestinationType":"s3",` + fields + `}]}`
}

// TestLoadFlowLogs checks what describe-flow-logs gives a replay: the
// interfaces each flow log logs (its own, its subnet's or its VPC's), its
// format, traffic type and aggregation window, AWS's defaults where the
// output leaves them out; transit gateway flow logs are left out with a
// warning.
func TestLoadFlowLogs(t *testing.T) {
	twoSubnets := `{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.1.0/24"},
		{"SubnetId":"subnet-2","VpcId":"vpc-1","CidrBlock":"10.0.2.0/24"}]}`
	threeENIs := `{"NetworkInterfaces":[
		{"NetworkInterfaceId":"eni-1","SubnetId":"subnet-1","VpcId":"vpc-1","PrivateIpAddress":"10.0.1.10","Groups":[{"GroupId":"sg-web"}]},
		{"NetworkInterfaceId":"eni-2","SubnetId":"subnet-1","VpcId":"vpc-1","PrivateIpAddress":"10.0.1.11","Groups":[{"GroupId":"sg-web"}]},
		{"NetworkInterfaceId":"eni-3","SubnetId":"subnet-2","VpcId":"vpc-1","PrivateIpAddress":"10.0.2.10","Groups":[{"GroupId":"sg-web"}]}]}`
	custom := "${version} ${interface-id} ${srcaddr} ${action}"
	tests := []struct {
		name    string
		fields  string
		ifaces  []string
		traffic flowlog.TrafficType
		format  string
		window  time.Duration
		warning string
	}{
		{"on an interface", `"ResourceId":"eni-2","TrafficType":"REJECT","MaxAggregationInterval":60`, []string{"eni-2"}, flowlog.TrafficReject, "", time.Minute, ""},
		// No MaxAggregationInterval: AWS's default, 600 s, kept as it is.
		// AWS aggregates over 60 s or less at Nitro instances' interfaces
		// whatever the flow log says, but the files do not say which
		// instances those are (see FlowLog.Window).
		{"on a subnet", `"ResourceId":"subnet-1","TrafficType":"ACCEPT","LogFormat":"` + custom + `"`, []string{"eni-1", "eni-2"}, flowlog.TrafficAccept, custom, 10 * time.Minute, ""},
		{"on a VPC", `"ResourceId":"vpc-1","TrafficType":"ALL","MaxAggregationInterval":600`, []string{"eni-1", "eni-2", "eni-3"}, flowlog.TrafficAll, "", 10 * time.Minute, ""},
		{"on a transit gateway", `"ResourceId":"tgw-1"`, nil, 0, "", 0, "fl.json: fl-1: flow logs of transit gateways (tgw-1) are not modelled; left out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", twoSubnets), src("sgs.json", sgs("")),
				src("enis.json", threeENIs), src("fl.json", flowLogs(tt.fields)))
			require.NoError(t, err)
			if tt.warning != "" {
				assert.Empty(t, r.FlowLogs)
				assert.Contains(t, r.Warnings, tt.warning)
				return
			}
			require.Len(t, r.FlowLogs, 1)
			fl := r.FlowLogs[0]
			assert.Equal(t, "fl-1", fl.ID)
			var ids []string
			for _, i := range fl.Interfaces {
				ids = append(ids, i.ID())
			}
			assert.Equal(t, tt.ifaces, ids)
			assert.Equal(t, tt.traffic, fl.Traffic)
			want := flowlog.DefaultFormat
			if tt.format != "" {
				want, err = flowlog.ParseFormat(tt.format)
				require.NoError(t, err)
			}
			assert.Equal(t, want, fl.Format)
			assert.Equal(t, tt.window, fl.Window)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	okPerm := `{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"10.0.0.0/8"}]}`
	base := func(sgsBody, enisBody string, extra ...ec2json.Source) []ec2json.Source {
		out := []ec2json.Source{src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgsBody), src("enis.json", enisBody)}
		return append(out, extra...)
	}
	tests := []struct {
		name    string
		sources []ec2json.Source
		want    string
	}{
		{"port out of range", base(sgs(`{"IpProtocol":"tcp","FromPort":70000,"ToPort":70000,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}`), enis("")),
			"sgs.json: sg-web: IpPermissions[0].FromPort: 70000 is not a port"},
		{"missing ToPort", base(sgs(`{"IpProtocol":"tcp","FromPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}`), enis("")),
			"sgs.json: sg-web: IpPermissions[0].ToPort: missing"},
		{"bad protocol", base(sgs(okPerm+`,{"IpProtocol":"gre","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}`), enis("")),
			`sgs.json: sg-web: IpPermissions[1].IpProtocol: "gre" is not a protocol`},
		{"bad cidr", base(sgs(`{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"10.0.0/8"}]}`), enis("")),
			`sgs.json: sg-web: IpPermissions[0].IpRanges[0].CidrIp: "10.0.0/8" is not a CIDR block`},
		{"ipv6 in IpRanges", base(sgs(`{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"::/0"}]}`), enis("")),
			`IpPermissions[0].IpRanges[0].CidrIp: "::/0" is not an IPv4 CIDR block`},
		{"undefined group", base(sgs(`{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"UserIdGroupPairs":[{"GroupId":"sg-gone","UserId":"111122223333"}]}`), enis("")),
			"sgs.json: sg-web: IpPermissions[0].UserIdGroupPairs[0].GroupId: sg-gone is not defined in any --config file"},
		{"undefined prefix list", base(sgs(`{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"PrefixListIds":[{"PrefixListId":"pl-9"}]}`), enis("")),
			"sgs.json: sg-web: IpPermissions[0].PrefixListIds[0]: pl-9 is not defined"},
		{"undefined subnet", base(sgs(okPerm), strings.Replace(enis(""), `"SubnetId":"subnet-1"`, `"SubnetId":"subnet-9"`, 1)),
			"enis.json: eni-1: SubnetId: subnet-9 is not defined in any --config file"},
		{"undefined interface group", base(sgs(okPerm), strings.Replace(enis(""), `"GroupId":"sg-web"`, `"GroupId":"sg-9"`, 1)),
			"enis.json: eni-1: Groups[0].GroupId: sg-9 is not defined"},
		{"address outside its subnet", base(sgs(okPerm), strings.ReplaceAll(enis(""), "10.0.1.10", "10.0.2.10")),
			`enis.json: eni-1: PrivateIpAddresses[0]: "10.0.2.10": outside subnet subnet-1 (10.0.1.0/24) (InvalidParameterValue)`},
		{"UdpTimeout 61", base(sgs(okPerm), enis(`,"ConnectionTrackingConfiguration":{"UdpTimeout":61}`)),
			"enis.json: eni-1: ConnectionTrackingConfiguration.UdpTimeout: 61 is outside 30-60 seconds"},
		{"type error", base(sgs(okPerm), enis(`,"SourceDestCheck":"yes"`)),
			"enis.json: eni-1: SourceDestCheck: a JSON string where bool is expected"},
		{"group without a name", base(strings.Replace(sgs(okPerm), `"GroupName":"web",`, "", 1), enis("")),
			"sgs.json: sg-web: GroupName: missing"},
		{"not JSON", []ec2json.Source{src("x.json", "{\n\"SecurityGroups\": [\n}")}, "x.json: invalid JSON at line 3"},
		{"unknown kind", []ec2json.Source{src("x.json", `{"Images":[]}`)}, "x.json: holds none of Vpcs"},
		{"entries without a list", []ec2json.Source{src("x.json", `{"Entries":[]}`)}, "x.json: Entries: get-managed-prefix-list-entries output names no list"},
		{"defined twice", base(sgs(okPerm), enis(""), src("sgs2.json", sgs(okPerm))), "sgs2.json: sg-web: is defined twice (also in sgs.json)"},
		{"acl association to unknown subnet", base(sgs(okPerm), enis(""), src("acls.json",
			`{"NetworkAcls":[{"NetworkAclId":"acl-1","VpcId":"vpc-1","IsDefault":true,"Associations":[{"SubnetId":"subnet-7"}],"Entries":[]}]}`)),
			"acls.json: acl-1: Associations[0].SubnetId: subnet-7 is not defined"},
		{"acl bad action", base(sgs(okPerm), enis(""), src("acls.json",
			`{"NetworkAcls":[{"NetworkAclId":"acl-1","VpcId":"vpc-1","IsDefault":true,"Entries":[{"RuleNumber":100,"Protocol":"-1","RuleAction":"maybe","Egress":false,"CidrBlock":"0.0.0.0/0"}]}]}`)),
			`acls.json: acl-1: Entries[0].RuleAction: "maybe" is neither allow nor deny`},
		{"acl rule number", base(sgs(okPerm), enis(""), src("acls.json",
			`{"NetworkAcls":[{"NetworkAclId":"acl-1","VpcId":"vpc-1","IsDefault":true,"Entries":[{"RuleNumber":40000,"Protocol":"-1","RuleAction":"allow","Egress":false,"CidrBlock":"0.0.0.0/0"}]}]}`)),
			`acls.json: acl-1: Entries[0]: ingress 40000: "40000": rule numbers are 1-32766 (InvalidParameterValue)`},
		{"subnet ARN not an ARN", []ec2json.Source{src("vpcs.json", vpcs), src("subnets.json",
			strings.Replace(subnets, `"SubnetId":"subnet-1"`, `"SubnetId":"subnet-1","SubnetArn":"subnet/subnet-1"`, 1))},
			`subnets.json: subnet-1: SubnetArn: "subnet/subnet-1" is not an EC2 ARN (arn:aws:ec2:REGION:ACCOUNT:subnet/ID)`},
		{"acl tcp without ports", base(sgs(okPerm), enis(""), src("acls.json",
			`{"NetworkAcls":[{"NetworkAclId":"acl-1","VpcId":"vpc-1","IsDefault":true,"Entries":[{"RuleNumber":10,"Protocol":"6","RuleAction":"allow","Egress":false,"CidrBlock":"0.0.0.0/0"}]}]}`)),
			"acls.json: acl-1: Entries[0].PortRange: missing"},
		{"flow log on an unknown interface", base(sgs(okPerm), enis(""), src("fl.json", flowLogs(`"ResourceId":"eni-9","TrafficType":"ALL"`))),
			"fl.json: fl-1: ResourceId: eni-9 is not defined in any --config file"},
		{"flow log on an unknown subnet", base(sgs(okPerm), enis(""), src("fl.json", flowLogs(`"ResourceId":"subnet-9","TrafficType":"ALL"`))),
			"fl.json: fl-1: ResourceId: subnet-9 is not defined in any --config file"},
		{"flow log on an unknown VPC", base(sgs(okPerm), enis(""), src("fl.json", flowLogs(`"ResourceId":"vpc-9","TrafficType":"ALL"`))),
			"fl.json: fl-1: ResourceId: vpc-9 is not defined in any --config file"},
		{"flow log on something else", base(sgs(okPerm), enis(""), src("fl.json", flowLogs(`"ResourceId":"i-1","TrafficType":"ALL"`))),
			`fl.json: fl-1: ResourceId: "i-1" is not a network interface, subnet, VPC or transit gateway`},
		{"flow log without a resource", base(sgs(okPerm), enis(""), src("fl.json", flowLogs(`"TrafficType":"ALL"`))),
			"fl.json: fl-1: ResourceId: is missing"},
		{"flow log traffic type", base(sgs(okPerm), enis(""), src("fl.json", flowLogs(`"ResourceId":"eni-1","TrafficType":"SOME"`))),
			`fl.json: fl-1: TrafficType: "SOME" is not ACCEPT, REJECT or ALL`},
		{"flow log without a traffic type", base(sgs(okPerm), enis(""), src("fl.json", flowLogs(`"ResourceId":"eni-1"`))),
			`fl.json: fl-1: TrafficType: "" is not ACCEPT, REJECT or ALL`},
		{"flow log format", base(sgs(okPerm), enis(""), src("fl.json", flowLogs(`"ResourceId":"eni-1","TrafficType":"ALL","LogFormat":"${version} ${nope}"`))),
			`fl.json: fl-1: LogFormat: "${nope}": no flow log field is called "nope"`},
		{"flow log interval", base(sgs(okPerm), enis(""), src("fl.json", flowLogs(`"ResourceId":"eni-1","TrafficType":"ALL","MaxAggregationInterval":300`))),
			"fl.json: fl-1: MaxAggregationInterval: 300 is not 60 or 600"},
		{"flow log interval type", base(sgs(okPerm), enis(""), src("fl.json", flowLogs(`"ResourceId":"eni-1","TrafficType":"ALL","MaxAggregationInterval":"60"`))),
			"fl.json: fl-1: MaxAggregationInterval: a JSON string where int is expected"},
		{"flow log without an ID", base(sgs(okPerm), enis(""), src("fl.json", `{"FlowLogs":[{"ResourceId":"eni-1","TrafficType":"ALL"}]}`)),
			"fl.json: FlowLogs[0]: has no ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ec2json.Load(tt.sources...)
			require.Error(t, err)
			var e *ec2json.Error
			require.ErrorAs(t, err, &e)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func FuzzLoad(f *testing.F) {
	for _, s := range sample.Configs() {
		f.Add(s.Data)
	}
	f.Add([]byte(`{"SecurityGroups":[{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcp","FromPort":1e9}]}]}`))
	f.Add([]byte(`{"NetworkAcls":[{"NetworkAclId":"acl-1","VpcId":"vpc-1","Entries":[{"RuleNumber":"x"}]}]}`))
	f.Add([]byte(`{"FlowLogs":[{"FlowLogId":"fl-1","ResourceId":"vpc-0a1b2c3d4e5f60001","TrafficType":"ALL",` +
		`"LogFormat":"${version} ${srcaddr} ${log-status}","MaxAggregationInterval":60}]}`))
	f.Add([]byte(`{"Reservations":[{"ReservationId":"r-1","Instances":[{"InstanceId":"i-0a1b2c3d4e5f60001","InstanceType":"m8i.large",` +
		`"NetworkInterfaces":[{"NetworkInterfaceId":"eni-0a1b2c3d4e5f60001"}]}]}],"InstanceTypes":[{"InstanceType":"m8i.large",` +
		`"Hypervisor":"nitro","NetworkInfo":{"ConnectionTrackingConfiguration":{"DefaultTcpEstablishedTimeout":350}}}]}`))
	f.Add([]byte(`{"RouteTables":[{"RouteTableId":"rtb-1","VpcId":"vpc-0a1b2c3d4e5f60001","Associations":[{"Main":true}],` +
		`"Routes":[{"DestinationCidrBlock":"10.20.3.0/24","NetworkInterfaceId":"eni-0a1b2c3d4e5f60005","State":"active"}]}]}`))
	f.Add([]byte(`{"TrafficMirrorSessions":[{"TrafficMirrorSessionId":"tms-1","TrafficMirrorTargetId":"tmt-1","TrafficMirrorFilterId":"tmf-1",` +
		`"NetworkInterfaceId":"eni-0a1b2c3d4e5f60001","SessionNumber":1,"VirtualNetworkId":7}],` +
		`"TrafficMirrorFilters":[{"TrafficMirrorFilterId":"tmf-1","NetworkServices":["amazon-dns"],"IngressFilterRules":[{"RuleNumber":1,` +
		`"RuleAction":"accept","Protocol":6,"DestinationPortRange":{"FromPort":1,"ToPort":2},"SourceCidrBlock":"0.0.0.0/0","DestinationCidrBlock":"0.0.0.0/0"}]}],` +
		`"TrafficMirrorTargets":[{"TrafficMirrorTargetId":"tmt-1","Type":"network-interface","NetworkInterfaceId":"eni-0a1b2c3d4e5f60005"}]}`))
	f.Add([]byte(`{"syncToken":"1","createDate":"x","prefixes":[{"ip_prefix":"52.95.0.0/16","service":"S3"}],` +
		`"ipv6_prefixes":[{"ipv6_prefix":"2600:9000::/28","service":"CLOUDFRONT"}]}`))
	f.Add([]byte(`{"VpcPeeringConnections":[{"VpcPeeringConnectionId":"pcx-1","RequesterVpcInfo":{"VpcId":"vpc-1","Region":"us-east-1"},` +
		`"AccepterVpcInfo":{"VpcId":"vpc-2","Region":"eu-west-1"},"Status":{"Code":"active"}}]}`))
	f.Add([]byte(`{"TargetGroups":[{"TargetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/1","Protocol":"TCP",` +
		`"TargetType":"instance","LoadBalancerArns":["arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/a/1"]}],` +
		`"TargetHealthDescriptions":[{"Target":{"Id":"i-0a1b2c3d4e5f60001","Port":443}},{"Target":{"Id":"10.20.1.10","Port":"80"}}]}`))
	f.Add([]byte(`{"Listeners":[{"ListenerArn":"arn:aws:elasticloadbalancing:us-east-1:1:listener/net/a/1/2","Protocol":"TCP",` +
		`"DefaultActions":[{"Type":"forward","TargetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/1",` +
		`"ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"x"}]}}]}],"Attributes":[{"Key":"tcp.idle_timeout.seconds","Value":"900"}]}`))
	// Text as shells save it: UTF-16 either way round, a UTF-8 mark.
	f.Add(append([]byte{0xff, 0xfe}, []byte("{\x00\"\x00V\x00p\x00c\x00s\x00\"\x00:\x00[\x00]\x00}\x00")...))
	f.Add([]byte("\x00{\x00\"\x00S\x00u\x00b\x00n\x00e\x00t\x00s\x00\"\x00:\x00[\x00{\x00}\x00]\x00}"))
	f.Add(append([]byte{0xef, 0xbb, 0xbf}, sample.Configs()[0].Data...))
	f.Fuzz(func(t *testing.T, data []byte) {
		sources := sample.Configs()
		k := len(data) % len(sources)
		sources[k].Data = data
		r, err := ec2json.Load(sources...)
		if err != nil {
			if !strings.Contains(err.Error(), ":") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		_ = fmt.Sprint(r.Warnings)
	})
}

// TestForeignGroupReference: a rule may name a group the files do not
// define when the group is another account's, a peered VPC's, or another
// VPC's (attached by transit gateway): a warning, and the rule matches
// nothing. A group of the same VPC and account must be in the files.
func TestForeignGroupReference(t *testing.T) {
	tests := []struct {
		name    string
		pair    string
		foreign bool
	}{
		{"same VPC", `{"GroupId":"sg-0gone","UserId":"111122223333"}`, false},
		{"same VPC, VpcId given", `{"GroupId":"sg-0gone","UserId":"111122223333","VpcId":"vpc-1"}`, false},
		{"no owner or VPC", `{"GroupId":"sg-0gone"}`, false},
		{"another account", `{"GroupId":"sg-0other","UserId":"444455556666"}`, true},
		{"peered VPC", `{"GroupId":"sg-0peer","UserId":"111122223333","VpcId":"vpc-2","VpcPeeringConnectionId":"pcx-1","PeeringStatus":"active"}`, true},
		{"VPC attached by transit gateway", `{"GroupId":"sg-0tgw","UserId":"111122223333","VpcId":"vpc-3"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perm := `{"IpProtocol":"tcp","FromPort":443,"ToPort":443,"UserIdGroupPairs":[` + tt.pair + `]}`
			r, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs(perm)), src("enis.json", enis("")))
			if !tt.foreign {
				require.Error(t, err)
				assert.Equal(t, "sgs.json: sg-web: IpPermissions[0].UserIdGroupPairs[0].GroupId: sg-0gone is not defined in any --config file", err.Error())
				return
			}
			require.NoError(t, err)
			var about []string
			for _, w := range r.Warnings {
				if strings.Contains(w, "UserIdGroupPairs") {
					about = append(about, w)
				}
			}
			require.Len(t, about, 1, "%q", r.Warnings)
			assert.Contains(t, about[0], "sgs.json: sg-web: IpPermissions[0].UserIdGroupPairs[0].GroupId: ")
			assert.Contains(t, about[0], "is in another account or VPC and not in the files: the rule matches nothing")
			// The rule stays, matching nothing: no address is in the group.
			g, _ := r.Network.Groups().Group("sg-web")
			require.Len(t, g.Ingress, 1)
			https := eni.TCP(netip.MustParseAddrPort("10.0.9.9:50000"), netip.MustParseAddrPort("10.0.1.10:443"), eni.SYN)
			assert.False(t, r.Network.Judge(&https, time.Unix(0, 0)).Allowed())
		})
	}
}

// TestPublicAddresses: the Association of an interface and of each of its
// private addresses gives the public address the internet gateway
// translates; a packet to it is judged at the interface. A malformed or
// doubly used public address is an error naming its field.
func TestPublicAddresses(t *testing.T) {
	eni2 := func(pub1, pub2 string) string {
		return `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1","SubnetId":"subnet-1","VpcId":"vpc-1","InterfaceType":"interface",
			"PrivateIpAddress":"10.0.1.10","Association":{"PublicIp":"` + pub1 + `","IpOwnerId":"amazon"},
			"PrivateIpAddresses":[{"Primary":true,"PrivateIpAddress":"10.0.1.10","Association":{"PublicIp":"` + pub1 + `"}},
				{"Primary":false,"PrivateIpAddress":"10.0.1.11","Association":{"PublicIp":"` + pub2 + `","AllocationId":"eipalloc-1"}}],
			"Groups":[{"GroupId":"sg-web"}]}]}`
	}
	perm := `{"IpProtocol":"tcp","FromPort":443,"ToPort":443,"IpRanges":[{"CidrIp":"192.0.2.0/24"}]}`
	r, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs(perm)),
		src("enis.json", eni2("203.0.113.12", "203.0.113.13")))
	require.NoError(t, err)
	assert.Equal(t, []eni.PublicIP{
		{Public: netip.MustParseAddr("203.0.113.12"), Private: netip.MustParseAddr("10.0.1.10")},
		{Public: netip.MustParseAddr("203.0.113.13"), Private: netip.MustParseAddr("10.0.1.11")},
	}, r.Network.Interface("eni-1").Spec().PublicIPv4)
	for _, dst := range []string{"203.0.113.12:443", "203.0.113.13:443"} {
		syn := eni.TCP(netip.MustParseAddrPort("192.0.2.7:50000"), netip.MustParseAddrPort(dst), eni.SYN)
		p := r.Network.Judge(&syn, time.Unix(0, 0))
		assert.True(t, p.Allowed(), "%s", p)
		assert.Equal(t, "eni-1", p.Dst.ID(), dst)
	}

	_, err = ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs(perm)),
		src("enis.json", eni2("203.0.113.12", "203.0.113.300")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "enis.json: eni-1: PrivateIpAddresses[1].Association.PublicIp: ")
	_, err = ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs(perm)),
		src("enis.json", eni2("203.0.113.12", "10.9.9.9")))
	require.Error(t, err)
	assert.Equal(t, `enis.json: eni-1: PrivateIpAddresses[1].Association.PublicIp: "10.9.9.9": not a public IPv4 address (InvalidParameterValue)`, err.Error())
}

// TestLoadAWSRanges: ip-ranges.json, as AWS publishes it, loads beside
// the describe-* files; a second one is refused.
func TestLoadAWSRanges(t *testing.T) {
	ranges := `{"syncToken":"1700000000","createDate":"2026-11-30-12-00-00","prefixes":[
		{"ip_prefix":"52.95.0.0/16","region":"us-east-1","service":"S3","network_border_group":"us-east-1"}],"ipv6_prefixes":[]}`
	files := append(sample.Configs(), src("ip-ranges.json", ranges))
	r, err := ec2json.Load(files...)
	require.NoError(t, err)
	require.NotNil(t, r.AWSRanges)
	assert.Equal(t, "S3", r.AWSRanges.Service(netip.MustParseAddr("52.95.3.4")))
	assert.Contains(t, r.Files, "ip-ranges.json: 1 AWS service address ranges")

	_, err = ec2json.Load(append(files, src("more-ranges.json", ranges))...)
	require.Error(t, err)
	assert.Equal(t, "more-ranges.json: a second ip-ranges.json (also ip-ranges.json)", err.Error())
	_, err = ec2json.Load(append(sample.Configs(), src("ip-ranges.json", `{"syncToken":"1","prefixes":[{"ip_prefix":"nope","service":"S3"}]}`))...)
	require.Error(t, err)
	assert.Equal(t, `ip-ranges.json: prefixes[0]: "nope" is not a CIDR block`, err.Error())
	r, err = ec2json.Load(sample.Configs()...)
	require.NoError(t, err)
	assert.Nil(t, r.AWSRanges)
}
