package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleRoutes are route tables for the sample: the public subnet's (the
// main table) sends the internet to the internet gateway, IPv6 too; the
// app subnet's sends it through the NAT gateway; the data subnet's has
// only the local route.
const sampleRoutes = `{"RouteTables":[
	{"RouteTableId":"rtb-0a1b2c3d4e5f60001","VpcId":"vpc-0a1b2c3d4e5f60001","Associations":[{"Main":true}],
	 "Routes":[{"DestinationCidrBlock":"10.20.0.0/16","GatewayId":"local","State":"active"},
	  {"DestinationIpv6CidrBlock":"2001:db8:20::/56","GatewayId":"local","State":"active"},
	  {"DestinationCidrBlock":"0.0.0.0/0","GatewayId":"igw-0a1b2c3d4e5f60001","State":"active"},
	  {"DestinationIpv6CidrBlock":"::/0","GatewayId":"igw-0a1b2c3d4e5f60001","State":"active"}]},
	{"RouteTableId":"rtb-0a1b2c3d4e5f60002","VpcId":"vpc-0a1b2c3d4e5f60001","Associations":[{"Main":false,"SubnetId":"subnet-0a1b2c3d4e5f60002"}],
	 "Routes":[{"DestinationCidrBlock":"10.20.0.0/16","GatewayId":"local","State":"active"},
	  {"DestinationCidrBlock":"0.0.0.0/0","NatGatewayId":"nat-0a1b2c3d4e5f60001","State":"active"}]},
	{"RouteTableId":"rtb-0a1b2c3d4e5f60003","VpcId":"vpc-0a1b2c3d4e5f60001","Associations":[{"Main":false,"SubnetId":"subnet-0a1b2c3d4e5f60003"}],
	 "Routes":[{"DestinationCidrBlock":"10.20.0.0/16","GatewayId":"local","State":"active"}]}]}`

// TestReplayNATGateway: with the sample's route tables, the app server's
// package downloads go out through the NAT gateway and their replies
// come back through it, its subnet's ACL judging them both ways; the
// database's attempts to reach the internet have no route at all.
func TestReplayNATGateway(t *testing.T) {
	cfg := sampleConfig(t)
	cfg = append(cfg, configWriter(t, filepath.Dir(cfg[1]))("rtbs.json", sampleRoutes)...)
	out, errOut, code := sgsim(t, append(append([]string{"replay", "--format", "jsonl"}, cfg...), "--pcap", writeSampleCapture(t))...)
	require.Equal(t, 0, code, errOut)
	var nat, db int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f struct {
			Verdict string `json:"verdict"`
			Src     string `json:"src"`
			Dst     string `json:"dst"`
			Via     string `json:"via_interface"`
			Stages  []struct {
				Stage, Code, ACL string
			} `json:"stages"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &f))
		switch {
		case f.Src == "10.20.2.10" && f.Dst == "151.101.0.223", f.Src == "151.101.0.223" && f.Dst == "10.20.2.10":
			nat++
			assert.Equal(t, "ACCEPT", f.Verdict, line)
			assert.Equal(t, "eni-0a1b2c3d4e5f60005", f.Via, line)
			var names []string
			for _, s := range f.Stages {
				names = append(names, s.Stage)
			}
			assert.Contains(t, names, "appliance subnet ACL in", line)
		case f.Src == "10.20.3.10" && f.Dst == "151.101.0.223":
			db++
			assert.Equal(t, "REJECT", f.Verdict)
			last := f.Stages[len(f.Stages)-1]
			assert.Equal(t, "NO_ROUTE_TO_DESTINATION", last.Code, line)
		}
	}
	assert.NotZero(t, nat)
	assert.NotZero(t, db)

	out, errOut, code = sgsim(t, append(append([]string{"replay"}, cfg...), "--pcap", writeSampleCapture(t))...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "eni-0a1b2c3d4e5f60005  Interface for NAT Gateway nat-0a1b2c3d4e5f60001", "the NAT gateway has frames now")
}
