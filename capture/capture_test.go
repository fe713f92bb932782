package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/internal/capgen"
)

var (
	t0   = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	pkts = []eni.Packet{
		eni.TCP(netip.MustParseAddrPort("198.51.100.1:40000"), netip.MustParseAddrPort("10.0.1.10:443"), eni.SYN),
		eni.UDP(netip.MustParseAddrPort("[2001:db8::1]:5353"), netip.MustParseAddrPort("[2001:db8::2]:53")),
		eni.ICMP(netip.MustParseAddr("10.0.1.10"), netip.MustParseAddr("10.0.0.9"), 8, 0, 77),
	}
)

func pcapFile(t *testing.T, link uint32, nanos bool, wrap func([]byte) []byte) []byte {
	var buf bytes.Buffer
	w, err := capgen.NewPcap(&buf, link, nanos)
	require.NoError(t, err)
	for k, p := range pkts {
		require.NoError(t, w.WriteFrame(t0.Add(time.Duration(k)*time.Millisecond), wrap(capgen.IP(p, 10))))
	}
	return buf.Bytes()
}

func readAll(t *testing.T, data []byte, vxlan bool) ([]eni.Packet, []capture.Frame, error) {
	r, err := capture.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	d := eni.NewDecoder()
	var out []eni.Packet
	var frames []capture.Frame
	for {
		f, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, frames, nil
			}
			return out, frames, err
		}
		var p eni.Packet
		capture.Decode(d, &f, vxlan, &p)
		out = append(out, p)
		f.Data = nil
		frames = append(frames, f)
	}
}

func TestFormatsAndLinkTypes(t *testing.T) {
	eth := func(b []byte) []byte { return capgen.Ethernet(b, 0) }
	vlan := func(b []byte) []byte { return capgen.Ethernet(b, 42) }
	raw := func(b []byte) []byte { return b }
	var ng bytes.Buffer
	w, err := capgen.NewPcapng(&ng)
	require.NoError(t, err)
	for k, p := range pkts {
		require.NoError(t, w.WriteFrame(t0.Add(time.Duration(k)*time.Millisecond), capgen.Ethernet(capgen.IP(p, 10), 7)))
	}
	require.NoError(t, w.Flush())

	tests := []struct {
		name   string
		data   []byte
		format string
		link   capture.Link
		nanos  bool
	}{
		{"pcap ethernet µs", pcapFile(t, 1, false, eth), "pcap", capture.LinkEthernet, false},
		{"pcap ethernet ns", pcapFile(t, 1, true, eth), "pcap", capture.LinkEthernet, true},
		{"pcap vlan", pcapFile(t, 1, false, vlan), "pcap", capture.LinkEthernet, false},
		{"pcap raw", pcapFile(t, 101, false, raw), "pcap", capture.LinkRaw, false},
		{"pcap linux cooked", pcapFile(t, 113, false, capgen.LinuxSLL), "pcap", capture.LinkLinuxSLL, false},
		{"pcap linux cooked v2", pcapFile(t, 276, true, capgen.LinuxSLL2), "pcap", capture.LinkLinuxSLL2, true},
		{"pcap BSD loopback (macOS utun)", pcapFile(t, 0, false, func(b []byte) []byte { return capgen.BSDLoopback(b, binary.LittleEndian) }),
			"pcap", capture.LinkNull, false},
		{"pcap BSD loopback, big-endian", pcapFile(t, 0, false, func(b []byte) []byte { return capgen.BSDLoopback(b, binary.BigEndian) }),
			"pcap", capture.LinkNull, false},
		{"pcap OpenBSD loopback", pcapFile(t, 108, false, func(b []byte) []byte { return capgen.BSDLoopback(b, binary.BigEndian) }),
			"pcap", capture.LinkLoop, false},
		{"pcapng vlan", ng.Bytes(), "pcapng", capture.LinkEthernet, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := capture.NewReader(bytes.NewReader(tt.data))
			require.NoError(t, err)
			assert.Equal(t, tt.format, r.Format())
			got, frames, err := readAll(t, tt.data, false)
			require.NoError(t, err)
			require.Len(t, got, len(pkts))
			for k, p := range pkts {
				assert.Equal(t, eni.Decoded, got[k].Status)
				assert.Equal(t, p.Src, got[k].Src)
				assert.Equal(t, p.Dst, got[k].Dst)
				assert.Equal(t, p.DstPort, got[k].DstPort)
				assert.Equal(t, k+1, frames[k].Number)
				assert.Equal(t, tt.link, frames[k].Link)
				want := t0.Add(time.Duration(k) * time.Millisecond)
				if !tt.nanos {
					want = want.Truncate(time.Microsecond)
				}
				assert.Equal(t, want, frames[k].Time, "timestamp resolution")
			}
		})
	}
}

