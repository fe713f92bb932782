package ec2json_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
)

// fourENIs is describe-network-interfaces output with eni-1 to eni-4 in
// subnet-1; each attached to the instance its extra names.
func fourENIs(extra ...string) string {
	var items []string
	for k, x := range extra {
		items = append(items, fmt.Sprintf(`{"NetworkInterfaceId":"eni-%d","SubnetId":"subnet-1","VpcId":"vpc-1",
			"PrivateIpAddress":"10.0.1.%d","Groups":[{"GroupId":"sg-web"}]%s}`, k+1, 10+k, x))
	}
	return `{"NetworkInterfaces":[` + strings.Join(items, ",") + `]}`
}

// instanceWarnings are the warnings about instances and their types.
func instanceWarnings(r *ec2json.Result) []string {
	var out []string
	for _, w := range r.Warnings {
		if strings.HasPrefix(w, "instance") {
			out = append(out, w)
		}
	}
	return out
}

func attachedTo(instance string) string {
	return `,"Attachment":{"AttachmentId":"eni-attach-1","DeviceIndex":0,"InstanceId":"` + instance + `","Status":"attached"}`
}

// instances is describe-instances output: i-v6 (m8i.large), i-old
// (m4.large), i-odd (x9.large, a type no file describes), i-metal
// (c5.metal), and i-unattached, whose interface eni-4 says nothing of it.
const instances = `{"Reservations":[
	{"ReservationId":"r-1","OwnerId":"111122223333","Instances":[
		{"InstanceId":"i-v6","InstanceType":"m8i.large","NetworkInterfaces":[{"NetworkInterfaceId":"eni-1"}]},
		{"InstanceId":"i-old","InstanceType":"m4.large","State":{"Name":"running"}}]},
	{"ReservationId":"r-2","Instances":[
		{"InstanceId":"i-odd","InstanceType":"x9.large"},
		{"InstanceId":"i-metal","InstanceType":"c5.metal","NetworkInterfaces":[{"NetworkInterfaceId":"eni-4","SubnetId":"subnet-1",
			"VpcId":"vpc-1","PrivateIpAddress":"10.0.1.13","Groups":[{"GroupId":"sg-web"}]}]}]}]}`

// instanceTypes is describe-instance-types output for three of them.
const instanceTypes = `{"InstanceTypes":[
	{"InstanceType":"m8i.large","CurrentGeneration":true,"Hypervisor":"nitro","BareMetal":false,
	 "NetworkInfo":{"NetworkPerformance":"Up to 12.5 Gigabit","MaximumNetworkInterfaces":3,
	  "ConnectionTrackingConfiguration":{"DefaultTcpEstablishedTimeout":350,"DefaultUdpStreamTimeout":180,"DefaultUdpTimeout":30}}},
	{"InstanceType":"m4.large","Hypervisor":"xen","NetworkInfo":{"MaximumNetworkInterfaces":2}},
	{"InstanceType":"c5.metal","BareMetal":true}]}`

