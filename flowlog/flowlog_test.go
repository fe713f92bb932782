package flowlog_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/flowlog"
)

// TestAWSExample reproduces AWS's example: a ping let in whose reply the
// network ACL refuses gives an ACCEPT and a REJECT record.
func TestAWSExample(t *testing.T) {
	a := flowlog.NewAggregator(time.Minute)
	home, inst := netip.MustParseAddr("203.0.113.12"), netip.MustParseAddr("172.31.16.139")
	start := time.Unix(1432917027, 0)
	for k := 0; k < 4; k++ {
		ts := start.Add(time.Duration(k) * 10 * time.Second)
		a.Add(flowlog.Packet{AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789", Src: home, Dst: inst,
			Protocol: 1, Bytes: 84, Time: ts, Accept: true})
		a.Add(flowlog.Packet{AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789", Src: inst, Dst: home,
			Protocol: 1, Bytes: 84, Time: ts.Add(time.Millisecond), Accept: false})
	}
	var buf bytes.Buffer
	require.NoError(t, a.Write(&buf))
	assert.Equal(t, flowlog.Header+"\n"+
		"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917057 ACCEPT OK\n"+
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917027 1432917057 REJECT OK\n", buf.String())
}

func TestWindows(t *testing.T) {
	a := flowlog.NewAggregator(time.Minute)
	p := flowlog.Packet{InterfaceID: "eni-1", Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
		SrcPort: 5000, DstPort: 443, Protocol: 6, Bytes: 100, Accept: true}
	for _, sec := range []int64{0, 30, 59, 60, 61, 200} {
		p.Time = time.Unix(1700000040+sec, 0) // 1700000040 is a minute boundary
		a.Add(p)
	}
	rs := a.Records()
	require.Len(t, rs, 3)
	assert.Equal(t, uint64(3), rs[0].Packets)
	assert.Equal(t, uint64(2), rs[1].Packets)
	assert.Equal(t, uint64(1), rs[2].Packets)
	assert.Equal(t, "2 unknown eni-1 10.0.0.1 10.0.0.2 5000 443 6 3 300 1700000040 1700000099 ACCEPT OK", rs[0].String())
}

// TestWriteClosedStreams writes records as their windows close and
// requires the same output as writing everything at the end, while the
// records held stay within the open windows.
func TestWriteClosedStreams(t *testing.T) {
	batch, stream := flowlog.NewAggregator(time.Minute), flowlog.NewAggregator(time.Minute)
	var streamed bytes.Buffer
	start := time.Unix(1700000000, 0)
	most := 0
	for k := 0; k < 20000; k++ {
		p := flowlog.Packet{InterfaceID: fmt.Sprintf("eni-%d", k%3), Src: netip.MustParseAddr("10.0.0.1"),
			Dst: netip.AddrFrom4([4]byte{10, 0, 1, byte(k % 7)}), SrcPort: uint16(40000 + k/50), DstPort: 443, Protocol: 6,
			Bytes: 100, Time: start.Add(time.Duration(k) * 100 * time.Millisecond), Accept: k%5 != 0}
		batch.Add(p)
		stream.Add(p)
		if k%10 == 0 && (k/2000)%2 == 0 {
			// An interface busy for 200 s, then quiet for 200 s: its NODATA
			// records go out in order with the others'.
			p.InterfaceID = "eni-quiet"
			batch.Add(p)
			stream.Add(p)
		}
		if k%100 == 0 {
			require.NoError(t, stream.WriteClosed(&streamed))
			most = max(most, len(stream.Records()))
		}
	}
	require.NoError(t, stream.Write(&streamed))
	var all bytes.Buffer
	require.NoError(t, batch.Write(&all))
	assert.Equal(t, all.String(), streamed.String())
	// Over 2,000 s, the records held at once are about two windows' worth:
	// a few percent of them all.
	total := strings.Count(all.String(), "\n") - 1
	assert.Greater(t, total, 10000)
	assert.Less(t, most, total/10)
	assert.Empty(t, stream.Records())
	// Five quiet spells of 200 s hold two or three whole windows of 60 s
	// each, as they fall: 2, 3, 3, 2, 3.
	assert.Equal(t, 13, strings.Count(all.String(), "NODATA"))
}

// TestNoData checks the NODATA records of an interface's aggregation
// windows that captured nothing: from its first captured packet on, in
// window order among the other records, up to the last window that ended
// by the capture's last packet; none for an interface the log never
// captured a packet at; the same whether written as the capture goes or
// at the end.
func TestNoData(t *testing.T) {
	web, client := netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("198.51.100.7")
	t0 := time.Unix(1431280876, 0)
	at := func(iface string, sec int, accept bool) flowlog.Packet {
		return flowlog.Packet{AccountID: "123456789010", InterfaceID: iface, VpcID: "vpc-1", SubnetID: "subnet-1",
			InstanceID: "i-1", Src: client, Dst: web, SrcPort: 50000, DstPort: 443, Protocol: 6, Bytes: 60,
			Time: t0.Add(time.Duration(sec) * time.Second), Accept: accept}
	}
	const wide = "${version} ${vpc-id} ${interface-id} ${srcaddr} ${packets} ${tcp-flags} ${flow-direction} ${start} ${end} ${action} ${log-status}"
	tests := []struct {
		name    string
		packets []flowlog.Packet
		traffic flowlog.TrafficType
		format  string
		want    []string
	}{
		{"a quiet window between two", []flowlog.Packet{at("eni-a", 0, true), at("eni-a", 150, true)}, flowlog.TrafficAll, "", []string{
			"2 123456789010 eni-a 198.51.100.7 10.0.0.5 50000 443 6 1 60 1431280876 1431280876 ACCEPT OK",
			"2 123456789010 eni-a - - - - - - - 1431280936 1431280995 - NODATA",
			"2 123456789010 eni-a 198.51.100.7 10.0.0.5 50000 443 6 1 60 1431281026 1431281026 ACCEPT OK",
		}},
		{"quiet windows until the capture ends", []flowlog.Packet{at("eni-a", 0, true), at("eni-b", 130, true), at("eni-b", 200, true)}, flowlog.TrafficAll, "", []string{
			"2 123456789010 eni-a 198.51.100.7 10.0.0.5 50000 443 6 1 60 1431280876 1431280876 ACCEPT OK",
			"2 123456789010 eni-a - - - - - - - 1431280936 1431280995 - NODATA",
			"2 123456789010 eni-a - - - - - - - 1431280996 1431281055 - NODATA",
			"2 123456789010 eni-b 198.51.100.7 10.0.0.5 50000 443 6 1 60 1431281006 1431281006 ACCEPT OK",
			"2 123456789010 eni-b 198.51.100.7 10.0.0.5 50000 443 6 1 60 1431281076 1431281076 ACCEPT OK",
			// eni-a's window from 180 s had not ended at 200 s.
		}},
		{"never captured, never logged", []flowlog.Packet{at("eni-a", 0, true), at("eni-a", 100, true), at("eni-a", 300, true)}, flowlog.TrafficReject, "", nil},
		{"the log's traffic type decides what is quiet", []flowlog.Packet{at("eni-a", 0, false), at("eni-a", 90, true), at("eni-a", 130, false)}, flowlog.TrafficReject, "", []string{
			"2 123456789010 eni-a 198.51.100.7 10.0.0.5 50000 443 6 1 60 1431280876 1431280876 REJECT OK",
			"2 123456789010 eni-a - - - - - - - 1431280936 1431280995 - NODATA",
			"2 123456789010 eni-a 198.51.100.7 10.0.0.5 50000 443 6 1 60 1431281006 1431281006 REJECT OK",
		}},
		{"custom format", []flowlog.Packet{at("eni-a", 0, true), at("eni-a", 125, true)}, flowlog.TrafficAll, wide, []string{
			"5 vpc-1 eni-a 198.51.100.7 1 0 ingress 1431280876 1431280876 ACCEPT OK",
			"5 vpc-1 eni-a - - - - 1431280936 1431280995 - NODATA",
			"5 vpc-1 eni-a 198.51.100.7 1 0 ingress 1431281001 1431281001 ACCEPT OK",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format := flowlog.DefaultFormat
			if tt.format != "" {
				var err error
				format, err = flowlog.ParseFormat(tt.format)
				require.NoError(t, err)
			}
			var outs [2]bytes.Buffer
			for k := range outs {
				a := flowlog.NewAggregator(time.Minute)
				a.SetFormat(format)
				a.SetTrafficType(tt.traffic)
				for _, p := range tt.packets {
					a.Add(p)
					if k == 1 {
						require.NoError(t, a.WriteClosed(&outs[k]))
					}
				}
				require.NoError(t, a.Write(&outs[k]))
			}
			require.Equal(t, outs[0].String(), outs[1].String(), "written as the capture goes")
			lines := strings.Split(strings.TrimSuffix(outs[0].String(), "\n"), "\n")
			require.Equal(t, format.Header(), lines[0])
			assert.Equal(t, tt.want, nonEmpty(lines[1:]))
		})
	}
}

// TestAdvance checks that the capture's clock, not only the log's own
// packets, closes an interface's quiet windows: frames elsewhere after
// its last packet leave NODATA records up to the capture's end.
func TestAdvance(t *testing.T) {
	a := flowlog.NewAggregator(time.Minute)
	t0 := time.Unix(1700000000, 0)
	a.Add(flowlog.Packet{InterfaceID: "eni-a", Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
		Protocol: 6, SrcPort: 40000, DstPort: 443, Bytes: 60, Time: t0, Accept: true})
	a.Advance(t0.Add(150 * time.Second)) // the capture goes on elsewhere
	a.Advance(t0.Add(10 * time.Second))  // and never backwards
	var out bytes.Buffer
	require.NoError(t, a.Write(&out))
	assert.Equal(t, flowlog.Header+"\n"+
		"2 unknown eni-a 10.0.0.1 10.0.0.2 40000 443 6 1 60 1700000000 1700000000 ACCEPT OK\n"+
		"2 unknown eni-a - - - - - - - 1700000060 1700000119 - NODATA\n", out.String(), "the window from 120 s had not ended at 150 s")
}

// TestNoDataLongQuiet checks a quiet spell of many windows, more than
// an interface's windows are followed at once, written as the capture
// goes and at the end.
func TestNoDataLongQuiet(t *testing.T) {
	p := flowlog.Packet{InterfaceID: "eni-a", Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
		Protocol: 17, SrcPort: 53, DstPort: 5353, Bytes: 80, Accept: true}
	t0 := time.Unix(1700000000, 0)
	var outs [2]bytes.Buffer
	for k := range outs {
		a := flowlog.NewAggregator(time.Minute)
		for _, min := range []int{0, 1, 150, 151} {
			p.Time = t0.Add(time.Duration(min)*time.Minute + time.Second)
			a.Add(p)
			if k == 1 {
				require.NoError(t, a.WriteClosed(&outs[k]))
			}
		}
		require.NoError(t, a.Write(&outs[k]))
	}
	require.Equal(t, outs[0].String(), outs[1].String())
	lines := strings.Split(strings.TrimSuffix(outs[0].String(), "\n"), "\n")[1:]
	require.Len(t, lines, 2+148+2)
	for k, line := range lines {
		start := t0.Unix() + 1 + int64(k)*60
		if k >= 2 && k < 150 {
			assert.Equal(t, fmt.Sprintf("2 unknown eni-a - - - - - - - %d %d - NODATA", start, start+59), line, "line %d", k)
		} else {
			assert.Contains(t, line, fmt.Sprintf(" 1 80 %d %d ACCEPT OK", start, start), "line %d", k)
		}
	}
}

// TestNoDataSpan checks that a quiet spell has a day of NODATA records
// at most, whatever its length: ten days, or the fifty years a frame
// with its timestamp zeroed would make.
func TestNoDataSpan(t *testing.T) {
	p := flowlog.Packet{InterfaceID: "eni-a", Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
		Protocol: 6, SrcPort: 40000, DstPort: 443, Bytes: 60, Accept: true}
	for _, tt := range []struct {
		name   string
		times  []time.Time
		window time.Duration
	}{
		{"ten days", []time.Time{time.Unix(1700000000, 0), time.Unix(1700000000+10*86400, 0)}, time.Minute},
		{"ten days, ten-minute windows", []time.Time{time.Unix(1700000000, 0), time.Unix(1700000000+10*86400, 0)}, 10 * time.Minute},
		{"a zeroed timestamp", []time.Time{time.Unix(0, 0), time.Unix(1700000000, 0)}, time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := flowlog.NewAggregator(tt.window)
			for _, ts := range tt.times {
				p.Time = ts
				a.Add(p)
			}
			var out bytes.Buffer
			require.NoError(t, a.Write(&out))
			assert.Equal(t, int(flowlog.NoDataSpan/tt.window), strings.Count(out.String(), "NODATA"))
			assert.Equal(t, 2, strings.Count(out.String(), "ACCEPT OK"))
		})
	}
}

