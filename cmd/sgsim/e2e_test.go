package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/internal/sample"
)

// TestEndToEnd builds the tool and runs it as a user would.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "sgsim")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	exe := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return o.String(), e.String(), code
	}

	out, errOut, code := exe("replay")
	assert.Equal(t, 0, code)
	assert.Empty(t, errOut, "no progress bar when stderr is not a terminal")
	assert.True(t, strings.HasPrefix(out, "Replayed sample/capture.pcap (pcap): 348 frames"), out)
	assert.Contains(t, out, "UNUSED RULES")

	cfg := sampleConfig(t)
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	require.NoError(t, os.WriteFile(cut, sample.Capture()[:5000], 0o644))
	out, errOut, code = exe(append([]string{"replay", "--pcap", cut}, cfg...)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Replayed "+cut)
	assert.Regexp(t, `^sgsim: .*cut.pcap: the capture is cut short inside frame \d+; frames before it were read\n$`, errOut)

	_, errOut, code = exe("replay", "--pcap", "/nonexistent.pcap", "--config", "/nonexistent.json")
	assert.Equal(t, 2, code)
	assert.Equal(t, "sgsim: /nonexistent.json: cannot read: no such file or directory\n", errOut)

	out, _, code = exe(append(append([]string{"check"}, cfg...), "--src", "10.20.1.10", "--dst", "10.20.2.10", "--protocol", "tcp", "--port", "8080")...)
	assert.Equal(t, 0, code, out)
	_, _, code = exe(append(append([]string{"check"}, cfg...), "--src", "10.20.1.10", "--dst", "10.20.3.10", "--protocol", "tcp", "--port", "5432")...)
	assert.Equal(t, 1, code)
	_, errOut, code = exe("check", "--src", "x")
	assert.Equal(t, 2, code)
	assert.Equal(t, 1, strings.Count(errOut, "\n"))

	_, errOut, code = exe(append([]string{"audit", "--fail-on", "critical"}, cfg...)...)
	assert.Equal(t, 0, code, errOut)
	out, errOut, code = exe(append([]string{"audit", "--fail-on", "critical"}, riskyConfig(t)...)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "CRITICAL EC2.19")
	assert.Equal(t, "sgsim: audit: 1 finding(s) at critical or worse\n", errOut)
	_, errOut, code = exe(append([]string{"audit", "--format", "xml"}, cfg...)...)
	assert.Equal(t, 2, code)
	assert.Equal(t, 1, strings.Count(errOut, "\n"))

	_, errOut, code = exe()
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "Usage:")
}
