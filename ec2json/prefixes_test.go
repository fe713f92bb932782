package ec2json_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/ec2json"
)

// TestDelegatedPrefixes loads the prefixes delegated to an interface
// (Ipv4Prefixes, Ipv6Prefixes); their addresses are the interface's.
func TestDelegatedPrefixes(t *testing.T) {
	subnets6 := `{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.1.0/24",
		"Ipv6CidrBlockAssociationSet":[{"Ipv6CidrBlock":"2001:db8:1:1::/64"}]}]}`
	vpcs6 := `{"Vpcs":[{"VpcId":"vpc-1","OwnerId":"111122223333","CidrBlock":"10.0.0.0/16",
		"Ipv6CidrBlockAssociationSet":[{"Ipv6CidrBlock":"2001:db8:1::/56"}]}]}`
	r, err := ec2json.Load(src("vpcs.json", vpcs6), src("subnets.json", subnets6), src("sgs.json", sgs("")),
		src("enis.json", enis(`,"Ipv4Prefixes":[{"Ipv4Prefix":"10.0.1.32/28"},{"Ipv4Prefix":"10.0.1.48/28"}],`+
			`"Ipv6Prefixes":[{"Ipv6Prefix":"2001:db8:1:1:1::/80"}]`)))
	require.NoError(t, err)
	i := r.Network.Interface("eni-1")
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.1.32/28"), netip.MustParsePrefix("10.0.1.48/28"),
		netip.MustParsePrefix("2001:db8:1:1:1::/80")}, i.Prefixes())
	assert.Equal(t, i, r.Network.InterfaceByAddr(netip.MustParseAddr("10.0.1.50")))
	assert.Equal(t, i, r.Network.InterfaceByAddr(netip.MustParseAddr("2001:db8:1:1:1::7")))

	for _, tt := range []struct {
		name, extra, want string
	}{
		{"not a prefix", `,"Ipv4Prefixes":[{"Ipv4Prefix":"10.0.1.32"}]`,
			`enis.json: eni-1: Ipv4Prefixes[0].Ipv4Prefix: "10.0.1.32" is not an IPv4 prefix`},
		{"wrong family", `,"Ipv6Prefixes":[{"Ipv6Prefix":"10.0.1.32/28"}]`,
			`enis.json: eni-1: Ipv6Prefixes[0].Ipv6Prefix: "10.0.1.32/28" is not an IPv6 prefix`},
		{"outside the subnet", `,"Ipv4Prefixes":[{"Ipv4Prefix":"10.0.1.32/28"},{"Ipv4Prefix":"10.0.9.32/28"}]`,
			`enis.json: eni-1: Ipv4Prefixes[1].Ipv4Prefix: "10.0.9.32/28": outside subnet subnet-1 (10.0.1.0/24) (InvalidParameterValue)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")), src("enis.json", enis(tt.extra)))
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}
