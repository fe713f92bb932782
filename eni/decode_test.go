package eni_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/internal/capgen"
)

func TestDecodeFrames(t *testing.T) {
	tests := []struct {
		name string
		pkt  *eni.Packet
		vlan bool
	}{
		{"tcp4", tcp("10.0.1.10:40000", "10.0.2.20:443", eni.SYN|eni.ACK), false},
		{"tcp4 vlan", tcp("10.0.1.10:40000", "10.0.2.20:443", eni.SYN), true},
		{"udp4", udp("10.0.1.10:5353", "10.0.0.2:53"), false},
		{"icmp4 echo", icmp("10.0.1.10", "10.0.2.20", 8, 0, 4242), false},
		{"icmp4 unreachable", icmp("10.0.1.10", "10.0.2.20", 3, 4, 0), false},
		{"tcp6", tcp("[2001:db8::1]:40000", "[2001:db8::2]:22", eni.FIN|eni.ACK), false},
		{"udp6 vlan", udp("[2001:db8::1]:40000", "[2001:db8::2]:53"), true},
		{"icmp6 echo", icmp("2001:db8::1", "2001:db8::2", 128, 0, 77), false},
		{"gre", ipPkt(47, "10.0.1.10", "10.0.2.20"), false},
	}
	d := eni.NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got eni.Packet
			d.DecodeEthernet(frame(t, tt.pkt, tt.vlan), &got)
			require.Equal(t, eni.Decoded, got.Status)
			assert.Equal(t, tt.pkt.Src, got.Src)
			assert.Equal(t, tt.pkt.Dst, got.Dst)
			assert.Equal(t, tt.pkt.Proto, got.Proto)
			assert.Equal(t, tt.pkt.SrcPort, got.SrcPort)
			assert.Equal(t, tt.pkt.DstPort, got.DstPort)
			assert.Equal(t, tt.pkt.TCPFlags, got.TCPFlags)
			assert.Equal(t, tt.pkt.ICMPType, got.ICMPType)
			assert.Equal(t, tt.pkt.ICMPCode, got.ICMPCode)
			if tt.pkt.ICMPType == 8 || tt.pkt.ICMPType == 128 {
				assert.Equal(t, tt.pkt.ICMPID, got.ICMPID)
			}
			assert.NotZero(t, got.Length)
		})
	}
}

func TestDecodeOddFrames(t *testing.T) {
	d := eni.NewDecoder()
	var p eni.Packet

	arp := gopacket.NewSerializeBuffer()
	require.NoError(t, gopacket.SerializeLayers(arp, gopacket.SerializeOptions{FixLengths: true},
		&layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			SourceHwAddress: make([]byte, 6), SourceProtAddress: make([]byte, 4), DstHwAddress: make([]byte, 6), DstProtAddress: make([]byte, 4)}))
	d.DecodeEthernet(arp.Bytes(), &p)
	assert.Equal(t, eni.NotIP, p.Status)

	full := frame(t, tcp("10.0.1.10:40000", "10.0.2.20:443", eni.SYN), false)
	for _, cut := range []int{0, 10, 14, 20, 34, 40} {
		d.DecodeEthernet(full[:cut], &p)
		assert.NotEqual(t, eni.Decoded, p.Status, "frame cut at %d bytes", cut)
	}

	d.DecodeIP(full[14:], &p)
	assert.Equal(t, eni.Decoded, p.Status, "raw IP")
	assert.Equal(t, uint16(443), p.DstPort)
	d.DecodeIP([]byte{0x50, 1, 2}, &p)
	assert.Equal(t, eni.NotIP, p.Status)
	d.DecodeIP(nil, &p)
	assert.Equal(t, eni.Malformed, p.Status)
}

// fragments builds an IPv4 UDP datagram split in two fragments.
func fragments(t *testing.T) (first, later []byte) {
	t.Helper()
	ser := func(ip *layers.IPv4, payload []byte) []byte {
		buf := gopacket.NewSerializeBuffer()
		require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			&layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeIPv4},
			ip, gopacket.Payload(payload)))
		return append([]byte(nil), buf.Bytes()...)
	}
	udpHdr := []byte{0x13, 0x88, 0x00, 0x35, 0x00, 0x30, 0, 0} // 5000 → 53, length 48
	body := make([]byte, 16)
	first = ser(&layers.IPv4{Version: 4, TTL: 64, Id: 99, Flags: layers.IPv4MoreFragments, Protocol: layers.IPProtocolUDP,
		SrcIP: mustAddr("10.0.2.9").AsSlice(), DstIP: mustAddr("10.0.1.10").AsSlice()}, append(udpHdr, body...))
	later = ser(&layers.IPv4{Version: 4, TTL: 64, Id: 99, FragOffset: 3, Protocol: layers.IPProtocolUDP,
		SrcIP: mustAddr("10.0.2.9").AsSlice(), DstIP: mustAddr("10.0.1.10").AsSlice()}, make([]byte, 24))
	return first, later
}

