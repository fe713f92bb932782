package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/internal/capgen"
	"github.com/sgsim/sgsim/internal/sample"
)

// riskyConfig is the sample with a web group that opens far too much, so
// that every severity shows.
func riskyConfig(t *testing.T) []string {
	cfg := sampleConfig(t)
	dir := filepath.Dir(cfg[1])
	p := filepath.Join(dir, "security-groups.json")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	risky := strings.Replace(string(data), `"FromPort": 80,`, `"FromPort": 0,`, 1) // 0-80 from anywhere: 21, 22, 23, 25 ...
	require.NoError(t, os.WriteFile(p, []byte(risky), 0o644))
	return cfg
}

func TestAuditFormats(t *testing.T) {
	cfg := riskyConfig(t)
	dir := filepath.Dir(cfg[1])
	for _, format := range []string{"table", "json", "sarif"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := sgsim(t, append([]string{"audit", "--format", format}, cfg...)...)
			require.Equal(t, 0, code, errOut)
			golden(t, "audit-"+format, strings.ReplaceAll(out, dir+"/", "CONFIG/"))
		})
	}
}

// TestSARIFSchema validates the SARIF output against the SARIF 2.1.0
// schema. The schema comes from the npm package @microsoft/jest-sarif,
// which .ci/run unpacks and names in SGSIM_SARIF_SCHEMA; without it the
// test is skipped on a developer's machine and fails in CI.
func TestSARIFSchema(t *testing.T) {
	path := os.Getenv("SGSIM_SARIF_SCHEMA")
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SGSIM_SARIF_SCHEMA is not set: .ci/run should provide the SARIF 2.1.0 schema")
		}
		t.Skip("SGSIM_SARIF_SCHEMA not set (.ci/run sets it)")
	}
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("sarif.json", doc))
	schema, err := c.Compile("sarif.json")
	require.NoError(t, err)

	cfg := riskyConfig(t)
	out, _, code := sgsim(t, append([]string{"audit", "--format", "sarif"}, cfg...)...)
	require.Equal(t, 0, code)
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	require.NoError(t, err)
	require.NoError(t, schema.Validate(inst))

	// And the validator does reject a broken log.
	var log map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &log))
	log["version"] = "2.0"
	broken, _ := json.Marshal(log)
	inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(broken))
	require.NoError(t, err)
	assert.Error(t, schema.Validate(inst))
}

func TestAuditFailOn(t *testing.T) {
	cfg := riskyConfig(t)
	tests := []struct {
		failOn string
		code   int
	}{{"", 0}, {"critical", 1}, {"high", 1}, {"info", 1}}
	for _, tt := range tests {
		args := append([]string{"audit"}, cfg...)
		if tt.failOn != "" {
			args = append(args, "--fail-on", tt.failOn)
		}
		_, errOut, code := sgsim(t, args...)
		assert.Equal(t, tt.code, code, "--fail-on %q: %s", tt.failOn, errOut)
	}
	// The unmodified sample has no critical finding.
	_, _, code := sgsim(t, append([]string{"audit", "--fail-on", "critical"}, sampleConfig(t)...)...)
	assert.Equal(t, 0, code)
	_, errOut, code := sgsim(t, append([]string{"audit", "--fail-on", "severe"}, cfg...)...)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `"severe" is not a severity`)
}

func TestAuditUnusedRules(t *testing.T) {
	cfg := sampleConfig(t)
	p := filepath.Join(t.TempDir(), "sample.pcap")
	require.NoError(t, os.WriteFile(p, sample.Capture(), 0o644))
	out, errOut, code := sgsim(t, append([]string{"audit", "--format", "json", "--pcap", p}, cfg...)...)
	require.Equal(t, 0, code, errOut)
	var fs []findingJSON
	require.NoError(t, json.Unmarshal([]byte(out), &fs))
	var unused []string
	for _, f := range fs {
		if f.ID == "SGSIM.UNUSED_RULE" {
			unused = append(unused, f.Rule)
			assert.Contains(t, f.Message, "(1m15s, 2026-11-02T09:30:00Z to 2026-11-02T09:31:15Z)")
		}
	}
	assert.Equal(t, []string{"sgr-0000000000000000b", "sgr-0000000000000000d"}, unused)
}

