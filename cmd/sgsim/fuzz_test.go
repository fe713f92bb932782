package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/flowlog"
	"github.com/sgsim/sgsim/internal/capgen"
	"github.com/sgsim/sgsim/internal/sample"
	"github.com/sgsim/sgsim/replay"
)

// FuzzReplayOutputs replays arbitrary captures through the sample's
// network, with its traffic mirror sessions and route tables (the app
// subnet's internet through the NAT gateway, the public subnet's IPv6
// through an egress-only internet gateway), and writes every output format
// and the mirror copies from the results: whatever the
// bytes, nothing panics, every JSON line is JSON, the flow log and the
// summary are written, and a replay without fn sums up the same.
func FuzzReplayOutputs(f *testing.F) {
	f.Add(sample.Capture()[:4000], false) // the sample's first frames
	syn := capgen.IP(eni.TCP(netip.MustParseAddrPort("198.51.100.7:50000"), netip.MustParseAddrPort("10.20.1.10:443"), eni.SYN), 0)
	var mirrored bytes.Buffer
	w, err := capgen.NewPcap(&mirrored, 1, true)
	if err != nil {
		f.Fatal(err)
	}
	inner := capgen.Ethernet(syn, 0)
	if err := w.WriteFrame(sample.Start, capgen.Ethernet(capgen.VXLAN(netip.MustParseAddr("10.20.1.10"), netip.MustParseAddr("10.20.1.99"), 4101, inner), 0)); err != nil {
		f.Fatal(err)
	}
	f.Add(mirrored.Bytes(), true)
	var ng bytes.Buffer
	nw, err := capgen.NewPcapng(&ng)
	if err != nil {
		f.Fatal(err)
	}
	if err := nw.WriteFrame(sample.Start, capgen.Ethernet(syn, 100)); err != nil {
		f.Fatal(err)
	}
	if err := nw.Flush(); err != nil {
		f.Fatal(err)
	}
	f.Add(ng.Bytes(), false)
	var v6 bytes.Buffer // a visitor's IPv6 SYN, which the egress-only gateway refuses
	if w, err = capgen.NewPcap(&v6, 1, false); err != nil {
		f.Fatal(err)
	}
	v6syn := capgen.IP(eni.TCP(netip.MustParseAddrPort("[2001:db8:ff00::1]:52000"), netip.MustParseAddrPort("[2001:db8:20:1::10]:443"), eni.SYN), 0)
	if err := w.WriteFrame(sample.Start, capgen.Ethernet(v6syn, 0)); err != nil {
		f.Fatal(err)
	}
	f.Add(v6.Bytes(), false)
	configs := append(append(sample.Configs(), sample.MirrorConfigs()...), ec2json.Source{Name: "rtbs.json", Data: []byte(egressOnlyRoutes)})
	f.Fuzz(func(t *testing.T, data []byte, vxlan bool) {
		rd, err := capture.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		res, err := ec2json.Load(configs...)
		if err != nil {
			t.Fatal(err)
		}
		rp := replay.New(res.Network, replay.Options{VXLAN: vxlan, Mirror: res.Mirror})
		var lines bytes.Buffer
		j := newJSONL(&lines)
		agg := flowlog.NewAggregator(time.Minute)
		fl := newFlowLogger(agg)
		mw, err := newMirrorWriter(io.Discard, res.Network, res.Mirror)
		if err != nil {
			t.Fatal(err)
		}
		_ = rp.Run(rd, func(r *replay.Result) error {
			fl.add(r)
			if err := mw.add(r); err != nil {
				t.Fatal(err)
			}
			return j.write(r)
		})
		for _, line := range bytes.SplitAfter(lines.Bytes(), []byte("\n")) {
			if len(line) > 0 && !json.Valid(line) {
				t.Fatalf("not JSON: %s", line)
			}
		}
		if err := agg.Write(io.Discard); err != nil {
			t.Fatal(err)
		}
		var withFn bytes.Buffer
		writeSummary(&withFn, res, "fuzz", rd.Format(), rp)

		// Without fn, Run keeps only the frames' times: the summary must
		// say the same.
		rd, err = capture.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		res2, err := ec2json.Load(configs...)
		if err != nil {
			t.Fatal(err)
		}
		quiet := replay.New(res2.Network, replay.Options{VXLAN: vxlan, Mirror: res2.Mirror})
		_ = quiet.Run(rd, nil)
		var withoutFn bytes.Buffer
		writeSummary(&withoutFn, res2, "fuzz", rd.Format(), quiet)
		if withFn.String() != withoutFn.String() {
			t.Fatalf("summaries differ with and without fn:\n%s\n%s", withFn.String(), withoutFn.String())
		}
	})
}
