package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ngGuard hands gopacket's pcapng reader one whole block at a time, each
// checked first for the lengths and values that reader trusts: a packet
// block's captured length (it allocates that much before reading, up to
// 4 GiB for a corrupt field, and reads past the block when it does not
// fit), an interface's snapshot length (also allocated), its timestamp
// resolution (a divisor that can overflow to zero), and options that run
// past their block. A block that passes is one gopacket reads exactly, so
// the guard and the reader never disagree on where the next block starts.
// A file cut inside a block reads as io.ErrUnexpectedEOF.
type ngGuard struct {
	r         *bufio.Reader
	block     []byte // the checked block being handed on: own, or a view of r's buffer
	viewed    bool   // block is a view of r's buffer, to be discarded from r once handed on
	own       []byte // the buffer of blocks too large for a view, or rewritten
	off       int    // how much of block has been read
	pass      int64  // bytes of a block of another type, streamed on unchecked
	at        int64  // bytes handed on: where the next block starts in the file
	order     order  // the section's byte order; known once a section header is read
	inSection bool   // a section header has been read
	ifaces    int    // interfaces in the current section
	snap0     uint32 // the section's first interface's snapshot length
	err       error
}

// maxBlock bounds the blocks the guard reads whole: a largest frame with
// room for options.
const maxBlock = MaxFrame + 1<<16

// pcapng block types and option codes the guard looks into.
const (
	ngSection    = 0x0a0d0d0a
	ngInterface  = 1
	ngPacket     = 2 // obsolete, same layout as enhanced for lengths
	ngSimple     = 3
	ngStatistics = 5
	ngEnhanced   = 6
	ngTSResol    = 9 // if_tsresol
)

// Read hands on as many checked blocks as fit in p: gopacket's reader
// reads through a small buffer, and a call a block would cost more than
// the checks. An error waits for the call after the bytes before it.
func (g *ngGuard) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if g.off == len(g.block) && g.pass == 0 {
			if g.viewed {
				_, _ = g.r.Discard(len(g.block)) // peeked whole: cannot fail
				g.viewed = false
			}
			if g.err == nil {
				if g.err = g.next(); g.err != nil {
					g.block, g.off = nil, 0 // never hand on a block that failed
				}
			}
			if g.err != nil {
				if n > 0 {
					return n, nil
				}
				return 0, g.err
			}
		}
		if g.pass > 0 {
			k, err := g.r.Read(p[n : n+int(min(int64(len(p)-n), g.pass))])
			g.pass -= int64(k)
			g.at += int64(k)
			n += k
			if err != nil && g.pass > 0 {
				g.pass, g.err = 0, short(err)
			}
			continue
		}
		k := copy(p[n:], g.block[g.off:])
		g.off += k
		g.at += int64(k)
		n += k
	}
	return n, nil
}

