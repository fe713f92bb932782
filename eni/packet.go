package eni

import (
	"fmt"
	"net/netip"
)

// Status says what decoding made of a frame. The zero value, [Decoded],
// means the Packet holds an IP packet's facts.
type Status uint8

const (
	Decoded   Status = iota // an IP packet; fields are set
	NotIP                   // a frame with no IP packet in it (ARP, LLDP, ...)
	Malformed               // headers that do not parse (truncated, bad lengths)
)

var statusNames = [...]string{"decoded", "not IP", "malformed"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "invalid"
}

// Fragment says where a packet sits in a fragmented datagram.
type Fragment uint8

const (
	Whole         Fragment = iota // not fragmented
	FirstFragment                 // offset 0, more to come: carries the ports
	LaterFragment                 // offset > 0: no transport header
)

// Packet is the decoded summary of an IP packet that evaluation needs.
// [Decoder] fills one in place; tests may also build one with [TCP], [UDP],
// [ICMP] or [IP]. The zero value has invalid addresses and is judged
// malformed.
type Packet struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16 // TCP and UDP
	ICMPID           uint16 // ICMP query identifier
	FragID           uint32 // IPv4 or IPv6 fragment identification
	Length           uint32 // IP packet length in bytes, headers included
	Proto            uint8  // IP protocol number (after IPv6 extension headers)
	TCPFlags         uint8  // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ...
	ICMPType         uint8
	ICMPCode         uint8
	Fragment         Fragment
	Status           Status
	// MirrorCopy marks a VPC Traffic Mirroring copy (VXLAN) sent from a
	// session's source to its target: AWS sends copies past the source's
	// security groups, so its outbound check is left out; the ACLs and the
	// target's groups judge it as they judge anything.
	MirrorCopy bool
}

// TCP flag bits, as in the TCP header.
const (
	FIN uint8 = 0x01
	SYN uint8 = 0x02
	RST uint8 = 0x04
	PSH uint8 = 0x08
	ACK uint8 = 0x10
)

// TCP returns a TCP packet summary with the given flags.
func TCP(src, dst netip.AddrPort, flags uint8) Packet {
	return Packet{Src: src.Addr(), Dst: dst.Addr(), SrcPort: src.Port(), DstPort: dst.Port(),
		Proto: 6, TCPFlags: flags, Length: 40}
}

// UDP returns a UDP packet summary.
func UDP(src, dst netip.AddrPort) Packet {
	return Packet{Src: src.Addr(), Dst: dst.Addr(), SrcPort: src.Port(), DstPort: dst.Port(), Proto: 17, Length: 28}
}

// ICMP returns an ICMP (IPv4 addresses) or ICMPv6 (IPv6 addresses) packet
// summary; id is the query identifier for echo and similar messages.
func ICMP(src, dst netip.Addr, typ, code uint8, id uint16) Packet {
	p := Packet{Src: src, Dst: dst, ICMPType: typ, ICMPCode: code, ICMPID: id, Proto: 1, Length: 28}
	if src.Is6() {
		p.Proto, p.Length = 58, 48
	}
	return p
}

// IP returns a packet summary for any IP protocol number, without ports.
func IP(proto uint8, src, dst netip.Addr) Packet {
	return Packet{Src: src, Dst: dst, Proto: proto, Length: 20}
}

// Reply returns the packet the destination sends back: addresses and
// ports turned round; a TCP SYN answered by SYN-ACK (any other TCP packet
// by an ACK); an ICMP or ICMPv6 echo request by its echo reply, other ICMP
// messages by the same message (they define no reply).
func (p Packet) Reply() Packet {
	r := p
	r.Src, r.Dst, r.SrcPort, r.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
	switch p.Proto {
	case 6:
		r.TCPFlags = ACK
		if p.TCPFlags&(SYN|ACK) == SYN {
			r.TCPFlags = SYN | ACK
		}
	case 1:
		if p.ICMPType == 8 {
			r.ICMPType, r.ICMPCode = 0, 0
		}
	case 58:
		if p.ICMPType == 128 {
			r.ICMPType, r.ICMPCode = 129, 0
		}
	}
	return r
}

// protoNames spells the protocols people know by name.
var protoNames = map[uint8]string{1: "icmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 51: "ah", 58: "icmpv6", 132: "sctp"}

// ProtoName returns "tcp", "udp", "icmp", ... or "proto N".
func ProtoName(proto uint8) string {
	if s, ok := protoNames[proto]; ok {
		return s
	}
	return fmt.Sprintf("proto %d", proto)
}

// String describes the packet, e.g. "tcp 10.0.0.1:5000 → 10.0.0.2:22 [SYN]".
func (p Packet) String() string {
	switch p.Status {
	case NotIP:
		return "non-IP frame"
	case Malformed:
		return "malformed packet"
	}
	if !p.Src.IsValid() {
		return "malformed packet"
	}
	switch p.Proto {
	case 6:
		return fmt.Sprintf("tcp %s → %s [%s]", netip.AddrPortFrom(p.Src, p.SrcPort),
			netip.AddrPortFrom(p.Dst, p.DstPort), flagsOrNone(p.TCPFlags))
	case 17:
		return fmt.Sprintf("udp %s → %s", netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort))
	case 1, 58:
		return fmt.Sprintf("%s %s → %s type %d code %d", ProtoName(p.Proto), p.Src, p.Dst, p.ICMPType, p.ICMPCode)
	}
	return fmt.Sprintf("%s %s → %s", ProtoName(p.Proto), p.Src, p.Dst)
}

func flagsOrNone(f uint8) string {
	if s := FlagNames(f); s != "" {
		return s
	}
	return "none"
}

// FlagNames names the TCP flags set in f, e.g. "SYN,ACK"; "" for none.
// URG, ECE and CWR are not named.
func FlagNames(f uint8) string { return flagNameTable[f&(SYN|FIN|RST|PSH|ACK)] }

// flagNameTable holds FlagNames' answers, made once: a replay names the
// flags of every TCP frame it writes out.
var flagNameTable = func() (t [32]string) {
	for f := range t {
		t[f] = flagNames(uint8(f))
	}
	return t
}()

func flagNames(f uint8) string {
	names := []struct {
		bit  uint8
		name string
	}{{SYN, "SYN"}, {FIN, "FIN"}, {RST, "RST"}, {PSH, "PSH"}, {ACK, "ACK"}}
	s := ""
	for _, n := range names {
		if f&n.bit != 0 {
			if s != "" {
				s += ","
			}
			s += n.name
		}
	}
	return s
}

// ends returns the packet's addresses as an interface crossed in
// direction dir sees them: its own, and the other end's.
func (p *Packet) ends(dir Direction) (local, remote netip.Addr) {
	if dir == Outbound {
		return p.Src, p.Dst
	}
	return p.Dst, p.Src
}
