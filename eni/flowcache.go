package eni

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"time"

	"github.com/sgsim/sgsim/nacl"
)

// FlowCache judges packets as [Network.JudgeInto] does, remembering for
// each kind of packet it has seen (same addresses, protocol, ports, ICMP
// type, code and identifier) what only a change of configuration can
// alter: where both ends live, what the subnets' ACLs answered, which rule
// admits it, where each end's tracked connection sits in its table. The
// next packet of the kind is judged without the lookups, hashing and rule
// matching that would give the same answers again; every dynamic step
// (connection tracking, counters, the packet's time) runs as before, and
// each remembered answer is checked against the version of the settings
// it came from, so the results are exactly JudgeInto's.
//
// A replay keeps one FlowCache and judges every frame through it. A
// FlowCache is not safe for concurrent use; the network may be used and
// changed by other goroutines meanwhile.
type FlowCache struct {
	net     *Network
	entries []flowEntry
	mask    uint64
}

// flowCacheSize is the number of kinds of packet remembered at once: the
// flows live at one time in a capture, both directions. Memory is about
// 400 bytes an entry.
const flowCacheSize = 4096

// NewFlowCache returns an empty flow cache for the network.
func (n *Network) NewFlowCache() *FlowCache {
	return &FlowCache{net: n, entries: make([]flowEntry, flowCacheSize), mask: flowCacheSize - 1}
}

// flowEntry is what the cache remembers of one kind of packet.
type flowEntry struct {
	key            flowKey
	routes         *routes // src..dstNet are valid for this snapshot
	src, dst       *Interface
	srcNet, dstNet *subnetRoute
	ends           [2]endMemo // source outbound, destination inbound
	acls           [2]aclMemo // source subnet outbound, destination subnet inbound
}

// flowKey is every packet field that any remembered answer depends on.
type flowKey struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	icmpID           uint16
	proto            uint8
	icmpType         uint8
	icmpCode         uint8
	set              bool
}

func keyOf(p *Packet) flowKey {
	return flowKey{src: p.Src, dst: p.Dst, srcPort: p.SrcPort, dstPort: p.DstPort, icmpID: p.ICMPID, proto: p.Proto,
		icmpType: p.ICMPType, icmpCode: p.ICMPCode, set: true}
}

func (k *flowKey) matches(p *Packet) bool {
	return k.set && k.srcPort == p.SrcPort && k.dstPort == p.DstPort && k.proto == p.Proto && k.src == p.Src &&
		k.dst == p.Dst && k.icmpID == p.ICMPID && k.icmpType == p.ICMPType && k.icmpCode == p.ICMPCode
}

// aclMemo is an ACL's answer for one kind of packet, valid while the
// subnet has the same ACL with the same entries.
type aclMemo struct {
	acl     *nacl.ACL
	version uint64
	res     nacl.Result
}

// evaluate returns the ACL's answer, from the memo (when not nil) while
// it is still valid.
func (m *aclMemo) evaluate(acl *nacl.ACL, egress bool, p *Packet, remote netip.Addr) nacl.Result {
	if m == nil {
		return acl.Evaluate(egress, p.Proto, p.DstPort, p.ICMPType, p.ICMPCode, remote)
	}
	if v := acl.Version(); m.acl != acl || m.version != v {
		*m = aclMemo{acl: acl, version: v, res: acl.Evaluate(egress, p.Proto, p.DstPort, p.ICMPType, p.ICMPCode, remote)}
	}
	return m.res
}

// JudgeInto judges the packet at time ts into out, exactly as
// [Network.JudgeInto] would. It allocates nothing.
func (fc *FlowCache) JudgeInto(p *Packet, ts time.Time, out *Path) {
	if p.Status != Decoded || p.Fragment == LaterFragment {
		fc.net.judgeInto(p, ts, out, nil)
		return
	}
	e := &fc.entries[hashPacket(p)&fc.mask]
	if !e.key.matches(p) {
		*e = flowEntry{key: keyOf(p)}
	}
	fc.net.judgeInto(p, ts, out, e)
}

// hashPacket mixes the packet's flow key fields (a wyhash-style
// multiply-fold).
func hashPacket(p *Packet) uint64 {
	e := uint64(p.SrcPort) | uint64(p.DstPort)<<16 | uint64(p.ICMPID)<<32 | uint64(p.Proto)<<48 |
		uint64(p.ICMPType)<<56 ^ uint64(p.ICMPCode)<<40
	if p.Src.Is4() && p.Dst.Is4() { // one multiply for the common case
		s, d := p.Src.As4(), p.Dst.As4()
		a := uint64(binary.BigEndian.Uint32(s[:]))<<32 | uint64(binary.BigEndian.Uint32(d[:]))
		return mix64(a^0xa0761d6478bd642f, e^0xe7037ed1a0b428db)
	}
	s, d := p.Src.As16(), p.Dst.As16()
	h := mix64(binary.BigEndian.Uint64(s[:8])^0xa0761d6478bd642f, binary.BigEndian.Uint64(s[8:])^0xe7037ed1a0b428db)
	h = mix64(h^binary.BigEndian.Uint64(d[:8])^0x8ebc6af09c88c6e3, binary.BigEndian.Uint64(d[8:])^0x589965cc75374cc3)
	return mix64(h^e, 0x1d8e4e27c47d124f)
}

func mix64(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
