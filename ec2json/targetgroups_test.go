package ec2json_test

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
)

const (
	tgARN  = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web/73e2d6bc24d8a067"
	nlbARN = "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/net/web/50dc6c495c0c9188"
)

// nlbENI is a Network Load Balancer's interface in subnet-1, with a public
// address when public is set (an internet-facing balancer).
func nlbENI(public bool) string {
	assoc := ""
	if public {
		assoc = `,"Association":{"PublicIp":"203.0.113.50","IpOwnerId":"amazon"}`
	}
	return `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-nlb","SubnetId":"subnet-1","VpcId":"vpc-1","InterfaceType":"network_load_balancer",
		"RequesterManaged":true,"Description":"ELB net/web/50dc6c495c0c9188","PrivateIpAddress":"10.0.1.50",
		"PrivateIpAddresses":[{"Primary":true,"PrivateIpAddress":"10.0.1.50"` + assoc + `}],"Groups":[]}]}`
}

func targetGroups(protocol, targetType string) string {
	return `{"TargetGroups":[{"TargetGroupArn":"` + tgARN + `","TargetGroupName":"web","Protocol":"` + protocol + `","Port":443,
		"VpcId":"vpc-1","TargetType":"` + targetType + `","LoadBalancerArns":["` + nlbARN + `"]}]}`
}

// health is describe-target-health output for eni-1's instance and an
// address target.
const health = `{"TargetHealthDescriptions":[
	{"Target":{"Id":"i-1","Port":443},"HealthCheckPort":"443","TargetHealth":{"State":"healthy"}},
	{"Target":{"Id":"10.0.1.11","Port":8443,"AvailabilityZone":"us-east-1a"},"TargetHealth":{"State":"unhealthy"}}]}`

// TestTargetGroups loads describe-target-groups and describe-target-health
// output: the targets of an internet-facing Network Load Balancer that
// keeps its clients' addresses are reached by it (Path.Balancer), the
// health file tied to its group by ARN=FILE or by the group's ID in its
// name; other groups change nothing, with a warning where the files
// cannot tell.
func TestTargetGroups(t *testing.T) {
	instance := enis(`,"Attachment":{"InstanceId":"i-1","DeviceIndex":0}`)
	base := func(nlb string) []ec2json.Source {
		return []ec2json.Source{src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")),
			src("enis.json", instance), src("nlb.json", nlb)}
	}
	balancerOf := func(r *ec2json.Result, to string) string {
		syn := eni.TCP(netip.MustParseAddrPort("198.51.100.7:50000"), netip.MustParseAddrPort(to), eni.SYN)
		p := r.Network.Judge(&syn, time.Unix(0, 0))
		return p.Balancer()
	}
	for _, tt := range []struct {
		name        string
		files       []ec2json.Source
		want        string // the balancer the instance's HTTPS is reached by
		wantWarning string
	}{
		{"by ID in the file name", append(base(nlbENI(true)), src("tgs.json", targetGroups("TCP", "instance")),
			src("health-73e2d6bc24d8a067.json", health)), "net/web/50dc6c495c0c9188", ""},
		{"by ARN=FILE", append(base(nlbENI(true)), src("tgs.json", targetGroups("TCP_UDP", "instance")),
			ec2json.Source{Name: "health.json", Data: []byte(health), TargetGroup: tgARN}), "net/web/50dc6c495c0c9188", ""},
		{"a list alone", append(base(nlbENI(true)), src("tgs.json", targetGroups("TLS", "instance")),
			src("health-73e2d6bc24d8a067.json", strings.TrimSuffix(strings.TrimPrefix(health, `{"TargetHealthDescriptions":`), "}"))),
			"net/web/50dc6c495c0c9188", ""},
		{"an internal balancer", append(base(nlbENI(false)), src("tgs.json", targetGroups("TCP", "instance")),
			src("health-73e2d6bc24d8a067.json", health)), "", ""},
		{"IP targets over TCP: the balancer's address", append(base(nlbENI(true)), src("tgs.json", targetGroups("TCP", "ip")),
			src("health-73e2d6bc24d8a067.json", health)), "", ""},
		{"UDP only", append(base(nlbENI(true)), src("tgs.json", targetGroups("UDP", "instance")),
			src("health-73e2d6bc24d8a067.json", health)), "", ""},
		{"no health", append(base(nlbENI(true)), src("tgs.json", targetGroups("TCP", "instance"))), "",
			"tgs.json: " + tgARN + ": no describe-target-health output: its targets are judged by their routes"},
		{"no balancer interface", append(base(`{"NetworkInterfaces":[]}`), src("tgs.json", targetGroups("TCP", "instance")),
			src("health-73e2d6bc24d8a067.json", health)), "",
			"tgs.json: " + tgARN + ": LoadBalancerArns: no interface of net/web/50dc6c495c0c9188 in the files (describe-network-interfaces)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ec2json.Load(tt.files...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, balancerOf(r, "10.0.1.10:443"))
			assert.Empty(t, balancerOf(r, "10.0.1.10:22"), "no target on that port")
			if tt.wantWarning != "" {
				assert.Condition(t, func() bool {
					for _, w := range r.Warnings {
						if strings.HasPrefix(w, tt.wantWarning) {
							return true
						}
					}
					return false
				}, "%q", r.Warnings)
			}
		})
	}
}

