package replay_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/internal/capgen"
	"github.com/sgsim/sgsim/internal/sample"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/replay"
)

var (
	web1 = netip.MustParseAddr("10.20.1.10")
	db1  = netip.MustParseAddr("10.20.3.10")
	// ids is where the Network Load Balancer in front of the IDS would
	// receive the copies.
	ids = netip.MustParseAddr("10.20.1.200")
	t0  = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
)

func mirrorReplayer(t *testing.T, vxlan bool) *replay.Replayer {
	t.Helper()
	res, err := ec2json.Load(append(sample.Configs(), sample.MirrorConfigs()...)...)
	require.NoError(t, err)
	require.NotNil(t, res.Mirror)
	return replay.New(res.Network, replay.Options{Mirror: res.Mirror, VXLAN: vxlan})
}

// wantMirror is what the sample's sessions copy of a judged frame, worked
// out from the filters' text rather than the mirror package: web-1's SSH
// and HTTP in, all it sends but HTTPS answers, db-1's PostgreSQL from
// the VPC; nothing of what a source refused.
func wantMirror(res *replay.Result) []string {
	p := &res.Path.Packet
	is := func(i *eni.Interface, id string) bool { return i != nil && i.ID() == id }
	const web, db = "eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60004"
	sourceAllowed := true // the sender's own stages: its groups and its subnet's ACL out
	for _, st := range res.Path.Stages() {
		if (st.Kind == eni.StageSourceGroups || st.Kind == eni.StageSourceACL) && !st.Allowed {
			sourceAllowed = false
		}
	}
	var out []string
	if is(res.Path.Src, web) {
		switch {
		case !sourceAllowed:
			out = append(out, "web out dropped")
		case res.Path.Service == eni.AmazonDNS:
			out = append(out, "web out tms-0a1b2c3d4e5f60001")
		case !p.Dst.Is4(), p.Proto == 6 && p.SrcPort == 443:
			out = append(out, "web out not selected") // IPv4 rules only; rule 100 rejects HTTPS answers
		default:
			out = append(out, "web out tms-0a1b2c3d4e5f60001")
		}
	}
	if is(res.Path.Dst, web) {
		switch {
		case !res.Path.Allowed():
			out = append(out, "web in dropped")
		case p.Dst.Is4() && p.Proto == 6 && (p.DstPort == 22 || p.DstPort == 80):
			out = append(out, "web in tms-0a1b2c3d4e5f60001")
		default:
			out = append(out, "web in not selected")
		}
	}
	if is(res.Path.Src, db) {
		if sourceAllowed {
			out = append(out, "db out not selected") // no egress rules
		} else {
			out = append(out, "db out dropped")
		}
	}
	if is(res.Path.Dst, db) {
		switch {
		case !res.Path.Allowed():
			out = append(out, "db in dropped")
		case p.Proto == 6 && p.DstPort == 5432 && netip.MustParsePrefix("10.20.0.0/16").Contains(p.Src):
			out = append(out, "db in tms-0a1b2c3d4e5f60002")
		default:
			out = append(out, "db in not selected")
		}
	}
	return out
}

func gotMirror(ds []mirror.Decision) []string {
	var out []string
	for _, d := range ds {
		who := map[string]string{"eni-0a1b2c3d4e5f60001": "web", "eni-0a1b2c3d4e5f60004": "db"}[d.Source.ID()]
		dir := "in"
		if d.Direction == eni.Outbound {
			dir = "out"
		}
		what := d.Outcome.String()
		if d.Outcome == mirror.Mirrored {
			what = d.Session.ID
		}
		out = append(out, fmt.Sprintf("%s %s %s", who, dir, what))
	}
	return out
}