func TestVXLAN(t *testing.T) {
	var buf bytes.Buffer
	w, err := capgen.NewPcap(&buf, 1, false)
	require.NoError(t, err)
	inner := capgen.Ethernet(capgen.IP(pkts[0], 10), 0)
	require.NoError(t, w.WriteFrame(t0, capgen.VXLAN(netip.MustParseAddr("10.0.1.10"), netip.MustParseAddr("10.0.9.9"), 1234, inner)))
	got, _, err := readAll(t, buf.Bytes(), true)
	require.NoError(t, err)
	assert.Equal(t, pkts[0].Src, got[0].Src, "the mirrored frame is judged")
	assert.Equal(t, uint16(443), got[0].DstPort)
	got, _, err = readAll(t, buf.Bytes(), false)
	require.NoError(t, err)
	assert.Equal(t, uint16(eni.VXLANPort), got[0].DstPort, "without --vxlan the outer packet is judged")
}

func TestTruncated(t *testing.T) {
	data := pcapFile(t, 1, false, func(b []byte) []byte { return capgen.Ethernet(b, 0) })
	for _, cut := range []int{len(data) - 5, len(data) - 60} {
		got, _, err := readAll(t, data[:cut], false)
		var te *capture.TruncatedError
		require.ErrorAs(t, err, &te, "cut at %d", cut)
		assert.Equal(t, 3, te.Frame)
		assert.Len(t, got, 2, "every complete frame is still read")
	}
}

func TestBadFiles(t *testing.T) {
	_, err := capture.NewReader(bytes.NewReader([]byte("hello world, not a capture")))
	assert.ErrorContains(t, err, "unknown magic")
	_, err = capture.NewReader(bytes.NewReader([]byte{1, 2}))
	assert.ErrorContains(t, err, "shorter than a capture header")
	var buf bytes.Buffer
	_, err = capgen.NewPcap(&buf, 105, false) // 802.11
	require.NoError(t, err)
	_, err = capture.NewReader(&buf)
	var ue *capture.UnsupportedLinkError
	require.ErrorAs(t, err, &ue)
	assert.ErrorContains(t, err, "link type 105 is not supported")
}

// TestReadFrameAgreesWithNext reads each capture both ways: the same
// frames, the same error at the end, and a frame zeroed when it comes.
func TestReadFrameAgreesWithNext(t *testing.T) {
	eth := func(b []byte) []byte { return capgen.Ethernet(b, 0) }
	var ng bytes.Buffer
	w, err := capgen.NewPcapng(&ng)
	require.NoError(t, err)
	for k, p := range pkts {
		require.NoError(t, w.WriteFrame(t0.Add(time.Duration(k)*time.Millisecond), eth(capgen.IP(p, 10))))
	}
	require.NoError(t, w.Flush())
	whole := pcapFile(t, 1, false, eth)
	tests := []struct {
		name string
		data []byte
		end  error
	}{
		{"pcap", whole, io.EOF},
		{"pcap cut short", whole[:len(whole)-5], &capture.TruncatedError{Frame: 3}},
		{"pcapng", ng.Bytes(), io.EOF},
		{"pcapng cut short", ng.Bytes()[:ng.Len()-5], &capture.TruncatedError{Frame: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, err := capture.NewReader(bytes.NewReader(tt.data))
			require.NoError(t, err)
			into, err := capture.NewReader(bytes.NewReader(tt.data))
			require.NoError(t, err)
			var f capture.Frame
			for k := 0; ; k++ {
				want, werr := next.Next()
				gerr := into.ReadFrame(&f)
				require.Equal(t, werr, gerr, "frame %d", k+1)
				if werr != nil {
					assert.Equal(t, tt.end, werr)
					assert.Equal(t, capture.Frame{}, f, "a failed read leaves the frame zero")
					// The error ends the capture, and is said again.
					assert.Equal(t, werr, into.ReadFrame(&f))
					break
				}
				assert.Equal(t, want.Number, f.Number)
				assert.Equal(t, want.Time, f.Time)
				assert.Equal(t, want.WireLen, f.WireLen)
				assert.Equal(t, want.Link, f.Link)
				assert.Equal(t, want.Data, f.Data)
			}
		})
	}
}