func TestFragments(t *testing.T) {
	w := newWorld(t)
	w.iface("eni-1", "subnet-public", "10.0.1.10", w.group("dns", rule(17, 53, 53, "10.0.0.0/8")))
	i := w.net.Interface("eni-1")
	first, later := fragments(t)

	v := i.EvaluateFrame(in, later, t0)
	assert.Equal(t, eni.ReasonFragmentUnmatched, v.Reason, "a later fragment before its first")
	v = i.EvaluateFrame(in, first, t0)
	require.Equal(t, eni.Allow, v.Action, "%s", v)
	assert.Equal(t, eni.FirstFragment, v.Packet.Fragment)
	assert.Equal(t, uint16(53), v.Packet.DstPort)
	v = i.EvaluateFrame(in, later, t0.Add(time.Second))
	assert.Equal(t, eni.ReasonFragment, v.Reason)
	assert.Equal(t, eni.Allow, v.Action)
	v = i.EvaluateFrame(in, later, t0.Add(time.Minute))
	assert.Equal(t, eni.Deny, v.Action, "after the reassembly timeout")
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	// IPv6 + hop-by-hop (8 bytes, next = destination options) + destination
	// options (8 bytes, next = TCP) + TCP.
	base := frame(t, tcp("[2001:db8::1]:40000", "[2001:db8::2]:22", eni.SYN), false)
	tcpHdr := base[14+40:]
	ext := []byte{60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0}
	f := append(append(append([]byte(nil), base[:14+40]...), ext...), tcpHdr...)
	f[14+6] = 0 // next header: hop-by-hop
	plen := len(ext) + len(tcpHdr)
	f[14+4], f[14+5] = byte(plen>>8), byte(plen)
	var p eni.Packet
	eni.NewDecoder().DecodeEthernet(f, &p)
	require.Equal(t, eni.Decoded, p.Status)
	assert.Equal(t, uint8(6), p.Proto)
	assert.Equal(t, uint16(22), p.DstPort)
	assert.Equal(t, eni.SYN, p.TCPFlags)
}

func TestEvaluateEntryPointsAgree(t *testing.T) {
	w := newWorld(t)
	w.iface("eni-1", "subnet-public", "10.0.1.10,2001:db8:1234:1::10", w.group("web", tcpRule(443, "203.0.113.0/24"), tcpRule(443, "2001:db8:ff::/48")))
	i := w.net.Interface("eni-1")
	pkts := []*eni.Packet{
		tcp("203.0.113.1:5000", "10.0.1.10:443", eni.SYN),
		tcp("198.51.100.1:5000", "10.0.1.10:443", eni.SYN),
		tcp("[2001:db8:ff::1]:5000", "[2001:db8:1234:1::10]:443", eni.SYN),
	}
	for k, p := range pkts {
		f := frame(t, p, k%2 == 0)
		a := i.Evaluate(in, p, t0)
		b := i.EvaluateFrame(in, f, t0)
		c := i.EvaluatePacket(in, gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default))
		assert.Equal(t, a.Action, b.Action, "%s", p)
		assert.Equal(t, a.Action, c.Action, "%s", p)
		raw := gopacket.NewPacket(f[14+4*(k%2^1):], layers.LayerTypeIPv4, gopacket.Default)
		if p.Src.Is6() {
			raw = gopacket.NewPacket(f[18:], layers.LayerTypeIPv6, gopacket.Default)
		}
		raw.Metadata().Timestamp = t0
		assert.Equal(t, a.Action, i.EvaluatePacket(in, raw).Action, "raw IP %s", p)
	}
	v := i.EvaluateFrame(in, []byte{1, 2, 3}, t0)
	assert.Equal(t, eni.Deny, v.Action)
	assert.Equal(t, eni.ReasonMalformed, v.Reason)
	assert.Contains(t, v.String(), "MALFORMED_PACKET")
}

func FuzzDecodeAndEvaluate(f *testing.F) {
	t := &testing.T{}
	f.Add(frame(t, tcp("203.0.113.1:5000", "10.0.1.10:443", eni.SYN), false), false)
	f.Add(frame(t, udp("[2001:db8::1]:5", "[2001:db8:1234:1::10]:53"), true), true)
	f.Add(frame(t, icmp("10.0.1.10", "10.0.0.2", 8, 0, 1), false), false)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, data []byte, outbound bool) {
		w := newWorld(t)
		w.iface("eni-1", "subnet-public", "10.0.1.10,2001:db8:1234:1::10", w.group("web", tcpRule(443, "0.0.0.0/0"), allRule(w.def)))
		i := w.net.Interface("eni-1")
		dir := in
		if outbound {
			dir = out
		}
		v := i.EvaluateFrame(dir, data, t0)
		_ = v.String()
		if v.Packet.Status != eni.Decoded && v.Action == eni.Allow {
			t.Fatalf("undecodable frame allowed: %s", v)
		}
		var p eni.Packet
		d := eni.NewDecoder()
		d.DecodeIP(data, &p)
		_ = p.String()
		// A mirror copy's header, read without unwrapping and unwrapped.
		d.DecodeEthernet(data, &p)
		if h, ok := d.VXLANOf(&p); ok && (h.Src != p.Src || h.Dst != p.Dst) {
			t.Fatalf("VXLAN header %v of packet %s", h, p)
		}
		if d.DecodeVXLAN(data, &p) {
			_ = d.VXLAN()
		}
	})
}

