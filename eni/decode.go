package eni

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Decoder turns frames into [Packet] summaries with gopacket's
// DecodingLayerParser over layers it owns, so decoding allocates nothing.
// A Decoder is not safe for concurrent use; give each goroutine its own.
type Decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	fromEth *gopacket.DecodingLayerParser
	fromIP4 *gopacket.DecodingLayerParser
	fromIP6 *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
	// outer is the VXLAN packet DecodeVXLAN last unwrapped.
	outer VXLANHeader
}

// VXLANHeader is what the outer packet of a VXLAN copy says of it: VPC
// Traffic Mirroring sends each copy from the source interface's primary
// private address, with the session's VXLAN network identifier.
type VXLANHeader struct {
	Src, Dst netip.Addr
	VNI      uint32
}

// NewDecoder returns a decoder for Ethernet frames (with 802.1Q tags) and
// raw IPv4 and IPv6 packets.
func NewDecoder() *Decoder {
	d := &Decoder{decoded: make([]gopacket.LayerType, 0, 8)}
	all := []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.ip4, &d.ip6, &d.tcp, &d.udp, &d.icmp4, &d.icmp6}
	mk := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first)
		p.SetDecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
		for _, l := range all {
			p.AddDecodingLayer(l)
		}
		// Transport layers guess an application layer from the port; we
		// have no use for it.
		p.IgnoreUnsupported = true
		return p
	}
	d.fromEth = mk(layers.LayerTypeEthernet)
	d.fromIP4 = mk(layers.LayerTypeIPv4)
	d.fromIP6 = mk(layers.LayerTypeIPv6)
	return d
}

// DecodeEthernet decodes an Ethernet frame into p.
func (d *Decoder) DecodeEthernet(frame []byte, p *Packet) {
	d.decode(d.fromEth, frame, p)
}

// DecodeIP decodes a raw IPv4 or IPv6 packet (no link header) into p.
func (d *Decoder) DecodeIP(data []byte, p *Packet) {
	if len(data) == 0 {
		*p = Packet{Status: Malformed}
		return
	}
	switch data[0] >> 4 {
	case 4:
		d.decode(d.fromIP4, data, p)
	case 6:
		d.decode(d.fromIP6, data, p)
	default:
		*p = Packet{Status: NotIP}
	}
}

// DecodeLinuxSLL decodes a Linux cooked capture (v1) frame into p.
func (d *Decoder) DecodeLinuxSLL(frame []byte, p *Packet) {
	if len(frame) < 16 {
		*p = Packet{Status: Malformed}
		return
	}
	d.decodeEtherType(binary.BigEndian.Uint16(frame[14:16]), frame[16:], p)
}

// DecodeLinuxSLL2 decodes a Linux cooked capture v2 frame into p.
func (d *Decoder) DecodeLinuxSLL2(frame []byte, p *Packet) {
	if len(frame) < 20 {
		*p = Packet{Status: Malformed}
		return
	}
	d.decodeEtherType(binary.BigEndian.Uint16(frame[0:2]), frame[20:], p)
}

func (d *Decoder) decodeEtherType(t uint16, payload []byte, p *Packet) {
	switch t {
	case 0x0800, 0x86dd:
		d.DecodeIP(payload, p)
	default:
		*p = Packet{Status: NotIP}
	}
}

// VXLANPort is the UDP port of VXLAN, which VPC Traffic Mirroring uses.
const VXLANPort = 4789

// DecodeVXLAN decodes an Ethernet frame and, if it is a VXLAN packet (UDP
// to port 4789, as VPC Traffic Mirroring sends), the Ethernet frame inside
// it, reporting whether it did. A frame that is not VXLAN is decoded as is.
func (d *Decoder) DecodeVXLAN(frame []byte, p *Packet) bool {
	d.DecodeEthernet(frame, p)
	if p.Status != Decoded || p.Proto != 17 || p.DstPort != VXLANPort || p.Fragment != Whole {
		return false
	}
	inner := d.udp.Payload
	d.outer = VXLANHeader{Src: p.Src, Dst: p.Dst}
	if len(inner) < 8 || inner[0]&0x08 == 0 { // the I flag: a valid VNI follows
		*p = Packet{Status: Malformed}
		return true
	}
	d.outer.VNI = uint32(inner[4])<<16 | uint32(inner[5])<<8 | uint32(inner[6])
	d.DecodeEthernet(inner[8:], p)
	return true
}

// VXLANOf returns the VXLAN header of p, the packet the decoder has just
// decoded (and not unwrapped), if it is a VXLAN packet: UDP to port 4789
// with a valid VNI.
func (d *Decoder) VXLANOf(p *Packet) (VXLANHeader, bool) {
	if p.Status != Decoded || p.Proto != 17 || p.DstPort != VXLANPort || p.Fragment != Whole {
		return VXLANHeader{}, false
	}
	b := d.udp.Payload
	if len(b) < 8 || b[0]&0x08 == 0 {
		return VXLANHeader{}, false
	}
	return VXLANHeader{Src: p.Src, Dst: p.Dst, VNI: uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6])}, true
}

// VXLAN returns the outer packet of the last copy DecodeVXLAN unwrapped.
func (d *Decoder) VXLAN() VXLANHeader { return d.outer }

