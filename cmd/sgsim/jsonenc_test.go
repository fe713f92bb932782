package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/internal/capgen"
	"github.com/sgsim/sgsim/internal/sample"
	"github.com/sgsim/sgsim/replay"
)

// marshal is what encoding/json writes for v, HTML escaping off, without
// the newline.
func marshal(t testing.TB, v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr\bback\fform", "\x00\x01\x1f\x7f",
		"tcp 10.0.0.1 → 10.0.0.2", "bad \xff utf-8 \xc3", "line\u2028sep\u2029para", "<html> & 'quotes'", "emoji 🙂"}
	rng := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 2000; k++ {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		require.Equal(t, marshal(t, s), string(appendString(nil, s)), "%q", s)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", `a"b\c`, "\x00\n", "\xff\u2028→"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendString(nil, s)), marshal(t, s); got != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

// TestAppendFrameMatchesEncodingJSON writes every frame of the sample
// (every kind of stage, verdict and reason it has) and a frame with every
// field set both ways.
func TestAppendFrameMatchesEncodingJSON(t *testing.T) {
	// With the sample's traffic mirror sessions too: every outcome.
	res, err := ec2json.Load(append(sample.Configs(), sample.MirrorConfigs()...)...)
	require.NoError(t, err)
	rd, err := capture.NewReader(bytes.NewReader(sample.Capture()))
	require.NoError(t, err)
	j := newJSONL(nil)
	n := 0
	results := map[string]bool{}
	require.NoError(t, replay.New(res.Network, replay.Options{Mirror: res.Mirror}).Run(rd, func(r *replay.Result) error {
		f := j.frame(r)
		require.Equal(t, marshal(t, &f), string(appendFrame(nil, &f)), "frame %d", r.Frame.Number)
		for _, m := range f.MirrorCopies {
			results[m.Result] = true
		}
		n++
		return nil
	}))
	require.Equal(t, 348, n)
	require.Equal(t, map[string]bool{"copied": true, "dropped": true, "not_selected": true}, results)

	one := 1
	st := jsonStage{Stage: "s", Interface: "eni", ACL: "acl", Subnet: "subnet", Direction: "in", Result: "ALLOW", Code: "C",
		Group: "sg", Rule: "sgr", RuleText: "tcp 22", ACLEntry: &one, ACLEntryText: "100 allow", Service: "dns",
		Connection: &jsonConn{State: "tcp-established", OpenedBy: "inbound", Since: "2026"}, NewConnection: true,
		Untracked: true, NotReached: true, Explanation: "why \"so\""}
	full := jsonFrame{Frame: 7, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Verdict: "REJECT", Reason: "r", Protocol: "tcp",
		ProtocolNumber: &one, Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("2001:db8::2"),
		PublicSrc: netip.MustParseAddr("203.0.113.1"), PublicDst: netip.MustParseAddr("203.0.113.2"), SrcPort: &one, DstPort: &one, ICMPType: &one, ICMPCode: &one, TCPFlags: "SYN", Bytes: 60, Mirrored: true,
		SourceInterface: "eni-a", DestinationInterface: "eni-b", ViaInterface: "eni-c", ViaInterfaces: []string{"eni-c", "eni-d"}, Balancer: "net/web/1",
		DecidedBy: &st, Stages: []jsonStage{st, {}},
		MirrorCopies: []jsonMirror{{Interface: "eni-a", Direction: "outbound", Result: "copied", Session: "tms", Target: "tmt", FilterRule: &one,
			Explanation: "e"}, {}}, MirrorCopy: true, MirrorSession: "tms", MirrorVNI: &one, MirrorMismatch: "m"}
	require.Equal(t, marshal(t, &full), string(appendFrame(nil, &full)))
	var empty jsonFrame
	require.Equal(t, marshal(t, &empty), string(appendFrame(nil, &empty)))
}

// BenchmarkJSONL replays twenty thousand frames of the sample's traffic
// writing JSON Lines, and reports the cost per frame: without mirror
// sessions, and with the sample's, whose explanations every frame then
// carries. (The sample capture alone is too short: a replay's setup
// would weigh on every frame.)
func BenchmarkJSONL(b *testing.B) {
	var capBuf bytes.Buffer
	w, err := capgen.NewPcap(&capBuf, 1, false)
	require.NoError(b, err)
	for _, f := range sample.Frames(20000) {
		require.NoError(b, w.WriteFrame(f.Time, f.Data))
	}
	for _, mix := range []struct {
		name    string
		configs []ec2json.Source
	}{{"sample", sample.Configs()}, {"mirrored", append(sample.Configs(), sample.MirrorConfigs()...)}} {
		b.Run(mix.name, func(b *testing.B) {
			res, err := ec2json.Load(mix.configs...)
			require.NoError(b, err)
			frames := 0
			for b.Loop() {
				rd, err := capture.NewReader(bytes.NewReader(capBuf.Bytes()))
				require.NoError(b, err)
				j := newJSONL(io.Discard)
				rp := replay.New(res.Network, replay.Options{Mirror: res.Mirror})
				require.NoError(b, rp.Run(rd, j.write))
				frames += rp.Summary().Frames
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
		})
	}
}
