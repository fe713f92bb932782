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
)

// applianceFiles: a firewall (eni-fw, its source/destination check off)
// in subnet-1, the app (eni-app) in subnet-2, the database (eni-db) in
// subnet-3, which lets in 5432 from the app's group.
func applianceFiles(routeTables string) []ec2json.Source {
	return []ec2json.Source{
		src("vpcs.json", `{"Vpcs":[{"VpcId":"vpc-1","OwnerId":"111122223333","CidrBlock":"10.0.0.0/16"}]}`),
		src("subnets.json", `{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.1.0/24"},
			{"SubnetId":"subnet-2","VpcId":"vpc-1","CidrBlock":"10.0.2.0/24"},{"SubnetId":"subnet-3","VpcId":"vpc-1","CidrBlock":"10.0.3.0/24"}]}`),
		src("sgs.json", `{"SecurityGroups":[
			{"GroupId":"sg-fw","GroupName":"fw","VpcId":"vpc-1","IpPermissions":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"10.0.0.0/16"}]}],
			 "IpPermissionsEgress":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]},
			{"GroupId":"sg-app","GroupName":"app","VpcId":"vpc-1","IpPermissions":[],"IpPermissionsEgress":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]},
			{"GroupId":"sg-db","GroupName":"db","VpcId":"vpc-1","IpPermissions":[{"IpProtocol":"tcp","FromPort":5432,"ToPort":5432,
			 "UserIdGroupPairs":[{"GroupId":"sg-app"}]}],"IpPermissionsEgress":[]}]}`),
		src("enis.json", `{"NetworkInterfaces":[
			{"NetworkInterfaceId":"eni-fw","SubnetId":"subnet-1","VpcId":"vpc-1","PrivateIpAddress":"10.0.1.5","SourceDestCheck":false,"Groups":[{"GroupId":"sg-fw"}]},
			{"NetworkInterfaceId":"eni-app","SubnetId":"subnet-2","VpcId":"vpc-1","PrivateIpAddress":"10.0.2.10","Groups":[{"GroupId":"sg-app"}]},
			{"NetworkInterfaceId":"eni-db","SubnetId":"subnet-3","VpcId":"vpc-1","PrivateIpAddress":"10.0.3.10","Groups":[{"GroupId":"sg-db"}]}]}`),
		src("rtbs.json", routeTables),
	}
}

const routeTables = `{"RouteTables":[
	{"RouteTableId":"rtb-main","VpcId":"vpc-1","Associations":[{"Main":true,"RouteTableAssociationId":"rtbassoc-1",
	  "AssociationState":{"State":"associated"}}],
	 "Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local","Origin":"CreateRouteTable","State":"active"}]},
	{"RouteTableId":"rtb-app","VpcId":"vpc-1","Associations":[{"Main":false,"SubnetId":"subnet-2","AssociationState":{"State":"associated"}},
	  {"Main":false,"SubnetId":"subnet-3","AssociationState":{"State":"disassociated"}}],
	 "Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local","State":"active"},
	  {"DestinationCidrBlock":"10.0.3.0/24","NetworkInterfaceId":"eni-fw","InstanceId":"i-fw","State":"active"},
	  {"DestinationCidrBlock":"0.0.0.0/0","GatewayId":"igw-1","State":"active"},
	  {"DestinationIpv6CidrBlock":"::/0","EgressOnlyInternetGatewayId":"eigw-1","State":"active"}]}]}`

// TestRouteTables: describe-route-tables' route to the firewall sends the
// app's traffic to the database through it, where the rule referencing
// the app's group no longer matches.
func TestRouteTables(t *testing.T) {
	r, err := ec2json.Load(applianceFiles(routeTables)...)
	require.NoError(t, err)
	assert.Contains(t, r.Files, "rtbs.json: 2 route tables")
	assert.Len(t, r.Network.RouteTables(), 2)
	syn := eni.TCP(netip.MustParseAddrPort("10.0.2.10:40000"), netip.MustParseAddrPort("10.0.3.10:5432"), eni.SYN)
	p := r.Network.Judge(&syn, time.Unix(0, 0))
	require.NotNil(t, p.Via(), "%s", p)
	assert.Equal(t, "eni-fw", p.Via().ID())
	assert.False(t, p.Allowed(), "%s", p)
	assert.Contains(t, p.String(), "it came through an appliance")
	// An egress-only internet gateway is kept as the route's target: the
	// flows through it are always tracked.
	app := r.Network.Interface("eni-app")
	require.NotNil(t, app)
	assert.Equal(t, "eigw-1", app.RouteTarget(netip.MustParseAddr("2600:1f18::7")))

	// Without the route tables, the reference matches.
	r, err = ec2json.Load(applianceFiles(`{"RouteTables":[]}`)...)
	require.NoError(t, err)
	p = r.Network.Judge(&syn, time.Unix(0, 0))
	assert.True(t, p.Allowed(), "%s", p)
}

