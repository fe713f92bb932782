package sample

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/internal/capgen"
)

var update = flag.Bool("update", false, "rewrite data/capture.pcap")

func pcapOf(t *testing.T, frames []Frame) []byte {
	var buf bytes.Buffer
	w, err := capgen.NewPcap(&buf, 1, false)
	require.NoError(t, err)
	for _, f := range frames {
		require.NoError(t, w.WriteFrame(f.Time, f.Data))
	}
	return buf.Bytes()
}

// TestCaptureIsGenerated keeps the committed capture equal to what the
// generator makes; run with -update after changing the story.
func TestCaptureIsGenerated(t *testing.T) {
	want := pcapOf(t, Frames(300))
	if *update {
		require.NoError(t, os.WriteFile("data/capture.pcap", want, 0o644))
	}
	assert.True(t, bytes.Equal(want, Capture()), "data/capture.pcap is stale: go test ./internal/sample -update")
	assert.Len(t, Configs(), 7)
}