func TestTargetGroupErrors(t *testing.T) {
	instance := enis(`,"Attachment":{"InstanceId":"i-1","DeviceIndex":0}`)
	base := []ec2json.Source{src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")),
		src("enis.json", instance), src("nlb.json", nlbENI(true)), src("tgs.json", targetGroups("TCP", "instance"))}
	for _, tt := range []struct {
		name string
		file ec2json.Source
		want string
	}{
		{"no tie", src("health.json", health),
			"health.json: TargetHealthDescriptions: describe-target-health output names no target group: pass it as ARN=FILE, or put the target group's ID in the file name"},
		{"an unknown group", ec2json.Source{Name: "health.json", Data: []byte(health), TargetGroup: tgARN + "0"},
			"health.json: " + tgARN + "0: the health of a target group that no describe-target-groups file defines"},
		{"a port out of range", src("health-73e2d6bc24d8a067.json", strings.Replace(health, `"Port":443`, `"Port":70000`, 1)),
			"health-73e2d6bc24d8a067.json: " + tgARN + ": TargetHealthDescriptions[0].Target.Port: 70000 is not a port"},
		{"no port", src("health-73e2d6bc24d8a067.json", strings.Replace(health, `,"Port":443`, ``, 1)),
			"health-73e2d6bc24d8a067.json: " + tgARN + ": TargetHealthDescriptions[0].Target.Port: 0 is not a port"},
		{"a target that is no address", src("health-73e2d6bc24d8a067.json", strings.Replace(health, `"10.0.1.11"`, `"web-2"`, 1)),
			"health-73e2d6bc24d8a067.json: " + tgARN + `: TargetHealthDescriptions[1].Target.Id: "web-2" is not an IP address`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ec2json.Load(append(base, tt.file)...)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
	// Two health files for one group.
	_, err := ec2json.Load(append(base, src("health-73e2d6bc24d8a067.json", health), src("health-73e2d6bc24d8a067-again.json", health))...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), ": "+tgARN+": target health given twice")
	// An instance the files do not have: its target is left out, said so.
	r, err := ec2json.Load(append(base, src("health-73e2d6bc24d8a067.json", strings.Replace(health, `"i-1"`, `"i-9"`, 1)))...)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(r.Warnings, "\n"), "TargetHealthDescriptions[0].Target.Id: instance i-9 has no interface in the files: its target is left out")
}