// TestInstanceTypes ties interfaces to their instances' types: whether
// the instance is built on Nitro, and the idle timeouts its interfaces
// start with, under what their own ConnectionTrackingConfiguration sets.
func TestInstanceTypes(t *testing.T) {
	enisBody := fourENIs(attachedTo("i-v6")+`,"ConnectionTrackingConfiguration":{"UdpTimeout":45}`,
		attachedTo("i-old"), attachedTo("i-odd"), "")
	r, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")),
		src("enis.json", enisBody), src("instances.json", instances), src("types.json", instanceTypes))
	require.NoError(t, err)
	assert.Contains(t, r.Files, "instances.json: 4 instances")
	assert.Contains(t, r.Files, "types.json: 3 instance types")

	def := conntrack.DefaultConfig()
	tests := []struct {
		eni, instance, typ string
		nitro, unknown     bool
		tcp, udp           time.Duration
	}{
		{"eni-1", "i-v6", "m8i.large", true, false, 350 * time.Second, 45 * time.Second},
		{"eni-2", "i-old", "m4.large", false, false, def.TCPEstablished, def.UDP},
		{"eni-3", "i-odd", "x9.large", false, true, def.TCPEstablished, def.UDP},
		{"eni-4", "i-metal", "c5.metal", true, false, def.TCPEstablished, def.UDP},
	}
	for _, tt := range tests {
		i := r.Network.Interface(tt.eni)
		require.NotNil(t, i, tt.eni)
		s := i.Spec()
		assert.Equal(t, tt.instance, s.InstanceID, tt.eni)
		assert.Equal(t, tt.typ, s.InstanceType, tt.eni)
		assert.Equal(t, tt.nitro, s.Nitro, tt.eni)
		assert.Equal(t, tt.unknown, r.TypeUnknown(i), tt.eni)
		cfg := i.ConnTrackConfig()
		assert.Equal(t, tt.tcp, cfg.TCPEstablished, tt.eni)
		assert.Equal(t, tt.udp, cfg.UDP, tt.eni)
	}
	assert.Equal(t, []string{"instance types in no describe-instance-types file: x9.large; their instances' interfaces keep AWS's default idle timeouts " +
		"and the flow logs' interval (aws ec2 describe-instance-types --instance-types x9.large)"}, instanceWarnings(r))
}

// TestInstancesLeftOut: without describe-instances, nothing is said of
// the instances; with it, instances it does not list are named.
func TestInstancesLeftOut(t *testing.T) {
	enisBody := fourENIs(attachedTo("i-v6"), attachedTo("i-gone"))
	base := []ec2json.Source{src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")), src("enis.json", enisBody)}
	r, err := ec2json.Load(base...)
	require.NoError(t, err)
	assert.Empty(t, instanceWarnings(r))
	assert.True(t, r.TypeUnknown(r.Network.Interface("eni-1")))
	assert.Empty(t, r.Network.Interface("eni-1").Spec().InstanceType)

	r, err = ec2json.Load(append(base, src("instances.json", instances), src("types.json", instanceTypes))...)
	require.NoError(t, err)
	w := instanceWarnings(r)
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "instances attached to interfaces but in no describe-instances file: i-gone;")
	assert.False(t, r.TypeUnknown(r.Network.Interface("eni-1")))
	assert.True(t, r.TypeUnknown(r.Network.Interface("eni-2")))
}

// TestFlowLogNitroWarning: a flow log aggregating over 600 s at
// interfaces whose instances' types are unknown says that AWS would use
// 60 s at Nitro instances.
func TestFlowLogNitroWarning(t *testing.T) {
	fl := `{"FlowLogs":[{"FlowLogId":"fl-1","ResourceId":"vpc-1","TrafficType":"ALL","MaxAggregationInterval":%d}]}`
	enisBody := fourENIs(attachedTo("i-v6"))
	for _, tt := range []struct {
		name     string
		interval int
		extra    []ec2json.Source
		warn     bool
	}{
		{"600 s, types unknown", 600, nil, true},
		{"60 s, types unknown", 60, nil, false},
		{"600 s, types known", 600, []ec2json.Source{src("instances.json", instances), src("types.json", instanceTypes)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sources := append([]ec2json.Source{src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")),
				src("enis.json", enisBody), src("fl.json", fmt.Sprintf(fl, tt.interval))}, tt.extra...)
			r, err := ec2json.Load(sources...)
			require.NoError(t, err)
			var found []string
			for _, w := range r.Warnings {
				if strings.HasPrefix(w, "fl.json: fl-1:") {
					found = append(found, w)
				}
			}
			if !tt.warn {
				assert.Empty(t, found)
				return
			}
			require.Len(t, found, 1)
			assert.Equal(t, "fl.json: fl-1: records of interfaces at instances of unknown type (1) cover up to 600 s, but AWS aggregates over 60 s at most "+
				"at Nitro instances: give describe-instances and describe-instance-types output to tell which those are", found[0])
		})
	}
}