func TestDecodeVXLANHeader(t *testing.T) {
	inner := eni.TCP(netip.MustParseAddrPort("198.51.100.1:40000"), netip.MustParseAddrPort("10.0.1.10:443"), eni.SYN)
	src, dst := netip.MustParseAddr("10.0.1.10"), netip.MustParseAddr("10.0.2.50")
	frame := capgen.VXLAN(src, dst, 0xabcdef, capgen.Ethernet(capgen.IP(inner, 0), 0))
	d := eni.NewDecoder()
	var p eni.Packet
	require.True(t, d.DecodeVXLAN(frame, &p))
	assert.Equal(t, inner.Dst, p.Dst, "the inner packet")
	assert.Equal(t, eni.VXLANHeader{Src: src, Dst: dst, VNI: 0xabcdef}, d.VXLAN())

	d.DecodeEthernet(frame, &p)
	h, ok := d.VXLANOf(&p)
	require.True(t, ok, "the copy itself, not unwrapped")
	assert.Equal(t, eni.VXLANHeader{Src: src, Dst: dst, VNI: 0xabcdef}, h)
	d.DecodeEthernet(capgen.Ethernet(capgen.IP(inner, 0), 0), &p)
	_, ok = d.VXLANOf(&p)
	assert.False(t, ok, "not VXLAN")
}

// TestDecodeSnappedHeaders: a capture with a small snapshot length keeps
// the first bytes of each frame. A SYN's TCP header, options and all, is
// 40 bytes; cut after its first 14 (the ports and the flags), it is still
// judged. Cut before them, or with a header the packet itself is too
// short for, it is malformed.
func TestDecodeSnappedHeaders(t *testing.T) {
	syn := func(src, dst string) []byte {
		return capgen.Ethernet(capgen.IPWithOptions(*tcp(src, dst, eni.SYN), capgen.LinuxSYNOptions(), 0), 0)
	}
	syn4 := syn("198.51.100.7:40000", "10.0.1.10:443")
	syn6 := syn("[2001:db8::7]:40000", "[2001:db8:1::10]:443")
	require.Len(t, syn4, 14+20+40)
	require.Len(t, syn6, 14+40+40)
	// A header that claims 40 bytes in a packet of 20 bytes of TCP: the
	// IP total length, not the capture, is short.
	lying := append([]byte(nil), syn4[:14+20+20]...)
	lying[14+2], lying[14+3] = 0, 40 // IPv4 total length 40
	// A data offset below the header's own 20 bytes.
	badOffset := append([]byte(nil), syn4...)
	badOffset[14+20+12] = 4 << 4
	tests := []struct {
		name         string
		frame, whole []byte
		decoded      bool
	}{
		{"IPv4, whole", syn4, syn4, true},
		{"IPv4, tcpdump -s 68", syn4[:68], syn4, true},
		{"IPv4, tcpdump -s 64", syn4[:64], syn4, true},
		{"IPv4, the fixed header only", syn4[:14+20+20], syn4, true},
		{"IPv4, ports and flags", syn4[:14+20+14], syn4, true},
		{"IPv4, ports, no flags", syn4[:14+20+13], syn4, false},
		{"IPv4, no TCP", syn4[:14+20], syn4, false},
		{"IPv6, whole", syn6, syn6, true},
		{"IPv6, options cut", syn6[:90], syn6, true},
		{"IPv6, tcpdump -s 68", syn6[:68], syn6, true},
		{"IPv6, tcpdump -s 64", syn6[:64], syn6, false},
		{"a header longer than the packet", lying, syn4, false},
		{"a data offset below 5", badOffset, syn4, false},
	}
	d := eni.NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p eni.Packet
			d.DecodeEthernet(tt.frame, &p)
			if !tt.decoded {
				assert.Equal(t, eni.Malformed, p.Status)
				return
			}
			require.Equal(t, eni.Decoded, p.Status)
			assert.Equal(t, uint16(40000), p.SrcPort)
			assert.Equal(t, uint16(443), p.DstPort)
			assert.Equal(t, eni.SYN, p.TCPFlags)
			assert.Equal(t, uint8(6), p.Proto)
			assert.Equal(t, uint32(len(tt.whole)-14), p.Length, "the length on the wire, from the IP header")
		})
	}
}
