package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/internal/capgen"
)

// TestFlowLogAWSExample replays AWS's own flow-log example (a home PC pings
// an instance; the security group lets the ping in and, being stateful,
// the reply out; the network ACL lets the ping in but not the reply out)
// and expects AWS's two records: ACCEPT for the pings, REJECT for the
// replies.
func TestFlowLogAWSExample(t *testing.T) {
	out := replayPings(t, 30*time.Second, "10m")
	assert.Equal(t, "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"+
		"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917117 ACCEPT OK\n"+
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917027 1432917117 REJECT OK\n", out)
}

// TestFlowLogNoData replays the same pings a hundred seconds apart, with
// one-minute windows: the interface's windows without a ping captured
// nothing, and the log says so with NODATA records, as AWS's does.
func TestFlowLogNoData(t *testing.T) {
	out := replayPings(t, 100*time.Second, "1m")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	assert.Equal(t, []string{
		"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
		"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 1 84 1432917027 1432917027 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 1 84 1432917027 1432917027 REJECT OK",
		"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 1 84 1432917127 1432917127 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 1 84 1432917127 1432917127 REJECT OK",
		"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1432917147 1432917206 - NODATA",
		"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 1 84 1432917227 1432917227 ACCEPT OK",
	}, lines[:7])
	// The interface's windows start with its first packet: pings at 0,
	// 100, 200 and 300 s leave the windows from 120 s and 240 s quiet.
	assert.Len(t, lines, 1+4*2+2)
	assert.Equal(t, "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1432917267 1432917326 - NODATA", lines[8])
}

// replayPings replays AWS's example, the pings gap apart, and returns the
// flow log with aggregation windows of window.
func replayPings(t *testing.T, gap time.Duration, window string) string {
	dir := t.TempDir()
	cfg := awsExampleConfig(t, dir)
	pcap := pings(t, dir, gap)
	out, errOut, code := sgsim(t, append([]string{"replay", "--format", "flowlog", "--window", window, "--pcap", pcap}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	return out
}

// awsExampleConfig writes the configuration of AWS's flow-log example to
// dir and returns the --config flags for it.
func awsExampleConfig(t *testing.T, dir string) []string {
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	return []string{
		"--config", write("vpcs.json", `{"Vpcs":[{"VpcId":"vpc-1","OwnerId":"123456789010","CidrBlock":"172.31.0.0/16"}]}`),
		"--config", write("subnets.json", `{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"172.31.16.0/20"}]}`),
		"--config", write("sgs.json", `{"SecurityGroups":[{"GroupId":"sg-1","GroupName":"ping","VpcId":"vpc-1","OwnerId":"123456789010",
			"IpPermissions":[{"IpProtocol":"icmp","FromPort":-1,"ToPort":-1,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}],"IpPermissionsEgress":[]}]}`),
		"--config", write("acls.json", `{"NetworkAcls":[{"NetworkAclId":"acl-1","VpcId":"vpc-1","IsDefault":true,
			"Associations":[{"SubnetId":"subnet-1"}],
			"Entries":[{"RuleNumber":100,"Protocol":"1","RuleAction":"allow","Egress":false,"CidrBlock":"0.0.0.0/0","IcmpTypeCode":{"Type":-1,"Code":-1}},
			           {"RuleNumber":32767,"Protocol":"-1","RuleAction":"deny","Egress":false,"CidrBlock":"0.0.0.0/0"},
			           {"RuleNumber":32767,"Protocol":"-1","RuleAction":"deny","Egress":true,"CidrBlock":"0.0.0.0/0"}]}]}`),
		"--config", write("enis.json", `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1235b8ca123456789","OwnerId":"123456789010",
			"SubnetId":"subnet-1","VpcId":"vpc-1","InterfaceType":"interface","PrivateIpAddress":"172.31.16.139",
			"Groups":[{"GroupId":"sg-1"}]}]}`),
	}
}

// pings writes a capture of AWS's example, four pings and their replies,
// every gap apart, and returns its path.
func pings(t *testing.T, dir string, gap time.Duration) string {
	pcap := filepath.Join(dir, "ping.pcap")
	f, err := os.Create(pcap)
	require.NoError(t, err)
	w, err := capgen.NewPcap(f, 1, false)
	require.NoError(t, err)
	home, inst := mustAddr("203.0.113.12"), mustAddr("172.31.16.139")
	start := time.Unix(1432917027, 0)
	for k := 0; k < 4; k++ {
		ts := start.Add(time.Duration(k) * gap)
		require.NoError(t, w.WriteFrame(ts, capgen.Ethernet(capgen.IP(eni.ICMP(home, inst, 8, 0, 1), 56), 0)))
		require.NoError(t, w.WriteFrame(ts.Add(time.Millisecond), capgen.Ethernet(capgen.IP(eni.ICMP(inst, home, 0, 0, 1), 56), 0)))
	}
	require.NoError(t, f.Close())
	return pcap
}

// TestFlowLogsOfTheConfiguration replays AWS's example with the VPC's own
// flow logs (describe-flow-logs): each is written in its format, traffic
// type and interval, one to the output, several to a directory, one file
// each; flags that would contradict them are refused.
func TestFlowLogsOfTheConfiguration(t *testing.T) {
	dir := t.TempDir()
	cfg := awsExampleConfig(t, dir)
	pcap := pings(t, dir, 30*time.Second)
	logs := func(name string, entries ...string) []string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(`{"FlowLogs":[`+strings.Join(entries, ",")+`]}`), 0o644))
		return append(slices.Clone(cfg), "--config", p)
	}
	onENI := `{"FlowLogId":"fl-eni","ResourceId":"eni-1235b8ca123456789","TrafficType":"REJECT","MaxAggregationInterval":60,
		"LogFormat":"${version} ${interface-id} ${srcaddr} ${dstaddr} ${packets} ${action} ${log-status}"}`
	onVPC := `{"FlowLogId":"fl-vpc","ResourceId":"vpc-1","TrafficType":"ALL","MaxAggregationInterval":600}`

	t.Run("one, to the output", func(t *testing.T) {
		out, errOut, code := sgsim(t, append([]string{"replay", "--format", "flowlog", "--pcap", pcap}, logs("one.json", onENI)...)...)
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, "version interface-id srcaddr dstaddr packets action log-status\n"+
			"2 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 2 REJECT OK\n"+
			"2 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 2 REJECT OK\n", out)
	})
	t.Run("several, one file each", func(t *testing.T) {
		outDir := filepath.Join(dir, "logs")
		out, errOut, code := sgsim(t, append([]string{"replay", "--format", "flowlog", "--pcap", pcap, "--flowlog-dir", outDir},
			logs("two.json", onENI, onVPC)...)...)
		require.Equal(t, 0, code, errOut)
		assert.Empty(t, out)
		eniLog, err := os.ReadFile(filepath.Join(outDir, "fl-eni.log"))
		require.NoError(t, err)
		assert.Equal(t, 3, strings.Count(string(eniLog), "\n"), "header and two records:\n%s", eniLog)
		vpcLog, err := os.ReadFile(filepath.Join(outDir, "fl-vpc.log"))
		require.NoError(t, err)
		assert.Equal(t, flowlogHeader+"\n"+
			"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917117 ACCEPT OK\n"+
			"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917027 1432917117 REJECT OK\n", string(vpcLog))
	})
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"several, no directory", append([]string{"replay", "--format", "flowlog", "--pcap", pcap}, logs("e1.json", onENI, onVPC)...),
			"sgsim: replay: the configuration has 2 flow logs (fl-eni, fl-vpc): give --flowlog-dir DIR to write each to DIR/ID.log\n"},
		{"a format as well", append([]string{"replay", "--format", "flowlog", "--pcap", pcap, "--log-format", "${srcaddr}"}, logs("e2.json", onENI)...),
			"sgsim: replay: --log-format: the configuration's flow logs (fl-eni) set their own\n"},
		{"a window as well", append([]string{"replay", "--format", "flowlog", "--pcap", pcap, "--window", "1m"}, logs("e3.json", onENI)...),
			"sgsim: replay: --window: the configuration's flow logs (fl-eni) set their own\n"},
		{"a directory without flow logs", append([]string{"replay", "--format", "flowlog", "--pcap", pcap, "--flowlog-dir", dir}, cfg...),
			"sgsim: replay: --flowlog-dir: the configuration has no flow logs (describe-flow-logs)\n"},
		{"a directory without --format flowlog", append([]string{"replay", "--pcap", pcap, "--flowlog-dir", dir}, logs("e4.json", onENI)...),
			"sgsim: replay: --flowlog-dir goes with --format flowlog\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := sgsim(t, tt.args...)
			assert.Equal(t, 2, code)
			assert.Equal(t, tt.want, errOut)
		})
	}
}

const flowlogHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// TestFlowLogNitro replays AWS's example, pings 30 s apart, under a
// 600 s window. Once describe-instances and describe-instance-types say
// that the interface's instance is built on Nitro, its records cover 60 s
// at most, as AWS's do there; without them, a warning says what the 600 s
// records may not show.
func TestFlowLogNitro(t *testing.T) {
	dir := t.TempDir()
	cfg := awsExampleConfig(t, dir)
	pcap := pings(t, dir, 30*time.Second)
	write := configWriter(t, dir)
	instances := write("instances.json", `{"Reservations":[{"ReservationId":"r-1","Instances":[{"InstanceId":"i-1","InstanceType":"m5.large",
		"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1235b8ca123456789"}]}]}]}`)
	types := write("types.json", `{"InstanceTypes":[{"InstanceType":"m5.large","Hypervisor":"nitro"}]}`)
	vpcLog := write("fl.json", `{"FlowLogs":[{"FlowLogId":"fl-vpc","ResourceId":"vpc-1","TrafficType":"ALL","MaxAggregationInterval":600}]}`)
	nitro := flowlogHeader + "\n" +
		"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 2 168 1432917027 1432917057 ACCEPT OK\n" +
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 2 168 1432917027 1432917057 REJECT OK\n" +
		"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 2 168 1432917087 1432917117 ACCEPT OK\n" +
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 2 168 1432917087 1432917117 REJECT OK\n"
	whole := flowlogHeader + "\n" +
		"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917117 ACCEPT OK\n" +
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917027 1432917117 REJECT OK\n"
	replay := []string{"replay", "--format", "flowlog", "--pcap", pcap}
	for _, tt := range []struct {
		name    string
		args    [][]string
		want    string
		warning string
	}{
		{"--window, Nitro", [][]string{{"--window", "10m"}, instances, types}, nitro, ""},
		{"flow log, Nitro", [][]string{vpcLog, instances, types}, nitro, ""},
		{"--window, type unknown", [][]string{{"--window", "10m"}, instances}, whole,
			"sgsim: warning: --window 10m0s: records of interfaces at instances of unknown type (1) cover up to 10m0s, but AWS aggregates over 60 s at most"},
		{"flow log, type unknown", [][]string{vpcLog, instances}, whole,
			"sgsim: warning: " + filepath.Join(dir, "fl.json") + ": fl-vpc: records of interfaces at instances of unknown type (1) cover up to 600 s, but AWS aggregates over 60 s at most"},
		{"no instance", [][]string{{"--window", "10m"}}, whole, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append(slices.Clone(replay), cfg...)
			for _, a := range tt.args {
				args = append(args, a...)
			}
			out, errOut, code := sgsim(t, args...)
			require.Equal(t, 0, code, errOut)
			assert.Equal(t, tt.want, out)
			if tt.warning == "" {
				assert.Empty(t, errOut)
			} else {
				assert.Contains(t, errOut, tt.warning)
			}
		})
	}
}