func TestReadNoAllocs(t *testing.T) {
	data := pcapFile(t, 1, false, func(b []byte) []byte { return capgen.Ethernet(b, 0) })
	big := append([]byte(nil), data...)
	rec := data[24:]
	for k := 0; k < 2000; k++ {
		big = append(big, rec...)
	}
	r, err := capture.NewReader(bytes.NewReader(big))
	require.NoError(t, err)
	d := eni.NewDecoder()
	var p eni.Packet
	_, _ = r.Next()
	allocs := testing.AllocsPerRun(1000, func() {
		f, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		capture.Decode(d, &f, false, &p)
	})
	assert.Zero(t, allocs)
}

func FuzzReader(f *testing.F) {
	t := &testing.T{}
	f.Add(pcapFile(t, 1, false, func(b []byte) []byte { return capgen.Ethernet(b, 0) }), true)
	f.Add(pcapFile(t, 276, true, capgen.LinuxSLL2), false)
	f.Add(pcapFile(t, 0, false, func(b []byte) []byte { return capgen.BSDLoopback(b, binary.LittleEndian) }), false)
	// Frames that a snapshot length of 60 bytes cut: a SYN's options.
	var snapped bytes.Buffer
	sw, _ := capgen.NewPcapSnaplen(&snapped, 1, false, 60)
	_ = sw.WriteFrame(t0, capgen.Ethernet(capgen.IPWithOptions(pkts[0], capgen.LinuxSYNOptions(), 0), 0))
	f.Add(snapped.Bytes(), false)
	var ng bytes.Buffer
	w, _ := capgen.NewPcapng(&ng)
	_ = w.WriteFrame(t0, capgen.Ethernet(capgen.IP(pkts[1], 3), 0))
	_ = w.Flush()
	f.Add(ng.Bytes(), false)
	f.Fuzz(func(t *testing.T, data []byte, vxlan bool) {
		r, err := capture.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		d := eni.NewDecoder()
		var p eni.Packet
		for k := 0; k < 1000; k++ {
			fr, err := r.Next()
			if err != nil {
				return
			}
			capture.Decode(d, &fr, vxlan, &p)
			_ = p.String()
		}
	})
}

// TestPcapngGuard reads pcapng files with blocks gopacket's reader
// would trust to its harm: a timestamp resolution whose divisor is zero
// (a panic), lengths that make it allocate gigabytes, blocks that do not
// add up. Each is refused with an error naming the block after the frames
// before it were read, without allocating what the bad field says; the
// reader then stays stopped. Valid variants read on.
func TestPcapngGuard(t *testing.T) {
	frame := capgen.Ethernet(capgen.IP(pkts[0], 10), 0)
	le := binary.LittleEndian
	poke := func(b []byte, off int, v uint32) []byte {
		b = slices.Clone(b)
		le.PutUint32(b[off:], v)
		return b
	}
	iface := capgen.PcapngInterface(0)
	packet := capgen.PcapngPacket(1, frame)
	// A name resolution block larger than any frame: skipped unread.
	nrb := slices.Concat(le.AppendUint32(nil, 4), le.AppendUint32(nil, 400_012), make([]byte, 400_000), le.AppendUint32(nil, 400_012))
	for _, tc := range []struct {
		name   string
		second []byte // the blocks after the first interface and frame
		want   string // the error of frame 2, or "" when it reads
	}{
		{"nanoseconds", slices.Concat(capgen.PcapngInterface(9), packet), ""},
		{"2^-20 seconds", slices.Concat(capgen.PcapngInterface(0x80|20), packet), ""},
		{"10^-19 seconds", slices.Concat(capgen.PcapngInterface(19), packet), ""},
		{"2^-64 seconds divides by zero", slices.Concat(capgen.PcapngInterface(0x80|64), packet),
			"the interface description block at byte 144 is malformed: its if_tsresol 0xc0 asks for a resolution finer"},
		{"10^-127 seconds overflows", slices.Concat(capgen.PcapngInterface(127), packet), "if_tsresol 0x7f"},
		{"10^-20 seconds overflows", slices.Concat(capgen.PcapngInterface(20), packet), "if_tsresol 0x14"},
		{"snapshot length 4 GiB", slices.Concat(poke(iface, 12, 0xffffffff), packet), ""},
		{"a name resolution block of 400 kB", slices.Concat(iface, nrb, packet), ""},
		{"captured length 4 GiB", slices.Concat(iface, poke(packet, 20, 0xffffffff)),
			"the packet block at byte 164 is malformed: its captured length 4294967295 does not fit the block's"},
		{"captured length past the block", slices.Concat(iface, poke(packet, 20, uint32(len(packet)-31))), "does not fit"},
		{"length not a multiple of 4", slices.Concat(iface, poke(packet, 4, uint32(len(packet)+2))), "is not a block length"},
		{"length of 4 GiB", slices.Concat(iface, poke(packet, 4, 0xfffffffc)), "more than a frame of 262144 bytes needs"},
		{"trailing length differs", slices.Concat(iface, poke(packet, len(packet)-4, 8)), "its trailing length 8 is not"},
		{"option past the block", slices.Concat(poke(capgen.PcapngInterface(9), 16, 9|200<<16), packet),
			"option 9 of 200 bytes runs past the block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := slices.Concat(capgen.PcapngSection(), capgen.PcapngInterface(0), capgen.PcapngPacket(0, frame), tc.second)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := capture.NewReader(bytes.NewReader(data))
			require.NoError(t, err)
			f, err := r.Next()
			require.NoError(t, err)
			assert.Equal(t, 1, f.Number)
			assert.Equal(t, frame, f.Data)
			f, err = r.Next()
			runtime.ReadMemStats(&after)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "allocated what a field said")
			if tc.want == "" {
				require.NoError(t, err)
				assert.Equal(t, 2, f.Number)
				assert.Equal(t, frame, f.Data)
				_, err = r.Next()
				assert.ErrorIs(t, err, io.EOF)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "frame 2: ")
			assert.Contains(t, err.Error(), tc.want)
			_, again := r.Next()
			assert.Equal(t, err, again, "the reader stays stopped")
		})
	}
}