func TestRouteTableErrors(t *testing.T) {
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"undefined interface", `"NetworkInterfaceId":"eni-fw"`, `"NetworkInterfaceId":"eni-gone"`,
			"rtbs.json: rtb-app: Routes[1].NetworkInterfaceId: eni-gone is not defined in any --config file"},
		{"undefined subnet", `"SubnetId":"subnet-2","AssociationState"`, `"SubnetId":"subnet-9","AssociationState"`,
			"rtbs.json: rtb-app: Associations[0].SubnetId: subnet-9 is not defined in any --config file"},
		{"bad destination", `"DestinationCidrBlock":"10.0.3.0/24"`, `"DestinationCidrBlock":"10.0.3/24"`,
			`rtbs.json: rtb-app: Routes[1].DestinationCidrBlock: "10.0.3/24" is not a CIDR block`},
		{"undefined VPC", `"RouteTableId":"rtb-app","VpcId":"vpc-1"`, `"RouteTableId":"rtb-app","VpcId":"vpc-9"`,
			"rtbs.json: rtb-app: VpcId: vpc-9 is not defined in any --config file"},
		{"two main tables", `{"Main":false,"SubnetId":"subnet-2"`, `{"Main":true,"SubnetId":"subnet-2"`,
			"rtbs.json: rtb-app: Associations: a second main table: the VPC's is rtb-main (InvalidParameterValue)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(routeTables, tt.from, tt.to, 1)
			require.NotEqual(t, routeTables, body)
			_, err := ec2json.Load(applianceFiles(body)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	// A blackhole route drops the traffic it matches, whatever its target
	// was (here an interface the files no longer have).
	r, err := ec2json.Load(applianceFiles(strings.Replace(routeTables, `"NetworkInterfaceId":"eni-fw","InstanceId":"i-fw","State":"active"`,
		`"NetworkInterfaceId":"eni-gone","InstanceId":"i-fw","State":"blackhole"`, 1))...)
	require.NoError(t, err)
	syn := eni.TCP(netip.MustParseAddrPort("10.0.2.10:40000"), netip.MustParseAddrPort("10.0.3.10:5432"), eni.SYN)
	p := r.Network.Judge(&syn, time.Unix(0, 0))
	assert.False(t, p.Allowed())
	assert.Contains(t, p.String(), "ROUTE_BLACKHOLE: rtb-app routes 10.0.3.0/24 to eni-gone, which is gone (a blackhole route): AWS drops the packet")
}

// TestGatewayLoadBalancerEndpoint: a route to a Gateway Load Balancer
// endpoint (vpce-...) sends traffic through the endpoint's interface,
// which the files tie to it by its description; it has no groups and no
// source/destination check, and the database's group reference does not
// match what it forwards. An endpoint no interface carries is judged as
// if the traffic went straight on, with a warning.
func TestGatewayLoadBalancerEndpoint(t *testing.T) {
	files := applianceFiles(strings.Replace(routeTables, `"NetworkInterfaceId":"eni-fw","InstanceId":"i-fw"`, `"GatewayId":"vpce-0a1b2c"`, 1))
	for k := range files {
		if files[k].Name == "enis.json" {
			files[k].Data = []byte(strings.Replace(string(files[k].Data), `{"NetworkInterfaceId":"eni-fw"`,
				`{"NetworkInterfaceId":"eni-gwlbe","SubnetId":"subnet-1","VpcId":"vpc-1","PrivateIpAddress":"10.0.1.9","RequesterManaged":true,`+
					`"InterfaceType":"gateway_load_balancer_endpoint","Description":"VPC Endpoint Interface vpce-0a1b2c","Groups":[]},`+
					`{"NetworkInterfaceId":"eni-fw"`, 1))
		}
	}
	r, err := ec2json.Load(files...)
	require.NoError(t, err)
	syn := eni.TCP(netip.MustParseAddrPort("10.0.2.10:40000"), netip.MustParseAddrPort("10.0.3.10:5432"), eni.SYN)
	p := r.Network.Judge(&syn, time.Unix(0, 0))
	require.NotNil(t, p.Via(), "%s", p)
	assert.Equal(t, "eni-gwlbe", p.Via().ID())
	assert.False(t, p.Allowed(), "the reference does not match: %s", p)
	for _, s := range p.Stages() {
		if s.Kind == eni.StageApplianceIn || s.Kind == eni.StageApplianceOut {
			assert.Equal(t, eni.ReasonNoGroups, s.Verdict.Reason, "%s", p)
		}
	}

	r, err = ec2json.Load(applianceFiles(strings.Replace(routeTables, `"NetworkInterfaceId":"eni-fw","InstanceId":"i-fw"`, `"GatewayId":"vpce-9f9f"`, 1))...)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(r.Warnings, "\n"), "rtbs.json: rtb-app: Routes[1]: no interface in the files is the endpoint vpce-9f9f")
	p = r.Network.Judge(&syn, time.Unix(0, 0))
	assert.Nil(t, p.Via())
}

