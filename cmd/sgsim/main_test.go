package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/flowlog"
	"github.com/sgsim/sgsim/internal/capgen"
	"github.com/sgsim/sgsim/internal/sample"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares output with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./cmd/sgsim -update to create it")
	assert.Equal(t, string(want), got)
}

func sgsim(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// sampleConfig writes the sample's configuration files to a directory and
// returns the --config arguments for them.
func sampleConfig(t *testing.T) []string {
	dir := t.TempDir()
	var args []string
	for _, s := range sample.Configs() {
		p := filepath.Join(dir, filepath.Base(s.Name))
		require.NoError(t, os.WriteFile(p, s.Data, 0o644))
		args = append(args, "--config", p)
	}
	return args
}

// withPublicAddresses gives the sample's interfaces public addresses, by
// private address, in the network-interfaces.json of cfg (sampleConfig's).
func withPublicAddresses(t *testing.T, cfg []string, public map[string]string) {
	enis := filepath.Join(filepath.Dir(cfg[1]), "network-interfaces.json")
	data, err := os.ReadFile(enis)
	require.NoError(t, err)
	out := string(data)
	for private, pub := range public {
		before := out
		out = strings.Replace(out, `"PrivateIpAddress": "`+private+`",`,
			`"PrivateIpAddress": "`+private+`", "Association": {"PublicIp": "`+pub+`", "IpOwnerId": "amazon"},`, 1)
		require.NotEqual(t, before, out, private)
	}
	require.NoError(t, os.WriteFile(enis, []byte(out), 0o644))
}

// configWriter returns a function that writes a configuration file to
// dir and returns the --config flags for it.
func configWriter(t *testing.T, dir string) func(name, body string) []string {
	return func(name, body string) []string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return []string{"--config", p}
	}
}

// timed is a packet and when, after the sample's start, a capture has it.
type timed struct {
	p  eni.Packet
	at time.Duration
}

// writeCapture writes the packets as Ethernet frames to a new pcap file
// and returns its path.
func writeCapture(t *testing.T, frames ...timed) string {
	p := filepath.Join(t.TempDir(), "capture.pcap")
	f, err := os.Create(p)
	require.NoError(t, err)
	w, err := capgen.NewPcap(f, 1, false)
	require.NoError(t, err)
	for _, fr := range frames {
		require.NoError(t, w.WriteFrame(sample.Start.Add(fr.at), capgen.Ethernet(capgen.IP(fr.p, 0), 0)))
	}
	require.NoError(t, f.Close())
	return p
}

func TestReplaySampleFormats(t *testing.T) {
	for _, format := range []string{"summary", "jsonl", "flowlog"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := sgsim(t, "replay", "--format", format)
			require.Equal(t, 0, code, errOut)
			assert.Empty(t, errOut)
			golden(t, "replay-sample-"+format, out)
		})
	}
}

// TestReplayCustomFlowLog writes the sample's flow log with fields of
// every version, as create-flow-logs --log-format names them: the
// header names the fields, records carry the format's version (8 here),
// and what sgsim does not model is "-".
func TestReplayCustomFlowLog(t *testing.T) {
	out, errOut, code := sgsim(t, "replay", "--format", "flowlog", "--log-format",
		"${version} ${interface-id} ${instance-id} ${vpc-id} ${subnet-id} ${region} ${az-id} ${type} ${pkt-srcaddr} "+
			"${pkt-dstaddr} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${tcp-flags} ${flow-direction} ${traffic-path} "+
			"${pkt-dst-aws-service} ${packets} ${action} ${reject-reason} ${log-status}")
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
	golden(t, "replay-sample-flowlog-custom", out)
}

// TestReplayFlowLogTrafficType: a flow log that captures only REJECT (or
// ACCEPT) traffic holds exactly those records of the full log, in order.
func TestReplayFlowLogTrafficType(t *testing.T) {
	all, errOut, code := sgsim(t, "replay", "--format", "flowlog")
	require.Equal(t, 0, code, errOut)
	for _, action := range []string{"REJECT", "ACCEPT"} {
		t.Run(action, func(t *testing.T) {
			out, errOut, code := sgsim(t, "replay", "--format", "flowlog", "--traffic-type", strings.ToLower(action))
			require.Equal(t, 0, code, errOut)
			lines := strings.SplitAfter(all, "\n")
			want := lines[0] // the header
			for _, l := range lines[1:] {
				if strings.HasSuffix(l, " "+action+" OK\n") {
					want += l
				}
			}
			require.Greater(t, strings.Count(want, "\n"), 1)
			assert.Equal(t, want, out)
		})
	}
}

// TestReplayLinkLocalLimit: an app server that sends 2,000 DNS queries
// to the VPC resolver in half a second loses those past its link-local
// allowance of 1,024 packets a second, which the summary shows as
// refused; the flow log leaves them
// out, as AWS does not log Amazon DNS.
func TestReplayLinkLocalLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dns-flood.pcap")
	f, err := os.Create(p)
	require.NoError(t, err)
	w, err := capgen.NewPcap(f, 1, true)
	require.NoError(t, err)
	app, resolver := netip.MustParseAddr("10.20.2.10"), netip.MustParseAddr("10.20.0.2")
	const queries = 2000
	for k := 0; k < queries; k++ {
		q := eni.UDP(netip.AddrPortFrom(app, uint16(30000+k)), netip.AddrPortFrom(resolver, 53))
		require.NoError(t, w.WriteFrame(sample.Start.Add(time.Duration(k)*time.Second/(2*queries)), capgen.Ethernet(capgen.IP(q, 40), 0)))
	}
	require.NoError(t, f.Close())
	args := append([]string{"replay", "--pcap", p}, sampleConfig(t)...)
	out, errOut, code := sgsim(t, args...)
	require.Equal(t, 0, code, errOut)
	// 1024 at once, then one more for each 1/1024 s between the first
	// query and the last.
	span := float64(queries-1) / float64(2*queries)
	refused := queries - 1024 - int(span*1024)
	assert.Contains(t, out, fmt.Sprintf("%d accepted, %d rejected", queries-refused, refused))
	assert.Regexp(t, fmt.Sprintf(`%d +udp 10\.20\.2\.10 → 10\.20\.0\.2:53 +LINKLOCAL_ALLOWANCE_EXCEEDED eni-0a1b2c3d4e5f60002 outbound`, refused), out)
	flows, errOut, code := sgsim(t, append(args, "--format", "flowlog")...)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, flowlog.Header+"\n", flows, "Amazon DNS is never logged")
}

