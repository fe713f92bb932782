package replay_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/internal/capgen"
	"github.com/sgsim/sgsim/internal/sample"
	"github.com/sgsim/sgsim/replay"
)

// sampleFrames reads the embedded sample capture, each frame's bytes
// copied.
func sampleFrames(t *testing.T) []capture.Frame {
	rd, err := capture.NewReader(bytes.NewReader(sample.Capture()))
	require.NoError(t, err)
	var frames []capture.Frame
	for {
		f, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return frames
		}
		require.NoError(t, err)
		f.Data = bytes.Clone(f.Data)
		frames = append(frames, f)
	}
}

// bigFrames is a capture of the sample's traffic more than twice the
// frames Run has in flight at once, and its frames, each with its bytes.
func bigFrames(t *testing.T) ([]byte, []capture.Frame) {
	data := pcapOf(t, sample.Frames(20000))
	rd, err := capture.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	var frames []capture.Frame
	for {
		f, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return data, frames
		}
		require.NoError(t, err)
		f.Data = bytes.Clone(f.Data)
		frames = append(frames, f)
	}
}

// replayOf returns a replayer of the sample's network and a reader of
// the capture.
func replayOf(t *testing.T, data []byte) (*replay.Replayer, *capture.Reader) {
	rd, err := capture.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	return newReplayer(t), rd
}

func newReplayer(t *testing.T) *replay.Replayer {
	res, err := ec2json.Load(sample.Configs()...)
	require.NoError(t, err)
	return replay.New(res.Network, replay.Options{})
}

// TestRunMatchesJudge checks that Run, which reads and decodes frames
// ahead on a goroutine of its own and judges them in batches, hands fn
// every frame in order with its own bytes and the same result as judging
// the frames one at a time; and that without fn the summary is the same.
func TestRunMatchesJudge(t *testing.T) {
	data, frames := bigFrames(t)
	one, _ := replayOf(t, data)
	var want []string
	for k := range frames {
		res := one.Judge(&frames[k])
		want = append(want, res.Verdict.String()+" "+res.Path.String())
	}

	batched, rd := replayOf(t, data)
	k := 0
	require.NoError(t, batched.Run(rd, func(res *replay.Result) error {
		require.Less(t, k, len(frames))
		require.Equal(t, frames[k].Number, res.Frame.Number, "frame %d", k+1)
		require.Equal(t, frames[k].Data, res.Frame.Data, "frame %d", k+1)
		require.Equal(t, want[k], res.Verdict.String()+" "+res.Path.String(), "frame %d", k+1)
		k++
		return nil
	}))
	require.Equal(t, len(frames), k)
	require.Equal(t, summaryText(one.Summary()), summaryText(batched.Summary()))

	quiet, rd := replayOf(t, data)
	require.NoError(t, quiet.Run(rd, nil))
	require.Equal(t, summaryText(one.Summary()), summaryText(quiet.Summary()))
}

// TestRunStopsAtFnError checks that Run returns fn's error at once,
// having passed no later frame to fn, that the summary counts exactly the
// frames it judged, and that the reader is the caller's again: the race
// detector watches the reads after Run returns.
func TestRunStopsAtFnError(t *testing.T) {
	data, frames := bigFrames(t)
	for _, at := range []int{1, 5, 600, 3001, len(frames)} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			rp, rd := replayOf(t, data)
			stop := errors.New("stop")
			calls := 0
			err := rp.Run(rd, func(res *replay.Result) error {
				calls++
				if res.Frame.Number == at {
					return stop
				}
				return nil
			})
			require.ErrorIs(t, err, stop)
			require.Equal(t, at, calls)
			// Every frame judged is counted: the summary is the one a
			// replay of exactly those frames, one at a time, gives.
			s := rp.Summary()
			require.GreaterOrEqual(t, s.Frames, at)
			one, _ := replayOf(t, data)
			for k := range frames[:s.Frames] {
				one.Judge(&frames[k])
			}
			require.Equal(t, summaryText(one.Summary()), summaryText(s))

			// Frames read ahead are gone; the reader goes on after them.
			var f capture.Frame
			if err := rd.ReadFrame(&f); err == nil {
				require.Greater(t, f.Number, s.Frames)
			} else {
				require.ErrorIs(t, err, io.EOF)
			}
		})
	}
}

