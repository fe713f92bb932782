package eni_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

// pathWorld builds, twice over, a network with interfaces in three
// subnets, custom ACLs with random entries and groups with random rules.
func pathWorld(t *testing.T, seed uint64) *world {
	rng := rand.New(rand.NewPCG(seed, 5))
	w := newWorld(t)
	var groups []string
	for g := 0; g < 3; g++ {
		id := w.group(fmt.Sprintf("g%d", g))
		for k := 0; k < 4; k++ {
			port := int32(20 + rng.IntN(6))
			peer := []string{"10.0.0.0/16", "10.0.2.0/24", "0.0.0.0/0", "198.51.100.0/24"}[rng.IntN(4)]
			r := sg.Rule{Protocol: []sg.Protocol{sg.TCP, sg.UDP, sg.ICMP}[rng.IntN(3)], FromPort: port, ToPort: port, Peer: peer2(peer)}
			if r.Protocol == sg.ICMP {
				r.FromPort, r.ToPort = -1, -1
			}
			_, _ = w.reg.AuthorizeIngress(id, r)
			if rng.IntN(3) == 0 {
				_ = w.reg.RevokeEgress(id, allRule("0.0.0.0/0"))
				_, _ = w.reg.AuthorizeEgress(id, sg.Rule{Protocol: sg.TCP, FromPort: 0, ToPort: 40000, Peer: peer2("10.0.0.0/8")})
			}
		}
		groups = append(groups, id)
	}
	// eni-a has a public address too: a packet between it and eni-d's
	// public address goes out through the internet gateway and back.
	_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-a", SubnetID: "subnet-app", Groups: []string{groups[0]},
		OwnerID: "111122223333", PrivateIPv4: []netip.Addr{mustAddr("10.0.2.10")},
		PublicIPv4: []eni.PublicIP{{Public: mustAddr("203.0.113.10"), Private: mustAddr("10.0.2.10")}}})
	require.NoError(t, err)
	w.iface("eni-b", "subnet-app", "10.0.2.11", groups[1])
	// eni-c holds a delegated prefix too: its addresses are eni-c's.
	_, err = w.net.AddInterface(eni.InterfaceSpec{ID: "eni-c", SubnetID: "subnet-data", Groups: []string{groups[2]},
		OwnerID: "111122223333", PrivateIPv4: []netip.Addr{mustAddr("10.0.3.10")}, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.3.32/28")}})
	require.NoError(t, err)
	// eni-d has a public address too, which the internet gateway
	// translates: packets that name it are judged as if they named
	// 10.0.1.10.
	_, err = w.net.AddInterface(eni.InterfaceSpec{ID: "eni-d", SubnetID: "subnet-public", Groups: []string{groups[0], groups[2]},
		OwnerID: "111122223333", PrivateIPv4: []netip.Addr{mustAddr("10.0.1.10")},
		PublicIPv4: []eni.PublicIP{{Public: mustAddr("203.0.113.12"), Private: mustAddr("10.0.1.10")}}})
	require.NoError(t, err)
	for _, s := range []string{"subnet-app", "subnet-data"} {
		a, err := w.net.CreateACL("acl-"+s, "vpc-1")
		require.NoError(t, err)
		for k := 1; k <= 6; k++ {
			for _, egress := range []bool{false, true} {
				port := int32(20 + rng.IntN(6))
				_ = a.CreateEntry(nacl.Entry{RuleNumber: k * 10, Egress: egress, Protocol: []int16{6, 17, -1}[rng.IntN(3)],
					Action: nacl.Action(rng.IntN(2)), CIDR: netip.MustParsePrefix([]string{"10.0.0.0/16", "10.0.2.0/24", "0.0.0.0/0"}[rng.IntN(3)]),
					FromPort: port, ToPort: port + int32(rng.IntN(30000)), ICMPType: -1, ICMPCode: -1})
			}
		}
		require.NoError(t, w.net.AssociateACL(s, "acl-"+s))
	}
	return w
}

func peer2(s string) sg.Peer { return sg.MustParsePeer(s) }

// randomPacket returns UDP, ICMP or TCP (any flags) between two of the
// hosts, from one of ports source ports to ports 20-25, half of the time
// turned round as a reply would be; false when it drew the same host twice.
func randomPacket(rng *rand.Rand, hosts []string, ports int) (eni.Packet, bool) {
	src, dst := hosts[rng.IntN(len(hosts))], hosts[rng.IntN(len(hosts))]
	if src == dst {
		return eni.Packet{}, false
	}
	var p eni.Packet
	sport, dport := uint16(30000+rng.IntN(ports)), uint16(20+rng.IntN(6))
	switch rng.IntN(5) {
	case 0:
		p = eni.UDP(netip.AddrPortFrom(mustAddr(src), sport), netip.AddrPortFrom(mustAddr(dst), dport))
	case 1:
		p = eni.ICMP(mustAddr(src), mustAddr(dst), []uint8{8, 0, 3}[rng.IntN(3)], 0, uint16(rng.IntN(2)))
	default:
		p = eni.TCP(netip.AddrPortFrom(mustAddr(src), sport), netip.AddrPortFrom(mustAddr(dst), dport),
			[]uint8{eni.SYN, eni.SYN | eni.ACK, eni.ACK, eni.ACK, eni.FIN | eni.ACK, eni.RST}[rng.IntN(6)])
	}
	if rng.IntN(2) == 0 { // a reply, so tracked connections are exercised
		p.Src, p.Dst, p.SrcPort, p.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
	}
	return p, true
}

// composed judges a packet the long way, stage by stage with the public
// pieces: the reference Judge is checked against.
func composed(w *world, p *eni.Packet, ts time.Time) (eni.Action, []bool) {
	src, dst := w.net.InterfaceByAddr(p.Src), w.net.InterfaceByAddr(p.Dst)
	var stages []bool
	ok := true
	if src != nil {
		v := src.Evaluate(eni.Outbound, p, ts)
		stages = append(stages, v.Allowed())
		ok = v.Allowed()
	}
	sn, okS := w.net.SubnetOf(p.Src)
	dn, okD := w.net.SubnetOf(p.Dst)
	if !(okS && okD && sn.ID == dn.ID) {
		if okS {
			r := w.net.ACL(sn.ACLID).Evaluate(true, p.Proto, p.DstPort, p.ICMPType, p.ICMPCode, p.Dst)
			stages = append(stages, r.Allowed())
			ok = ok && r.Allowed()
		}
		if okD {
			r := w.net.ACL(dn.ACLID).Evaluate(false, p.Proto, p.DstPort, p.ICMPType, p.ICMPCode, p.Src)
			stages = append(stages, r.Allowed())
			ok = ok && r.Allowed()
		}
	}
	if dst != nil {
		var v eni.Verdict
		if ok {
			v = dst.Evaluate(eni.Inbound, p, ts)
		} else {
			v = dst.Check(eni.Inbound, p, ts)
		}
		stages = append(stages, v.Allowed())
		ok = ok && v.Allowed()
	}
	if ok && len(stages) > 0 {
		return eni.Allow, stages
	}
	return eni.Deny, stages
}

// TestJudgeAgreesWithComposition replays random traffic (requests and
// their replies) through two identical networks, one judged by Judge and
// one stage by stage, and requires the same verdicts and stages.
func TestJudgeAgreesWithComposition(t *testing.T) {
	hosts := []string{"10.0.2.10", "10.0.2.11", "10.0.3.10", "10.0.1.10", "198.51.100.7", "203.0.113.9", "10.0.3.40"}
	for seed := uint64(1); seed <= 20; seed++ {
		a, b := pathWorld(t, seed), pathWorld(t, seed)
		rng := rand.New(rand.NewPCG(seed, 9))
		var got eni.Path // reused, as a replay does, so its route memory is exercised
		for k := 0; k < 300; k++ {
			p, ok := randomPacket(rng, hosts, 5)
			if !ok {
				continue
			}
			ts := t0.Add(time.Duration(k) * 3 * time.Second)
			if k == 150 { // the network changes: the remembered route must not outlive it
				require.NoError(t, a.net.DeleteInterface("eni-b"))
				require.NoError(t, b.net.DeleteInterface("eni-b"))
			}
			a.net.JudgeInto(&p, ts, &got)
			wantAction, wantStages := composed(b, &p, ts)
			var gotStages []bool
			for _, s := range got.Stages() {
				gotStages = append(gotStages, s.Allowed)
			}
			if got.Service == eni.NoService && (got.Action != wantAction || fmt.Sprint(gotStages) != fmt.Sprint(wantStages)) {
				t.Fatalf("seed %d packet %d %s: Judge says %s %v, composition says %s %v\n%s", seed, k, p, got.Action, gotStages,
					wantAction, wantStages, got)
			}
		}
	}
}