func TestInstanceErrors(t *testing.T) {
	base := func(extra ...ec2json.Source) []ec2json.Source {
		return append([]ec2json.Source{src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")),
			src("enis.json", fourENIs(attachedTo("i-1")))}, extra...)
	}
	types := func(body string) ec2json.Source { return src("types.json", `{"InstanceTypes":[`+body+`]}`) }
	tests := []struct {
		name    string
		sources []ec2json.Source
		want    string
	}{
		{"unknown hypervisor", base(types(`{"InstanceType":"m5.large","Hypervisor":"kvm"}`)),
			`types.json: m5.large: Hypervisor: "kvm" is not nitro or xen`},
		{"default timeout too short", base(types(`{"InstanceType":"m5.large","Hypervisor":"nitro",
			"NetworkInfo":{"ConnectionTrackingConfiguration":{"DefaultTcpEstablishedTimeout":30}}}`)),
			"types.json: m5.large: NetworkInfo.ConnectionTrackingConfiguration.DefaultTcpEstablishedTimeout: 30 is outside 60-432000 seconds"},
		{"negative default", base(types(`{"InstanceType":"m5.large","NetworkInfo":{"ConnectionTrackingConfiguration":{"DefaultUdpTimeout":-1}}}`)),
			"types.json: m5.large: NetworkInfo.ConnectionTrackingConfiguration.DefaultUdpTimeout: -1 is not a timeout"},
		{"default not a number", base(types(`{"InstanceType":"m5.large","NetworkInfo":{"ConnectionTrackingConfiguration":{"DefaultUdpTimeout":"soon"}}}`)),
			"types.json: m5.large:"},
		{"type without a name", base(types(`{"Hypervisor":"nitro"}`)), "types.json: InstanceTypes[0]: has no ID"},
		{"type twice", base(types(`{"InstanceType":"m5.large"},{"InstanceType":"m5.large"}`)), "types.json: m5.large: is defined twice"},
		{"instance without an ID", base(src("instances.json", `{"Reservations":[{"ReservationId":"r-1","Instances":[{"InstanceType":"m5.large"}]}]}`)),
			"instances.json: Reservations[r-1].Instances[0]: InstanceId: is missing"},
		{"instance without a type", base(src("instances.json", `{"Reservations":[{"Instances":[{"InstanceId":"i-1"}]}]}`)),
			"instances.json: i-1: InstanceType: is missing"},
		{"instance twice", base(src("instances.json", `{"Reservations":[{"Instances":[{"InstanceId":"i-1","InstanceType":"m5.large"}]}]}`),
			src("more.json", `{"Reservations":[{"Instances":[{"InstanceId":"i-1","InstanceType":"m5.large"}]}]}`)),
			"more.json: i-1: is defined twice (also in instances.json)"},
		{"reservations not a list", base(src("instances.json", `{"Reservations":{}}`)), "instances.json: Reservations: is not a list of objects"},
		{"instances not a list", base(src("instances.json", `{"Reservations":[{"ReservationId":"r-1","Instances":3}]}`)), "instances.json: r-1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ec2json.Load(tt.sources...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestNitroV6Timeout: an SSH session idle for 400 s outlives the 432000 s
// default, but not the 350 s that Nitro v6 types start with: the server's
// next packet meets its group's rules, which allow nothing out.
func TestNitroV6Timeout(t *testing.T) {
	ssh := `{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"203.0.113.0/24"}]}`
	noEgress := strings.Replace(sgs(ssh), `"IpPermissionsEgress":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]`, `"IpPermissionsEgress":[]`, 1)
	for _, tt := range []struct {
		typ   string
		alive bool
	}{{"m8i.large", false}, {"m4.large", true}} {
		t.Run(tt.typ, func(t *testing.T) {
			inst := `{"Reservations":[{"Instances":[{"InstanceId":"i-1","InstanceType":"` + tt.typ + `"}]}]}`
			r, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", noEgress),
				src("enis.json", fourENIs(attachedTo("i-1"))), src("instances.json", inst), src("types.json", instanceTypes))
			require.NoError(t, err)
			client, server := netip.MustParseAddrPort("203.0.113.5:50000"), netip.MustParseAddrPort("10.0.1.10:22")
			t0 := time.Unix(1700000000, 0)
			steps := []struct {
				p  eni.Packet
				at time.Duration
			}{
				{eni.TCP(client, server, eni.SYN), 0},
				{eni.TCP(server, client, eni.SYN|eni.ACK), time.Millisecond},
				{eni.TCP(client, server, eni.ACK), 2 * time.Millisecond},
				{eni.TCP(server, client, eni.ACK|eni.PSH), 3 * time.Millisecond},
			}
			for _, s := range steps {
				p := r.Network.Judge(&s.p, t0.Add(s.at))
				require.True(t, p.Allowed(), "%s", p)
			}
			later := eni.TCP(server, client, eni.ACK|eni.PSH)
			p := r.Network.Judge(&later, t0.Add(400*time.Second))
			assert.Equal(t, tt.alive, p.Allowed(), "%s", p)
		})
	}
}

// TestInterfacesFromInstances: describe-instances alone describes its
// instances' interfaces; where describe-network-interfaces gives one too,
// its version is used, and neither is "defined twice".
func TestInterfacesFromInstances(t *testing.T) {
	inst := `{"Reservations":[{"ReservationId":"r-1","Instances":[{"InstanceId":"i-web","InstanceType":"m5.large",
		"NetworkInterfaces":[
		 {"NetworkInterfaceId":"eni-1","SubnetId":"subnet-1","VpcId":"vpc-1","OwnerId":"111122223333","Description":"from instances",
		  "PrivateIpAddress":"10.0.1.10","PrivateIpAddresses":[{"Primary":true,"PrivateIpAddress":"10.0.1.10",
		   "Association":{"PublicIp":"203.0.113.10","IpOwnerId":"amazon"}}],
		  "Groups":[{"GroupId":"sg-web","GroupName":"web"}],"SourceDestCheck":true,
		  "Attachment":{"AttachmentId":"eni-attach-1","DeviceIndex":0,"Status":"attached"},"InterfaceType":"interface"},
		 {"NetworkInterfaceId":"eni-2","SubnetId":"subnet-1","VpcId":"vpc-1","PrivateIpAddress":"10.0.1.11",
		  "Groups":[{"GroupId":"sg-web"}],"Attachment":{"DeviceIndex":1}}]}]}]}`
	base := []ec2json.Source{src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs(""))}

	r, err := ec2json.Load(append(base, src("instances.json", inst))...)
	require.NoError(t, err)
	for _, id := range []string{"eni-1", "eni-2"} {
		i := r.Network.Interface(id)
		require.NotNil(t, i, id)
		assert.Equal(t, "i-web", i.Spec().InstanceID)
		assert.Equal(t, "m5.large", i.Spec().InstanceType)
		assert.Equal(t, []string{"sg-web"}, i.Groups())
	}
	assert.Equal(t, "from instances", r.Network.Interface("eni-1").Spec().Description)
	assert.Equal(t, 1, r.Network.Interface("eni-2").Spec().DeviceIndex)
	assert.Len(t, r.Network.Interface("eni-1").Spec().PublicIPv4, 1)
	file, _, ok := r.Origin("eni-2")
	require.True(t, ok)
	assert.Equal(t, "instances.json", file)

	// describe-network-interfaces gives eni-1 too, in either order.
	for _, order := range [][]ec2json.Source{
		{src("enis.json", enis("")), src("instances.json", inst)},
		{src("instances.json", inst), src("enis.json", enis(""))},
	} {
		r, err := ec2json.Load(append(slices.Clone(base), order...)...)
		require.NoError(t, err)
		assert.Empty(t, r.Network.Interface("eni-1").Spec().Description, "describe-network-interfaces' version")
		assert.Equal(t, "i-web", r.Network.Interface("eni-2").Spec().InstanceID)
	}

	_, err = ec2json.Load(append(slices.Clone(base), src("instances.json",
		`{"Reservations":[{"Instances":[{"InstanceId":"i-1","InstanceType":"m5.large","NetworkInterfaces":[{"NetworkInterfaceId":"eni-9"}]}]}]}`))...)
	require.Error(t, err)
	assert.Equal(t, "instances.json: eni-9: SubnetId: is missing", err.Error())
}
