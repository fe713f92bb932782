package replay_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/capture"
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

// TestRunMatchesJudge checks that Run, which reads and judges frames in
// batches, hands fn every frame in order with its own bytes and the same
// result as judging the frames one at a time.
func TestRunMatchesJudge(t *testing.T) {
	frames := sampleFrames(t)
	one, _ := sampleReplay(t)
	var want []string
	for k := range frames {
		res := one.Judge(&frames[k])
		want = append(want, res.Verdict.String()+" "+res.Path.String())
	}

	batched, rd := sampleReplay(t)
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
}

// TestRunStopsAtFnError checks that Run returns fn's error at once, having
// passed no later frame to fn, and that the summary still counts every
// frame it judged.
func TestRunStopsAtFnError(t *testing.T) {
	rp, rd := sampleReplay(t)
	stop := errors.New("stop")
	calls := 0
	err := rp.Run(rd, func(res *replay.Result) error {
		calls++
		if res.Frame.Number == 5 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 5, calls)
	// Every frame judged is counted: the summary is the one a replay of
	// exactly those frames, one at a time, gives.
	s := rp.Summary()
	require.GreaterOrEqual(t, s.Frames, 5)
	frames := sampleFrames(t)
	one, _ := sampleReplay(t)
	for k := range frames[:s.Frames] {
		one.Judge(&frames[k])
	}
	require.Equal(t, summaryText(one.Summary()), summaryText(s))
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