// TestReplayFlowLogAWSService: with ip-ranges.json among the files, the
// service fields name the AWS service of the packet addresses.
func TestReplayFlowLogAWSService(t *testing.T) {
	cfg := sampleConfig(t)
	cfg = append(cfg, configWriter(t, filepath.Dir(cfg[1]))("ip-ranges.json", `{"syncToken":"1700000000","createDate":"2026-11-30-12-00-00",
		"prefixes":[{"ip_prefix":"151.101.0.0/22","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"},
		 {"ip_prefix":"151.101.0.0/22","region":"us-east-1","service":"S3","network_border_group":"us-east-1"}],"ipv6_prefixes":[]}`)...)
	out, errOut, code := sgsim(t, append(append([]string{"replay", "--format", "flowlog", "--log-format",
		"${interface-id} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service}"}, cfg...), "--pcap", writeSampleCapture(t))...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "eni-0a1b2c3d4e5f60002 10.20.2.10 151.101.0.223 - S3\n")
	assert.Contains(t, out, "eni-0a1b2c3d4e5f60002 151.101.0.223 10.20.2.10 S3 -\n")
	assert.Contains(t, out, "eni-0a1b2c3d4e5f60001 198.51.100.1 10.20.1.10 - -\n")
}

// TestReplayFlowLogPeeringTrafficPath: traffic-path through a VPC peering
// connection is 4 within a Region and 5 across Regions, which
// describe-vpc-peering-connections says; without it, "-".
func TestReplayFlowLogPeeringTrafficPath(t *testing.T) {
	cfg := sampleConfig(t)
	write := configWriter(t, filepath.Dir(cfg[1]))
	rtbs := write("rtbs.json", `{"RouteTables":[{"RouteTableId":"rtb-1","VpcId":"vpc-0a1b2c3d4e5f60001","Associations":[{"Main":true}],
		"Routes":[{"DestinationCidrBlock":"10.20.0.0/16","GatewayId":"local","State":"active"},
		 {"DestinationCidrBlock":"172.31.0.0/16","VpcPeeringConnectionId":"pcx-near","State":"active"},
		 {"DestinationCidrBlock":"192.168.0.0/16","VpcPeeringConnectionId":"pcx-far","State":"active"}]}]}`)
	peerings := write("pcx.json", `{"VpcPeeringConnections":[
		{"VpcPeeringConnectionId":"pcx-near","Status":{"Code":"active","Message":"Active"},
		 "RequesterVpcInfo":{"VpcId":"vpc-0a1b2c3d4e5f60001","OwnerId":"111122223333","Region":"us-east-1","CidrBlock":"10.20.0.0/16"},
		 "AccepterVpcInfo":{"VpcId":"vpc-near","OwnerId":"111122223333","Region":"us-east-1","CidrBlock":"172.31.0.0/16"}},
		{"VpcPeeringConnectionId":"pcx-far","Status":{"Code":"active"},
		 "RequesterVpcInfo":{"VpcId":"vpc-0a1b2c3d4e5f60001","Region":"us-east-1"},
		 "AccepterVpcInfo":{"VpcId":"vpc-far","Region":"eu-west-1"}}]}`)
	web := netip.MustParseAddrPort("10.20.1.10:40000")
	p := writeCapture(t,
		timed{eni.TCP(web, netip.MustParseAddrPort("172.31.0.5:443"), eni.SYN), 0},
		timed{eni.TCP(web, netip.MustParseAddrPort("192.168.0.5:443"), eni.SYN), time.Second})
	args := func(extra ...string) []string {
		return append(append([]string{"replay", "--format", "flowlog", "--log-format", "${dstaddr} ${traffic-path}", "--pcap", p}, cfg...), extra...)
	}
	out, errOut, code := sgsim(t, append(args(rtbs...), peerings...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "172.31.0.5 4\n")
	assert.Contains(t, out, "192.168.0.5 5\n")
	out, errOut, code = sgsim(t, args(rtbs...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "172.31.0.5 -\n")
}
