package ec2json_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/internal/sample"
)

// TestBareLists: a file holding the list alone, as describe-... --query
// 'SecurityGroups[...]' prints it, loads as the whole output would: its
// kind is told by its first object's keys.
func TestBareLists(t *testing.T) {
	whole, err := ec2json.Load(sample.Configs()...)
	require.NoError(t, err)
	var bare []ec2json.Source
	for _, s := range sample.Configs() {
		var top map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(s.Data, &top))
		require.Len(t, top, 1, s.Name)
		for _, list := range top {
			s.Data = list
		}
		bare = append(bare, s)
	}
	r, err := ec2json.Load(bare...)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(whole.Files), fmt.Sprint(r.Files))
	assert.Len(t, r.Network.Interfaces(), len(whole.Network.Interfaces()))
	assert.Len(t, r.Network.Groups().Rules(), len(whole.Network.Groups().Rules()))
	assert.Len(t, r.Network.ACLs(), len(whole.Network.ACLs()))

	// Reservations[].Instances[]: the instances, with their interfaces.
	inst := `[{"InstanceId":"i-web","InstanceType":"m5.large","NetworkInterfaces":[{"NetworkInterfaceId":"eni-1","SubnetId":"subnet-1",
		"VpcId":"vpc-1","PrivateIpAddress":"10.0.1.10","Groups":[{"GroupId":"sg-web"}]}]}]`
	r, err = ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")), src("instances.json", inst))
	require.NoError(t, err)
	require.NotNil(t, r.Network.Interface("eni-1"))
	assert.Equal(t, "m5.large", r.Network.Interface("eni-1").Spec().InstanceType)

	// An empty list is nothing to load, said so.
	r, err = ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")), src("none.json", " []\n"))
	require.NoError(t, err)
	assert.Contains(t, r.Warnings, "none.json: an empty list: nothing to load")

	for _, tt := range []struct{ body, want string }{
		{`[{"Name":"x","Size":3}]`, "odd.json: a list of objects whose kind its first one's keys do not tell (Name, Size)"},
		{`[1, 2]`, "odd.json: [0]: not an object"},
		{`[{"GroupId":"sg-1"`, "odd.json: not a list of objects: unexpected end of JSON input"},
	} {
		_, err := ec2json.Load(src("sgs.json", sgs("")), src("odd.json", tt.body))
		require.Error(t, err, tt.body)
		assert.Equal(t, tt.want, err.Error())
	}
}
