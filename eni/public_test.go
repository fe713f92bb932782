package eni_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
)

// TestPublicAddresses: a packet that names an interface's public IPv4
// address is judged with the private one in its place, as the internet
// gateway translates it, whichever way it goes and wherever it was
// captured; the path says what was translated, and the caller's packet
// is left as it was. Every way of judging agrees.
func TestPublicAddresses(t *testing.T) {
	ways := []struct {
		name  string
		judge func(n *eni.Network) func(p *eni.Packet, ts time.Time, out *eni.Path)
	}{
		{"Network.JudgeInto", func(n *eni.Network) func(*eni.Packet, time.Time, *eni.Path) { return n.JudgeInto }},
		{"FlowCache.JudgeInto", func(n *eni.Network) func(*eni.Packet, time.Time, *eni.Path) { return n.NewFlowCache().JudgeInto }},
		{"FlowCache.JudgeEach, decoded in place", func(n *eni.Network) func(*eni.Packet, time.Time, *eni.Path) {
			fc := n.NewFlowCache()
			return func(p *eni.Packet, ts time.Time, out *eni.Path) {
				out.Packet = *p
				fc.JudgeEach([]*eni.Path{out}, []time.Time{ts})
			}
		}},
	}
	for _, way := range ways {
		t.Run(way.name, func(t *testing.T) {
			w := newWorld(t)
			web := w.group("web", tcpRule(443, "192.0.2.0/24"), tcpRule(22, "198.51.100.0/24")) // tracked: not open to the world
			_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-web", SubnetID: "subnet-public", Groups: []string{web},
				PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.10"), netip.MustParseAddr("10.0.1.11")},
				PublicIPv4:  []eni.PublicIP{{Public: netip.MustParseAddr("203.0.113.12"), Private: netip.MustParseAddr("10.0.1.10")}}})
			require.NoError(t, err)
			judge := way.judge(w.net)
			var out eni.Path
			step := func(k int, p *eni.Packet, allowed bool, private string, pubSrc, pubDst string) {
				t.Helper()
				orig := *p
				judge(p, at(float64(k)), &out)
				assert.Equal(t, orig, *p, "the caller's packet is left as it was")
				assert.Equal(t, allowed, out.Allowed(), "%s", out)
				src, dst, ok := out.Public()
				assert.Equal(t, pubSrc != "" || pubDst != "", ok)
				got := ""
				if src.IsValid() {
					got += "src " + src.String()
				}
				if dst.IsValid() {
					got += "dst " + dst.String()
				}
				want := ""
				if pubSrc != "" {
					want += "src " + pubSrc
				}
				if pubDst != "" {
					want += "dst " + pubDst
				}
				assert.Equal(t, want, got)
				if private != "" {
					assert.Contains(t, []netip.Addr{out.Packet.Src, out.Packet.Dst}, netip.MustParseAddr(private), "%s", out)
					assert.Equal(t, "eni-web", out.Stages()[len(out.Stages())-1].Verdict.Interface.ID())
				}
			}
			// From the internet to the public address: judged at eni-web.
			step(0, tcp("192.0.2.7:50000", "203.0.113.12:443", eni.SYN), true, "10.0.1.10", "", "203.0.113.12")
			assert.Contains(t, out.String(), "203.0.113.12 translated to 10.0.1.10 by the internet gateway")
			// The reply, captured outside the VPC: the same tracked connection.
			rep := tcp("203.0.113.12:443", "192.0.2.7:50000", eni.SYN|eni.ACK)
			judge(rep, at(1), &out)
			assert.True(t, out.Allowed(), "%s", out)
			assert.Equal(t, eni.ReasonTracked, out.Stages()[0].Verdict.Reason, "%s", out)
			assert.Contains(t, out.String(), "10.0.1.10 translated to 203.0.113.12 by the internet gateway", "on its way out")
			src, _, _ := out.Public()
			assert.Equal(t, netip.MustParseAddr("203.0.113.12"), src)
			// And captured inside, with the private address: the same again.
			judge(tcp("10.0.1.10:443", "192.0.2.7:50000", eni.ACK), at(2), &out)
			assert.True(t, out.Allowed())
			assert.Equal(t, eni.ReasonTracked, out.Stages()[0].Verdict.Reason)
			_, _, ok := out.Public()
			assert.False(t, ok)
			// The rules still decide: SSH from outside the allowed block.
			step(3, tcp("192.0.2.7:50001", "203.0.113.12:22", eni.SYN), false, "10.0.1.10", "", "203.0.113.12")
			// A public address nobody holds is not the interface's.
			judge(tcp("192.0.2.7:50002", "203.0.113.99:443", eni.SYN), at(4), &out)
			assert.True(t, out.Skip(), "%s", out)
		})
	}
}

// TestPublicAddressChecks: a public address must be a public IPv4 one,
// stand for one of the interface's private addresses, and belong to no
// other interface.
func TestPublicAddressChecks(t *testing.T) {
	w := newWorld(t)
	web := w.group("web")
	pub := func(p, priv string) []eni.PublicIP {
		return []eni.PublicIP{{Public: netip.MustParseAddr(p), Private: netip.MustParseAddr(priv)}}
	}
	_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-a", SubnetID: "subnet-public", Groups: []string{web},
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.10")}, PublicIPv4: pub("203.0.113.12", "10.0.1.10")})
	require.NoError(t, err)
	for _, tt := range []struct {
		name, public, private, want string
	}{
		{"private range", "10.9.9.9", "10.0.1.20", `eni-b: PublicIPv4[0]: "10.9.9.9": not a public IPv4 address`},
		{"IPv6", "2001:db8::1", "10.0.1.20", `eni-b: PublicIPv4[0]: "2001:db8::1": not a public IPv4 address`},
		{"not its private address", "203.0.113.13", "10.0.1.99", `eni-b: PublicIPv4[0]: "10.0.1.99": not one of the interface's private IPv4 addresses`},
		{"another interface's", "203.0.113.12", "10.0.1.20", `eni-b: PublicIPv4[0]: "203.0.113.12": associated with eni-a`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-b", SubnetID: "subnet-public", Groups: []string{web},
				PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.20")}, PublicIPv4: pub(tt.public, tt.private)})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