// captureFile writes a capture of the sample's first frames in a given
// form and returns its path.
func captureFile(t *testing.T, name string, write func(f *os.File, frames []sample.Frame)) string {
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	require.NoError(t, err)
	write(f, sample.Frames(1)[:40])
	require.NoError(t, f.Close())
	return p
}

// rewrap turns a sample Ethernet frame into another link type.
func ipOf(frame []byte) []byte { return frame[14:] }

func TestReplayCaptureKinds(t *testing.T) {
	cfg := sampleConfig(t)
	pcap := func(link uint32, nanos bool, wrap func([]byte) []byte) func(*os.File, []sample.Frame) {
		return func(f *os.File, frames []sample.Frame) {
			w, err := capgen.NewPcap(f, link, nanos)
			require.NoError(t, err)
			for _, fr := range frames {
				require.NoError(t, w.WriteFrame(fr.Time, wrap(fr.Data)))
			}
		}
	}
	kinds := []struct {
		name  string
		file  string
		write func(*os.File, []sample.Frame)
		args  []string
	}{
		{"pcapng-vlan", "c.pcapng", func(f *os.File, frames []sample.Frame) {
			w, err := capgen.NewPcapng(f)
			require.NoError(t, err)
			for _, fr := range frames {
				require.NoError(t, w.WriteFrame(fr.Time, capgen.Ethernet(ipOf(fr.Data), 100)))
			}
			require.NoError(t, w.Flush())
		}, nil},
		{"linux-cooked", "c.pcap", pcap(113, false, func(b []byte) []byte { return capgen.LinuxSLL(ipOf(b)) }), nil},
		{"linux-cooked-v2", "c.pcap", pcap(276, true, func(b []byte) []byte { return capgen.LinuxSLL2(ipOf(b)) }), nil},
		{"raw-ip", "c.pcap", pcap(101, false, ipOf), nil},
		{"bsd-loopback", "c.pcap", pcap(0, false, func(b []byte) []byte { return capgen.BSDLoopback(ipOf(b), binary.LittleEndian) }), nil},
		{"vxlan", "c.pcap", pcap(1, false, func(b []byte) []byte {
			return capgen.VXLAN(mustAddr("10.20.1.10"), mustAddr("10.20.9.9"), 77, b)
		}), []string{"--vxlan"}},
	}
	var ref string
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			p := captureFile(t, k.file, k.write)
			args := append(append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg...), k.args...)
			out, errOut, code := sgsim(t, args...)
			require.Equal(t, 0, code, errOut)
			// Every kind of capture yields the same verdicts.
			verdicts := verdictsOf(out)
			if ref == "" {
				ref = verdicts
				golden(t, "replay-kinds-verdicts", verdicts)
			}
			assert.Equal(t, ref, verdicts)
			if k.name == "vxlan" {
				assert.Contains(t, out, `"mirrored":true`)
			}
		})
	}
}

// TestReplaySnapshotLength: a capture that keeps the first 68 bytes of
// each frame (tcpdump -s 68, once its default) holds the ports and flags
// of every TCP header, though not a SYN's options, and gets the same
// verdicts and flow-log records as the whole frames, whose lengths on the
// wire the IP headers give.
func TestReplaySnapshotLength(t *testing.T) {
	cfg := sampleConfig(t)
	type pkt struct {
		src, dst string
		flags    uint8
		payload  int
	}
	conns := [][]pkt{
		{ // HTTPS over IPv4 and IPv6, let in
			{"198.51.100.7:40000", "10.20.1.10:443", eni.SYN, 0}, {"10.20.1.10:443", "198.51.100.7:40000", eni.SYN | eni.ACK, 0},
			{"198.51.100.7:40000", "10.20.1.10:443", eni.ACK, 0}, {"198.51.100.7:40000", "10.20.1.10:443", eni.PSH | eni.ACK, 517},
			{"10.20.1.10:443", "198.51.100.7:40000", eni.PSH | eni.ACK, 1400}, {"198.51.100.7:40000", "10.20.1.10:443", eni.FIN | eni.ACK, 0},
		},
		{
			{"[2001:db8:ffff::7]:40001", "[2001:db8:20:1::10]:443", eni.SYN, 0},
			{"[2001:db8:20:1::10]:443", "[2001:db8:ffff::7]:40001", eni.SYN | eni.ACK, 0},
			{"[2001:db8:ffff::7]:40001", "[2001:db8:20:1::10]:443", eni.PSH | eni.ACK, 517},
		},
		{ // SSH from a stranger, refused, and the app tier's call to the database
			{"192.0.2.66:40002", "10.20.1.10:22", eni.SYN, 0}, {"192.0.2.66:40002", "10.20.1.10:22", eni.SYN, 0},
			{"10.20.2.10:50000", "10.20.3.10:5432", eni.SYN, 0}, {"10.20.3.10:5432", "10.20.2.10:50000", eni.SYN | eni.ACK, 0},
			{"10.20.2.10:50000", "10.20.3.10:5432", eni.PSH | eni.ACK, 200},
		},
	}
	write := func(snaplen int) string {
		p := filepath.Join(t.TempDir(), "c.pcap")
		f, err := os.Create(p)
		require.NoError(t, err)
		w, err := capgen.NewPcapSnaplen(f, 1, false, snaplen)
		require.NoError(t, err)
		at := sample.Start
		for _, c := range conns {
			for _, k := range c {
				pk := eni.TCP(netip.MustParseAddrPort(k.src), netip.MustParseAddrPort(k.dst), k.flags)
				var opts []layers.TCPOption
				if k.flags&eni.SYN != 0 {
					opts = capgen.LinuxSYNOptions()
				}
				at = at.Add(time.Millisecond)
				require.NoError(t, w.WriteFrame(at, capgen.Ethernet(capgen.IPWithOptions(pk, opts, k.payload), 0)))
			}
		}
		require.NoError(t, f.Close())
		return p
	}
	whole, cut := write(262144), write(68)
	for _, format := range []string{"jsonl", "flowlog"} {
		want, errOut, code := sgsim(t, append([]string{"replay", "--format", format, "--pcap", whole}, cfg...)...)
		require.Equal(t, 0, code, errOut)
		got, errOut, code := sgsim(t, append([]string{"replay", "--format", format, "--pcap", cut}, cfg...)...)
		require.Equal(t, 0, code, errOut)
		if format == "jsonl" {
			assert.Equal(t, verdictsOf(want), verdictsOf(got))
			assert.NotContains(t, got, `"SKIP"`)
			assert.Equal(t, 12, strings.Count(got, `"verdict":"ACCEPT"`))
			assert.Equal(t, 2, strings.Count(got, `"verdict":"REJECT"`))
			continue
		}
		assert.Equal(t, want, got)
	}

	// At 60 bytes an IPv6 frame keeps 6 bytes of its TCP header: not its
	// flags. Those frames are skipped, and the reason says why.
	out, errOut, code := sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", write(60)}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 14)
	for k, line := range lines {
		if k < len(conns[0]) || k >= len(conns[0])+len(conns[1]) { // IPv4
			assert.NotContains(t, line, `"SKIP"`, line)
			continue
		}
		assert.Contains(t, line, `"verdict":"SKIP","reason":"malformed packet: the capture kept 60 of its`, line)
		assert.Contains(t, line, `bytes (its snapshot length), too few for the headers a verdict needs"`, line)
	}
	out, errOut, code = sgsim(t, append([]string{"replay", "--pcap", write(60)}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "  9 accepted, 2 rejected, 3 skipped (3 malformed)\n  the malformed frames' headers do not decode: "+
		"corrupt, or cut by the capture's snapshot length")
	assert.NotContains(t, out, "SKIPPED FRAMES", "no frame named addresses the files lack")
}

// verdictsOf keeps frame numbers, verdicts and deciding codes of JSONL output.
func verdictsOf(jsonl string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		frame := between(line, `"frame":`, ",")
		verdict := between(line, `"verdict":"`, `"`)
		code := between(between(line, `"decided_by":`, "}"), `"code":"`, `"`)
		b.WriteString(frame + " " + verdict + " " + code + "\n")
	}
	return b.String()
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return s
}

