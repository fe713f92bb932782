package eni_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

// change applies the k-th kind of configuration change to a world built
// by pathWorld; applied to two identical worlds it leaves them identical.
func change(t *testing.T, w *world, kind int, rng *rand.Rand) {
	port := int32(20 + rng.IntN(6))
	switch kind {
	case 0: // a rule appears
		_, _ = w.reg.AuthorizeIngress("sg-g1", sg.Rule{Protocol: sg.TCP, FromPort: port, ToPort: port, Peer: peer2("0.0.0.0/0")})
	case 1: // a group's outbound rules go
		_ = w.reg.RevokeEgress("sg-g0", allRule("0.0.0.0/0"))
		_ = w.reg.RevokeEgress("sg-g0", sg.Rule{Protocol: sg.TCP, FromPort: 0, ToPort: 40000, Peer: peer2("10.0.0.0/8")})
	case 2: // an ACL entry changes
		_ = w.net.ACL("acl-subnet-app").ReplaceEntry(nacl.Entry{RuleNumber: 10, Egress: rng.IntN(2) == 0, Protocol: -1,
			Action: nacl.Action(rng.IntN(2)), CIDR: netip.MustParsePrefix("0.0.0.0/0")})
	case 3: // an interface's groups change
		_ = w.net.SetGroups("eni-c", "sg-g1")
	case 4: // a subnet goes back to the default ACL
		_ = w.net.DisassociateACL("subnet-data")
	case 5: // an interface goes, and another takes its address
		if w.net.Interface("eni-b") != nil {
			require.NoError(t, w.net.DeleteInterface("eni-b"))
			w.iface("eni-b2", "subnet-app", "10.0.2.11", "sg-g2")
		}
	case 7: // a world-open rule appears: with egress open to all, its flows go untracked
		_, _ = w.reg.AuthorizeIngress("sg-g2", sg.Rule{Protocol: sg.TCP, FromPort: 20, ToPort: 25, Peer: peer2("0.0.0.0/0")},
			sg.Rule{Protocol: sg.UDP, FromPort: 20, ToPort: 25, Peer: peer2("0.0.0.0/0")})
	case 8: // and goes
		_ = w.reg.RevokeIngress("sg-g2", sg.Rule{Protocol: sg.TCP, FromPort: 20, ToPort: 25, Peer: peer2("0.0.0.0/0")},
			sg.Rule{Protocol: sg.UDP, FromPort: 20, ToPort: 25, Peer: peer2("0.0.0.0/0")})
	case 6: // a tighter table
		cfg := conntrack.DefaultConfig()
		cfg.MaxEntries = 3
		require.NoError(t, w.net.Interface("eni-a").SetConnTrackConfig(cfg))
	}
}

// TestFlowCacheAgreesWithJudge replays the same random traffic, with
// flows that repeat and configuration that changes under them, through a
// FlowCache and through Network.JudgeInto on two identical networks, and
// requires the same paths, explanations and counters: the cache may only
// save work. It does so for each way in: JudgeInto, JudgeIntoHashed with
// hashes that are now and then not the packets', and JudgeEachHashed with
// the packets' hashes and with hashes that are not theirs, which may cost
// speed but must not change an answer.
func TestFlowCacheAgreesWithJudge(t *testing.T) {
	ways := []struct {
		name  string
		judge func(fc *eni.FlowCache, p *eni.Packet, ts time.Time, out *eni.Path, rng *rand.Rand)
	}{
		{"JudgeInto", func(fc *eni.FlowCache, p *eni.Packet, ts time.Time, out *eni.Path, _ *rand.Rand) {
			fc.JudgeInto(p, ts, out)
		}},
		{"JudgeIntoHashed/wrong hashes", func(fc *eni.FlowCache, p *eni.Packet, ts time.Time, out *eni.Path, rng *rand.Rand) {
			h := p.FlowHash()
			if rng.IntN(2) == 0 {
				h = rng.Uint64()
			}
			fc.JudgeIntoHashed(p, ts, out, h)
		}},
		{"JudgeEachHashed", func(fc *eni.FlowCache, p *eni.Packet, ts time.Time, out *eni.Path, _ *rand.Rand) {
			out.Packet = *p
			fc.JudgeEachHashed([]*eni.Path{out}, []time.Time{ts}, []uint64{p.FlowHash()})
		}},
		{"JudgeEachHashed/wrong hashes", func(fc *eni.FlowCache, p *eni.Packet, ts time.Time, out *eni.Path, rng *rand.Rand) {
			out.Packet = *p
			h := p.FlowHash()
			if rng.IntN(2) == 0 {
				h = rng.Uint64() // the wrong entry: another kind's, or an empty one
			}
			fc.JudgeEachHashed([]*eni.Path{out}, []time.Time{ts}, []uint64{h})
		}},
		// Every kind in one set of the cache, with one tag: each packet
		// looks through the set's kinds by their keys, and most push one
		// out (the replies readied for new flows too).
		{"JudgeIntoHashed/one set, one tag", func(fc *eni.FlowCache, p *eni.Packet, ts time.Time, out *eni.Path, _ *rand.Rand) {
			fc.JudgeIntoHashed(p, ts, out, 42)
		}},
		{"JudgeIntoHashed/one set", func(fc *eni.FlowCache, p *eni.Packet, ts time.Time, out *eni.Path, _ *rand.Rand) {
			fc.JudgeIntoHashed(p, ts, out, p.FlowHash()&^0xffff|42)
		}},
	}
	for _, way := range ways {
		t.Run(way.name, func(t *testing.T) { flowCacheAgreesWithJudge(t, way.judge) })
	}
}