func TestMirrorSample(t *testing.T) {
	rp := mirrorReplayer(t, false)
	frames := sampleFrames(t)
	copied := map[string]int{}
	for k := range frames {
		res := rp.Judge(&frames[k])
		require.Equal(t, wantMirror(res), gotMirror(res.Mirror), "frame %d: %s", k+1, res.Path.String())
		for _, d := range res.Mirror {
			if d.Outcome == mirror.Mirrored {
				copied[d.Session.ID]++
			}
		}
	}
	s := rp.Summary().Mirror
	require.NotNil(t, s)
	require.Len(t, s.Sessions, 2)
	for _, sc := range s.Sessions {
		assert.Equal(t, copied[sc.Session.ID], sc.Frames[eni.Inbound]+sc.Frames[eni.Outbound], sc.Session.ID)
		assert.NotZero(t, sc.Frames[eni.Inbound], sc.Session.ID)
		assert.Equal(t, "tmt-0a1b2c3d4e5f60001", sc.Target.ID)
	}
	assert.NotZero(t, s.Sessions[0].Frames[eni.Outbound], "web-1 sends")
	assert.Zero(t, s.Sessions[1].Frames[eni.Outbound], "db-1's filter has no egress rules")
	require.Len(t, s.Sources, 2)
	web := s.Sources[0]
	assert.Equal(t, "eni-0a1b2c3d4e5f60001", web.Interface.ID())
	assert.NotZero(t, web.Dropped[eni.Inbound], "the stranger's SSH and MySQL: refused, not copied")
	assert.NotZero(t, web.NotSelected[eni.Inbound], "HTTPS in: no rule")
	assert.NotZero(t, web.NotSelected[eni.Outbound], "HTTPS answers: rule 100 rejects them")
	assert.Zero(t, s.Copies)

	// Each session's copies are the frames its accepting rules decided.
	require.Len(t, s.Rules, 5)
	accepted := map[string][2]int{}
	for _, r := range s.Rules {
		if r.Rule.Action == mirror.Accept {
			n := accepted[r.Filter]
			n[r.Direction] += r.Frames
			accepted[r.Filter] = n
		}
	}
	for _, sc := range s.Sessions {
		assert.Equal(t, sc.Frames, accepted[sc.Session.Filter], sc.Session.ID)
	}
	assert.Equal(t, "100 reject tcp 0.0.0.0/0 port 443 → 0.0.0.0/0", s.Rules[2].Rule.String())
	assert.Equal(t, web.NotSelected[eni.Outbound]-6, s.Rules[2].Frames, "HTTPS answers over IPv4; six go over IPv6, which no rule matches")
}

// TestMirrorRunMatchesJudge checks that Run, batched, makes the same
// decisions and counts as judging frame by frame.
func TestMirrorRunMatchesJudge(t *testing.T) {
	data, frames := bigFrames(t)
	one := mirrorReplayer(t, false)
	var want [][]string
	for k := range frames {
		want = append(want, gotMirror(one.Judge(&frames[k]).Mirror))
	}
	for _, fn := range []bool{true, false} {
		rp := mirrorReplayer(t, false)
		rd, err := capture.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		k := 0
		var each func(*replay.Result) error
		if fn {
			each = func(res *replay.Result) error {
				require.Equal(t, want[k], gotMirror(res.Mirror), "frame %d", k+1)
				k++
				return nil
			}
		}
		require.NoError(t, rp.Run(rd, each))
		assert.Equal(t, mirrorText(one.Summary().Mirror), mirrorText(rp.Summary().Mirror))
	}
}