func nonEmpty(lines []string) []string {
	if len(lines) == 0 {
		return nil
	}
	return lines
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		version int
		header  string
		err     string
	}{
		{"${version} ${srcaddr}", 2, "version srcaddr", ""},
		{"  ${vpc-id}   ${tcp-flags} ", 3, "vpc-id tcp-flags", ""},
		{"${az-id}", 4, "az-id", ""},
		{"${flow-direction} ${version}", 5, "flow-direction version", ""},
		{"${ecs-task-id}", 7, "ecs-task-id", ""},
		{"${encryption-status} ${srcaddr}", 10, "encryption-status srcaddr", ""},
		{"", 0, "", "no fields"},
		{"version srcaddr", 0, "", `"version" is not a field`},
		{"${version", 0, "", `"${version" is not a field`},
		{"${}", 0, "", `"${}" is not a field`},
		{"${version} ${vpcid}", 0, "", `"${vpcid}": no flow log field is called "vpcid"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := flowlog.ParseFormat(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.version, f.Version())
			assert.Equal(t, tt.header, f.Header())
			again, err := flowlog.ParseFormat(f.String())
			require.NoError(t, err)
			assert.Equal(t, f, again, "String reads back")
		})
	}
	assert.Equal(t, flowlog.Header, flowlog.DefaultFormat.Header())
	assert.Equal(t, 2, flowlog.DefaultFormat.Version())
}

// TestTCPFlags follows AWS's rules for tcp-flags: FIN 1, SYN 2, RST 4,
// SYN-ACK 18, ACK and PSH alone 0, unsupported flags beside a supported
// one dropped, all OR-ed over the window.
func TestTCPFlags(t *testing.T) {
	const fin, syn, rst, psh, ack, ece = 0x01, 0x02, 0x04, 0x08, 0x10, 0x40
	tests := []struct {
		name  string
		flags []uint8
		want  string
	}{
		{"SYN", []uint8{syn}, "2"},
		{"SYN-ACK", []uint8{syn | ack}, "18"},
		{"ACK and PSH alone", []uint8{ack, ack | psh}, "0"},
		{"SYN with ECE", []uint8{syn | ece}, "2"},
		{"SYN then FIN", []uint8{syn, ack, fin | ack}, "3"},
		{"SYN-ACK then FIN", []uint8{syn | ack, ack | psh, fin | ack}, "19"},
		{"RST", []uint8{ack, rst}, "4"},
	}
	f, err := flowlog.ParseFormat("${tcp-flags} ${packets}")
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := flowlog.NewAggregator(time.Minute)
			a.SetFormat(f)
			for k, fl := range tt.flags {
				a.Add(flowlog.Packet{InterfaceID: "eni-1", Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
					SrcPort: 40000, DstPort: 22, Protocol: 6, TCPFlags: fl, Time: time.Unix(1000+int64(k), 0), Accept: true})
			}
			var buf bytes.Buffer
			require.NoError(t, a.Write(&buf))
			assert.Equal(t, fmt.Sprintf("tcp-flags packets\n%s %d\n", tt.want, len(tt.flags)), buf.String())
		})
	}
}

// TestLaterFields: a secondary address shows as the primary in srcaddr
// and as itself in pkt-srcaddr, flows from two secondaries stay apart,
// and what is unknown is "-".
func TestLaterFields(t *testing.T) {
	f, err := flowlog.ParseFormat("${version} ${vpc-id} ${instance-id} ${region} ${az-id} ${srcaddr} ${pkt-srcaddr} " +
		"${type} ${flow-direction} ${traffic-path} ${sublocation-type} ${packets}")
	require.NoError(t, err)
	a := flowlog.NewAggregator(time.Minute)
	a.SetFormat(f)
	primary := netip.MustParseAddr("10.0.1.10")
	for _, secondary := range []string{"10.0.1.11", "10.0.1.12"} {
		a.Add(flowlog.Packet{InterfaceID: "eni-1", VpcID: "vpc-1", Region: "eu-west-1", AZID: "euw1-az2", Src: primary,
			PktSrc: netip.MustParseAddr(secondary), Dst: netip.MustParseAddr("10.0.2.20"), SrcPort: 40000, DstPort: 443,
			Protocol: 6, Time: time.Unix(1000, 0), Accept: true, Egress: true, InVPC: true})
	}
	a.Add(flowlog.Packet{InterfaceID: "eni-1", VpcID: "vpc-1", Src: netip.MustParseAddr("2001:db8::9"),
		Dst: netip.MustParseAddr("2001:db8:1::10"), SrcPort: 40000, DstPort: 443, Protocol: 6, Time: time.Unix(1001, 0), Accept: true})
	a.Add(flowlog.Packet{InterfaceID: "eni-1", VpcID: "vpc-1", Src: primary, Dst: netip.MustParseAddr("198.51.100.7"), SrcPort: 40001,
		DstPort: 443, Protocol: 6, Time: time.Unix(1002, 0), Accept: true, Egress: true, TrafficPath: 8})
	a.Add(flowlog.Packet{InterfaceID: "eni-1", VpcID: "vpc-1", Src: primary, Dst: netip.MustParseAddr("198.51.100.8"), SrcPort: 40002,
		DstPort: 443, Protocol: 6, Time: time.Unix(1003, 0), Accept: true, Egress: true})
	var buf bytes.Buffer
	require.NoError(t, a.Write(&buf))
	assert.Equal(t, "version vpc-id instance-id region az-id srcaddr pkt-srcaddr type flow-direction traffic-path sublocation-type packets\n"+
		"5 vpc-1 - eu-west-1 euw1-az2 10.0.1.10 10.0.1.11 IPv4 egress 1 - 1\n"+
		"5 vpc-1 - eu-west-1 euw1-az2 10.0.1.10 10.0.1.12 IPv4 egress 1 - 1\n"+
		"5 vpc-1 - - - 2001:db8::9 2001:db8::9 IPv6 ingress - - 1\n"+
		"5 vpc-1 - - - 10.0.1.10 10.0.1.10 IPv4 egress 8 - 1\n"+
		"5 vpc-1 - - - 10.0.1.10 10.0.1.10 IPv4 egress - - 1\n", buf.String())
}

// FuzzParseFormat: whatever the text, ParseFormat answers without
// panicking, and a format it reads reads back from its String, writing
// records with as many fields as it names.
func FuzzParseFormat(f *testing.F) {
	f.Add("${version} ${vpc-id} ${tcp-flags}")
	f.Add(flowlog.DefaultFormat.String())
	f.Add("${ecs-task-id}${version}")
	f.Add("${} $ {version} ${version")
	f.Fuzz(func(t *testing.T, s string) {
		fm, err := flowlog.ParseFormat(s)
		if err != nil {
			return
		}
		again, err := flowlog.ParseFormat(fm.String())
		if err != nil || fmt.Sprint(again) != fmt.Sprint(fm) {
			t.Fatalf("%q parsed as %q, which reads back as %v, %v", s, fm.String(), again, err)
		}
		r := flowlog.Record{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2")}
		if n := len(strings.Fields(string(r.AppendFormat(nil, fm)))); n != len(fm) {
			t.Fatalf("%q: %d fields written for %d named", s, n, len(fm))
		}
	})
}

func TestTrafficType(t *testing.T) {
	tests := []struct {
		in      string
		want    flowlog.TrafficType
		actions string
	}{
		{"ALL", flowlog.TrafficAll, "ACCEPT REJECT"},
		{"accept", flowlog.TrafficAccept, "ACCEPT"},
		{"Reject", flowlog.TrafficReject, "REJECT"},
	}
	f, err := flowlog.ParseFormat("${action}")
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tp, err := flowlog.ParseTrafficType(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, tp)
			a := flowlog.NewAggregator(time.Minute)
			a.SetFormat(f)
			a.SetTrafficType(tp)
			for _, accept := range []bool{true, false} {
				a.Add(flowlog.Packet{InterfaceID: "eni-1", Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
					Protocol: 1, Time: time.Unix(1000, 0), Accept: accept})
			}
			var buf bytes.Buffer
			require.NoError(t, a.Write(&buf))
			assert.Equal(t, "action\n"+strings.ReplaceAll(tt.actions, " ", "\n")+"\n", buf.String())
		})
	}
	_, err = flowlog.ParseTrafficType("both")
	assert.EqualError(t, err, `"both": use ACCEPT, REJECT or ALL`)
}

// TestNitroWindow: under a 600 s flow log, an interface of a Nitro
// instance (MaxWindow 60 s) has records and NODATA records of 60 s, while
// another keeps the flow log's 600 s; streaming writes the same lines.
func TestNitroWindow(t *testing.T) {
	web, client := netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("198.51.100.7")
	t0 := time.Unix(1431280876, 0)
	at := func(iface string, sec int, bound time.Duration) flowlog.Packet {
		return flowlog.Packet{AccountID: "123456789010", InterfaceID: iface, Src: client, Dst: web, SrcPort: 50000, DstPort: 443,
			Protocol: 6, Bytes: 60, Time: t0.Add(time.Duration(sec) * time.Second), Accept: true, MaxWindow: bound}
	}
	var packets []flowlog.Packet
	for _, sec := range []int{0, 30, 150, 400} {
		packets = append(packets, at("eni-nitro", sec, time.Minute), at("eni-xen", sec, 0))
	}
	var outs [2]bytes.Buffer
	for k := range outs {
		a := flowlog.NewAggregator(10 * time.Minute)
		for _, p := range packets {
			a.Add(p)
			if k == 1 {
				require.NoError(t, a.WriteClosed(&outs[k]))
			}
		}
		require.NoError(t, a.Write(&outs[k]))
	}
	require.Equal(t, outs[0].String(), outs[1].String())
	assert.Equal(t, []string{
		flowlog.DefaultFormat.Header(),
		"2 123456789010 eni-nitro 198.51.100.7 10.0.0.5 50000 443 6 2 120 1431280876 1431280906 ACCEPT OK",
		"2 123456789010 eni-xen 198.51.100.7 10.0.0.5 50000 443 6 4 240 1431280876 1431281276 ACCEPT OK",
		"2 123456789010 eni-nitro - - - - - - - 1431280936 1431280995 - NODATA",
		"2 123456789010 eni-nitro 198.51.100.7 10.0.0.5 50000 443 6 1 60 1431281026 1431281026 ACCEPT OK",
		"2 123456789010 eni-nitro - - - - - - - 1431281056 1431281115 - NODATA",
		"2 123456789010 eni-nitro - - - - - - - 1431281116 1431281175 - NODATA",
		"2 123456789010 eni-nitro - - - - - - - 1431281176 1431281235 - NODATA",
		"2 123456789010 eni-nitro 198.51.100.7 10.0.0.5 50000 443 6 1 60 1431281276 1431281276 ACCEPT OK",
	}, strings.Split(strings.TrimSuffix(outs[0].String(), "\n"), "\n"))
}
