// Package capture reads packet captures, classic pcap and pcapng alike
// (told apart by their first bytes, any timestamp resolution), and decodes
// their frames into [eni.Packet] summaries whatever the link type:
// Ethernet (with 802.1Q tags), Linux cooked capture v1 and v2, BSD loopback
// (macOS captures on lo0 and on VPN utun interfaces) and raw IP.
// A capture with a small snapshot length (tcpdump -s 64) is decoded as
// far as it goes: a TCP header needs only its first 14 bytes, the ports
// and the flags, and the packet's length is the IP header's.
//
// Frames come one at a time into a buffer the reader reuses, so reading a
// capture allocates nothing per frame. A capture cut short inside a frame
// yields every complete frame, then a [*TruncatedError] naming the frame
// that was cut. A malformed one yields every frame before the fault, then
// an error naming the frame, the block and the field; a length no frame
// can have (more than [MaxFrame] bytes) is such a fault, never an
// allocation of what it says.
package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/sgsim/sgsim/eni"
)

// Link is a capture's LINKTYPE_ value. (gopacket keeps link types in 8
// bits; pcap files hold 16 or 32.)
type Link uint16

// The link types the reader decodes.
const (
	LinkNull      Link = 0 // BSD loopback: macOS's lo0 and utun (VPN) interfaces
	LinkEthernet  Link = 1
	LinkRawBSD    Link = 12 // DLT_RAW on some BSDs
	LinkRawBSD2   Link = 14
	LinkRaw       Link = 101
	LinkLoop      Link = 108 // OpenBSD loopback
	LinkLinuxSLL  Link = 113
	LinkIPv4      Link = 228
	LinkIPv6      Link = 229
	LinkLinuxSLL2 Link = 276
)

var linkNames = map[Link]string{LinkEthernet: "Ethernet", LinkRawBSD: "raw IP", LinkRawBSD2: "raw IP", LinkRaw: "raw IP",
	LinkLinuxSLL: "Linux cooked v1", LinkIPv4: "raw IPv4", LinkIPv6: "raw IPv6", LinkLinuxSLL2: "Linux cooked v2",
	LinkNull: "BSD loopback", LinkLoop: "BSD loopback"}

func (l Link) String() string {
	if s, ok := linkNames[l]; ok {
		return s
	}
	return fmt.Sprintf("link type %d", int(l))
}

// Supported reports whether frames of this link type can be decoded.
func (l Link) Supported() bool {
	switch l {
	case LinkEthernet, LinkRawBSD, LinkRawBSD2, LinkRaw, LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkLinuxSLL2, LinkNull, LinkLoop:
		return true
	}
	return false
}

// fromGopacket widens gopacket's 8-bit link type. LINKTYPE_LINUX_SLL2
// (276) arrives as 20, which no link type uses.
func fromGopacket(lt layers.LinkType) Link {
	if lt == 20 {
		return LinkLinuxSLL2
	}
	return Link(lt)
}

// MaxFrame is the most bytes of a frame a capture may hold: tcpdump's and
// Wireshark's largest snapshot length. A frame that says it holds more is
// an error, which guards the reader against allocating what a corrupt
// length field says.
const MaxFrame = 262144

// Frame is one captured frame.
type Frame struct {
	Number  int    // 1-based, as Wireshark numbers frames
	Data    []byte // the captured bytes; valid until the next call to Next or ReadFrame
	Time    time.Time
	WireLen int // the frame's length on the wire
	Link    Link
}

// TruncatedError reports a capture that ends inside a frame.
type TruncatedError struct {
	Frame int // the number the cut frame would have had
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("the capture is cut short inside frame %d; frames before it were read", e.Frame)
}

// UnsupportedLinkError reports a link type the reader cannot decode.
type UnsupportedLinkError struct {
	Link Link
}

func (e *UnsupportedLinkError) Error() string {
	return fmt.Sprintf("link type %d is not supported: use Ethernet, Linux cooked capture (v1 or v2), BSD loopback or raw IP", int(e.Link))
}

// Reader reads frames from a pcap or pcapng capture.
type Reader struct {
	pcap   *pcapgo.Reader
	ng     *pcapgo.NgReader
	err    error // the error that ended the capture, returned again
	link   Link
	format string
	n      int
}

// NewReader recognises the capture's format from its first bytes.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, errors.New("not a capture: the file is shorter than a capture header")
	}
	out := &Reader{}
	switch {
	case magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a:
		out.format = "pcapng"
		ng, err := newNg(&ngGuard{r: br})
		if err != nil {
			return nil, fmt.Errorf("not a readable pcapng capture: %v", err)
		}
		out.ng = ng // link types come per interface, checked frame by frame
	case isPcapMagic(magic):
		out.format = "pcap"
		hdr, err := br.Peek(24)
		if err != nil {
			return nil, errors.New("not a readable pcap capture: the header is cut short")
		}
		// The header's last field is the link type, in the file's byte order.
		if magic[0] == 0xa1 {
			out.link = Link(uint16(hdr[22])<<8 | uint16(hdr[23]))
		} else {
			out.link = Link(uint16(hdr[21])<<8 | uint16(hdr[20]))
		}
		p, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("not a readable pcap capture: %v", err)
		}
		// Like tcpdump and Wireshark, read up to MaxFrame bytes a frame
		// whatever the header's snapshot length says: pcapgo refuses every
		// frame of a file that says 0 and allocates a buffer as large as
		// the header says, up to 4 GiB, before the first frame.
		p.SetSnaplen(MaxFrame)
		out.pcap = p
	default:
		return nil, fmt.Errorf("not a capture: unknown magic number % x (expected pcap or pcapng)", magic)
	}
	if out.pcap != nil && !out.link.Supported() {
		return nil, &UnsupportedLinkError{Link: out.link}
	}
	return out, nil
}

