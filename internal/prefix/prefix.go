// Package prefix matches addresses against prefixes with two masked
// 64-bit compares: cheaper than netip.Prefix.Contains in the short scans
// that small rule sets, ACL entry lists and subnet lists use.
package prefix

import (
	"encoding/binary"
	"net/netip"
)

// Addr is an address as a 128-bit value (IPv4 in its IPv4-mapped form)
// and its family.
type Addr struct {
	hi, lo uint64
	v4     bool
}

// AddrOf converts an address.
func AddrOf(a netip.Addr) Addr {
	b := a.As16()
	return Addr{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), a.Is4()}
}

// Masked is a prefix ready for matching. The zero value matches every
// IPv6 address; build one with [Of].
type Masked struct {
	hi, lo   uint64
	mhi, mlo uint64
	v4       bool
}

// Of converts a prefix. An IPv4 prefix matches only IPv4 addresses, as
// netip.Prefix.Contains does.
func Of(p netip.Prefix) Masked {
	a := AddrOf(p.Masked().Addr())
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	var m Masked
	switch {
	case bits >= 128:
		m.mhi, m.mlo = ^uint64(0), ^uint64(0)
	case bits > 64:
		m.mhi, m.mlo = ^uint64(0), ^uint64(0)<<(128-bits)
	case bits > 0:
		m.mhi = ^uint64(0) << (64 - bits)
	}
	m.hi, m.lo, m.v4 = a.hi&m.mhi, a.lo&m.mlo, a.v4
	return m
}

// Contains reports whether the prefix holds a.
func (m *Masked) Contains(a Addr) bool {
	return a.hi&m.mhi == m.hi && a.lo&m.mlo == m.lo && a.v4 == m.v4
}