func flowCacheAgreesWithJudge(t *testing.T, judge func(*eni.FlowCache, *eni.Packet, time.Time, *eni.Path, *rand.Rand)) {
	// 203.0.113.12 is eni-d's public address, 10.0.1.10's; 203.0.113.10
	// eni-a's, 10.0.2.10's; 10.0.3.40 is in eni-c's delegated prefix.
	hosts := []string{"10.0.2.10", "10.0.2.11", "10.0.3.10", "10.0.1.10", "198.51.100.7", "203.0.113.9", "10.0.2.99", "10.0.3.99",
		"203.0.113.12", "203.0.113.10", "10.0.3.40"}
	seeds := uint64(12)
	if raceBuild {
		seeds = 4 // go test ./... runs all twelve
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		a, b := pathWorld(t, seed), pathWorld(t, seed)
		rng, hashes := rand.New(rand.NewPCG(seed, 17)), rand.New(rand.NewPCG(seed, 29))
		fc := a.net.NewFlowCache()
		var got, want eni.Path
		ts := t0
		for k := 0; k < 2000; k++ {
			p, ok := randomPacket(rng, hosts, 3)
			if !ok {
				continue
			}
			ts = ts.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
			if k%100 == 99 {
				kind, r1 := rng.IntN(9), rng.Uint64()
				change(t, a, kind, rand.New(rand.NewPCG(r1, 1)))
				change(t, b, kind, rand.New(rand.NewPCG(r1, 1)))
			}
			judge(fc, &p, ts, &got, hashes)
			b.net.JudgeInto(&p, ts, &want)
			require.Equal(t, withoutIdled(want.String()), withoutIdled(got.String()), "seed %d packet %d", seed, k)
			require.Equal(t, stageFields(want.Stages()), stageFields(got.Stages()), "seed %d packet %d", seed, k)
		}
		ra, rb := a.reg.Rules(), b.reg.Rules()
		require.Equal(t, len(rb), len(ra))
		for k := range rb {
			require.Equal(t, fmt.Sprint(rb[k].ID, rb[k].Packets, rb[k].Connections), fmt.Sprint(ra[k].ID, ra[k].Packets, ra[k].Connections),
				"seed %d rule %s", seed, rb[k])
		}
		for _, i := range b.net.Interfaces() {
			j := a.net.Interface(i.ID())
			require.NotNil(t, j)
			// IdledOut counts what the tables remembered (see idledClause).
			si, sj := i.Stats(), j.Stats()
			si.IdledOut, sj.IdledOut = 0, 0
			require.Equal(t, fmt.Sprint(si), fmt.Sprint(sj), "seed %d %s", seed, i.ID())
		}
		acls := 0
		for _, acl := range b.net.ACLs() {
			other := a.net.ACL(acl.ID)
			require.NotNil(t, other)
			require.Equal(t, acl.Usage(), other.Usage(), "seed %d %s: entries' packet counts", seed, acl.ID)
			for _, u := range acl.Usage() {
				acls += int(u.Packets)
			}
		}
		require.Positive(t, acls, "seed %d: the ACLs counted packets", seed)
	}
}

