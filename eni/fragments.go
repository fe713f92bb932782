package eni

import "net/netip"

// fragCache remembers the first fragments an interface let through, so
// that later fragments of the same datagram, which carry no ports, share
// their fate. It is a small direct-mapped array: no allocation, bounded
// memory, and an entry lives as long as IP reassembly would wait.
type fragCache struct {
	slots [64]fragSlot
}

type fragSlot struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	dir      Direction
	seen     int64
}

// fragLifetime is how long fragments of a datagram are accepted after its
// first fragment: Linux's default IP reassembly timeout.
const fragLifetime = 30_000_000_000

func (f *fragCache) slot(dir Direction, p *Packet) *fragSlot {
	h := p.FragID ^ uint32(p.Proto)<<24 ^ uint32(dir)<<31
	if p.Src.Is4() {
		b := p.Src.As4()
		h ^= uint32(b[3]) | uint32(b[2])<<8
	}
	return &f.slots[h%uint32(len(f.slots))]
}

// note records an allowed first fragment.
func (f *fragCache) note(dir Direction, p *Packet, now int64) {
	if p.Fragment != FirstFragment {
		return
	}
	*f.slot(dir, p) = fragSlot{src: p.Src, dst: p.Dst, id: p.FragID, proto: p.Proto, dir: dir, seen: now}
}

// allowed reports whether a later fragment belongs to a datagram whose
// first fragment was allowed recently.
func (f *fragCache) allowed(dir Direction, p *Packet, now int64) bool {
	s := f.slot(dir, p)
	return s.src == p.Src && s.dst == p.Dst && s.id == p.FragID && s.proto == p.Proto && s.dir == dir &&
		now-s.seen < fragLifetime && now >= s.seen
}