func TestReplayTruncated(t *testing.T) {
	cfg := sampleConfig(t)
	p := filepath.Join(t.TempDir(), "cut.pcap")
	data := sample.Capture()
	require.NoError(t, os.WriteFile(p, data[:2000], 0o644))
	out, errOut, code := sgsim(t, append([]string{"replay", "--pcap", p, "--format", "jsonl"}, cfg...)...)
	assert.Equal(t, 1, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Len(t, lines, 6, "every complete frame is judged")
	assert.Equal(t, "sgsim: "+p+": the capture is cut short inside frame 7; frames before it were read\n", errOut)
	golden(t, "replay-truncated", out)
}

func TestReplayErrors(t *testing.T) {
	cfg := sampleConfig(t)
	dir := t.TempDir()
	badJSON := filepath.Join(dir, "sgs.json")
	require.NoError(t, os.WriteFile(badJSON, []byte(`{"SecurityGroups":[{"GroupId":"sg-0abc","GroupName":"web","VpcId":"vpc-1","IpPermissions":[
		{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]},
		{"IpProtocol":"tcp","FromPort":80,"ToPort":80,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]},
		{"IpProtocol":"tcp","FromPort":70000,"ToPort":70000,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}]}`), 0o644))
	notCapture := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notCapture, []byte("this is not a capture file at all"), 0o644))
	wifi := filepath.Join(dir, "wifi.pcap")
	var buf bytes.Buffer
	_, _ = capgen.NewPcap(&buf, 105, false)
	require.NoError(t, os.WriteFile(wifi, buf.Bytes(), 0o644))
	sampleCap := filepath.Join(dir, "sample.pcap")
	require.NoError(t, os.WriteFile(sampleCap, sample.Capture(), 0o644))

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad flag", []string{"replay", "--colour"}, "sgsim: replay: flag provided but not defined: -colour (sgsim replay --help)\n"},
		{"bad format", []string{"replay", "--format", "xml"}, "sgsim: replay: --format \"xml\": use summary, jsonl or flowlog\n"},
		{"bad log format", []string{"replay", "--format", "flowlog", "--log-format", "${version} ${vpcid}"},
			"sgsim: replay: --log-format: \"${vpcid}\": no flow log field is called \"vpcid\" (fields: " + flowlogFields + ")\n"},
		{"log format without flowlog", []string{"replay", "--log-format", "${version}"}, "sgsim: replay: --log-format goes with --format flowlog\n"},
		{"bad traffic type", []string{"replay", "--format", "flowlog", "--traffic-type", "both"},
			"sgsim: replay: --traffic-type \"both\": use ACCEPT, REJECT or ALL\n"},
		{"traffic type without flowlog", []string{"replay", "--traffic-type", "REJECT"}, "sgsim: replay: --traffic-type goes with --format flowlog\n"},
		{"only without jsonl", []string{"replay", "--only", "REJECT"}, "sgsim: replay: --only goes with --format jsonl\n"},
		{"bad only", []string{"replay", "--format", "jsonl", "--only", "REJECT,DROP"}, "sgsim: replay: --only \"DROP\": use ACCEPT, REJECT or SKIP, comma-separated\n"},
		{"config without pcap", append([]string{"replay"}, cfg...), "sgsim: replay: --config and --pcap go together (with neither, the embedded sample is replayed)\n"},
		{"missing capture", append([]string{"replay", "--pcap", filepath.Join(dir, "nope.pcap")}, cfg...), "sgsim: " + filepath.Join(dir, "nope.pcap") + ": cannot read: no such file or directory\n"},
		{"missing config", []string{"replay", "--pcap", sampleCap, "--config", filepath.Join(dir, "nope.json")}, "sgsim: " + filepath.Join(dir, "nope.json") + ": cannot read: no such file or directory\n"},
		{"bad config", []string{"replay", "--pcap", sampleCap, "--config", badJSON}, "sgsim: " + badJSON + ": sg-0abc: IpPermissions[2].FromPort: 70000 is not a port\n"},
		{"not a capture", append([]string{"replay", "--pcap", notCapture}, cfg...), "sgsim: " + notCapture + ": not a capture: unknown magic number 74 68 69 73 (expected pcap or pcapng)\n"},
		{"unsupported link", append([]string{"replay", "--pcap", wifi}, cfg...), "sgsim: " + wifi + ": link type 105 is not supported: use Ethernet, Linux cooked capture (v1 or v2), BSD loopback or raw IP\n"},
		{"unknown command", []string{"replya"}, "sgsim: unknown command \"replya\": use replay, check, audit or diff (sgsim help)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := sgsim(t, tt.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, out)
			assert.Equal(t, tt.want, errOut)
		})
	}
}