// TestFlowCacheFollowsRuleChanges pins the cases the fast lane must not
// repeat past: an untracked flow whose rule is revoked is refused from
// the next packet on, while a tracked connection outlives its rule, as in
// AWS; and it must credit rules exactly as the plain path does.
func TestFlowCacheFollowsRuleChanges(t *testing.T) {
	build := func() *world {
		w := newWorld(t)
		web := w.group("web", tcpRule(443, "0.0.0.0/0"), tcpRule(22, "198.51.100.0/24"))
		w.iface("eni-w", "subnet-public", "10.0.1.10", web)
		return w
	}
	a, b := build(), build()
	fc := a.net.NewFlowCache()
	var got, want eni.Path
	ts := t0
	step := func(p *eni.Packet, wantAction eni.Action, what string) {
		t.Helper()
		ts = ts.Add(time.Second)
		fc.JudgeInto(p, ts, &got)
		b.net.JudgeInto(p, ts, &want)
		require.Equal(t, want.String(), got.String(), what)
		require.Equal(t, wantAction, got.Action, "%s\n%s", what, got)
	}
	https := tcp("203.0.113.9:5000", "10.0.1.10:443", eni.ACK)
	ssh := tcp("198.51.100.7:6000", "10.0.1.10:22", eni.SYN)
	step(ssh, eni.Allow, "ssh syn")
	step(tcp("10.0.1.10:22", "198.51.100.7:6000", eni.SYN|eni.ACK), eni.Allow, "ssh syn-ack")
	ssh.TCPFlags = eni.ACK
	for k := 0; k < 4; k++ {
		step(https, eni.Allow, "untracked https")
		step(ssh, eni.Allow, "tracked ssh")
	}
	for _, w := range []*world{a, b} {
		require.NoError(t, w.reg.RevokeIngress("sg-web", tcpRule(443, "0.0.0.0/0"), tcpRule(22, "198.51.100.0/24")))
	}
	for k := 0; k < 3; k++ {
		step(https, eni.Deny, "https after its rule went")
		step(ssh, eni.Allow, "ssh connection after its rule went")
	}
	// The connection closes and idles out: its kind of packet is judged by
	// the rules again, which no longer allow it.
	rst := *ssh
	rst.TCPFlags = eni.RST | eni.ACK
	step(&rst, eni.Allow, "ssh reset")
	ts = ts.Add(time.Minute)
	step(ssh, eni.Deny, "ssh after its connection expired")
	ra, rb := a.reg.Rules(), b.reg.Rules()
	for k := range rb {
		require.Equal(t, fmt.Sprint(rb[k].Packets, rb[k].Connections), fmt.Sprint(ra[k].Packets, ra[k].Connections), rb[k].String())
	}
	require.Equal(t, fmt.Sprint(b.net.Interface("eni-w").Stats()), fmt.Sprint(a.net.Interface("eni-w").Stats()))
}

// stageFields renders every field of the stages, pointers by the ID they
// point to (the two paths come from two networks built alike): the fast
// lane writes stages over an earlier packet's, and no field of one may
// show through.
// idledClause is what a refusal adds when the table remembers the
// connection the packet lost to idleness: how long it remembers depends
// on when its entries were dropped, which the flow cache, looking up less,
// changes. Verdicts never depend on it. An egress-only gateway's refusal
// says the same, or, once the table has forgotten, that the packet
// answers no connection; a NAT gateway's or a balancer's says what it
// dropped, or not.
var idledClause = regexp.MustCompile(`; its tracked connection \(.*?\) had been idle \d+ s, past its \d+ s timeout|` +
	`: the flow \(.*?\) had been idle \d+ s, past the balancer's \d+ s idle timeout, whatever the target's own table keeps|` +
	`, while they are tracked: this packet's connection \(.*?\) had been idle \d+ s, past its \d+ s timeout|` +
	`: it drops a packet from the internet that answers none|` +
	`; the gateway dropped its connection \(.*?\) when it had been idle \d+ s, past the gateway's fixed \d+ s timeout`)

func withoutIdled(s string) string { return idledClause.ReplaceAllString(s, "") }

func stageFields(stages []eni.Stage) string {
	var b strings.Builder
	for _, s := range stages {
		v := s.Verdict
		if v.IdledOut {
			v.IdledOut, v.Conn = false, conntrack.Conn{}
		}
		iface, acl := "-", "-"
		if v.Interface != nil {
			iface = v.Interface.ID()
		}
		if s.ACL != nil {
			acl = s.ACL.ID
		}
		v.Interface = nil
		fmt.Fprintf(&b, "%d %t %t %s %+v %s %q %s %d\n", s.Kind, s.Allowed, s.Hypothetical, iface, v, acl, s.Subnet,
			s.ACLResult.Action, s.ACLResult.RuleNumber)
	}
	return b.String()
}

