package main

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/internal/capgen"
	"github.com/sgsim/sgsim/internal/sample"
	"github.com/sgsim/sgsim/replay"
)

// TestProgressDuringReplay draws the bar as a replay goes, as on a
// terminal: the bar reads the count of bytes while the replay's reading
// goroutine adds to it (the race detector watches).
func TestProgressDuringReplay(t *testing.T) {
	var capBuf bytes.Buffer
	w, err := capgen.NewPcap(&capBuf, 1, false)
	require.NoError(t, err)
	for _, f := range sample.Frames(60_000) {
		require.NoError(t, w.WriteFrame(f.Time, f.Data))
	}
	// Small reads, so that the count changes all the while.
	counter := &countingReader{r: smallReads{bytes.NewReader(capBuf.Bytes())}}
	rd, err := capture.NewReader(counter)
	require.NoError(t, err)
	res, err := ec2json.Load(sample.Configs()...)
	require.NoError(t, err)

	var bar bytes.Buffer
	prog := newProgress(&bar, int64(capBuf.Len()), counter)
	prog.enabled, prog.start = true, time.Now().Add(-time.Hour) // a terminal, and past the delay
	rp := replay.New(res.Network, replay.Options{})
	require.NoError(t, rp.Run(rd, func(*replay.Result) error { prog.tick(); return nil }))
	prog.done()
	require.Contains(t, bar.String(), "replaying")
	require.Contains(t, bar.String(), "%")
	require.Equal(t, int64(capBuf.Len()), counter.n.Load())

	// Piped in, the size is unknown: the bytes read so far.
	counter = &countingReader{r: smallReads{bytes.NewReader(capBuf.Bytes())}}
	rd, err = capture.NewReader(counter)
	require.NoError(t, err)
	bar.Reset()
	prog = newProgress(&bar, 0, counter)
	prog.enabled, prog.start = true, time.Now().Add(-time.Hour)
	require.NoError(t, replay.New(res.Network, replay.Options{}).Run(rd, func(*replay.Result) error { prog.tick(); return nil }))
	prog.done()
	require.Regexp(t, `replaying \([0-9.]+ [kMG]?B, `, bar.String())
	require.NotContains(t, bar.String(), "%")
}

type smallReads struct{ r io.Reader }

func (s smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), 64)]) }
