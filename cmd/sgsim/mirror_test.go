package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/internal/capgen"
	"github.com/sgsim/sgsim/internal/sample"
	"github.com/sgsim/sgsim/replay"
)

// mirrorConfig is sampleConfig with the sample's traffic mirror sessions,
// filters and targets, each in a file of its own as the CLI prints them.
func mirrorConfig(t *testing.T) []string {
	args := sampleConfig(t)
	dir := filepath.Dir(args[1])
	for _, s := range sample.MirrorConfigs() {
		p := filepath.Join(dir, filepath.Base(s.Name))
		require.NoError(t, os.WriteFile(p, s.Data, 0o644))
		args = append(args, "--config", p)
	}
	return args
}

// TestReplayMirrorSummary: with mirror sessions, the summary says what
// each copied and what its source did not copy, and why.
func TestReplayMirrorSummary(t *testing.T) {
	args := append(append([]string{"replay"}, mirrorConfig(t)...), "--pcap", writeSampleCapture(t))
	out, errOut, code := sgsim(t, args...)
	require.Equal(t, 0, code, errOut)
	k := strings.Index(out, "\nTRAFFIC MIRRORING")
	require.GreaterOrEqual(t, k, 0, out)
	golden(t, "replay-mirror-summary", out[k+1:])

	// The rest of the summary is the sample's, mirroring or not.
	plain, _, _ := sgsim(t, append(append([]string{"replay"}, sampleConfig(t)...), "--pcap", writeSampleCapture(t))...)
	// (but for the IDS's load balancer interface, which has no frames)
	assert.Equal(t, withoutQuiet(firstLinesAfter(plain, 1)), withoutQuiet(firstLinesAfter(out[:k], 1)))
}

// withoutQuiet drops the summary's line of interfaces with no frames.
func withoutQuiet(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "  and ") || !strings.Contains(l, "with no frames") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// firstLinesAfter drops the first n lines, which name the files.
func firstLinesAfter(s string, n int) string {
	for range n {
		if k := strings.IndexByte(s, '\n'); k >= 0 {
			s = s[k+1:]
		}
	}
	return s
}

func writeSampleCapture(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "sample.pcap")
	require.NoError(t, os.WriteFile(p, sample.Capture(), 0o644))
	return p
}

