package eni_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/sg"
)

// benchWorld builds an interface with groups × rules inbound rules: each
// rule a TCP port range from a distinct /24, some of them wide ranges, so
// that intervals and prefix sets are both exercised. The last rule of the
// last group admits the benchmark's traffic.
func benchWorld(b *testing.B, groups, rules int) *eni.Interface {
	w := newWorld(b)
	require.NoError(b, w.reg.SetQuotas(sg.Quotas{RulesPerGroup: max(60, rules), GroupsPerInterface: 5, GroupsPerRegion: 2500}))
	var ids []string
	for g := 0; g < groups; g++ {
		id := w.group(fmt.Sprintf("bench%d", g))
		var rs []sg.Rule
		for r := 0; r < rules; r++ {
			n := g*rules + r
			from := int32(1000 + n*7%20000)
			to := from + int32(n%5)
			if n%17 == 0 {
				to = from + 3000
			}
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16 + byte(n>>8), byte(n), 0}), 24)
			if g == groups-1 && r == rules-1 {
				from, to, p = 443, 443, netip.MustParsePrefix("198.51.100.0/24")
			}
			rs = append(rs, sg.Rule{Protocol: sg.TCP, FromPort: from, ToPort: to, Peer: sg.CIDR(p)})
		}
		_, err := w.reg.AuthorizeIngress(id, rs...)
		require.NoError(b, err)
		ids = append(ids, id)
	}
	return w.iface("eni-bench", "subnet-public", "10.0.1.10", ids...)
}

// BenchmarkNewFlow judges SYNs of new flows, each one opening a tracked
// connection (time moves one millisecond per packet and handshakes expire
// after 120 s, so the table stays at a steady size).
func BenchmarkNewFlow(b *testing.B) {
	for _, size := range []struct{ groups, rules int }{{1, 10}, {5, 200}} {
		b.Run(fmt.Sprintf("%dx%d", size.groups, size.rules), func(b *testing.B) {
			i := benchWorld(b, size.groups, size.rules)
			frames := make([][]byte, 4096)
			for k := range frames {
				frames[k] = frame(b, tcp(fmt.Sprintf("198.51.100.%d:%d", k%200+1, 20000+k), "10.0.1.10:443", eni.SYN), false)
			}
			now := t0
			k := 0
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(30 * time.Millisecond)
				if v := i.EvaluateFrame(in, frames[k%len(frames)], now); !v.NewConn {
					b.Fatalf("%s", v)
				}
				k++
			}
		})
	}
}

// BenchmarkTrackedHit judges packets of an established connection.
func BenchmarkTrackedHit(b *testing.B) {
	i := benchWorld(b, 5, 200)
	syn := frame(b, tcp("198.51.100.1:20000", "10.0.1.10:443", eni.SYN), false)
	ack := frame(b, tcp("10.0.1.10:443", "198.51.100.1:20000", eni.ACK), false)
	i.EvaluateFrame(in, syn, t0)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		if v := i.EvaluateFrame(out, ack, now); v.Reason != eni.ReasonTracked {
			b.Fatalf("%s", v)
		}
	}
}

// BenchmarkDecode is the floor: decoding the same frame and nothing else.
func BenchmarkDecode(b *testing.B) {
	f := frame(b, tcp("198.51.100.1:20000", "10.0.1.10:443", eni.SYN), false)
	d := eni.NewDecoder()
	var p eni.Packet
	b.ReportAllocs()
	for b.Loop() {
		d.DecodeEthernet(f, &p)
	}
}
