package main

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/internal/capgen"
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

	// A block the reader cannot take in the middle of a capture: the frame
	// before it is reported in full, in every format, then one line and
	// status 2.
	frame := capgen.Ethernet(capgen.IP(eni.TCP(netip.MustParseAddrPort("198.51.100.7:50000"),
		netip.MustParseAddrPort("10.20.1.10:443"), eni.SYN), 0), 0)
	bad := filepath.Join(t.TempDir(), "bad.pcapng")
	require.NoError(t, os.WriteFile(bad, slices.Concat(capgen.PcapngSection(), capgen.PcapngInterface(0),
		capgen.PcapngPacket(0, frame), capgen.PcapngInterface(0x80|64), capgen.PcapngPacket(1, frame)), 0o644))
	for format, want := range map[string]string{
		"summary": "1 accepted, 0 rejected",
		"jsonl":   `{"frame":1,`,
		"flowlog": " 198.51.100.7 10.20.1.10 50000 443 6 1 40 1 1 ACCEPT OK\n",
	} {
		out, errOut, code = exe(append([]string{"replay", "--format", format, "--pcap", bad}, cfg...)...)
		assert.Equal(t, 2, code, format)
		assert.Contains(t, out, want, format)
		assert.Regexp(t, `^sgsim: .*bad.pcapng: frame 2: the interface description block at byte \d+ is malformed: its if_tsresol 0xc0 .+\n$`, errOut, format)
	}

	// A capture piped in, as from tcpdump -w -: the same verdicts as from
	// the file; cut short, the same line and status.
	pipe := func(input []byte, args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		var o, e bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(input), &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return o.String(), e.String(), ee.ExitCode()
		}
		require.NoError(t, err)
		return o.String(), e.String(), 0
	}
	fromFile, _, _ := exe(append([]string{"replay", "--format", "jsonl", "--pcap", cut}, cfg...)...)
	out, errOut, code = pipe(sample.Capture()[:5000], append([]string{"replay", "--format", "jsonl", "--pcap", "-"}, cfg...)...)
	assert.Equal(t, 1, code)
	assert.Equal(t, fromFile, out)
	assert.Regexp(t, `^sgsim: stdin: the capture is cut short inside frame \d+; frames before it were read\n$`, errOut)

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

	// What Windows PowerShell 5.1's "aws ec2 describe-... > file" saves:
	// UTF-16 with a byte order mark. The same verdicts as from UTF-8.
	pcap := filepath.Join(t.TempDir(), "sample.pcap")
	require.NoError(t, os.WriteFile(pcap, sample.Capture(), 0o644))
	utf8Out, _, code := exe(append([]string{"replay", "--format", "jsonl", "--pcap", pcap}, cfg...)...)
	require.Equal(t, 0, code)
	wide := slices.Clone(cfg)
	for k := 1; k < len(wide); k += 2 {
		data, err := os.ReadFile(wide[k])
		require.NoError(t, err)
		text := utf16.Encode([]rune(string(data)))
		out := []byte{0xff, 0xfe}
		for _, u := range text {
			out = append(out, byte(u), byte(u>>8))
		}
		wide[k] = filepath.Join(t.TempDir(), filepath.Base(wide[k]))
		require.NoError(t, os.WriteFile(wide[k], out, 0o644))
	}
	out, errOut, code = exe(append([]string{"replay", "--format", "jsonl", "--pcap", pcap}, wide...)...)
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, utf8Out, out)
	assert.Equal(t, 348, strings.Count(out, "\n"))
}