// TestFastLaneClearsRefusalNotes: a Path reused from packet to packet, as
// a replay reuses it, carries no note of an earlier packet's refusal (its
// connection idled out) into a later one's fast-lane verdict.
func TestFastLaneClearsRefusalNotes(t *testing.T) {
	w := newWorld(t)
	db := w.group("db", tcpRule(5432, "10.0.2.0/24"))
	require.NoError(t, w.reg.RevokeEgress(db, allRule("0.0.0.0/0")))
	w.iface("eni-app", "subnet-app", "10.0.2.10", w.group("app"))
	w.iface("eni-db", "subnet-data", "10.0.3.10", db)
	fc := w.net.NewFlowCache()
	var out eni.Path
	judge := func(p *eni.Packet, sec float64) {
		fc.JudgeInto(p, t0.Add(time.Duration(sec*float64(time.Second))), &out)
	}
	judge(tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN), 0)
	judge(tcp("10.0.3.10:5432", "10.0.2.10:40000", eni.SYN|eni.ACK), 0.001)
	judge(tcp("10.0.2.10:40001", "10.0.3.10:5432", eni.SYN), 500000)
	judge(tcp("10.0.3.10:5432", "10.0.2.10:40001", eni.SYN|eni.ACK), 500000.001)
	judge(tcp("10.0.3.10:5432", "10.0.2.10:40000", eni.ACK|eni.PSH), 500000.002) // flow 1's connection is long gone
	require.False(t, out.Allowed())
	require.True(t, out.Stages()[0].Verdict.IdledOut, "%s", out)
	judge(tcp("10.0.3.10:5432", "10.0.2.10:40001", eni.ACK|eni.PSH), 500000.003) // the fast lane
	require.True(t, out.Allowed(), "%s", out)
	for _, s := range out.Stages() {
		assert.False(t, s.Verdict.IdledOut, "%s", out)
	}
}

// TestFlowCacheAgreesAtEgressOnlyGateway is TestFlowCacheAgreesWithJudge
// at an egress-only internet gateway, whose check the fast lane repeats:
// random IPv6 traffic between an instance and hosts on the internet, both
// ways, with pauses long enough for connections to idle out, through an
// internet gateway until the subnet's IPv6 is sent to an egress-only one
// mid-way (connections the internet opened before then are none of the
// gateway's), and IPv4 beside it.
func TestFlowCacheAgreesAtEgressOnlyGateway(t *testing.T) {
	remote := []string{"[2600:1f18::7]", "[2600:1f18::8]", "[2a00:1450::1]"}
	for seed := uint64(1); seed <= 4; seed++ {
		a, b := egressOnlyWorld(t, "igw-1"), egressOnlyWorld(t, "igw-1")
		if seed%2 == 0 { // a group that tracks what the internet opens too
			for _, w := range []*world{a, b} {
				require.NoError(t, w.reg.RevokeEgress("sg-open", allRule("::/0")))
				_, err := w.reg.AuthorizeEgress("sg-open", sg.Rule{Protocol: sg.TCP, FromPort: 0, ToPort: 65535, Peer: peer("::/0")})
				require.NoError(t, err)
			}
		}
		rng := rand.New(rand.NewPCG(seed, 41))
		fc := a.net.NewFlowCache()
		var got, want eni.Path
		ts := t0
		gated := 0
		for k := 0; k < 2000; k++ {
			if k == 700 {
				for _, w := range []*world{a, b} {
					require.NoError(t, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-private", VpcID: "vpc-1",
						Subnets: []string{"subnet-public"}, Routes: []eni.Route{{Dest: netip.MustParsePrefix("::/0"), Target: "eigw-1"}}}))
				}
			}
			local := netip.MustParseAddrPort(fmt.Sprintf("[2001:db8:1234:1::10]:%d", 50000+rng.IntN(3)))
			far := netip.MustParseAddrPort(fmt.Sprintf("%s:%d", remote[rng.IntN(len(remote))], []int{443, 53}[rng.IntN(2)]))
			if rng.IntN(6) == 0 {
				local, far = netip.MustParseAddrPort("10.0.1.10:50000"), netip.MustParseAddrPort("198.51.100.7:443")
			}
			var p eni.Packet
			if rng.IntN(3) == 0 {
				p = eni.UDP(local, far)
			} else {
				p = eni.TCP(local, far, []uint8{eni.SYN, eni.SYN | eni.ACK, eni.ACK, eni.ACK, eni.FIN | eni.ACK, eni.RST}[rng.IntN(6)])
			}
			if rng.IntN(2) == 0 {
				p = p.Reply()
				p.TCPFlags = []uint8{eni.SYN, eni.SYN | eni.ACK, eni.ACK, eni.ACK}[rng.IntN(4)]
			}
			ts = ts.Add([]time.Duration{time.Millisecond, time.Second, 20 * time.Second, 200 * time.Second}[rng.IntN(4)])
			fc.JudgeInto(&p, ts, &got)
			b.net.JudgeInto(&p, ts, &want)
			require.Equal(t, withoutIdled(want.String()), withoutIdled(got.String()), "seed %d packet %d", seed, k)
			require.Equal(t, stageFields(want.Stages()), stageFields(got.Stages()), "seed %d packet %d", seed, k)
			if st := want.Stages(); len(st) > 0 && st[0].Kind == eni.StageRoute {
				gated++
			}
		}
		require.Positive(t, gated, "seed %d: the gateway refused something", seed)
		ra, rb := a.reg.Rules(), b.reg.Rules()
		for k := range rb {
			require.Equal(t, fmt.Sprint(rb[k].ID, rb[k].Packets, rb[k].Connections), fmt.Sprint(ra[k].ID, ra[k].Packets, ra[k].Connections),
				"seed %d rule %s", seed, rb[k])
		}
		si, sj := b.net.Interface("eni-web").Stats(), a.net.Interface("eni-web").Stats()
		si.IdledOut, sj.IdledOut = 0, 0
		require.Equal(t, fmt.Sprint(si), fmt.Sprint(sj), "seed %d", seed)
	}
}