func (d *Decoder) decode(parser *gopacket.DecodingLayerParser, data []byte, p *Packet) {
	*p = Packet{}
	err := parser.DecodeLayers(data, &d.decoded)
	var l3 gopacket.LayerType
	for _, t := range d.decoded {
		if t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6 {
			l3 = t
			break
		}
	}
	var l4 []byte
	declared := 0 // the transport bytes the IP header says the packet holds
	switch l3 {
	case layers.LayerTypeIPv4:
		ip := &d.ip4
		p.Src = addr4(ip.SrcIP)
		p.Dst = addr4(ip.DstIP)
		p.Proto = uint8(ip.Protocol)
		p.Length = uint32(ip.Length)
		p.FragID = uint32(ip.Id)
		switch {
		case ip.FragOffset != 0:
			p.Fragment = LaterFragment
		case ip.Flags&layers.IPv4MoreFragments != 0:
			p.Fragment = FirstFragment
		}
		l4 = ip.Payload
		declared = int(ip.Length) - int(ip.IHL)*4
	case layers.LayerTypeIPv6:
		ip := &d.ip6
		p.Src = addr(ip.SrcIP)
		p.Dst = addr(ip.DstIP)
		p.Length = uint32(ip.Length) + 40
		next := ip.NextHeader
		if ip.HopByHop != nil { // gopacket has skipped it already
			next = ip.HopByHop.NextHeader
		}
		var ok bool
		p.Proto, l4, ok = skipExtensions(uint8(next), ip.Payload, p)
		if !ok {
			p.Status = Malformed
			return
		}
		declared = int(ip.Length) - (len(ip.Payload) - len(l4))
	default:
		if err != nil {
			p.Status = Malformed
		} else {
			p.Status = NotIP
		}
		return
	}
	if !p.Src.IsValid() || !p.Dst.IsValid() {
		p.Status = Malformed
		return
	}
	if p.Fragment == LaterFragment {
		return // no transport header here
	}
	// The parser decoded the transport layer of plain packets; fragments and
	// IPv6 extension headers stop it, so decode those from the payload.
	last := d.decoded[len(d.decoded)-1]
	if last == l3 || err != nil {
		if !d.decodeTransport(p.Proto, l4) {
			if p.Proto != 6 || !snappedTCP(p, l4, declared) {
				p.Status = Malformed
			}
			return
		}
	}
	d.fill(p)
}

// snappedTCP fills p's ports and flags from a TCP header that the
// capture's snapshot length cut short, and reports whether it could: the
// first 14 bytes hold all a verdict needs, and a header-only capture
// (tcpdump -s 64, or 68, once its default) keeps them but not the
// options of a SYN, whose header is 40 bytes or more. A header the
// packet itself is too short for is malformed, not cut.
func snappedTCP(p *Packet, b []byte, declared int) bool {
	if len(b) < 14 {
		return false
	}
	if size := int(b[12]>>4) * 4; size < 20 || size <= len(b) || declared < size {
		return false
	}
	p.SrcPort, p.DstPort = binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4])
	p.TCPFlags = b[13]
	return true
}

// decodeTransport decodes a transport header from b into the decoder's
// layers, reporting false if the header is cut short or invalid.
func (d *Decoder) decodeTransport(proto uint8, b []byte) bool {
	var l gopacket.DecodingLayer
	switch proto {
	case 6:
		l = &d.tcp
	case 17:
		l = &d.udp
	case 1:
		l = &d.icmp4
	case 58:
		l = &d.icmp6
	default:
		return true
	}
	return l.DecodeFromBytes(b, gopacket.NilDecodeFeedback) == nil
}

// fill copies the transport fields of p.Proto from the decoded layer.
func (d *Decoder) fill(p *Packet) {
	switch p.Proto {
	case 6:
		t := &d.tcp
		p.SrcPort, p.DstPort = uint16(t.SrcPort), uint16(t.DstPort)
		// gopacket splits the flags byte into booleans; the header still
		// holds it, 13 bytes in.
		if len(t.Contents) > 13 {
			p.TCPFlags = t.Contents[13]
		}
	case 17:
		p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
	case 1:
		p.ICMPType, p.ICMPCode = d.icmp4.TypeCode.Type(), d.icmp4.TypeCode.Code()
		p.ICMPID = d.icmp4.Id
	case 58:
		p.ICMPType, p.ICMPCode = d.icmp6.TypeCode.Type(), d.icmp6.TypeCode.Code()
		if len(d.icmp6.Payload) >= 2 {
			p.ICMPID = binary.BigEndian.Uint16(d.icmp6.Payload)
		}
	}
}

// skipExtensions walks IPv6 extension headers to the upper-layer protocol,
// noting fragment headers in p.
func skipExtensions(next uint8, b []byte, p *Packet) (uint8, []byte, bool) {
	for i := 0; i < 16; i++ {
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(b) < 8 || len(b) < (int(b[1])+1)*8 {
				return 0, nil, false
			}
			next, b = b[0], b[(int(b[1])+1)*8:]
		case 44: // fragment
			if len(b) < 8 {
				return 0, nil, false
			}
			off := binary.BigEndian.Uint16(b[2:4])
			p.FragID = binary.BigEndian.Uint32(b[4:8])
			switch {
			case off>>3 != 0:
				p.Fragment = LaterFragment
			case off&1 != 0:
				p.Fragment = FirstFragment
			}
			next, b = b[0], b[8:]
		default:
			return next, b, true
		}
	}
	return 0, nil, false
}

// addr4 reads an IPv4 address as gopacket's IPv4 layer leaves it: four
// bytes of the header, or nil for a packet too short.
func addr4(b []byte) netip.Addr {
	if len(b) != 4 {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b))
}

func addr(b []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(b)
	return a.Unmap()
}