// TestReadFilesTiesTargetHealth: the argument ARN=FILE ties a
// describe-target-health file to its group.
func TestReadFilesTiesTargetHealth(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/health.json"
	require.NoError(t, writeFile(path, health))
	srcs, err := ec2json.ReadFiles(tgARN + "=" + path)
	require.NoError(t, err)
	require.Len(t, srcs, 1)
	assert.Equal(t, path, srcs[0].Name)
	assert.Equal(t, tgARN, srcs[0].TargetGroup)
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o644) }

// TestTargetGroupAttributes: describe-target-group-attributes turns a
// group's client IP preservation on (IP targets over TCP, off by default)
// or off (instance targets, on by default); a value that is neither true
// nor false is an error naming the attribute.
func TestTargetGroupAttributes(t *testing.T) {
	instance := enis(`,"Attachment":{"InstanceId":"i-1","DeviceIndex":0}`)
	attrs := func(v string) string {
		return `{"Attributes":[{"Key":"deregistration_delay.timeout_seconds","Value":"300"},{"Key":"preserve_client_ip.enabled","Value":"` + v + `"}]}`
	}
	load := func(targetType string, extra ...ec2json.Source) (*ec2json.Result, error) {
		return ec2json.Load(append([]ec2json.Source{src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")),
			src("enis.json", instance), src("nlb.json", nlbENI(true)), src("tgs.json", targetGroups("TCP", targetType)),
			src("health-73e2d6bc24d8a067.json", health)}, extra...)...)
	}
	balancer := func(r *ec2json.Result) string {
		syn := eni.TCP(netip.MustParseAddrPort("198.51.100.7:50000"), netip.MustParseAddrPort("10.0.1.10:443"), eni.SYN)
		p := r.Network.Judge(&syn, time.Unix(0, 0))
		return p.Balancer()
	}
	for _, tt := range []struct {
		targetType, value string
		want              string
	}{
		{"ip", "", ""},
		{"ip", "true", "net/web/50dc6c495c0c9188"},
		{"instance", "", "net/web/50dc6c495c0c9188"},
		{"instance", "false", ""},
	} {
		var extra []ec2json.Source
		if tt.value != "" {
			extra = append(extra, src("attributes-73e2d6bc24d8a067.json", attrs(tt.value)))
		}
		r, err := load(tt.targetType, extra...)
		require.NoError(t, err)
		assert.Equal(t, tt.want, balancer(r), "%s targets, preserve_client_ip.enabled %q", tt.targetType, tt.value)
	}
	_, err := load("ip", src("attributes-73e2d6bc24d8a067.json", attrs("yes")))
	require.Error(t, err)
	assert.Equal(t, `attributes-73e2d6bc24d8a067.json: `+tgARN+`: Attributes[1].Value: "yes" is not true or false`, err.Error())
	_, err = load("ip", src("attributes.json", attrs("true")))
	require.Error(t, err)
	assert.Equal(t, "attributes.json: Attributes: describe-target-group-attributes output names no target group: pass it as ARN=FILE, "+
		"or put the target group's ID in the file name", err.Error())
}