// TestFlowCacheAgreesAtBalancer: through a Network Load Balancer, whose
// flows the fast lane keeps beside the ends', the flow cache judges as
// the long way does, flows idling out at the balancer included.
func TestFlowCacheAgreesAtBalancer(t *testing.T) {
	clients := []string{"198.51.100.7", "198.51.100.8", "192.0.2.9"}
	for seed := uint64(1); seed <= 4; seed++ {
		a, b := balancedWorld(t, 0), balancedWorld(t, 0)
		if seed%2 == 0 {
			a.net.SetTCPPickup(true)
			b.net.SetTCPPickup(true)
		}
		rng := rand.New(rand.NewPCG(seed, 43))
		fc := a.net.NewFlowCache()
		var got, want eni.Path
		ts := t0
		balanced, refused := 0, 0
		for k := 0; k < 3000; k++ {
			client := netip.MustParseAddrPort(fmt.Sprintf("%s:%d", clients[rng.IntN(len(clients))], 50000+rng.IntN(3)))
			target := netip.MustParseAddrPort([]string{"10.0.2.10:443", "10.0.2.10:443", "10.0.2.10:22"}[rng.IntN(3)])
			var p eni.Packet
			if rng.IntN(3) == 0 {
				p = eni.UDP(client, target)
			} else {
				p = eni.TCP(client, target, []uint8{eni.SYN, eni.SYN, eni.ACK, eni.ACK, eni.ACK | eni.PSH, eni.FIN | eni.ACK, eni.RST}[rng.IntN(7)])
			}
			if rng.IntN(2) == 0 {
				p = p.Reply()
				p.TCPFlags = []uint8{eni.SYN | eni.ACK, eni.ACK, eni.ACK, eni.FIN | eni.ACK}[rng.IntN(4)]
			}
			ts = ts.Add([]time.Duration{time.Millisecond, time.Second, 20 * time.Second, 130 * time.Second, 400 * time.Second}[rng.IntN(5)])
			fc.JudgeInto(&p, ts, &got)
			b.net.JudgeInto(&p, ts, &want)
			require.Equal(t, withoutIdled(want.String()), withoutIdled(got.String()), "seed %d packet %d", seed, k)
			require.Equal(t, stageFields(want.Stages()), stageFields(got.Stages()), "seed %d packet %d", seed, k)
			if want.Balancer() != "" {
				balanced++
			}
			if r := want.Refusals(); len(r) > 0 && r[0].Route != nil && r[0].Route.NoBalancerFlow {
				refused++
			}
		}
		require.Positive(t, balanced, "seed %d: packets went by the balancer", seed)
		require.Positive(t, refused, "seed %d: the balancer refused some", seed)
		sa, sb := a.net.BalancerStats(), b.net.BalancerStats()
		require.Len(t, sb, 1)
		sa[0].IdledOut, sb[0].IdledOut = 0, 0 // what the tables remembered (see idledClause)
		sa[0].Tracking.Expired, sb[0].Tracking.Expired = 0, 0
		sa[0].Tracking.Peak, sb[0].Tracking.Peak = 0, 0
		require.Equal(t, sb, sa, "seed %d", seed)
		si, sj := b.net.Interface("eni-app").Stats(), a.net.Interface("eni-app").Stats()
		si.IdledOut, sj.IdledOut = 0, 0
		require.Equal(t, fmt.Sprint(si), fmt.Sprint(sj), "seed %d", seed)
	}
}