// next reads and checks the next block.
func (g *ngGuard) next() error {
	g.block, g.off = nil, 0
	hdr, err := g.r.Peek(12)
	switch {
	case len(hdr) == 0 && errors.Is(err, io.EOF):
		return io.EOF
	case len(hdr) < 8:
		return short(err)
	}
	typ := binary.LittleEndian.Uint32(hdr) // the section type reads the same either way
	if typ == ngSection {
		if len(hdr) < 12 {
			return short(err)
		}
		switch {
		case binary.LittleEndian.Uint32(hdr[8:]) == 0x1a2b3c4d:
			g.order = littleEndian
		case binary.BigEndian.Uint32(hdr[8:]) == 0x1a2b3c4d:
			g.order = bigEndian
		default:
			return g.errorf(ngSection, "its byte-order magic %x is neither order's", hdr[8:12])
		}
		g.ifaces, g.snap0, g.inSection = 0, 0, true
	}
	if !g.inSection {
		return g.errorf(typ, "it comes before any section header")
	}
	typ = g.order.u32(hdr)
	n := g.order.u32(hdr[4:])
	switch {
	case n < 12 || n%4 != 0:
		return g.errorf(typ, "its length %d is not a block length (a multiple of 4, at least 12)", n)
	case !checked(typ):
		g.pass = int64(n) // gopacket skips it without allocating: name resolution, secrets, custom blocks
		return nil
	case n > maxBlock:
		return g.errorf(typ, "its length %d is more than a frame of %d bytes needs", n, MaxFrame)
	}
	var b []byte
	if int(n) <= g.r.Size() && typ != ngInterface {
		// Checked where it lies in r's buffer, and handed on from there:
		// a copy a frame less.
		if b, err = g.r.Peek(int(n)); err != nil {
			return short(err)
		}
		g.viewed = true
	} else {
		if cap(g.own) < int(n) {
			g.own = make([]byte, max(int(n), 4096))
		}
		b = g.own[:n]
		if _, err := io.ReadFull(g.r, b); err != nil {
			return short(err)
		}
	}
	g.block = b
	if t := g.order.u32(b[n-4:]); t != n {
		return g.errorf(typ, "its trailing length %d is not its length %d", t, n)
	}
	switch typ {
	case ngSection:
		if n < 28 {
			return g.errorf(typ, "its length %d is too short for a section header", n)
		}
		return g.options(typ, b[24:n-4])
	case ngInterface:
		if n < 20 {
			return g.errorf(typ, "its length %d is too short for an interface description", n)
		}
		// gopacket allocates the snapshot length for the first frame: no
		// frame is larger than MaxFrame, so no more is needed.
		if snap := g.order.u32(b[12:]); snap > MaxFrame {
			g.order.put32(b[12:], MaxFrame)
		}
		if g.ifaces++; g.ifaces == 1 {
			g.snap0 = g.order.u32(b[12:])
		}
		return g.options(typ, b[16:n-4])
	case ngStatistics:
		if n < 24 {
			return g.errorf(typ, "its length %d is too short for interface statistics", n)
		}
		return g.options(typ, b[20:n-4])
	case ngEnhanced, ngPacket:
		if n < 32 {
			return g.errorf(typ, "its length %d is too short for a packet block", n)
		}
		if c := g.order.u32(b[20:]); c > n-32 || c > MaxFrame {
			return g.errorf(typ, "its captured length %d does not fit the block's %d bytes of data", c, n-32)
		}
	case ngSimple:
		if n < 16 {
			return g.errorf(typ, "its length %d is too short for a simple packet block", n)
		}
		c := g.order.u32(b[8:]) // gopacket captures the original length, up to the snapshot length
		if g.snap0 != 0 {
			c = min(c, g.snap0)
		}
		if c > n-16 {
			return g.errorf(typ, "its packet length %d does not fit the block's %d bytes of data", c, n-16)
		}
	}
	return nil
}

// options checks that a block's options lie within it, and that an
// if_tsresol names a resolution gopacket can compute with: 10^-19 or
// 2^-63 seconds at the finest.
func (g *ngGuard) options(typ uint32, b []byte) error {
	for len(b) >= 4 {
		code, n := g.order.u16(b), int(g.order.u16(b[2:]))
		if code == 0 {
			return nil // end of options
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(b) {
			return g.errorf(typ, "option %d of %d bytes runs past the block", code, n)
		}
		if code == ngTSResol && typ == ngInterface {
			if n != 1 {
				return g.errorf(typ, "its if_tsresol option has %d bytes, not 1", n)
			}
			if v := b[4]; (v&0x80 != 0 && v&0x7f > 63) || (v&0x80 == 0 && v > 19) {
				return g.errorf(typ, "its if_tsresol %#x asks for a resolution finer than 10^-19 or 2^-63 seconds", v)
			}
		}
		b = b[4+padded:]
	}
	return nil
}

// short is the error of a block that ends early: a cut (the end of the
// file inside it), or whatever else stopped the read.
func short(err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// checked reports whether the guard reads blocks of the type whole.
func checked(typ uint32) bool {
	switch typ {
	case ngSection, ngInterface, ngStatistics, ngEnhanced, ngPacket, ngSimple:
		return true
	}
	return false
}

func (g *ngGuard) errorf(typ uint32, format string, args ...any) error {
	return fmt.Errorf("the %s block at byte %d is malformed: %s", blockName(typ), g.at, fmt.Sprintf(format, args...))
}

func blockName(typ uint32) string {
	switch typ {
	case ngSection:
		return "section header"
	case ngInterface:
		return "interface description"
	case ngPacket, ngEnhanced:
		return "packet"
	case ngSimple:
		return "simple packet"
	case ngStatistics:
		return "interface statistics"
	}
	return fmt.Sprintf("type %#x", typ)
}

// order is a pcapng section's byte order. A concrete type rather than
// binary.ByteOrder: the guard reads a few fields of every packet block,
// and interface calls cannot be inlined.
type order bool

const (
	littleEndian order = false
	bigEndian    order = true
)

func (o order) u16(b []byte) uint16 {
	if o == bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (o order) u32(b []byte) uint32 {
	if o == bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (o order) put32(b []byte, v uint32) {
	if o == bigEndian {
		binary.BigEndian.PutUint32(b, v)
		return
	}
	binary.LittleEndian.PutUint32(b, v)
}