// TestReplayMirrorJSONL: each frame names what the sessions made of it,
// in the mirror_copies field. The golden file has the first frame of
// each kind of answer.
func TestReplayMirrorJSONL(t *testing.T) {
	args := append(append([]string{"replay", "--format", "jsonl"}, mirrorConfig(t)...), "--pcap", writeSampleCapture(t))
	out, errOut, code := sgsim(t, args...)
	require.Equal(t, 0, code, errOut)
	var b strings.Builder
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f struct {
			Frame        int    `json:"frame"`
			Verdict      string `json:"verdict"`
			Src          string `json:"src"`
			Dst          string `json:"dst"`
			DPort        *int   `json:"dport"`
			MirrorCopies []struct {
				Interface, Direction, Result, Session, Target string
				FilterRule                                    *int `json:"filter_rule"`
				Explanation                                   string
			} `json:"mirror_copies"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &f), line)
		for _, m := range f.MirrorCopies {
			kind := fmt.Sprint(m.Interface, m.Direction, m.Result, m.Session, m.FilterRule != nil && *m.FilterRule == 200)
			if seen[kind] {
				continue
			}
			seen[kind] = true
			rule := ""
			if m.FilterRule != nil {
				rule = fmt.Sprintf(" rule %d", *m.FilterRule)
			}
			fmt.Fprintf(&b, "%d %s %s→%s: %s %s %s %s%s: %s\n", f.Frame, f.Verdict, f.Src, f.Dst, m.Interface, m.Direction, m.Result,
				m.Session, rule, m.Explanation)
		}
	}
	golden(t, "replay-mirror-jsonl", b.String())
}

// TestReplayMirrorCopies replays a capture made at the IDS, VXLAN copies
// of web-1's frames: copies the files cannot account for are flagged in
// the summary and in each frame's JSON.
func TestReplayMirrorCopies(t *testing.T) {
	web1, ids := netip.MustParseAddr("10.20.1.10"), netip.MustParseAddr("10.20.1.200")
	admin := eni.TCP(netip.MustParseAddrPort("203.0.113.5:55000"), netip.AddrPortFrom(web1, 22), eni.SYN)
	stranger := eni.TCP(netip.MustParseAddrPort("192.0.2.66:61000"), netip.AddrPortFrom(web1, 22), eni.SYN)
	p := filepath.Join(t.TempDir(), "ids.pcap")
	f, err := os.Create(p)
	require.NoError(t, err)
	w, err := capgen.NewPcap(f, 1, false)
	require.NoError(t, err)
	for k, c := range []struct {
		pkt eni.Packet
		vni uint32
	}{{admin, 4101}, {admin.Reply(), 4101}, {stranger, 4101}, {admin, 77}} {
		require.NoError(t, w.WriteFrame(sample.Start.Add(time.Duration(k)*time.Millisecond),
			capgen.VXLAN(web1, ids, c.vni, capgen.Ethernet(capgen.IP(c.pkt, 0), 0))))
	}
	require.NoError(t, f.Close())

	out, errOut, code := sgsim(t, append(append([]string{"replay", "--vxlan"}, mirrorConfig(t)...), "--pcap", p)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "  4 VXLAN copies in the capture; 2 the files cannot account for (AWS would not have made them: are the files those of the capture's time?)\n"+
		"    frame 3 (tms-0a1b2c3d4e5f60001): received by eni-0a1b2c3d4e5f60001: not copied: its security groups refused the packet (inbound), "+
		"and AWS mirrors only what the source lets through\n"+
		"    frame 4 (from 10.20.1.10, VNI 77): no session of the files sends copies from 10.20.1.10 with VXLAN network identifier 77\n")

	out, errOut, code = sgsim(t, append(append([]string{"replay", "--vxlan", "--format", "jsonl"}, mirrorConfig(t)...), "--pcap", p)...)
	require.Equal(t, 0, code, errOut)
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var fr struct {
			Mirrored       bool   `json:"mirrored"`
			MirrorSession  string `json:"mirror_session"`
			MirrorVNI      int    `json:"mirror_vni"`
			MirrorMismatch string `json:"mirror_mismatch"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &fr))
		require.True(t, fr.Mirrored)
		got = append(got, fmt.Sprintf("%s %d %t", fr.MirrorSession, fr.MirrorVNI, fr.MirrorMismatch != ""))
	}
	assert.Equal(t, []string{"tms-0a1b2c3d4e5f60001 4101 false", "tms-0a1b2c3d4e5f60001 4101 false",
		"tms-0a1b2c3d4e5f60001 4101 true", " 77 true"}, got)
}

// TestCheckMirror: check says what the sessions copy of the request and
// of its reply; a reply the database's subnet ACL drops is not copied.
func TestCheckMirror(t *testing.T) {
	cfg := mirrorConfig(t)
	out, errOut, code := sgsim(t, append(append([]string{"check"}, cfg...),
		"--src", "10.20.2.10", "--dst", "eni-0a1b2c3d4e5f60004", "--protocol", "tcp", "--port", "5432")...)
	assert.Equal(t, 1, code, errOut)
	golden(t, "check-mirror", out)
}