// TestAuditCutCapture audits with captures that cannot be read to their
// end: one cut short, as tcpdump leaves one when it is killed (status 1),
// and one with a malformed block (status 2). Either way the frames before
// the fault count, the findings are written, and one line on stderr says
// what went wrong.
func TestAuditCutCapture(t *testing.T) {
	cfg := sampleConfig(t)
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.pcap")
	require.NoError(t, os.WriteFile(cut, sample.Capture()[:5000], 0o644))
	bad := filepath.Join(dir, "bad.pcapng")
	first := sample.Frames(1)[0].Data
	require.NoError(t, os.WriteFile(bad, slices.Concat(capgen.PcapngSection(), capgen.PcapngInterface(0),
		capgen.PcapngPacket(0, first), capgen.PcapngInterface(0x80|64), capgen.PcapngPacket(1, first)), 0o644))
	for _, tc := range []struct {
		pcap, stderr string
		code, unused int
	}{
		// Of the 12 rules of groups in use, the first frames use 3.
		{cut, `^sgsim: .*cut.pcap: the capture is cut short inside frame \d+; frames before it were read\n$`, 1, 9},
		// One frame, a SYN to web-1's HTTPS, uses one.
		{bad, `^sgsim: .*bad.pcapng: frame 2: the interface description block at byte \d+ is malformed: .*if_tsresol.*\n$`, 2, 11},
	} {
		out, errOut, code := sgsim(t, append([]string{"audit", "--format", "json", "--pcap", tc.pcap}, cfg...)...)
		assert.Equal(t, tc.code, code, tc.pcap)
		assert.Regexp(t, tc.stderr, errOut)
		var fs []findingJSON
		require.NoError(t, json.Unmarshal([]byte(out), &fs), tc.pcap)
		unused := 0
		for _, f := range fs {
			if f.ID == "SGSIM.UNUSED_RULE" {
				unused++
				assert.Contains(t, f.Message, filepath.Base(tc.pcap))
			}
		}
		assert.Equal(t, tc.unused, unused, tc.pcap)
	}
}

// TestDiff narrows the web tier's SSH rule from the admins' prefix list to
// the office block: exactly the on-call engineer's SSH frames change.
func TestDiff(t *testing.T) {
	before := sampleConfig(t)
	after := sampleConfig(t)
	dir := filepath.Dir(after[1])
	p := filepath.Join(dir, "security-groups.json")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	web := strings.Index(string(data), `"GroupName": "web"`)
	require.Positive(t, web)
	narrowed := string(data[:web]) + strings.Replace(string(data[web:]),
		`"IpRanges": [],
                    "Ipv6Ranges": [],
                    "PrefixListIds": [{"PrefixListId": "pl-0a1b2c3d4e5f60001", "Description": "admins"}],`,
		`"IpRanges": [{"CidrIp": "203.0.113.0/28", "Description": "office"}],
                    "Ipv6Ranges": [],
                    "PrefixListIds": [],`, 1)
	require.NotEqual(t, string(data), narrowed)
	require.NoError(t, os.WriteFile(p, []byte(narrowed), 0o644))
	for k := range after {
		if after[k] == "--config" {
			after[k] = "--against"
		}
	}
	pcap := filepath.Join(t.TempDir(), "sample.pcap")
	require.NoError(t, os.WriteFile(pcap, sample.Capture(), 0o644))
	args := append(append([]string{"diff", "--pcap", pcap}, before...), after...)
	out, errOut, code := sgsim(t, args...)
	require.Equal(t, 0, code, errOut)
	golden(t, "diff-narrowed-ssh", out)
	assert.True(t, strings.HasPrefix(out, "10 of 348 frames change verdict, in 1 flows: 10 frames newly rejected, 0 newly accepted\n"), out)
	assert.Contains(t, out, "tcp 198.51.100.200 → 10.20.1.10:22")
	assert.NotContains(t, out, "203.0.113.5", "the office admin is not affected")

	// --fail-on: narrowing breaks traffic and lets nothing more in.
	for _, tt := range []struct {
		way  string
		code int
	}{{"newly-rejected", 1}, {"newly-accepted", 0}, {"any", 1}} {
		o, e, c := sgsim(t, append(args, "--fail-on", tt.way)...)
		assert.Equal(t, tt.code, c, "--fail-on %s", tt.way)
		assert.Equal(t, out, o, "--fail-on changes the exit status only")
		assert.Empty(t, e)
	}
	// The same configuration on both sides changes nothing.
	same := append([]string{"diff", "--pcap", pcap, "--fail-on", "any"}, before...)
	for k := 0; k < len(before); k += 2 {
		same = append(same, "--against", before[k+1])
	}
	o, _, c := sgsim(t, same...)
	assert.Equal(t, 0, c)
	assert.Equal(t, "0 of 348 frames change verdict, in 0 flows\n", o)
	_, e, c := sgsim(t, append(args, "--fail-on", "worse")...)
	assert.Equal(t, 2, c)
	assert.Equal(t, "sgsim: diff: --fail-on \"worse\": use newly-rejected, newly-accepted or any\n", e)
}
