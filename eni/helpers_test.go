package eni_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/internal/capgen"
	"github.com/sgsim/sgsim/sg"
)

var (
	mustAddr   = netip.MustParseAddr
	mustAP     = netip.MustParseAddrPort
	mustPrefix = netip.MustParsePrefix
	peer       = sg.MustParsePeer
	t0         = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// world is a VPC 10.0.0.0/16 + 2001:db8:1234::/56 with subnets
// 10.0.1.0/24 (public, 2001:db8:1234:1::/64), 10.0.2.0/24 (app) and
// 10.0.3.0/24 (data).
type world struct {
	t   testing.TB
	net *eni.Network
	reg *sg.Registry
	def string // default group
}

func newWorld(t testing.TB) *world {
	t.Helper()
	n := eni.NewNetwork()
	v, err := n.AddVPC(eni.VPCSpec{ID: "vpc-1", OwnerID: "111122223333", DefaultGroupID: "sg-default",
		CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("2001:db8:1234::/56")}})
	require.NoError(t, err)
	for _, s := range []eni.SubnetSpec{
		{ID: "subnet-public", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24"), IPv6CIDR: netip.MustParsePrefix("2001:db8:1234:1::/64")},
		{ID: "subnet-app", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.2.0/24")},
		{ID: "subnet-data", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.3.0/24")},
	} {
		_, err := n.AddSubnet(s)
		require.NoError(t, err)
	}
	return &world{t: t, net: n, reg: n.Groups(), def: v.DefaultGroupID}
}

// group creates a custom group (AWS's default egress: all IPv4) with the
// given inbound rules.
func (w *world) group(name string, ingress ...sg.Rule) string {
	w.t.Helper()
	id, err := w.reg.CreateGroup(sg.GroupSpec{ID: "sg-" + name, Name: name, VpcID: "vpc-1", OwnerID: "111122223333"})
	require.NoError(w.t, err)
	if len(ingress) > 0 {
		_, err = w.reg.AuthorizeIngress(id, ingress...)
		require.NoError(w.t, err)
	}
	return id
}

func (w *world) iface(id, subnet, addr string, groups ...string) *eni.Interface {
	w.t.Helper()
	spec := eni.InterfaceSpec{ID: id, SubnetID: subnet, Groups: groups, OwnerID: "111122223333"}
	for _, a := range splitAddrs(addr) {
		if a.Is4() {
			spec.PrivateIPv4 = append(spec.PrivateIPv4, a)
		} else {
			spec.IPv6 = append(spec.IPv6, a)
		}
	}
	i, err := w.net.AddInterface(spec)
	require.NoError(w.t, err)
	return i
}

func splitAddrs(s string) []netip.Addr {
	var out []netip.Addr
	start := 0
	for k := 0; k <= len(s); k++ {
		if k == len(s) || s[k] == ',' {
			out = append(out, mustAddr(s[start:k]))
			start = k + 1
		}
	}
	return out
}

func rule(proto sg.Protocol, from, to int32, p string) sg.Rule {
	return sg.Rule{Protocol: proto, FromPort: from, ToPort: to, Peer: peer(p)}
}

func tcpRule(port int32, p string) sg.Rule { return rule(sg.TCP, port, port, p) }

func allRule(p string) sg.Rule { return sg.Rule{Protocol: sg.AllProtocols, Peer: peer(p)} }

func tcp(src, dst string, flags uint8) *eni.Packet {
	p := eni.TCP(mustAP(src), mustAP(dst), flags)
	return &p
}

func udp(src, dst string) *eni.Packet {
	p := eni.UDP(mustAP(src), mustAP(dst))
	return &p
}

func icmp(src, dst string, typ, code uint8, id uint16) *eni.Packet {
	p := eni.ICMP(mustAddr(src), mustAddr(dst), typ, code, id)
	return &p
}

// frame serialises a packet as an Ethernet frame (optionally VLAN-tagged),
// the way a capture would hold it.
func frame(t testing.TB, p *eni.Packet, vlan bool) []byte {
	t.Helper()
	var tag uint16
	if vlan {
		tag = 42
	}
	return capgen.Ethernet(capgen.IP(*p, 5), tag)
}