// TestNoRouteFromFiles: the main table has only the local route, so the
// database's packets to the internet go nowhere; a route to a prefix
// list whose entries no file gives may cover any destination, so then
// nothing is dropped for want of a route, and a warning says why.
func TestNoRouteFromFiles(t *testing.T) {
	out := eni.TCP(netip.MustParseAddrPort("10.0.3.10:40000"), netip.MustParseAddrPort("198.51.100.7:443"), eni.SYN)
	r, err := ec2json.Load(applianceFiles(routeTables)...)
	require.NoError(t, err)
	p := r.Network.Judge(&out, time.Unix(0, 0))
	assert.False(t, p.Allowed())
	assert.Contains(t, p.String(), "NO_ROUTE_TO_DESTINATION: rtb-main has no route for the destination")

	withList := strings.Replace(routeTables, `"Origin":"CreateRouteTable","State":"active"}]}`,
		`"Origin":"CreateRouteTable","State":"active"},{"DestinationPrefixListId":"pl-63a5400a","GatewayId":"vpce-s3","State":"active"}]}`, 1)
	require.NotEqual(t, routeTables, withList)
	r, err = ec2json.Load(applianceFiles(withList)...)
	require.NoError(t, err)
	p = r.Network.Judge(&out, time.Unix(0, 0))
	assert.NotContains(t, p.String(), "NO_ROUTE_TO_DESTINATION")
	assert.Contains(t, r.Warnings, "rtbs.json: rtb-main: Routes[1].DestinationPrefixListId: pl-63a5400a is in no --config file, so packets "+
		"this table has no other route for are judged as if they went on (add describe-managed-prefix-lists and get-managed-prefix-list-entries for it)")
}

// TestNATRouteWithoutInterface: a route to a NAT gateway whose interface
// the files lack is judged as if the packet went straight on, with one
// warning however many routes name it.
func TestNATRouteWithoutInterface(t *testing.T) {
	rtbs := `{"RouteTables":[{"RouteTableId":"rtb-app","VpcId":"vpc-1","Associations":[{"SubnetId":"subnet-2"}],
		"Routes":[{"DestinationCidrBlock":"0.0.0.0/0","NatGatewayId":"nat-9","State":"active"},
		 {"DestinationCidrBlock":"192.0.2.0/24","NatGatewayId":"nat-9","State":"active"}]}]}`
	r, err := ec2json.Load(applianceFiles(rtbs)...)
	require.NoError(t, err)
	var nat []string
	for _, w := range r.Warnings {
		if strings.Contains(w, "nat-9") {
			nat = append(nat, w)
		}
	}
	assert.Equal(t, []string{"rtbs.json: rtb-app: Routes[0]: no interface of type natGateway in the files is the NAT gateway nat-9 " +
		"(its description names it): traffic is judged as if it went straight on"}, nat)
	out := eni.TCP(netip.MustParseAddrPort("10.0.2.10:40000"), netip.MustParseAddrPort("198.51.100.7:443"), eni.SYN)
	p := r.Network.Judge(&out, time.Unix(0, 0))
	assert.True(t, p.Allowed(), "%s", p)
	assert.Nil(t, p.Via())
}

// TestLoadPeerings: describe-vpc-peering-connections gives each
// connection's VPCs and Regions; one without a VPC is refused.
func TestLoadPeerings(t *testing.T) {
	pcx := `{"VpcPeeringConnections":[{"VpcPeeringConnectionId":"pcx-1","Status":{"Code":"active"},
		"RequesterVpcInfo":{"VpcId":"vpc-1","OwnerId":"111122223333","Region":"us-east-1"},
		"AccepterVpcInfo":{"VpcId":"vpc-2","OwnerId":"444455556666","Region":"eu-west-1"}}]}`
	r, err := ec2json.Load(append(applianceFiles(routeTables), src("pcx.json", pcx))...)
	require.NoError(t, err)
	p, ok := r.Peering("pcx-1")
	require.True(t, ok)
	assert.Equal(t, ec2json.Peering{ID: "pcx-1", RequesterVPC: "vpc-1", AccepterVPC: "vpc-2", RequesterRegion: "us-east-1",
		AccepterRegion: "eu-west-1", RequesterOwner: "111122223333", AccepterOwner: "444455556666", Status: "active"}, p)
	inter, known := p.InterRegion()
	assert.True(t, inter)
	assert.True(t, known)
	_, ok = r.Peering("pcx-2")
	assert.False(t, ok)

	bare := strings.TrimSuffix(strings.TrimPrefix(pcx, `{"VpcPeeringConnections":`), "}")
	r, err = ec2json.Load(append(applianceFiles(routeTables), src("pcx.json", bare))...)
	require.NoError(t, err)
	_, ok = r.Peering("pcx-1")
	assert.True(t, ok, "a bare --query list loads too")

	_, err = ec2json.Load(append(applianceFiles(routeTables), src("pcx.json",
		`{"VpcPeeringConnections":[{"VpcPeeringConnectionId":"pcx-1","RequesterVpcInfo":{"VpcId":"vpc-1"}}]}`))...)
	require.Error(t, err)
	assert.Equal(t, "pcx.json: pcx-1: AccepterVpcInfo.VpcId: is missing", err.Error())
}