// TestCommandHelp checks each command's --help: exit 0, the synopsis of
// the command alone, and a line for every flag, each of which the
// synopsis names and none of which it leaves out.
func TestCommandHelp(t *testing.T) {
	flagName := regexp.MustCompile(`--[a-z-]+`)
	for _, cmd := range []string{"replay", "check", "audit", "diff"} {
		t.Run(cmd, func(t *testing.T) {
			out, errOut, code := sgsim(t, cmd, "--help")
			assert.Equal(t, 0, code)
			assert.Empty(t, errOut)
			same, _, _ := sgsim(t, "help", cmd)
			assert.Equal(t, out, same, "sgsim help %s", cmd)
			short, _, _ := sgsim(t, cmd, "-h")
			assert.Equal(t, out, short, "%s -h", cmd)

			synopsis, flags, ok := strings.Cut(out, "\nFlags:\n")
			require.True(t, ok, out)
			require.True(t, strings.HasPrefix(synopsis, "Usage:\n  sgsim "+cmd+" "), synopsis)
			for _, other := range []string{"replay", "check", "audit", "diff"} {
				if other != cmd {
					assert.NotContains(t, synopsis, "sgsim "+other)
				}
			}
			var listed []string
			for _, line := range strings.Split(strings.TrimSuffix(flags, "\n"), "\n") {
				f := strings.Fields(line)
				require.NotEmpty(t, f, "an empty line among the flags")
				require.True(t, strings.HasPrefix(f[0], "--"), line)
				require.Greater(t, len(f), 2, "flag %s without a description", f[0])
				listed = append(listed, f[0])
			}
			named := flagName.FindAllString(synopsis, -1)
			assert.ElementsMatch(t, named, listed, "the synopsis and the flags disagree")
		})
	}
	golden(t, "help-replay", func() string { out, _, _ := sgsim(t, "replay", "--help"); return out }())
}

// flowlogFields lists every flow log field, as the error for an unknown
// one does.
const flowlogFields = "version, account-id, interface-id, srcaddr, dstaddr, srcport, dstport, protocol, packets, " +
	"bytes, start, end, action, log-status, vpc-id, subnet-id, instance-id, tcp-flags, type, pkt-srcaddr, " +
	"pkt-dstaddr, region, az-id, sublocation-type, sublocation-id, pkt-src-aws-service, pkt-dst-aws-service, " +
	"flow-direction, traffic-path, ecs-cluster-arn, ecs-cluster-name, ecs-container-instance-arn, " +
	"ecs-container-instance-id, ecs-container-id, ecs-second-container-id, ecs-service-name, " +
	"ecs-task-definition-arn, ecs-task-arn, ecs-task-id, reject-reason, resource-id, encryption-status"

