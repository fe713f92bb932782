package conntrack

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Dir is a packet's direction relative to the interface owning the table.
type Dir uint8

const (
	Inbound  Dir = iota // arriving at the interface
	Outbound            // leaving the interface
)

func (d Dir) String() string {
	if d == Outbound {
		return "outbound"
	}
	return "inbound"
}

// TCP flag bits as they appear in the TCP header's flags byte.
const (
	FIN uint8 = 0x01
	SYN uint8 = 0x02
	RST uint8 = 0x04
	ACK uint8 = 0x10
)

// IP protocol numbers the table treats specially.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// Packet is what the table needs to know of a packet. Addresses are from
// the interface's point of view: Local is the interface's address (the
// destination of an inbound packet, the source of an outbound one).
type Packet struct {
	Local, Remote         netip.Addr
	LocalPort, RemotePort uint16 // TCP and UDP
	ICMPID                uint16 // ICMP query identifier
	Proto                 uint8
	Dir                   Dir
	TCPFlags              uint8
	ICMPType              uint8
	// Double marks a flow that takes two entries of the table's
	// capacity when it opens: AWS counts two for each connection through
	// a DynamoDB gateway endpoint. Only Track and CanTrack read it.
	Double bool
}

// Key identifies a tracked flow: fixed-size and pointer-free, so it hashes
// and compares without allocating. The zero value identifies no flow.
//
// For ICMP queries, localPort holds the identifier and remotePort the
// direction of the request, so that the reply finds the request's entry
// and a query from the other side is a flow of its own.
type Key struct {
	// Addresses as 128-bit values (IPv4 in IPv4-mapped form), held as
	// words so that hashing and comparing never touch bytes one by one.
	lhi, llo, rhi, rlo    uint64
	localPort, remotePort uint16
	proto                 uint8
}

func words(a netip.Addr) (hi, lo uint64) {
	if a.Is4() { // the common case, without building 16 bytes
		b := a.As4()
		return 0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// equal compares keys field by field: the compiler's comparison of the
// padded struct calls memequal.
func (k *Key) equal(o *Key) bool {
	return k.llo == o.llo && k.rlo == o.rlo && k.lhi == o.lhi && k.rhi == o.rhi &&
		k.localPort == o.localPort && k.remotePort == o.remotePort && k.proto == o.proto
}

// icmpQuery classifies an ICMP type: a query request (with the type of its
// reply), a query reply (with the type of its request), or neither.
func icmpQuery(proto, typ uint8) (request, reply bool, other uint8) {
	if proto == protoICMP {
		switch typ {
		case 8, 13, 15, 17: // echo, timestamp, information, address mask
			if typ == 8 {
				return true, false, 0
			}
			return true, false, typ + 1
		case 0:
			return false, true, 8
		case 14, 16, 18:
			return false, true, typ - 1
		}
		return false, false, 0
	}
	switch typ {
	case 128, 139: // echo, node information query
		return true, false, typ + 1
	case 129, 140:
		return false, true, typ - 1
	}
	return false, false, 0
}

// trackable reports whether key would succeed, without building the key.
func (p *Packet) trackable() bool {
	if p.Proto != protoICMP && p.Proto != protoICMPv6 {
		return true
	}
	req, rep, _ := icmpQuery(p.Proto, p.ICMPType)
	return req || rep
}

// key returns the packet's flow key, and false for packets that belong to
// no trackable flow (ICMP errors and other non-query messages).
func (p *Packet) key() (Key, bool) {
	k := Key{proto: p.Proto}
	k.lhi, k.llo = words(p.Local)
	k.rhi, k.rlo = words(p.Remote)
	switch p.Proto {
	case protoTCP, protoUDP:
		k.localPort, k.remotePort = p.LocalPort, p.RemotePort
	case protoICMP, protoICMPv6:
		req, rep, _ := icmpQuery(p.Proto, p.ICMPType)
		switch {
		case req:
			k.remotePort = uint16(p.Dir)
		case rep:
			k.remotePort = uint16(p.Dir ^ 1)
		default:
			return Key{}, false
		}
		k.localPort = p.ICMPID
	}
	return k, true
}

// hash mixes the key's 37 bytes with the table's seed (a wyhash-style
// multiply-fold); it does not allocate.
func (k *Key) hash(seed uint64) uint64 {
	a, b, c, d := k.lhi, k.llo, k.rhi, k.rlo
	e := uint64(k.localPort) | uint64(k.remotePort)<<16 | uint64(k.proto)<<32
	h := mix(a^0xa0761d6478bd642f, b^seed)
	h = mix(h^c^0xe7037ed1a0b428db, d^0x8ebc6af09c88c6e3)
	return mix(h^e^0x589965cc75374cc3, seed^0x1d8e4e27c47d124f)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
