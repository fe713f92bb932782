package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/replay"
)

// mirrorWriter writes the VXLAN copies that the traffic mirror sessions
// send for a replay's frames, as their targets receive them: a capture to
// feed an intrusion-detection system, or to replay with --vxlan.
type mirrorWriter struct {
	w       *pcapgo.Writer
	net     *eni.Network
	set     *mirror.Set
	targets map[string]netip.Addr // session ID → the target's address, invalid when the files give none
	missing map[string]int        // session ID → copies left out for want of a target address
	buf     []byte
	copies  int
}

func newMirrorWriter(w io.Writer, n *eni.Network, set *mirror.Set) (*mirrorWriter, error) {
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return &mirrorWriter{w: pw, net: n, set: set, targets: map[string]netip.Addr{}, missing: map[string]int{}}, nil
}

// add writes the copies of one judged frame.
func (m *mirrorWriter) add(r *replay.Result) error {
	if r.Unwrapped || r.Path.Packet.MirrorCopy || len(r.Mirror) == 0 {
		return nil // a copy is not copied again
	}
	inner := ethernetOf(&r.Frame)
	if inner == nil {
		return nil
	}
	for k := range r.Mirror {
		d := &r.Mirror[k]
		if d.Outcome != mirror.Mirrored {
			continue
		}
		src, dst := primaryIPv4(d.Source), m.target(d.Session)
		if !src.IsValid() || !dst.IsValid() {
			m.missing[d.Session.ID]++
			continue
		}
		body := inner
		if n := d.Session.PacketLength; n > 0 && n < len(body) {
			body = body[:n]
		}
		// AWS picks the outer source port by a hash of the mirrored
		// packet's 5-tuple.
		sport := uint16(49152 + r.Path.Packet.FlowHash()%16384)
		m.buf = vxlanFrame(m.buf[:0], src, dst, sport, d.Session.VNI, body)
		ci := gopacket.CaptureInfo{Timestamp: r.Frame.Time, CaptureLength: len(m.buf), Length: len(m.buf)}
		if err := m.w.WritePacket(ci, m.buf); err != nil {
			return err
		}
		m.copies++
	}
	return nil
}

// target returns a session's target's address: the target interface's
// primary private address, or that of the interface the files give for
// the Network Load Balancer ("ELB net/NAME/ID") or Gateway Load Balancer
// endpoint ("VPC Endpoint Interface vpce-..."), the first by ID.
func (m *mirrorWriter) target(s *mirror.Session) netip.Addr {
	if a, ok := m.targets[s.ID]; ok {
		return a
	}
	var a netip.Addr
	t, _ := m.set.TargetOf(s.ID)
	switch t.Type {
	case mirror.TargetInterface:
		if i := m.net.Interface(t.Interface); i != nil {
			a = primaryIPv4(i)
		}
	default:
		want := t.Endpoint
		if t.Type == mirror.TargetLoadBalancer {
			_, name, ok := strings.Cut(t.LoadBalancer, ":loadbalancer/")
			if !ok {
				break
			}
			want = "ELB " + name
		}
		ifaces := m.net.Interfaces()
		slices.SortFunc(ifaces, func(x, y *eni.Interface) int { return strings.Compare(x.ID(), y.ID()) })
		for _, i := range ifaces {
			if d := i.Spec().Description; want != "" && (d == want || strings.Contains(d, want+" ") || strings.HasSuffix(d, " "+want)) {
				if a = primaryIPv4(i); a.IsValid() {
					break
				}
			}
		}
	}
	m.targets[s.ID] = a
	return a
}

// done says on stderr what could not be written.
func (m *mirrorWriter) done(stderr io.Writer, name string) {
	for _, id := range slices.Sorted(maps.Keys(m.missing)) {
		t, _ := m.set.TargetOf(id)
		fmt.Fprintf(stderr, "sgsim: %s: %d copies of %s left out: no interface in the files gives the address of its target %s, "+
			"or its source has no private IPv4 address\n", name, m.missing[id], id, t.ID)
	}
}

func primaryIPv4(i *eni.Interface) netip.Addr {
	for _, a := range i.Addrs() {
		if a.Is4() {
			return a
		}
	}
	return netip.Addr{}
}

// ethernetOf returns the frame as an Ethernet frame: as it is, or, for a
// capture of another link type, its IP packet behind a header with empty
// addresses. nil when the frame holds no IP packet.
func ethernetOf(f *capture.Frame) []byte {
	var ip []byte
	switch f.Link {
	case capture.LinkEthernet:
		return f.Data
	case capture.LinkLinuxSLL:
		if len(f.Data) > 16 {
			ip = f.Data[16:]
		}
	case capture.LinkLinuxSLL2:
		if len(f.Data) > 20 {
			ip = f.Data[20:]
		}
	case capture.LinkNull, capture.LinkLoop:
		if len(f.Data) > 4 {
			ip = f.Data[4:]
		}
	default:
		ip = f.Data
	}
	if len(ip) == 0 {
		return nil
	}
	etype := uint16(0x0800)
	switch ip[0] >> 4 {
	case 4:
	case 6:
		etype = 0x86dd
	default:
		return nil
	}
	out := make([]byte, 14, 14+len(ip))
	binary.BigEndian.PutUint16(out[12:], etype)
	return append(out, ip...)
}

// vxlanFrame appends a VXLAN copy of inner, from src to dst (UDP 4789),
// as an Ethernet frame.
func vxlanFrame(b []byte, src, dst netip.Addr, sport uint16, vni uint32, inner []byte) []byte {
	b = append(b, make([]byte, replay.CopyOverhead)...)
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+8+len(inner)))
	ip[6] = 0x40 // don't fragment
	ip[8], ip[9] = 64, 17
	s4, d4 := src.As4(), dst.As4()
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	binary.BigEndian.PutUint16(ip[10:], ipv4Checksum(ip))
	udp := b[34:42]
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], eni.VXLANPort)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+8+len(inner)))
	vx := b[42:50]
	vx[0] = 0x08 // a valid VNI follows
	vx[4], vx[5], vx[6] = byte(vni>>16), byte(vni>>8), byte(vni)
	return append(b, inner...)
}

func ipv4Checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