func TestCheck(t *testing.T) {
	cfg := sampleConfig(t)
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"web to app", []string{"--src", "eni-0a1b2c3d4e5f60001", "--dst", "eni-0a1b2c3d4e5f60002", "--protocol", "tcp", "--port", "8080"}, 0},
		{"app to db, Linux ephemeral port", []string{"--src", "10.20.2.10", "--dst", "10.20.3.10", "--protocol", "tcp", "--port", "5432"}, 1},
		{"app to db, port 50000", []string{"--src", "10.20.2.10", "--dst", "10.20.3.10", "--protocol", "tcp", "--port", "5432", "--sport", "50000"}, 0},
		{"internet ssh to db", []string{"--src", "198.51.100.7", "--dst", "eni-0a1b2c3d4e5f60004", "--protocol", "tcp", "--port", "22"}, 1},
		{"ping web", []string{"--src", "198.51.100.7", "--dst", "10.20.1.10", "--protocol", "icmp"}, 1},
		{"https over ipv6", []string{"--src", "2001:db8:ff::1", "--dst", "eni-0a1b2c3d4e5f60001", "--protocol", "tcp", "--port", "443"}, 0},
		{"dns", []string{"--src", "eni-0a1b2c3d4e5f60004", "--dst", "10.20.0.2", "--protocol", "udp", "--port", "53"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := sgsim(t, append(append([]string{"check"}, cfg...), tt.args...)...)
			assert.Equal(t, tt.code, code, errOut)
			golden(t, "check-"+strings.ReplaceAll(tt.name, " ", "-"), strings.ReplaceAll(out, filepath.Dir(cfg[1]), "CONFIG"))
		})
	}
	out, _, code := sgsim(t, append(append([]string{"check"}, cfg...), "--src", "10.20.2.10", "--dst", "10.20.3.10",
		"--protocol", "tcp", "--port", "5432", "--format", "mermaid")...)
	assert.Equal(t, 1, code)
	assert.True(t, strings.HasPrefix(out, "sequenceDiagram\n"))
	assert.Contains(t, out, "-x")
	golden(t, "check-mermaid", out)

	// An instance stands for its primary interface.
	byInstance, _, code := sgsim(t, append(append([]string{"check"}, cfg...), "--src", "i-0a1b2c3d4e5f60001", "--dst", "i-0a1b2c3d4e5f60002",
		"--protocol", "tcp", "--port", "8080")...)
	assert.Equal(t, 0, code)
	byInterface, _, _ := sgsim(t, append(append([]string{"check"}, cfg...), "--src", "eni-0a1b2c3d4e5f60001", "--dst", "eni-0a1b2c3d4e5f60002",
		"--protocol", "tcp", "--port", "8080")...)
	assert.Equal(t, byInterface, byInstance)

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--src", "10.20.2.10", "--dst", "10.20.3.10", "--protocol", "tcp"}, "check: --port: tcp needs a destination port 0-65535"},
		{[]string{"--src", "10.20.2.10", "--dst", "10.20.3.10", "--protocol", "tcp", "--port", "70000"}, "check: --port 70000 is not a port (0-65535)"},
		{[]string{"--src", "10.20.2.10", "--dst", "10.20.3.10", "--protocol", "tcp", "--port", "1", "--sport", "-2"}, "check: --sport -2 is not a port (0-65535)"},
		{[]string{"--src", "eni-nope", "--dst", "10.20.3.10", "--protocol", "udp", "--port", "1"}, "check: --src eni-nope: no such interface in the --config files"},
		{[]string{"--src", "10.20.2.10", "--dst", "i-nope", "--protocol", "udp", "--port", "1"}, "check: --dst i-nope: no interface in the --config files is attached to that instance"},
		{[]string{"--src", "10.20.2.10", "--dst", "10.20.3.10", "--protocol", "sctpx", "--port", "1"}, "check: --protocol \"sctpx\": use tcp, udp, icmp, icmpv6 or a number 0-255"},
		{[]string{"--src", "10.20.2.10", "--dst", "2001:db8::1", "--protocol", "udp", "--port", "1"}, "check: --src 10.20.2.10 and --dst 2001:db8::1 are of different address families"},
	} {
		_, errOut, code := sgsim(t, append(append([]string{"check"}, cfg...), tt.args...)...)
		assert.Equal(t, 2, code, "%v", tt.args)
		assert.Equal(t, "sgsim: "+tt.want+"\n", errOut, "%v", tt.args)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestReplayTCPPickup: a capture that starts after the handshakes shows
// tracked connections' replies refused unless --tcp-pickup lets mid-stream
// packets open connections.
func TestReplayTCPPickup(t *testing.T) {
	cfg := sampleConfig(t)
	p := filepath.Join(t.TempDir(), "midstream.pcap")
	f, err := os.Create(p)
	require.NoError(t, err)
	w, err := capgen.NewPcap(f, 1, false)
	require.NoError(t, err)
	for _, fr := range sample.Frames(1) {
		if fr.Data[14+33]&0x02 != 0 && fr.Data[14+9] == 6 { // drop TCP SYNs and SYN-ACKs
			continue
		}
		require.NoError(t, w.WriteFrame(fr.Time, fr.Data))
	}
	require.NoError(t, f.Close())
	count := func(extra ...string) string {
		out, errOut, code := sgsim(t, append(append([]string{"replay", "--pcap", p}, cfg...), extra...)...)
		require.Equal(t, 0, code, errOut)
		return strings.Split(out, "\n")[1]
	}
	without, with := count(), count("--tcp-pickup")
	assert.NotEqual(t, without, with)
	golden(t, "replay-tcp-pickup", "without: "+without+"\nwith:    "+with+"\n")
}

// failAfter is an output that takes n bytes, then fails like a full disk.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("no space left on device")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestReplayOutputFails checks that an output failing in the middle of a
// replay ends it with status 2 and one line naming the failure, whether it
// fails as frames are written (jsonl) or at the end.
func TestReplayOutputFails(t *testing.T) {
	for _, format := range []string{"summary", "jsonl", "flowlog"} {
		var e bytes.Buffer
		code := run([]string{"replay", "--format", format, "--window", "1s"}, &failAfter{n: 100}, &e)
		assert.Equal(t, 2, code, format)
		assert.Equal(t, "sgsim: writing the output: no space left on device\n", e.String(), format)
	}
}

// TestSummaryGroupsPorts: flows between the same two addresses refused at
// the same place for the same reason share a row once there are four or
// more of them, ranked by their frames together; fewer keep a row each,
// and flows refused elsewhere or for another reason are not folded in.
func TestSummaryGroupsPorts(t *testing.T) {
	cfg := sampleConfig(t)
	p := filepath.Join(t.TempDir(), "scan.pcap")
	f, err := os.Create(p)
	require.NoError(t, err)
	w, err := capgen.NewPcap(f, 1, false)
	require.NoError(t, err)
	at := sample.Start
	syn := func(src, dst string, sport, dport uint16) {
		at = at.Add(time.Millisecond)
		pkt := eni.Packet{Src: mustAddr(src), Dst: mustAddr(dst), Proto: 6, SrcPort: sport, DstPort: dport, TCPFlags: eni.SYN}
		require.NoError(t, w.WriteFrame(at, capgen.Ethernet(capgen.IP(pkt, 0), 0)))
	}
	// A scan of the web server's ports 20-40: 22 is open to a prefix list
	// only, so the group refuses it as it does every other port.
	for port := uint16(20); port <= 40; port++ {
		syn("192.0.2.66", "10.20.1.10", 40000, port)
	}
	// Three ports from another address, each tried twice: three rows.
	for _, port := range []uint16{3306, 5432, 6379, 3306, 5432, 6379} {
		syn("192.0.2.77", "10.20.1.10", 40000, port)
	}
	// The app server's SSH to the database: refused by the ACL at 22
	// (entry 90), by the group elsewhere; four ports, two reasons.
	for _, port := range []uint16{22, 23, 24, 25} {
		syn("10.20.2.10", "10.20.3.10", 40000, port)
	}
	// The scanner comes back the next day: the capture's end is dated.
	at = at.Add(25 * time.Hour)
	syn("192.0.2.66", "10.20.1.10", 40001, 20)
	require.NoError(t, f.Close())

	out, errOut, code := sgsim(t, append([]string{"replay", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	first, _, _ := strings.Cut(out, "\n")
	assert.Equal(t, "Replayed "+p+" (pcap): 32 frames from 2026-11-02 09:30:00 to 2026-11-03 10:30:00 (25h0m0s)", first)
	start := strings.Index(out, "REJECTED FLOWS")
	end := strings.Index(out, "\nRULES")
	require.True(t, start >= 0 && end > start, out)
	golden(t, "replay-summary-grouped", out[start:end])
}

// TestCaptureFromStdin: --pcap - reads the capture from standard input,
// named "stdin" in what is printed; diff, which reads it twice, refuses it.
func TestCaptureFromStdin(t *testing.T) {
	cfg := sampleConfig(t)
	file := filepath.Join(t.TempDir(), "sample.pcap")
	require.NoError(t, os.WriteFile(file, sample.Capture(), 0o644))
	defer func(r io.Reader) { stdin = r }(stdin)

	for _, cmd := range [][]string{{"replay"}, {"replay", "--format", "jsonl"}, {"replay", "--format", "flowlog"}, {"audit"}} {
		want, _, code := sgsim(t, append(append(cmd, "--pcap", file), cfg...)...)
		require.Equal(t, 0, code)
		stdin = bytes.NewReader(sample.Capture())
		got, errOut, code := sgsim(t, append(append(cmd, "--pcap", "-"), cfg...)...)
		assert.Equal(t, 0, code, errOut)
		assert.Equal(t, strings.ReplaceAll(want, file, "stdin"), got, "%v", cmd)
	}

	stdin = bytes.NewReader(nil)
	_, errOut, code := sgsim(t, append([]string{"replay", "--pcap", "-"}, cfg...)...)
	assert.Equal(t, 2, code)
	assert.Equal(t, "sgsim: stdin: not a capture: the file is shorter than a capture header\n", errOut)

	against := append([]string(nil), cfg...)
	for k := range against {
		if against[k] == "--config" {
			against[k] = "--against"
		}
	}
	_, errOut, code = sgsim(t, append(append([]string{"diff", "--pcap", "-"}, cfg...), against...)...)
	assert.Equal(t, 2, code)
	assert.Equal(t, "sgsim: diff: --pcap -: diff reads the capture twice, side by side: give a file\n", errOut)
}

// TestReplayPublicAddress: a capture taken outside the VPC names the web
// server's public address; the replay judges it at the server, as the
// internet gateway's translation has it, JSON Lines say which public
// address a frame named, and the flow log records the private one, as
// AWS's does.
func TestReplayPublicAddress(t *testing.T) {
	cfg := sampleConfig(t)
	withPublicAddresses(t, cfg, map[string]string{"10.20.1.10": "203.0.113.12"})
	ms := time.Millisecond
	p := writeCapture(t,
		timed{eni.TCP(netip.MustParseAddrPort("198.51.100.7:50000"), netip.MustParseAddrPort("203.0.113.12:443"), eni.SYN), 0},
		timed{eni.TCP(netip.MustParseAddrPort("203.0.113.12:443"), netip.MustParseAddrPort("198.51.100.7:50000"), eni.SYN|eni.ACK), ms},
		timed{eni.TCP(netip.MustParseAddrPort("198.51.100.7:50001"), netip.MustParseAddrPort("203.0.113.12:22"), eni.SYN), 2 * ms})

	out, errOut, code := sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[0], `"verdict":"ACCEPT"`)
	assert.Contains(t, lines[0], `"src":"198.51.100.7","dst":"10.20.1.10","public_dst":"203.0.113.12"`)
	assert.Contains(t, lines[0], `"destination_interface":"eni-0a1b2c3d4e5f60001"`)
	assert.Contains(t, lines[1], `"src":"10.20.1.10","dst":"198.51.100.7","public_src":"203.0.113.12"`)
	assert.Contains(t, lines[1], `"verdict":"ACCEPT"`)
	assert.Contains(t, lines[2], `"verdict":"REJECT"`, "SSH from outside the admins' list")

	out, errOut, code = sgsim(t, append([]string{"replay", "--format", "flowlog", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, " eni-0a1b2c3d4e5f60001 198.51.100.7 10.20.1.10 50000 443 6 1 40 ")
	assert.NotContains(t, out, "203.0.113.12", "flow logs record the private address")
}

// TestReplayHairpin: the app server reaches the web server and the
// database by their public addresses, out through the internet gateway
// and back. The web server lets anyone in on 443; the database lets in
// the app tier's group, which a packet from the app server's public
// address is not in. JSON Lines mark the frames, and each end's flow log
// records the packet as it saw it.
func TestReplayHairpin(t *testing.T) {
	cfg := sampleConfig(t)
	withPublicAddresses(t, cfg, map[string]string{"10.20.1.10": "203.0.113.12", "10.20.2.10": "203.0.113.13", "10.20.3.10": "203.0.113.14"})
	ms := time.Millisecond
	p := writeCapture(t,
		timed{eni.TCP(netip.MustParseAddrPort("10.20.2.10:40000"), netip.MustParseAddrPort("203.0.113.12:443"), eni.SYN), 0},          // at app
		timed{eni.TCP(netip.MustParseAddrPort("10.20.1.10:443"), netip.MustParseAddrPort("203.0.113.13:40000"), eni.SYN|eni.ACK), ms}, // at web
		timed{eni.TCP(netip.MustParseAddrPort("10.20.2.10:40001"), netip.MustParseAddrPort("203.0.113.14:5432"), eni.SYN), 2 * ms},    // at app
		timed{eni.TCP(netip.MustParseAddrPort("10.20.2.10:40002"), netip.MustParseAddrPort("10.20.3.10:5432"), eni.SYN), 3 * ms})      // the private way

	out, errOut, code := sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4)
	assert.Contains(t, lines[0], `"verdict":"ACCEPT"`)
	assert.Contains(t, lines[0], `"src":"10.20.2.10","dst":"10.20.1.10","public_src":"203.0.113.13","public_dst":"203.0.113.12","hairpin":true`)
	assert.Contains(t, lines[1], `"verdict":"ACCEPT"`)
	assert.Contains(t, lines[1], `"hairpin":true`)
	assert.Contains(t, lines[2], `"verdict":"REJECT"`)
	assert.Contains(t, lines[2], `"hairpin":true`)
	assert.Contains(t, lines[2], "from 203.0.113.13", "the database sees the public address")
	assert.Contains(t, lines[3], `"verdict":"ACCEPT"`)
	assert.NotContains(t, lines[3], `"hairpin"`)

	out, errOut, code = sgsim(t, append([]string{"replay", "--format", "flowlog", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, " eni-0a1b2c3d4e5f60002 10.20.2.10 203.0.113.12 40000 443 6 1 40 ", "sent from the app server")
	assert.Contains(t, out, " eni-0a1b2c3d4e5f60001 203.0.113.13 10.20.1.10 40000 443 6 1 40 ", "received at the web server")
	assert.Contains(t, out, " eni-0a1b2c3d4e5f60004 203.0.113.13 10.20.3.10 40001 5432 6 1 40 ", "refused at the database")
	assert.Contains(t, out, " REJECT OK")
}

// TestReplayIdledOut: the database runs on a Nitro v6 type, whose
// established TCP connections idle out after 350 s. A reply after 400 s
// of silence is refused (the database's group allows nothing out), and
// the refusal says that its connection had idled out, and after how long.
func TestReplayIdledOut(t *testing.T) {
	cfg := sampleConfig(t)
	dir := filepath.Dir(cfg[1])
	write := configWriter(t, dir)
	cfg = append(cfg, write("instances.json", `{"Reservations":[{"ReservationId":"r-1","Instances":[
		{"InstanceId":"i-0a1b2c3d4e5f60004","InstanceType":"r8i.large"}]}]}`)...)
	cfg = append(cfg, write("types.json", `{"InstanceTypes":[{"InstanceType":"r8i.large","Hypervisor":"nitro",
		"NetworkInfo":{"ConnectionTrackingConfiguration":{"DefaultTcpEstablishedTimeout":350,"DefaultUdpStreamTimeout":180,"DefaultUdpTimeout":30}}}]}`)...)

	app, db := netip.MustParseAddrPort("10.20.2.10:50000"), netip.MustParseAddrPort("10.20.3.10:5432")
	p := writeCapture(t,
		timed{eni.TCP(app, db, eni.SYN), 0},
		timed{eni.TCP(db, app, eni.SYN|eni.ACK), time.Millisecond},
		timed{eni.TCP(app, db, eni.ACK), 2 * time.Millisecond},
		timed{eni.TCP(db, app, eni.ACK|eni.PSH), 400 * time.Second})

	out, errOut, code := sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4)
	assert.Contains(t, lines[2], `"verdict":"ACCEPT"`)
	assert.Contains(t, lines[3], `"verdict":"REJECT"`)
	assert.Contains(t, lines[3], `"connection":{"state":"tcp-established","opened":"inbound","since":"`)
	assert.Contains(t, lines[3], `"idled_out":true`)
	assert.Contains(t, lines[3], "its tracked connection (tcp-established, opened inbound by sg-0a1b2c3d4e5f60003 rule")
	assert.Contains(t, lines[3], "had been idle 399 s, past its 350 s timeout")

	// On the default timeout, the reply rides its connection.
	out, errOut, code = sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg[:len(cfg)-4]...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, strings.Split(strings.TrimSpace(out), "\n")[3], `"verdict":"ACCEPT"`)

	out, errOut, code = sgsim(t, append([]string{"replay", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "ENI_SG_RULES_MISMATCH eni-0a1b2c3d4e5f60004 outbound (its connection idled out: 350 s timeout)")
	assert.Regexp(t, `eni-0a1b2c3d4e5f60004 +1 +1 +1 +0 +350 / 30 / 180 s \(r8i\.large\)`, out)
	assert.Contains(t, out, "1 packets were refused because their connection had gone idle past its timeout")

	out, errOut, _ = sgsim(t, append([]string{"audit", "--format", "json", "--pcap", p}, cfg...)...)
	assert.Contains(t, out, `"SGSIM.IDLED_OUT"`, errOut)
	assert.Contains(t, out, "were refused because their tracked connection had gone idle past its timeout (TCP established 350 s")
}

// TestReplayOtherNetwork: the sample's capture replayed against another
// network's files touches nothing. The summary says which addresses the
// skipped frames named and which the files hold, instead of a table of
// idle interfaces.
func TestReplayOtherNetwork(t *testing.T) {
	dir := t.TempDir()
	write := configWriter(t, dir)
	var cfg []string
	cfg = append(cfg, write("subnets.json", `{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.99.1.0/24"}]}`)...)
	cfg = append(cfg, write("sgs.json", `{"SecurityGroups":[{"GroupId":"sg-1","GroupName":"x","VpcId":"vpc-1","IpPermissions":[],"IpPermissionsEgress":[]}]}`)...)
	cfg = append(cfg, write("enis.json", `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1","SubnetId":"subnet-1","VpcId":"vpc-1",
		"PrivateIpAddress":"10.99.1.10","Groups":[{"GroupId":"sg-1"}]}]}`)...)
	p := filepath.Join(dir, "capture.pcap")
	require.NoError(t, os.WriteFile(p, sample.Capture(), 0o644))

	out, errOut, code := sgsim(t, append([]string{"replay", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "0 accepted, 0 rejected, 348 skipped")
	assert.Contains(t, out, "none of the 1 interfaces had frames: eni-1")
	assert.Contains(t, out, "SKIPPED FRAMES (348 IP frames with no modelled interface or subnet at either end")
	assert.Regexp(t, `10\.20\.1\.10 +232`, out)
	assert.Contains(t, out, "No frame touched the configuration")
	assert.Contains(t, out, "Its interfaces' addresses are 10.99.1.10; its subnets 10.99.1.0/24.")

	out, errOut, code = sgsim(t, "replay")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "SKIPPED FRAMES", "the sample's frames all touch the sample's network")
}

// TestReplayAppliance: with describe-route-tables, the app subnet's route
// to the data subnet goes through a firewall appliance. The database's
// rule referencing the app's group does not match what the firewall
// forwards; JSON Lines name the appliance, the summary counts its frames,
// its flow log records them coming in and going out, and check shows
// every stage.
func TestReplayAppliance(t *testing.T) {
	dir := t.TempDir()
	write := configWriter(t, dir)
	var cfg []string
	for _, f := range [][2]string{
		{"vpcs.json", `{"Vpcs":[{"VpcId":"vpc-1","OwnerId":"111122223333","CidrBlock":"10.0.0.0/16"}]}`},
		{"subnets.json", `{"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.1.0/24"},
			{"SubnetId":"subnet-2","VpcId":"vpc-1","CidrBlock":"10.0.2.0/24"},{"SubnetId":"subnet-3","VpcId":"vpc-1","CidrBlock":"10.0.3.0/24"}]}`},
		{"sgs.json", `{"SecurityGroups":[
			{"GroupId":"sg-fw","GroupName":"fw","VpcId":"vpc-1","IpPermissions":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"10.0.0.0/16"}]}],
			 "IpPermissionsEgress":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]},
			{"GroupId":"sg-app","GroupName":"app","VpcId":"vpc-1","IpPermissions":[],"IpPermissionsEgress":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]},
			{"GroupId":"sg-db","GroupName":"db","VpcId":"vpc-1","IpPermissions":[
			 {"IpProtocol":"tcp","FromPort":5432,"ToPort":5432,"UserIdGroupPairs":[{"GroupId":"sg-app"}]},
			 {"IpProtocol":"tcp","FromPort":6432,"ToPort":6432,"IpRanges":[{"CidrIp":"10.0.2.0/24"}]}],"IpPermissionsEgress":[]}]}`},
		{"enis.json", `{"NetworkInterfaces":[
			{"NetworkInterfaceId":"eni-fw","OwnerId":"111122223333","SubnetId":"subnet-1","VpcId":"vpc-1","PrivateIpAddress":"10.0.1.5","SourceDestCheck":false,"Groups":[{"GroupId":"sg-fw"}]},
			{"NetworkInterfaceId":"eni-app","OwnerId":"111122223333","SubnetId":"subnet-2","VpcId":"vpc-1","PrivateIpAddress":"10.0.2.10","Groups":[{"GroupId":"sg-app"}]},
			{"NetworkInterfaceId":"eni-db","OwnerId":"111122223333","SubnetId":"subnet-3","VpcId":"vpc-1","PrivateIpAddress":"10.0.3.10","Groups":[{"GroupId":"sg-db"}]}]}`},
		{"rtbs.json", `{"RouteTables":[{"RouteTableId":"rtb-app","VpcId":"vpc-1","Associations":[{"Main":false,"SubnetId":"subnet-2"}],
			"Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local","State":"active"},
			 {"DestinationCidrBlock":"10.0.3.0/24","NetworkInterfaceId":"eni-fw","State":"active"}]}]}`},
	} {
		cfg = append(cfg, write(f[0], f[1])...)
	}
	app := netip.MustParseAddrPort("10.0.2.10:40000")
	p := writeCapture(t,
		timed{eni.TCP(app, netip.MustParseAddrPort("10.0.3.10:5432"), eni.SYN), 0},
		timed{eni.TCP(netip.MustParseAddrPort("10.0.2.10:40001"), netip.MustParseAddrPort("10.0.3.10:6432"), eni.SYN), time.Second})

	out, errOut, code := sgsim(t, append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], `"verdict":"REJECT"`)
	assert.Contains(t, lines[0], `"via_interface":"eni-fw"`)
	assert.Contains(t, lines[0], `"stage":"appliance security groups in","interface":"eni-fw"`)
	assert.Contains(t, lines[0], "it came through an appliance, and rules referencing groups do not match such traffic")
	assert.Contains(t, lines[1], `"verdict":"ACCEPT"`, "a rule naming the app subnet's block matches")

	out, errOut, code = sgsim(t, append([]string{"replay", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `eni-fw +10\.0\.1\.5 +sg-fw +1 +1 +1 +1 `, out)

	out, errOut, code = sgsim(t, append([]string{"replay", "--format", "flowlog", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "2 111122223333 eni-fw 10.0.2.10 10.0.1.5 40000 5432 6 1 40 ", "coming in: the appliance's own address as dstaddr")
	assert.Contains(t, out, "2 111122223333 eni-fw 10.0.1.5 10.0.3.10 40000 5432 6 1 40 ", "going out: its own address as srcaddr")
	assert.Contains(t, out, "2 111122223333 eni-db 10.0.2.10 10.0.3.10 40000 5432 6 1 40 ")

	out, _, code = sgsim(t, append([]string{"check", "--src", "eni-app", "--dst", "eni-db", "--protocol", "tcp", "--port", "5432"}, cfg...)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "(routed through eni-fw)")
	assert.Contains(t, out, "eni-fw inbound: allowed by sg-fw")

	out, _, _ = sgsim(t, append([]string{"audit", "--format", "json"}, cfg...)...)
	assert.Contains(t, out, `"SGSIM.REFERENCE_THROUGH_APPLIANCE"`)

	assert.Contains(t, out, "traffic from eni-app (subnet-2) to eni-db goes through eni-fw")

	// traffic-path from the route tables: the app subnet's default route
	// is the internet gateway's (2: the instance type is not known to be
	// Nitro); the data subnet has no table (-).
	rtbs := write("rtbs.json", `{"RouteTables":[{"RouteTableId":"rtb-app","VpcId":"vpc-1","Associations":[{"Main":false,"SubnetId":"subnet-2"}],
		"Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local","State":"active"},
		 {"DestinationCidrBlock":"0.0.0.0/0","GatewayId":"igw-1","State":"active"}]}]}`)
	p = writeCapture(t,
		timed{eni.TCP(app, netip.MustParseAddrPort("198.51.100.7:443"), eni.SYN), 0},
		timed{eni.TCP(netip.MustParseAddrPort("10.0.3.10:40000"), netip.MustParseAddrPort("198.51.100.7:443"), eni.SYN), time.Second})
	out, errOut, code = sgsim(t, append(append([]string{"replay", "--format", "flowlog", "--log-format",
		"${interface-id} ${dstaddr} ${flow-direction} ${traffic-path}", "--pcap", p}, cfg[:len(cfg)-2]...), rtbs...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "eni-app 198.51.100.7 egress 2\n")
	assert.Contains(t, out, "eni-db 198.51.100.7 egress -\n")

	// A blackhole route drops what it matches.
	dead := write("rtbs.json", `{"RouteTables":[{"RouteTableId":"rtb-app","VpcId":"vpc-1","Associations":[{"Main":false,"SubnetId":"subnet-2"}],
		"Routes":[{"DestinationCidrBlock":"10.0.3.0/24","NetworkInterfaceId":"eni-gone","State":"blackhole"}]}]}`)
	p = writeCapture(t, timed{eni.TCP(app, netip.MustParseAddrPort("10.0.3.10:6432"), eni.SYN), 0})
	out, errOut, code = sgsim(t, append(append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg[:len(cfg)-2]...), dead...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"verdict":"REJECT"`)
	assert.Contains(t, out, `"decided_by":{"stage":"route","route_table":"rtb-app","direction":"outbound","result":"DENY","code":"ROUTE_BLACKHOLE"`)
	out, errOut, code = sgsim(t, append(append([]string{"replay", "--pcap", p}, cfg[:len(cfg)-2]...), dead...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "ROUTE_BLACKHOLE rtb-app 10.0.3.0/24 to eni-gone")

	// No route for the destination at all: dropped as it leaves the subnet.
	local := write("rtbs.json", `{"RouteTables":[{"RouteTableId":"rtb-app","VpcId":"vpc-1","Associations":[{"Main":false,"SubnetId":"subnet-2"}],
		"Routes":[{"DestinationCidrBlock":"10.0.0.0/16","GatewayId":"local","State":"active"}]}]}`)
	p = writeCapture(t, timed{eni.TCP(app, netip.MustParseAddrPort("198.51.100.7:443"), eni.SYN), 0})
	out, errOut, code = sgsim(t, append(append([]string{"replay", "--format", "jsonl", "--pcap", p}, cfg[:len(cfg)-2]...), local...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"decided_by":{"stage":"route","route_table":"rtb-app","direction":"outbound","result":"DENY","code":"NO_ROUTE_TO_DESTINATION"`)
	out, errOut, code = sgsim(t, append(append([]string{"replay", "--pcap", p}, cfg[:len(cfg)-2]...), local...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "NO_ROUTE_TO_DESTINATION rtb-app")
}

// TestReplayOnly: --only prints the frames of the verdicts asked for,
// exactly the lines the full output has for them, in capture order.
func TestReplayOnly(t *testing.T) {
	all, _, code := sgsim(t, "replay", "--format", "jsonl")
	require.Equal(t, 0, code)
	for _, only := range []string{"REJECT", "accept", "ACCEPT,REJECT", "SKIP"} {
		var want []string
		for _, line := range strings.Split(strings.TrimSpace(all), "\n") {
			for _, v := range strings.Split(strings.ToUpper(only), ",") {
				if strings.Contains(line, `"verdict":"`+v+`"`) {
					want = append(want, line)
				}
			}
		}
		out, errOut, code := sgsim(t, "replay", "--format", "jsonl", "--only", only)
		require.Equal(t, 0, code, errOut)
		got := strings.Split(strings.TrimSpace(out), "\n")
		if len(want) == 0 {
			assert.Empty(t, strings.TrimSpace(out), only)
			continue
		}
		assert.Equal(t, want, got, only)
	}
}

// TestMermaidText: what Mermaid would read as syntax goes as entity codes,
// which a rendered diagram shows as the characters (checked against
// Mermaid 11's parser and renderer); colons past a note's first, as in
// an IPv6 prefix, are text.
func TestMermaidText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"allowed (all traffic to ::/0); new tracked connection", "allowed (all traffic to ::/0)#59; new tracked connection"},
		{"entry #100", "entry #35;100"},
		{"one\ntwo", "one two"},
		{"tcp 32768 → 443", "tcp 32768 to 443"},
	} {
		assert.Equal(t, tt.want, mermaidText(tt.in), tt.in)
	}
}