// TestFlowCacheSiblings: a new kind of packet starts from what the cache
// remembers of a sibling (the same but for the source port or the ICMP
// identifier), and must still follow every change made since: a rule
// revoked or granted, an ACL entry added, between one connection and the
// next from the same client to the same service.
func TestFlowCacheSiblings(t *testing.T) {
	ping := sg.Rule{Protocol: sg.ICMP, FromPort: -1, ToPort: -1, Peer: peer2("198.51.100.0/24")}
	build := func() *world {
		w := newWorld(t)
		web := w.group("web", tcpRule(443, "198.51.100.0/24"), ping)
		w.iface("eni-w", "subnet-public", "10.0.1.10", web)
		a, err := w.net.CreateACL("acl-pub", "vpc-1")
		require.NoError(t, err)
		require.NoError(t, a.CreateEntry(aclEntry(100, false, -1, nacl.Allow, "0.0.0.0/0", 0, 0)))
		require.NoError(t, a.CreateEntry(aclEntry(100, true, -1, nacl.Allow, "0.0.0.0/0", 0, 0)))
		require.NoError(t, w.net.AssociateACL("subnet-public", "acl-pub"))
		return w
	}
	a, b := build(), build()
	fc := a.net.NewFlowCache()
	var got, want eni.Path
	ts := t0
	port, id := 40000, uint16(1)
	icmp := func(id uint16) *eni.Packet {
		p := eni.ICMP(mustAddr("198.51.100.7"), mustAddr("10.0.1.10"), 8, 0, id)
		return &p
	}
	// connect opens a new connection from the client and pings the
	// server with a new identifier: two new kinds, each with siblings.
	connect := func(wantAction eni.Action, what string) {
		t.Helper()
		port++
		id++
		for _, p := range []*eni.Packet{tcp(fmt.Sprintf("198.51.100.7:%d", port), "10.0.1.10:443", eni.SYN),
			icmp(id)} {
			ts = ts.Add(time.Second)
			fc.JudgeInto(p, ts, &got)
			b.net.JudgeInto(p, ts, &want)
			require.Equal(t, want.String(), got.String(), what)
			require.Equal(t, stageFields(want.Stages()), stageFields(got.Stages()), what)
			require.Equal(t, wantAction, got.Action, "%s\n%s", what, got)
		}
	}
	connect(eni.Allow, "first connection")
	connect(eni.Allow, "second connection, from its sibling")
	for _, w := range []*world{a, b} {
		require.NoError(t, w.reg.RevokeIngress("sg-web", tcpRule(443, "198.51.100.0/24"), ping))
	}
	connect(eni.Deny, "after the rules went")
	connect(eni.Deny, "again after the rules went")
	for _, w := range []*world{a, b} {
		_, err := w.reg.AuthorizeIngress("sg-web", allRule("198.51.100.7/32"))
		require.NoError(t, err)
	}
	connect(eni.Allow, "after a wider rule came")
	for _, w := range []*world{a, b} {
		require.NoError(t, w.net.ACL("acl-pub").CreateEntry(aclEntry(50, false, -1, nacl.Deny, "198.51.100.0/24", 0, 0)))
	}
	connect(eni.Deny, "after the ACL refused the client")
	ra, rb := a.reg.Rules(), b.reg.Rules()
	for k := range rb {
		require.Equal(t, fmt.Sprint(rb[k].Packets, rb[k].Connections), fmt.Sprint(ra[k].Packets, ra[k].Connections), rb[k].String())
	}
	require.Equal(t, fmt.Sprint(b.net.Interface("eni-w").Stats()), fmt.Sprint(a.net.Interface("eni-w").Stats()))
	require.Equal(t, b.net.ACL("acl-pub").Usage(), a.net.ACL("acl-pub").Usage())
}
