package replay

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/internal/sample"
)

// TestCountsMerge counts the sample's frames in one place, and again
// split at random between two that are then merged, as a Run splits them
// between its goroutines: the figures are the same.
func TestCountsMerge(t *testing.T) {
	res, err := ec2json.Load(sample.Configs()...)
	require.NoError(t, err)
	rp := New(res.Network, Options{})
	rd, err := capture.NewReader(bytes.NewReader(sample.Capture()))
	require.NoError(t, err)
	var whole, judging, reading frameCounts
	rng := rand.New(rand.NewPCG(3, 5))
	for {
		f, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		r := rp.Judge(&f)
		notIP := r.Path.Packet.Status == eni.NotIP
		whole.add(f.Time, r.Unwrapped, notIP, r.Verdict, r.Path.Src, r.Path.Dst, viasOf(&r.Path))
		part := &judging
		if rng.IntN(2) == 0 {
			part = &reading
		}
		part.add(f.Time, r.Unwrapped, notIP, r.Verdict, r.Path.Src, r.Path.Dst, viasOf(&r.Path))
	}
	require.NotZero(t, judging.frames)
	require.NotZero(t, reading.frames)
	judging.merge(&reading)
	require.Equal(t, whole, judging)

	var empty frameCounts
	empty.merge(&whole)
	require.Equal(t, whole, empty, "merged into nothing")
	reading.reset()
	require.Zero(t, reading.frames)
	require.Empty(t, reading.ifaces)
}