// TestMirrorCopies replays a capture made at the IDS: VXLAN copies of
// web-1's frames. Those the files account for pass quietly; a copy of a
// frame web-1's group refuses, and one of no session of the files, are
// flagged: the files cannot be those of the capture's time.
func TestMirrorCopies(t *testing.T) {
	ssh := eni.TCP(netip.MustParseAddrPort("203.0.113.5:55000"), netip.AddrPortFrom(web1, 22), eni.SYN)
	var frames []sample.Frame
	wrap := func(p eni.Packet, src netip.Addr, vni uint32) {
		frames = append(frames, sample.Frame{Time: t0.Add(time.Duration(len(frames)) * time.Millisecond),
			Data: capgen.VXLAN(src, ids, vni, capgen.Ethernet(capgen.IP(p, 0), 0))})
	}
	wrap(ssh, web1, 4101)         // 1: an admin's SSH (the prefix list admits 203.0.113.0/24)
	wrap(ssh.Reply(), web1, 4101) // 2: its answer
	stranger := eni.TCP(netip.MustParseAddrPort("192.0.2.66:61000"), netip.AddrPortFrom(web1, 22), eni.SYN)
	wrap(stranger, web1, 4101) // 3: refused by web-1's group: AWS would not copy it
	wrap(ssh, web1, 9999)      // 4: no session has that VNI
	https := eni.TCP(netip.MustParseAddrPort("198.51.100.7:50000"), netip.AddrPortFrom(web1, 443), eni.SYN)
	wrap(https, web1, 4101) // 5: no rule of web-1's filter takes HTTPS in
	wrap(ssh, db1, 4104)    // 6: db-1's session, but the packet is not db-1's
	data := pcapOf(t, frames)

	for _, batched := range []bool{false, true} {
		rp := mirrorReplayer(t, true)
		rd, err := capture.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		var why []string
		collect := func(res *replay.Result) error {
			require.True(t, res.Unwrapped)
			require.Equal(t, ids, res.Outer.Dst)
			why = append(why, res.CopyMismatch)
			return nil
		}
		if batched {
			require.NoError(t, rp.Run(rd, collect))
		} else {
			for {
				f, err := rd.Next()
				if err != nil {
					break
				}
				require.NoError(t, collect(rp.Judge(&f)))
			}
		}
		assert.Equal(t, []string{
			"",
			"",
			"received by eni-0a1b2c3d4e5f60001: not copied: its security groups refused the packet (inbound), and AWS mirrors only what the source lets through",
			"no session of the files sends copies from 10.20.1.10 with VXLAN network identifier 9999",
			"received by eni-0a1b2c3d4e5f60001: not copied: no inbound rule of tms-0a1b2c3d4e5f60001's filter tmf-0a1b2c3d4e5f60001 matches it",
			"the packet neither leaves nor reaches eni-0a1b2c3d4e5f60004, tms-0a1b2c3d4e5f60002's source",
		}, why)
		s := rp.Summary().Mirror
		assert.Equal(t, 6, s.Copies)
		assert.Equal(t, 4, s.Unexpected)
		require.Len(t, s.UnexpectedCopies, 4)
		assert.Equal(t, 3, s.UnexpectedCopies[0].Frame)
		assert.Equal(t, "tms-0a1b2c3d4e5f60001", s.UnexpectedCopies[0].Session.ID)
		assert.Nil(t, s.UnexpectedCopies[1].Session)
		assert.Equal(t, uint32(9999), s.UnexpectedCopies[1].Header.VNI)
	}
}

// mirrorText is a summary's mirroring figures, without pointers into the
// network that made them.
func mirrorText(s *replay.MirrorSummary) []string {
	out := []string{fmt.Sprintf("copies %d unexpected %d", s.Copies, s.Unexpected)}
	for _, sc := range s.Sessions {
		out = append(out, fmt.Sprintf("%s %v %v", sc.Session.ID, sc.Frames, sc.Bytes))
	}
	for _, sc := range s.Sources {
		out = append(out, fmt.Sprintf("%s %v %v %v %v", sc.Interface.ID(), sc.Copied, sc.Dropped, sc.NotSelected, sc.Never))
	}
	for _, u := range s.UnexpectedCopies {
		out = append(out, fmt.Sprintf("%d %v %s", u.Frame, u.Header, u.Why))
	}
	return out
}

// TestMirrorAllocatesNothingPerFrame: deciding what the sessions copy
// adds no allocation to a replay's frames.
func TestMirrorAllocatesNothingPerFrame(t *testing.T) {
	rp := mirrorReplayer(t, false)
	assert.Zero(t, allocsPerPass(rp, sampleFrames(t)))
	assert.NotZero(t, rp.Summary().Mirror.Sessions[0].Frames[eni.Inbound])
}