// TestReplayMirrorCopiesWithoutVXLAN: copies replayed without --vxlan are
// judged as they are, and the summary says to unwrap them.
func TestReplayMirrorCopiesWithoutVXLAN(t *testing.T) {
	web1, ids := netip.MustParseAddr("10.20.1.10"), netip.MustParseAddr("10.20.1.200")
	admin := eni.TCP(netip.MustParseAddrPort("203.0.113.5:55000"), netip.AddrPortFrom(web1, 22), eni.SYN)
	p := filepath.Join(t.TempDir(), "ids.pcap")
	f, err := os.Create(p)
	require.NoError(t, err)
	w, err := capgen.NewPcap(f, 1, false)
	require.NoError(t, err)
	require.NoError(t, w.WriteFrame(sample.Start, capgen.VXLAN(web1, ids, 4101, capgen.Ethernet(capgen.IP(admin, 0), 0))))
	require.NoError(t, f.Close())
	cfg := mirrorConfig(t)
	out, errOut, code := sgsim(t, append(append([]string{"replay", "--format", "jsonl"}, cfg...), "--pcap", p)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"mirror_copy":true,"mirror_session":"tms-0a1b2c3d4e5f60001","mirror_vni":4101`)
	assert.NotContains(t, out, `"source_interface"`, "a copy passes its source's groups")
	out, errOut, code = sgsim(t, append(append([]string{"replay", "--format", "flowlog"}, cfg...), "--pcap", p)...)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 1, strings.Count(out, "\n"), "flow logs leave copies out: only the header: %s", out)
	out, errOut, code = sgsim(t, append(append([]string{"replay"}, cfg...), "--pcap", p)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "  1 frames are VXLAN copies from the sessions, judged as AWS judges copies: past their source's security groups, "+
		"and left out of flow logs (--vxlan judges the frames inside them instead)")
	assert.NotContains(t, out, "VXLAN copies in the capture")
}

// TestAuditMirrorUsage: audit --pcap with mirror sessions counts their
// filter rules' frames: every rule of the sample's filters decides some of
// the sample's frames, so none is unused.
func TestAuditMirrorUsage(t *testing.T) {
	out, errOut, code := sgsim(t, append(append([]string{"audit", "--format", "json"}, mirrorConfig(t)...), "--pcap", writeSampleCapture(t))...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"SGSIM.UNUSED_RULE"`, "the usage was read")
	assert.NotContains(t, out, `"SGSIM.UNUSED_MIRROR_RULE"`)

	// A rule for traffic the capture does not have is unused.
	cfg := mirrorConfig(t)
	filters := filepath.Join(filepath.Dir(cfg[1]), "traffic-mirror-filters.json")
	data, err := os.ReadFile(filters)
	require.NoError(t, err)
	edited := strings.Replace(string(data), `"EgressFilterRules": [],`, `"EgressFilterRules": [{"RuleNumber": 300, "RuleAction": "accept",
		"Protocol": 17, "DestinationPortRange": {"FromPort": 9999, "ToPort": 9999}, "DestinationCidrBlock": "0.0.0.0/0", "SourceCidrBlock": "0.0.0.0/0"}],`, 1)
	require.NotEqual(t, string(data), edited)
	require.NoError(t, os.WriteFile(filters, []byte(edited), 0o644))
	out, errOut, code = sgsim(t, append(append([]string{"audit"}, cfg...), "--pcap", writeSampleCapture(t))...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "was decided by tmf-0a1b2c3d4e5f60002 outbound rule 300 accept udp 0.0.0.0/0 → 0.0.0.0/0 port 9999")
}

// TestReplayMirrorOut writes the copies the sample's sessions send, as
// the IDS behind the Network Load Balancer receives them; replayed with
// --vxlan against the same files, every copy is accounted for. db-1's
// session copies the first 128 bytes of each frame only.
func TestReplayMirrorOut(t *testing.T) {
	cfg := mirrorConfig(t)
	// Without the load balancer's interface, the copies have no address
	// to go to: left out, and said so.
	var noLB []string
	for k := 0; k < len(cfg); k += 2 {
		if !strings.HasSuffix(cfg[k+1], "network-interfaces-ids.json") {
			noLB = append(noLB, cfg[k], cfg[k+1])
		}
	}
	require.Len(t, noLB, len(cfg)-2)
	out := filepath.Join(t.TempDir(), "copies.pcap")
	_, errOut, code := sgsim(t, append(append([]string{"replay", "--mirror-out", out}, noLB...), "--pcap", writeSampleCapture(t))...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "copies.pcap: 104 copies of tms-0a1b2c3d4e5f60001 left out: no interface in the files gives the address of its target tmt-0a1b2c3d4e5f60001")

	summary, errOut, code := sgsim(t, append(append([]string{"replay", "--mirror-out", out}, cfg...), "--pcap", writeSampleCapture(t))...)
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
	assert.Contains(t, summary, "TRAFFIC MIRRORING", "the main output is as without --mirror-out")

	perVNI, bytesPerVNI := map[uint32]int{}, map[uint32]int{}
	eachCopy(t, out, func(h eni.VXLANHeader, _ *eni.Packet, frame []byte) {
		assert.Equal(t, netip.MustParseAddr("10.20.1.200"), h.Dst)
		perVNI[h.VNI]++
		bytesPerVNI[h.VNI] += len(frame)
		if h.VNI == 4104 {
			assert.LessOrEqual(t, len(frame), replay.CopyOverhead+128, "PacketLength 128")
		}
	})
	assert.Equal(t, map[uint32]int{4101: 104, 4104: 36}, perVNI)
	// The summary's bytes to the target are those of the copies written.
	for vni, id := range map[uint32]string{4101: "tms-0a1b2c3d4e5f60001", 4104: "tms-0a1b2c3d4e5f60002"} {
		assert.Regexp(t, id+` .* `+fmt.Sprint(bytesPerVNI[vni])+`\n`, summary)
	}

	back, errOut, code := sgsim(t, append(append([]string{"replay", "--vxlan"}, cfg...), "--pcap", out)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, back, "  140 VXLAN copies in the capture; 0 the files cannot account for\n")
}