func isPcapMagic(m []byte) bool {
	le := uint32(m[0]) | uint32(m[1])<<8 | uint32(m[2])<<16 | uint32(m[3])<<24
	be := uint32(m[3]) | uint32(m[2])<<8 | uint32(m[1])<<16 | uint32(m[0])<<24
	for _, v := range []uint32{le, be} {
		if v == 0xa1b2c3d4 || v == 0xa1b23c4d {
			return true
		}
	}
	return false
}

// Format returns "pcap" or "pcapng".
func (r *Reader) Format() string { return r.format }

// LinkType returns the capture's link type: for pcapng, that of the latest
// frame's interface (zero before the first frame).
func (r *Reader) LinkType() Link { return r.link }

// Next returns the next frame. At the end it returns io.EOF, or a
// *TruncatedError if the capture ends inside a frame; after any error it
// returns the same error again, reading no further (after a malformed
// frame the readers' positions are undefined).
func (r *Reader) Next() (Frame, error) {
	var f Frame
	if err := r.ReadFrame(&f); err != nil {
		return Frame{}, err
	}
	return f, nil
}

// ReadFrame is [Reader.Next] writing the frame to f, for a caller that
// keeps frames in place (a replay's batch): it saves copying each frame
// out and in again. On an error f is left zero.
func (r *Reader) ReadFrame(f *Frame) error {
	if r.err != nil {
		*f = Frame{}
		return r.err
	}
	var err error
	if r.pcap != nil {
		f.Data, f.Time, f.WireLen, err = r.nextPcap()
		f.Link = r.link
	} else {
		data, ci, e := r.nextNg()
		f.Data, f.Time, f.WireLen, err = data, ci.Timestamp, ci.Length, e
		f.Link = r.link
		if len(ci.AncillaryData) > 0 {
			if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				f.Link = fromGopacket(lt)
				r.link = f.Link
			}
		}
	}
	if err != nil {
		switch {
		case errors.Is(err, io.EOF):
			r.err = io.EOF
		case errors.Is(err, io.ErrUnexpectedEOF):
			r.err = &TruncatedError{Frame: r.n + 1}
		default:
			r.err = fmt.Errorf("frame %d: %v", r.n+1, err)
		}
		*f = Frame{}
		return r.err
	}
	if !f.Link.Supported() {
		r.err = fmt.Errorf("frame %d: %w", r.n+1, &UnsupportedLinkError{Link: f.Link})
		*f = Frame{}
		return r.err
	}
	r.n++
	f.Number = r.n
	return nil
}

// newNg opens a pcapng reader on a guarded stream. The guard's checks
// keep gopacket's reader from the inputs known to crash it; should one
// still panic (it divided by zero on a timestamp resolution of 2^-64
// seconds, as other pcapng readers have crashed on the same option,
// zeek#5884), newNg and nextNg turn the panic into an error.
func newNg(r io.Reader) (ng *pcapgo.NgReader, err error) {
	defer func() {
		if p := recover(); p != nil {
			ng, err = nil, fmt.Errorf("a malformed block (%v)", p)
		}
	}()
	return pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{WantMixedLinkType: true})
}

// nextNg reads the next pcapng packet.
func (r *Reader) nextNg() (data []byte, ci gopacket.CaptureInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			data, ci, err = nil, gopacket.CaptureInfo{}, fmt.Errorf("a malformed pcapng block stops the reader (%v)", p)
		}
	}()
	return r.ng.ZeroCopyReadPacketData()
}

func (r *Reader) nextPcap() ([]byte, time.Time, int, error) {
	data, ci, err := r.pcap.ZeroCopyReadPacketData()
	return data, ci.Timestamp, ci.Length, err
}

// Decode decodes a frame into p according to its link type. With vxlan,
// a VXLAN packet (VPC Traffic Mirroring's copies, UDP port 4789) inside an
// Ethernet frame is unwrapped and the mirrored frame decoded instead; it
// reports whether that happened.
func Decode(d *eni.Decoder, f *Frame, vxlan bool, p *eni.Packet) (unwrapped bool) {
	switch f.Link {
	case LinkEthernet:
		if vxlan {
			return d.DecodeVXLAN(f.Data, p)
		}
		d.DecodeEthernet(f.Data, p)
	case LinkLinuxSLL:
		d.DecodeLinuxSLL(f.Data, p)
	case LinkLinuxSLL2:
		d.DecodeLinuxSLL2(f.Data, p)
	case LinkNull, LinkLoop:
		decodeLoopback(d, f.Data, p)
	default:
		d.DecodeIP(f.Data, p)
	}
	return false
}

// decodeLoopback decodes a BSD loopback frame: a 4-byte address family,
// then the packet. LINKTYPE_NULL has the family in the byte order of the
// machine that captured, LINKTYPE_LOOP in network order, and IPv6's
// number differs between systems (24 on NetBSD and OpenBSD, 28 on
// FreeBSD, 30 on macOS): either order and any of them is IP.
func decodeLoopback(d *eni.Decoder, frame []byte, p *eni.Packet) {
	if len(frame) < 4 {
		*p = eni.Packet{Status: eni.Malformed}
		return
	}
	ip := func(af uint32) bool { return af == 2 || af == 24 || af == 28 || af == 30 }
	if !ip(binary.LittleEndian.Uint32(frame)) && !ip(binary.BigEndian.Uint32(frame)) {
		*p = eni.Packet{Status: eni.NotIP}
		return
	}
	d.DecodeIP(frame[4:], p)
}