// TestPcapngByteOrders reads a big-endian section after a little-endian
// one: each section's blocks are read in its own order.
func TestPcapngByteOrders(t *testing.T) {
	frame := capgen.Ethernet(capgen.IP(pkts[0], 10), 0)
	be := capgen.PcapngBlocks{Order: binary.BigEndian}
	data := slices.Concat(capgen.PcapngSection(), capgen.PcapngInterface(0), capgen.PcapngPacket(0, frame),
		be.Section(), be.Interface(9), be.Packet(0, frame))
	_, frames, err := readAll(t, data, false)
	require.NoError(t, err)
	require.Len(t, frames, 2)
	assert.Equal(t, int64(1_000_000_000), frames[0].Time.UnixNano(), "microseconds, the default")
	assert.Equal(t, int64(1_000_000), frames[1].Time.UnixNano(), "nanoseconds, as the second interface says")
}

// TestPcapngCutShort cuts a pcapng file inside its second frame's block:
// the first frame reads, then a *TruncatedError names the second.
func TestPcapngCutShort(t *testing.T) {
	frame := capgen.Ethernet(capgen.IP(pkts[0], 10), 0)
	data := slices.Concat(capgen.PcapngSection(), capgen.PcapngInterface(0), capgen.PcapngPacket(0, frame), capgen.PcapngPacket(0, frame))
	for _, cut := range []int{1, 8, 30, len(frame)} {
		r, err := capture.NewReader(bytes.NewReader(data[:len(data)-cut]))
		require.NoError(t, err)
		_, err = r.Next()
		require.NoError(t, err)
		_, err = r.Next()
		var trunc *capture.TruncatedError
		require.ErrorAs(t, err, &trunc, "cut %d bytes short", cut)
		assert.Equal(t, 2, trunc.Frame)
	}
}

// TestSnapshotLength reads captures whose header gives a snapshot length
// of 0 or 4 GiB: like tcpdump and Wireshark, the reader takes frames up to
// MaxFrame bytes whatever it says, and allocates no more for them.
func TestSnapshotLength(t *testing.T) {
	frame := capgen.Ethernet(capgen.IP(pkts[0], 10), 0)
	pcap := func(snap uint32) []byte {
		b := pcapOf(t, frame)
		binary.LittleEndian.PutUint32(b[16:], snap)
		return b
	}
	ng := func(snap uint32) []byte {
		iface := capgen.PcapngInterface(0)
		binary.LittleEndian.PutUint32(iface[12:], snap)
		return slices.Concat(capgen.PcapngSection(), iface, capgen.PcapngPacket(0, frame))
	}
	for name, data := range map[string][]byte{
		"pcap 0": pcap(0), "pcap 4 GiB": pcap(0xffffffff), "pcapng 0": ng(0), "pcapng 4 GiB": ng(0xffffffff),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, frames, err := readAll(t, data, false)
		runtime.ReadMemStats(&after)
		require.NoError(t, err, name)
		assert.Len(t, frames, 1, name)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), name)
	}
}