// TestListenerIdleTimeout: describe-listeners says which listener forwards
// to a target group, and describe-listener-attributes (tied to it by
// ARN=FILE or by its ID in the file's name) its tcp.idle_timeout.seconds,
// which becomes the group's; a TLS or UDP listener's, or one without the
// file, stays AWS's 350 s.
func TestListenerIdleTimeout(t *testing.T) {
	const lnARN = "arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/net/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
	instance := enis(`,"Attachment":{"InstanceId":"i-1","DeviceIndex":0}`)
	listeners := func(protocol string, forward bool) string {
		action := `{"Type":"forward","TargetGroupArn":"` + tgARN + `"}`
		if forward { // the weighted form
			action = `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"` + tgARN + `","Weight":1}],
				"TargetGroupStickinessConfig":{"Enabled":false}}}`
		}
		return `{"Listeners":[{"ListenerArn":"` + lnARN + `","LoadBalancerArn":"` + nlbARN + `","Port":443,"Protocol":"` + protocol + `",
			"DefaultActions":[` + action + `]}]}`
	}
	attrs := func(v string) string {
		return `{"Attributes":[{"Key":"` + "tcp.idle_timeout.seconds" + `","Value":"` + v + `"}]}`
	}
	load := func(extra ...ec2json.Source) (*ec2json.Result, error) {
		return ec2json.Load(append([]ec2json.Source{src("vpcs.json", vpcs), src("subnets.json", subnets), src("sgs.json", sgs("")),
			src("enis.json", instance), src("nlb.json", nlbENI(true)), src("tgs.json", targetGroups("TCP", "instance")),
			src("health-73e2d6bc24d8a067.json", health)}, extra...)...)
	}
	idle := func(r *ec2json.Result) time.Duration {
		g := r.Network.TargetGroups()
		require.Len(t, g, 1)
		return g[0].TCPIdleTimeout
	}
	tied := ec2json.Source{Name: "attrs.json", Data: []byte(attrs("900")), Listener: lnARN}
	for _, tt := range []struct {
		name  string
		files []ec2json.Source
		want  time.Duration
	}{
		{"no listener files", nil, 350 * time.Second},
		{"listeners alone", []ec2json.Source{src("listeners.json", listeners("TCP", false))}, 350 * time.Second},
		{"attributes by file name", []ec2json.Source{src("listeners.json", listeners("TCP", false)),
			src("listener-f2f7dc8efc522ab2.json", attrs("900"))}, 900 * time.Second},
		{"attributes by ARN=FILE", []ec2json.Source{src("listeners.json", listeners("TCP", true)), tied}, 900 * time.Second},
		{"a list alone", []ec2json.Source{src("listeners.json", `[`+strings.TrimSuffix(strings.TrimPrefix(listeners("TCP", false), `{"Listeners":[`), `]}`)+`]`),
			src("listener-f2f7dc8efc522ab2.json", attrs("6000"))}, 6000 * time.Second},
		{"a TLS listener", []ec2json.Source{src("listeners.json", listeners("TLS", false)),
			src("listener-f2f7dc8efc522ab2.json", attrs("900"))}, 350 * time.Second},
	} {
		r, err := load(tt.files...)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, idle(r), tt.name)
	}

	for _, tt := range []struct {
		files []ec2json.Source
		want  string
	}{
		{[]ec2json.Source{src("listeners.json", listeners("TCP", false)), src("listener-f2f7dc8efc522ab2.json", attrs("59"))},
			`listener-f2f7dc8efc522ab2.json: ` + lnARN + `: Attributes[0].Value: "59" is not 60-6000 seconds`},
		{[]ec2json.Source{src("listeners.json", listeners("TCP", false)), src("listener-f2f7dc8efc522ab2.json", attrs("soon"))},
			`Attributes[0].Value: "soon" is not 60-6000 seconds`},
		{[]ec2json.Source{src("listeners.json", listeners("TCP", false)), src("attributes.json", attrs("900"))},
			"attributes.json: Attributes: describe-listener-attributes output names no listener: pass it as ARN=FILE, " +
				"or put the listener's ID in the file name"},
		{[]ec2json.Source{tied}, "attrs.json: " + lnARN + ": the attributes of a listener that no describe-listeners file defines"},
	} {
		_, err := load(tt.files...)
		require.Error(t, err, tt.want)
		assert.Contains(t, err.Error(), tt.want)
	}

	// The argument ARN=FILE ties the file.
	dir := t.TempDir()
	path := dir + "/attrs.json"
	require.NoError(t, os.WriteFile(path, []byte(attrs("900")), 0o644))
	got, err := ec2json.ReadFiles(lnARN + "=" + path)
	require.NoError(t, err)
	assert.Equal(t, lnARN, got[0].Listener)
	assert.Equal(t, path, got[0].Name)
}
