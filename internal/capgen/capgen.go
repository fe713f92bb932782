// Package capgen builds frames and captures for tests, examples and the
// embedded sample: Ethernet (optionally VLAN-tagged), raw IP, Linux cooked
// v1 and v2 and VXLAN-wrapped frames from [eni.Packet] summaries, written
// as classic pcap (any link type, micro- or nanosecond timestamps) or
// pcapng.
package capgen

import (
	"encoding/binary"
	"io"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/sgsim/sgsim/eni"
)

// payloadFor pads packets to a plausible size so byte counts look real.
func payloadFor(p eni.Packet, size int) gopacket.Payload {
	if size <= 0 {
		return nil
	}
	b := make([]byte, size)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// IP serialises the IP packet of a summary (no link header), with payload
// bytes of application data.
func IP(p eni.Packet, payload int) []byte { return IPWithOptions(p, nil, payload) }

// LinuxSYNOptions are the TCP options a Linux SYN carries (MSS, SACK
// permitted, timestamps, window scale): with them, its TCP header is 40
// bytes.
func LinuxSYNOptions() []layers.TCPOption {
	return []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)},
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
	}
}

// IPWithOptions is IP with TCP options for a TCP packet.
func IPWithOptions(p eni.Packet, opts []layers.TCPOption, payload int) []byte {
	var ls []gopacket.SerializableLayer
	var netl gopacket.NetworkLayer
	if p.Src.Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: uint16(p.FragID), Protocol: layers.IPProtocol(p.Proto),
			SrcIP: p.Src.AsSlice(), DstIP: p.Dst.AsSlice()}
		netl = ip
		ls = append(ls, ip)
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocol(p.Proto), SrcIP: p.Src.AsSlice(), DstIP: p.Dst.AsSlice()}
		netl = ip
		ls = append(ls, ip)
	}
	switch p.Proto {
	case 6:
		t := &layers.TCP{SrcPort: layers.TCPPort(p.SrcPort), DstPort: layers.TCPPort(p.DstPort), Window: 65535, Seq: 1000,
			FIN: p.TCPFlags&eni.FIN != 0, SYN: p.TCPFlags&eni.SYN != 0, RST: p.TCPFlags&eni.RST != 0,
			PSH: p.TCPFlags&eni.PSH != 0, ACK: p.TCPFlags&eni.ACK != 0, Options: opts}
		_ = t.SetNetworkLayerForChecksum(netl)
		ls = append(ls, t)
	case 17:
		u := &layers.UDP{SrcPort: layers.UDPPort(p.SrcPort), DstPort: layers.UDPPort(p.DstPort)}
		_ = u.SetNetworkLayerForChecksum(netl)
		ls = append(ls, u)
	case 1:
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(p.ICMPType, p.ICMPCode), Id: p.ICMPID, Seq: 1})
	case 58:
		l := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(p.ICMPType, p.ICMPCode)}
		_ = l.SetNetworkLayerForChecksum(netl)
		ls = append(ls, l, gopacket.Payload{byte(p.ICMPID >> 8), byte(p.ICMPID), 0, 1})
	}
	if pl := payloadFor(p, payload); pl != nil {
		ls = append(ls, pl)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(err) // summaries built by the caller; a failure is a bug
	}
	return append([]byte(nil), buf.Bytes()...)
}

// BSDLoopback puts an IP packet behind a BSD loopback header, its
// address family in the byte order given: 2 for IPv4, macOS's 30 for
// IPv6. macOS captures on lo0 and on utun (VPN) interfaces look so, with
// little-endian families (LINKTYPE_NULL); LINKTYPE_LOOP has them
// big-endian.
func BSDLoopback(ip []byte, order binary.AppendByteOrder) []byte {
	af := uint32(2)
	if len(ip) > 0 && ip[0]>>4 == 6 {
		af = 30
	}
	return append(order.AppendUint32(nil, af), ip...)
}

// Ethernet wraps an IP packet in an Ethernet header, with an 802.1Q tag
// when vlan is not zero.
func Ethernet(ip []byte, vlan uint16) []byte {
	etype := uint16(0x0800)
	if len(ip) > 0 && ip[0]>>4 == 6 {
		etype = 0x86dd
	}
	h := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	if vlan != 0 {
		h = binary.BigEndian.AppendUint16(h, 0x8100)
		h = binary.BigEndian.AppendUint16(h, vlan&0x0fff)
	}
	h = binary.BigEndian.AppendUint16(h, etype)
	return append(h, ip...)
}

// LinuxSLL wraps an IP packet in a Linux cooked capture (v1) header.
func LinuxSLL(ip []byte) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:], 0) // sent to us
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], []byte{2, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(h[14:], etherType(ip))
	return append(h, ip...)
}

// LinuxSLL2 wraps an IP packet in a Linux cooked capture v2 header.
func LinuxSLL2(ip []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], etherType(ip))
	binary.BigEndian.PutUint32(h[4:], 2) // interface index
	binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
	h[11] = 6
	copy(h[12:], []byte{2, 0, 0, 0, 0, 1})
	return append(h, ip...)
}

func etherType(ip []byte) uint16 {
	if len(ip) > 0 && ip[0]>>4 == 6 {
		return 0x86dd
	}
	return 0x0800
}