// TestPcapFrameTooLarge reads a classic pcap whose second frame says it
// holds more than MaxFrame bytes: the first frame reads, then an error
// names the second, again on every later call.
func TestPcapFrameTooLarge(t *testing.T) {
	frame := capgen.Ethernet(capgen.IP(pkts[0], 10), 0)
	data := pcapOf(t, frame, frame)
	second := 24 + 16 + len(frame)
	binary.LittleEndian.PutUint32(data[second+8:], capture.MaxFrame+1)  // captured length
	binary.LittleEndian.PutUint32(data[second+12:], capture.MaxFrame+1) // length on the wire
	r, err := capture.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	_, err = r.Next()
	require.NoError(t, err)
	_, err = r.Next()
	require.Error(t, err)
	assert.Equal(t, "frame 2: capture length exceeds snap length: 262145 > 262144", err.Error())
	_, again := r.Next()
	assert.Equal(t, err, again)
}

// TestPcapngLargeFrame reads a frame larger than the reader's buffer (a
// capture of GRO-merged segments holds such frames) between two small
// ones: the guard reads it into a buffer of its own rather than checking
// it in place.
func TestPcapngLargeFrame(t *testing.T) {
	small := capgen.Ethernet(capgen.IP(pkts[0], 10), 0)
	large := bytes.Repeat([]byte{0xa5}, 100_000)
	data := slices.Concat(capgen.PcapngSection(), capgen.PcapngInterface(0),
		capgen.PcapngPacket(0, small), capgen.PcapngPacket(0, large), capgen.PcapngPacket(0, small))
	r, err := capture.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	for k, want := range [][]byte{small, large, small} {
		f, err := r.Next()
		require.NoError(t, err, "frame %d", k+1)
		assert.Equal(t, want, f.Data, "frame %d", k+1)
	}
	_, err = r.Next()
	assert.ErrorIs(t, err, io.EOF)
}

// TestReadError reads captures whose source fails midway, as a disk or a
// network file system may: the error is the source's, not a cut, and the
// frames before it are read.
func TestReadError(t *testing.T) {
	frame := capgen.Ethernet(capgen.IP(pkts[0], 10), 0)
	ng := slices.Concat(capgen.PcapngSection(), capgen.PcapngInterface(0), capgen.PcapngPacket(0, frame), capgen.PcapngPacket(0, frame))
	failure := errors.New("input/output error")
	for name, data := range map[string][]byte{"pcap": pcapOf(t, frame, frame), "pcapng": ng} {
		src := io.MultiReader(bytes.NewReader(data[:len(data)-20]), iotest.ErrReader(failure))
		r, err := capture.NewReader(src)
		require.NoError(t, err, name)
		_, err = r.Next()
		require.NoError(t, err, name)
		_, err = r.Next()
		assert.ErrorContains(t, err, "frame 2: input/output error", name)
		var trunc *capture.TruncatedError
		assert.False(t, errors.As(err, &trunc), name)
	}
}

// pcapOf is an Ethernet pcap of the frames, all at t0.
func pcapOf(t *testing.T, frames ...[]byte) []byte {
	var buf bytes.Buffer
	w, err := capgen.NewPcap(&buf, 1, false)
	require.NoError(t, err)
	for _, f := range frames {
		require.NoError(t, w.WriteFrame(t0, f))
	}
	return buf.Bytes()
}

// TestBSDLoopbackFamilies: a BSD loopback frame's address family says IP
// in either byte order and in each system's number for IPv6; another
// family is not IP, and a frame too short for the family is malformed.
func TestBSDLoopbackFamilies(t *testing.T) {
	ip6 := capgen.IP(pkts[1], 0)
	family := func(af uint32, order binary.AppendByteOrder) []byte {
		return append(order.AppendUint32(nil, af), ip6...)
	}
	tests := []struct {
		name string
		data []byte
		want eni.Status
	}{
		{"NetBSD and OpenBSD IPv6", family(24, binary.LittleEndian), eni.Decoded},
		{"FreeBSD IPv6", family(28, binary.LittleEndian), eni.Decoded},
		{"macOS IPv6", family(30, binary.LittleEndian), eni.Decoded},
		{"macOS IPv6, a big-endian host", family(30, binary.BigEndian), eni.Decoded},
		{"AppleTalk", family(16, binary.LittleEndian), eni.NotIP},
		{"a family and nothing else", family(2, binary.LittleEndian)[:4], eni.Malformed},
		{"too short for a family", []byte{2, 0}, eni.Malformed},
	}
	d := eni.NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, link := range []capture.Link{capture.LinkNull, capture.LinkLoop} {
				var p eni.Packet
				capture.Decode(d, &capture.Frame{Data: tt.data, Link: link}, false, &p)
				require.Equal(t, tt.want, p.Status, "%v", link)
				if tt.want == eni.Decoded {
					assert.Equal(t, pkts[1].Src, p.Src)
					assert.Equal(t, uint16(53), p.DstPort)
				}
			}
		})
	}
}