// TestDynamoDBGatewayEndpointTracks: AWS tracks every flow through a
// DynamoDB gateway endpoint (reference §2.3), though the route names only
// the endpoint and the service's prefix list; an S3 gateway endpoint's
// flows keep the rules' answer. The instance's group is open to the
// world both ways, so that the rules alone track nothing.
func TestDynamoDBGatewayEndpointTracks(t *testing.T) {
	files := []ec2json.Source{
		src("vpcs.json", `{"Vpcs":[{"VpcId":"vpc-1","OwnerId":"111122223333","CidrBlock":"10.0.0.0/16"}]}`),
		src("subnets.json", `{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.1.0/24"}]}`),
		src("sgs.json", `{"SecurityGroups":[{"GroupId":"sg-open","GroupName":"open","VpcId":"vpc-1",
			"IpPermissions":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}],
			"IpPermissionsEgress":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}]}`),
		src("enis.json", `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-app","SubnetId":"subnet-1","VpcId":"vpc-1",
			"PrivateIpAddress":"10.0.1.10","Groups":[{"GroupId":"sg-open"}]}]}`),
		src("pls.json", `{"PrefixLists":[
			{"PrefixListId":"pl-02cd2c6b","AddressFamily":"IPv4","PrefixListName":"com.amazonaws.us-east-1.dynamodb","OwnerId":"AWS"},
			{"PrefixListId":"pl-63a5400a","AddressFamily":"IPv4","PrefixListName":"com.amazonaws.us-east-1.s3","OwnerId":"AWS"}]}`),
		{Name: "ddb.json", PrefixList: "pl-02cd2c6b", Data: []byte(`{"Entries":[{"Cidr":"3.218.180.0/22"}]}`)},
		{Name: "s3.json", PrefixList: "pl-63a5400a", Data: []byte(`{"Entries":[{"Cidr":"52.216.0.0/15"}]}`)},
		src("rtbs.json", `{"RouteTables":[{"RouteTableId":"rtb-main","VpcId":"vpc-1","Associations":[{"Main":true}],
			"Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local","State":"active"},
			 {"DestinationPrefixListId":"pl-02cd2c6b","GatewayId":"vpce-ddb","State":"active"},
			 {"DestinationPrefixListId":"pl-63a5400a","GatewayId":"vpce-s3","State":"active"},
			 {"DestinationCidrBlock":"0.0.0.0/0","GatewayId":"igw-1","State":"active"}]}]}`),
	}
	r, err := ec2json.Load(files...)
	require.NoError(t, err)
	var tracked []string
	for _, rt := range r.Network.RouteTables() {
		for _, route := range rt.Routes {
			if route.DynamoDB {
				tracked = append(tracked, route.Dest.String()+" "+route.Target)
			}
		}
	}
	assert.Equal(t, []string{"3.218.180.0/22 vpce-ddb"}, tracked)
	for _, tt := range []struct {
		dst     string
		tracked bool
	}{{"3.218.180.10:443", true}, {"52.216.4.20:443", false}, {"198.51.100.7:443", false}} {
		syn := eni.TCP(netip.MustParseAddrPort("10.0.1.10:40000"), netip.MustParseAddrPort(tt.dst), eni.SYN)
		p := r.Network.Judge(&syn, time.Unix(0, 0))
		require.True(t, p.Allowed(), "%s", p)
		v := p.Stages()[0].Verdict
		assert.Equal(t, tt.tracked, v.NewConn, "%s: %s", tt.dst, v)
		assert.Equal(t, tt.tracked, v.ThroughGateway, "%s: %s", tt.dst, v)
		assert.Equal(t, !tt.tracked, v.Untracked, "%s: %s", tt.dst, v)
	}
}
