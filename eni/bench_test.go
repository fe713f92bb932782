package eni_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/nacl"
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

// BenchmarkFlowCacheLive judges HTTPS connections to one server through a
// FlowCache with live connections open at once, their packets interleaved
// one by one, as a busy server's capture has them: each connection is 40
// packets (handshake, exchanges, FIN), then another takes its place, so
// the cache holds two kinds of packet per live connection. The
// connections are tracked: the server takes 443 from 198.51.0.0/16 only.
func BenchmarkFlowCacheLive(b *testing.B) {
	for _, live := range []int{100, 500, 1000, 2500} {
		b.Run(fmt.Sprint(live), func(b *testing.B) {
			w := newWorld(b)
			w.iface("eni-web", "subnet-app", "10.0.2.10", w.group("web", tcpRule(443, "198.51.0.0/16")))
			pkts := liveConnections(live, 40*2*live)
			fc := w.net.NewFlowCache()
			var out eni.Path
			now := t0
			k := 0
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(time.Microsecond)
				if fc.JudgeInto(&pkts[k], now, &out); out.Action != eni.Allow {
					b.Fatalf("packet %d: %s", k, out.String())
				}
				if k++; k == len(pkts) {
					k = 0
				}
			}
		})
	}
}

// liveConnections returns n packets of live interleaved TCP connections
// from 198.51.x.y to 10.0.2.10:443, each 40 packets long; connection c's
// successors use new client ports.
func liveConnections(live, n int) []eni.Packet {
	server := netip.MustParseAddrPort("10.0.2.10:443")
	step, round := make([]int, live), make([]int, live)
	for c := range step {
		step[c] = c % 40 // staggered, so that connections end at different times
	}
	out := make([]eni.Packet, 0, n)
	for len(out) < n {
		for c := 0; c < live && len(out) < n; c++ {
			client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(c >> 8), byte(c)}), uint16(20000+round[c]))
			var p eni.Packet
			switch s := step[c]; {
			case s == 0:
				p = eni.TCP(client, server, eni.SYN)
			case s == 1:
				p = eni.TCP(server, client, eni.SYN|eni.ACK)
			case s == 39:
				p = eni.TCP(client, server, eni.FIN|eni.ACK)
			case s%2 == 0:
				p = eni.TCP(client, server, eni.ACK)
			default:
				p = eni.TCP(server, client, eni.ACK)
			}
			out = append(out, p)
			if step[c]++; step[c] == 40 {
				step[c], round[c] = 0, round[c]+1
			}
		}
	}
	return out
}

// BenchmarkEgressOnlyGateway judges a connection's packets both ways
// through a flow cache, a pair a loop, between an IPv6 instance and a host
// on the internet: through an internet gateway (an untracked flow, the
// rules judging each packet) and through an egress-only internet gateway
// (tracked, and each packet from the internet checked at the gateway).
// Both take the fast lane: the gateway's check costs the second little
// more than the first.
func BenchmarkEgressOnlyGateway(b *testing.B) {
	for _, target := range []string{"igw-1", "eigw-1"} {
		b.Run(target, func(b *testing.B) {
			judgePairs(b, egressOnlyWorld(b, target), tcp("[2001:db8:1234:1::10]:50000", "[2600:1f18::7]:443", eni.SYN),
				tcp("[2600:1f18::7]:443", "[2001:db8:1234:1::10]:50000", eni.ACK), tcp("[2001:db8:1234:1::10]:50000", "[2600:1f18::7]:443", eni.ACK))
		})
	}
}

// judgePairs opens a connection with syn, then judges its packets in and
// out through a flow cache, a pair a loop, a millisecond apart.
func judgePairs(b *testing.B, w *world, syn, in, outbound *eni.Packet) {
	fc := w.net.NewFlowCache()
	var out eni.Path
	fc.JudgeInto(syn, at(0), &out)
	now := at(0)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Millisecond)
		// Action, not Allowed(), which copies the path.
		if fc.JudgeInto(in, now, &out); out.Action != eni.Allow {
			b.Fatal(out.String())
		}
		if fc.JudgeInto(outbound, now, &out); out.Action != eni.Allow {
			b.Fatal(out.String())
		}
	}
}

// BenchmarkNATGateway judges a connection's packets both ways through a
// flow cache, a pair a loop, between a private instance and a host on
// the internet through its NAT gateway: every stage of the long way (the
// instance's group, four ACL stages, the gateway's table and, on the way
// in, its check that the instance opened the connection), since the fast
// lane does not take appliances. Compare BenchmarkEgressOnlyGateway.
func BenchmarkNATGateway(b *testing.B) {
	w := natWorld(b, nacl.Entry{RuleNumber: 100, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("0.0.0.0/0")})
	judgePairs(b, w, tcp("10.0.2.10:40000", "198.51.100.7:443", eni.SYN),
		tcp("198.51.100.7:443", "10.0.2.10:40000", eni.ACK), tcp("10.0.2.10:40000", "198.51.100.7:443", eni.ACK))
}

// BenchmarkBalancer judges a connection's packets both ways through a
// flow cache, a pair a loop, between a client on the internet and a
// Network Load Balancer's target: the balancer's flows are kept beside
// the target's table. Compare BenchmarkEgressOnlyGateway.
func BenchmarkBalancer(b *testing.B) {
	judgePairs(b, balancedWorld(b, 6), tcp("198.51.100.7:50000", "10.0.2.10:443", eni.SYN),
		tcp("198.51.100.7:50000", "10.0.2.10:443", eni.ACK), tcp("10.0.2.10:443", "198.51.100.7:50000", eni.ACK))
}