// VXLAN wraps a frame as VPC Traffic Mirroring sends it: UDP to port 4789
// from the source interface's address to the target's, VNI vni.
func VXLAN(src, dst netip.Addr, vni uint32, inner []byte) []byte {
	vx := make([]byte, 8)
	vx[0] = 0x08
	binary.BigEndian.PutUint32(vx[4:], vni<<8)
	outer := eni.UDP(netip.AddrPortFrom(src, 40000+uint16(len(inner)%1000)), netip.AddrPortFrom(dst, eni.VXLANPort))
	ip := IP(outer, 0)
	// Append the VXLAN header and inner frame as the UDP payload, fixing lengths.
	ip = append(ip, vx...)
	ip = append(ip, inner...)
	if ip[0]>>4 == 4 {
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], ipv4Checksum(ip[:20]))
		binary.BigEndian.PutUint16(ip[24:], uint16(len(ip)-20))
		ip[26], ip[27] = 0, 0 // UDP checksum optional over IPv4
	}
	return Ethernet(ip, 0)
}

func ipv4Checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// Pcap writes a classic pcap file of any link type.
type Pcap struct {
	w       io.Writer
	nanos   bool
	snaplen int
}

// NewPcap writes the file header: little-endian, version 2.4, with
// nanosecond timestamps when nanos is set.
func NewPcap(w io.Writer, link uint32, nanos bool) (*Pcap, error) {
	return NewPcapSnaplen(w, link, nanos, 262144)
}

// NewPcapSnaplen is NewPcap for a capture that keeps the first snaplen
// bytes of each frame, as tcpdump -s does: longer frames are cut, their
// records giving the length on the wire beside the length kept.
func NewPcapSnaplen(w io.Writer, link uint32, nanos bool, snaplen int) (*Pcap, error) {
	h := make([]byte, 24)
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], uint32(snaplen))
	binary.LittleEndian.PutUint32(h[20:], link)
	_, err := w.Write(h)
	return &Pcap{w: w, nanos: nanos, snaplen: snaplen}, err
}

// WriteFrame writes one record.
func (p *Pcap) WriteFrame(ts time.Time, data []byte) error {
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h[0:], uint32(ts.Unix()))
	frac := uint32(ts.Nanosecond() / 1000)
	if p.nanos {
		frac = uint32(ts.Nanosecond())
	}
	binary.LittleEndian.PutUint32(h[4:], frac)
	kept := data[:min(len(data), p.snaplen)]
	binary.LittleEndian.PutUint32(h[8:], uint32(len(kept)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(data)))
	if _, err := p.w.Write(h); err != nil {
		return err
	}
	_, err := p.w.Write(kept)
	return err
}

// Pcapng writes an Ethernet pcapng file.
type Pcapng struct{ w *pcapgo.NgWriter }

// NewPcapng writes the section and interface headers.
func NewPcapng(w io.Writer) (*Pcapng, error) {
	ng, err := pcapgo.NewNgWriter(w, layers.LinkTypeEthernet)
	return &Pcapng{w: ng}, err
}

// WriteFrame writes one enhanced packet block.
func (p *Pcapng) WriteFrame(ts time.Time, data []byte) error {
	return p.w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data)
}

// Flush flushes buffered blocks.
func (p *Pcapng) Flush() error { return p.w.Flush() }

// Raw pcapng blocks, for files no writer produces: pcapgo's writer always
// gives an interface nanosecond timestamps, and writes little-endian.

// PcapngBlocks builds raw pcapng blocks in a byte order.
type PcapngBlocks struct{ Order binary.AppendByteOrder }

var pcapngLE = PcapngBlocks{binary.LittleEndian}

// PcapngSection returns a little-endian section header block.
func PcapngSection() []byte { return pcapngLE.Section() }

// PcapngInterface returns a little-endian Ethernet interface description
// block, with an if_tsresol option unless tsresol is 0.
func PcapngInterface(tsresol byte) []byte { return pcapngLE.Interface(tsresol) }

// PcapngPacket returns a little-endian enhanced packet block.
func PcapngPacket(iface uint32, frame []byte) []byte { return pcapngLE.Packet(iface, frame) }

func (o PcapngBlocks) block(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b := o.Order.AppendUint32(nil, typ)
	b = o.Order.AppendUint32(b, n)
	b = append(b, body...)
	return o.Order.AppendUint32(b, n)
}

// Section returns a section header block.
func (o PcapngBlocks) Section() []byte {
	body := o.Order.AppendUint32(nil, 0x1a2b3c4d)
	body = o.Order.AppendUint16(body, 1)
	body = o.Order.AppendUint16(body, 0)
	body = o.Order.AppendUint64(body, ^uint64(0)) // section length unknown
	return o.block(0x0a0d0d0a, body)
}

// Interface returns an Ethernet interface description block with an
// if_tsresol option, unless tsresol is 0 (the default, microseconds).
func (o PcapngBlocks) Interface(tsresol byte) []byte {
	body := o.Order.AppendUint16(nil, 1) // Ethernet
	body = o.Order.AppendUint16(body, 0)
	body = o.Order.AppendUint32(body, 65535)
	if tsresol != 0 {
		body = o.Order.AppendUint16(body, 9) // if_tsresol
		body = o.Order.AppendUint16(body, 1)
		body = append(body, tsresol, 0, 0, 0)
		body = o.Order.AppendUint32(body, 0) // end of options
	}
	return o.block(1, body)
}

// Packet returns an enhanced packet block of the interface with timestamp
// 1,000,000 in its resolution (one second, by default).
func (o PcapngBlocks) Packet(iface uint32, frame []byte) []byte {
	body := o.Order.AppendUint32(nil, iface)
	body = o.Order.AppendUint32(body, 0)
	body = o.Order.AppendUint32(body, 1_000_000)
	body = o.Order.AppendUint32(body, uint32(len(frame)))
	body = o.Order.AppendUint32(body, uint32(len(frame)))
	return o.block(6, append(body, frame...))
}