func TestReplayMirrorOutNeedsSessions(t *testing.T) {
	_, errOut, code := sgsim(t, append(append([]string{"replay", "--mirror-out", filepath.Join(t.TempDir(), "x.pcap")}, sampleConfig(t)...),
		"--pcap", writeSampleCapture(t))...)
	assert.Equal(t, 2, code)
	assert.Equal(t, "sgsim: replay: --mirror-out needs traffic mirror sessions in the --config files (describe-traffic-mirror-sessions, -filters, -targets)\n", errOut)
}

func TestReplayMirrorOutWithVXLAN(t *testing.T) {
	out := filepath.Join(t.TempDir(), "copies.pcap")
	_, errOut, code := sgsim(t, append(append([]string{"replay", "--vxlan", "--mirror-out", out}, mirrorConfig(t)...), "--pcap", writeSampleCapture(t))...)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "sgsim: warning: --mirror-out with --vxlan: the capture's VXLAN copies are not copied again; only its other frames are\n", errOut)
}

// TestReplayMirrorOutOtherLinks: from a capture without Ethernet headers
// (Linux cooked, BSD loopback, raw IP), --mirror-out writes the same
// copies' packets as from the Ethernet capture, behind an Ethernet header
// of its own: the frame a session copies is an Ethernet frame.
func TestReplayMirrorOutOtherLinks(t *testing.T) {
	cfg := mirrorConfig(t)
	copies := func(link uint32, wrap func([]byte) []byte) []string {
		in := filepath.Join(t.TempDir(), "in.pcap")
		f, err := os.Create(in)
		require.NoError(t, err)
		w, err := capgen.NewPcap(f, link, false)
		require.NoError(t, err)
		rd, err := capture.NewReader(bytes.NewReader(sample.Capture()))
		require.NoError(t, err)
		for {
			fr, err := rd.Next()
			if err != nil {
				break
			}
			require.NoError(t, w.WriteFrame(fr.Time, wrap(fr.Data)))
		}
		require.NoError(t, f.Close())
		out := filepath.Join(t.TempDir(), "copies.pcap")
		_, errOut, code := sgsim(t, append(append([]string{"replay", "--mirror-out", out}, cfg...), "--pcap", in)...)
		require.Equal(t, 0, code, errOut)
		var got []string
		eachCopy(t, out, func(h eni.VXLANHeader, p *eni.Packet, _ []byte) {
			got = append(got, fmt.Sprint(h.VNI, " ", p.String()))
		})
		return got
	}
	want := copies(1, func(b []byte) []byte { return b })
	require.Len(t, want, 140)
	for name, tc := range map[string]struct {
		link uint32
		wrap func([]byte) []byte
	}{
		"linux cooked": {113, func(b []byte) []byte { return capgen.LinuxSLL(b[14:]) }},
		"bsd loopback": {0, func(b []byte) []byte { return capgen.BSDLoopback(b[14:], binary.LittleEndian) }},
		"raw ip":       {101, func(b []byte) []byte { return b[14:] }},
	} {
		assert.Equal(t, want, copies(tc.link, tc.wrap), name)
	}
}

// eachCopy calls fn with each VXLAN copy in the capture at path: its
// outer header, the mirrored packet and the whole frame.
func eachCopy(t *testing.T, path string, fn func(h eni.VXLANHeader, p *eni.Packet, frame []byte)) {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rd, err := capture.NewReader(f)
	require.NoError(t, err)
	d := eni.NewDecoder()
	for {
		fr, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
		var p eni.Packet
		require.True(t, d.DecodeVXLAN(fr.Data, &p))
		fn(d.VXLAN(), &p, fr.Data)
	}
}