// TestRunWaitsForItsReader checks that Run, stopped by fn while its
// reading goroutine is inside a read, returns only once that read is
// over: the reader is not used after Run returns.
func TestRunWaitsForItsReader(t *testing.T) {
	data, frames := bigFrames(t)
	// Serve the first 600 frames, then hold the next read until released.
	off := 24
	for _, f := range frames[:600] {
		off += 16 + len(f.Data)
	}
	held := &heldReader{data: data, at: off, holding: make(chan struct{}), release: make(chan struct{})}
	rp := newReplayer(t)
	rd, err := capture.NewReader(held)
	require.NoError(t, err)
	var released atomic.Bool
	go func() {
		<-held.holding
		time.Sleep(20 * time.Millisecond)
		released.Store(true)
		close(held.release)
	}()
	stop := errors.New("stop")
	err = rp.Run(rd, func(res *replay.Result) error {
		if res.Frame.Number == 5 {
			<-held.holding // the reading goroutine is inside the held read
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.True(t, released.Load(), "Run returned while its reader was still reading")
}

// heldReader reads data, but blocks the read that would pass offset at
// until release is closed.
type heldReader struct {
	data    []byte
	off, at int
	holding chan struct{}
	release chan struct{}
}

func (h *heldReader) Read(p []byte) (int, error) {
	if h.off >= len(h.data) {
		return 0, io.EOF
	}
	if h.off == h.at {
		close(h.holding)
		<-h.release
	}
	end := len(h.data)
	if h.off < h.at {
		end = h.at
	}
	n := copy(p, h.data[h.off:end])
	h.off += n
	return n, nil
}

// TestRunKeepsBigFrames checks that fn sees each frame's own bytes when
// frames are large (a host's capture with segmentation offload), so that
// batches fill by bytes rather than by frames.
func TestRunKeepsBigFrames(t *testing.T) {
	web := netip.AddrPortFrom(netip.MustParseAddr("10.20.1.10"), 443)
	client := netip.AddrPortFrom(netip.MustParseAddr("198.51.100.7"), 50000)
	var frames []sample.Frame
	at := sample.Start
	for k := range 200 {
		p := eni.TCP(client, web, eni.ACK)
		if k%2 == 1 {
			p = eni.TCP(web, client, eni.ACK)
		}
		at = at.Add(time.Millisecond)
		frame := capgen.Ethernet(capgen.IP(p, 20_000+k*200), 0)
		frames = append(frames, sample.Frame{Time: at, Data: frame})
	}
	rp, rd := replayOf(t, pcapOf(t, frames))
	k := 0
	require.NoError(t, rp.Run(rd, func(res *replay.Result) error {
		require.Equal(t, frames[k].Data, res.Frame.Data, "frame %d", k+1)
		k++
		return nil
	}))
	require.Equal(t, len(frames), k)
}

// TestRunTruncated checks that a capture cut inside a frame still has
// every complete frame judged and passed to fn before Run reports the
// cut, wherever in Run's batches the cut falls.
func TestRunTruncated(t *testing.T) {
	data, frames := bigFrames(t)
	for _, keep := range []int{0, 1, 15, 16, 17, 511, 512, 513, 1023, 1024, 1025, 2048, 4000, 12000} {
		t.Run(fmt.Sprint(keep), func(t *testing.T) {
			// The offset of frame keep+1 in the file: a 24-byte file
			// header, then each frame's 16-byte header and bytes.
			off := 24
			for _, f := range frames[:keep] {
				off += 16 + len(f.Data)
			}
			rp, rd := replayOf(t, data[:off+16+3]) // frame keep+1's header and 3 of its bytes
			seen := 0
			err := rp.Run(rd, func(res *replay.Result) error {
				seen++
				require.Equal(t, seen, res.Frame.Number)
				return nil
			})
			var trunc *capture.TruncatedError
			require.ErrorAs(t, err, &trunc)
			require.Equal(t, keep+1, trunc.Frame)
			require.Equal(t, keep, seen)
			require.Equal(t, keep, rp.Summary().Frames)

			// Without fn, the verdicts are counted on the reading
			// goroutine: every judged frame still is, once.
			quiet, rd := replayOf(t, data[:off+16+3])
			require.ErrorAs(t, quiet.Run(rd, nil), &trunc)
			require.Equal(t, summaryText(rp.Summary()), summaryText(quiet.Summary()))
		})
	}
}

// TestRunCountsAddUp judges a capture in three parts, one frame at a
// time, by a Run without fn and by a Run with one, on one replayer: the
// summary is that of judging the whole capture one frame at a time,
// wherever each part's frames were counted.
func TestRunCountsAddUp(t *testing.T) {
	data, frames := bigFrames(t)
	one, _ := replayOf(t, data)
	for k := range frames {
		one.Judge(&frames[k])
	}

	parts := newReplayer(t)
	a, b := 1000, 17500 // not at batch boundaries; the middle part reuses each batch
	for k := range frames[:a] {
		parts.Judge(&frames[k])
	}
	for _, part := range []struct {
		frames []capture.Frame
		fn     func(*replay.Result) error
	}{{frames[a:b], nil}, {frames[b:], func(*replay.Result) error { return nil }}} {
		var buf bytes.Buffer
		w, err := capgen.NewPcap(&buf, 1, false)
		require.NoError(t, err)
		for _, f := range part.frames {
			require.NoError(t, w.WriteFrame(f.Time, f.Data))
		}
		rd, err := capture.NewReader(&buf)
		require.NoError(t, err)
		require.NoError(t, parts.Run(rd, part.fn))
	}
	require.Equal(t, summaryText(one.Summary()), summaryText(parts.Summary()))
}

// summaryText renders what a summary says, by interface ID and stage
// text, so that summaries of two networks built alike compare equal.
func summaryText(s *replay.Summary) []string {
	out := []string{fmt.Sprint(s.Frames, s.Accepted, s.Rejected, s.Skipped, s.NotIP, s.Unwrapped, s.First, s.Last, s.OtherRejected)}
	for _, c := range s.Interfaces {
		out = append(out, fmt.Sprint(c.Interface.ID(), c.InAccepted, c.InRejected, c.OutAccepted, c.OutRejected, c.TrackedPeak, c.TableFull))
	}
	for _, f := range s.RejectedFlows() {
		out = append(out, fmt.Sprint(f.Src, f.Dst, f.Proto, f.DstPort, f.Stage.Kind, f.Stage.Explain(), f.Also, f.Frames, f.First, f.Last))
	}
	return out
}

// TestRunAllocatesNothingPerFrame replays a capture, then the same
// capture an hour later, and requires the second run to allocate no more
// than Run's own few one-off allocations (its goroutine and channels),
// however many frames it judges.
func TestRunAllocatesNothingPerFrame(t *testing.T) {
	frames := sample.Frames(6000)
	later := make([]sample.Frame, len(frames))
	for k, f := range frames {
		later[k] = sample.Frame{Time: f.Time.Add(time.Hour), Data: f.Data}
	}
	rp := newReplayer(t)
	for pass, data := range [][]byte{pcapOf(t, frames), pcapOf(t, later)} {
		rd, err := capture.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		require.NoError(t, rp.Run(rd, nil))
		runtime.ReadMemStats(&after)
		if pass == 1 {
			require.LessOrEqual(t, after.Mallocs-before.Mallocs, uint64(16), "allocations for %d frames", len(frames))
		}
	}
	require.Equal(t, 2*len(frames), rp.Summary().Frames)
}

// TestRejectedFlowsCounted refuses many flows, each several times and
// interleaved, more flows than the replay remembers at once by hash: each
// refused flow is counted once, with all its frames.
func TestRejectedFlowsCounted(t *testing.T) {
	scanner := netip.MustParseAddr("192.0.2.66")
	web := netip.MustParseAddr("10.20.1.10")
	var frames []sample.Frame
	at := sample.Start
	const flows, tries = 1000, 3
	for range tries {
		for k := range flows {
			at = at.Add(time.Millisecond)
			p := eni.TCP(netip.AddrPortFrom(scanner, 40000), netip.AddrPortFrom(web, uint16(1000+k)), eni.SYN)
			frames = append(frames, sample.Frame{Time: at, Data: capgen.Ethernet(capgen.IP(p, 0), 0)})
		}
	}
	rp, rd := replayOf(t, pcapOf(t, frames))
	require.NoError(t, rp.Run(rd, nil))
	s := rp.Summary()
	// web-1 lets in only 22 (from the admins), 80 and 443: every port
	// here is refused.
	got := s.RejectedFlows()
	require.Len(t, got, flows)
	for _, f := range got {
		require.Equal(t, tries, f.Frames, "%s → %s:%d", f.Src, f.Dst, f.DstPort)
	}
	require.Equal(t, flows*tries, s.Rejected)
}
