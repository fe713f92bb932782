package ec2json_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/internal/sample"
)

// utf16Of encodes text as UTF-16 in the byte order given, with a byte
// order mark when bom is set: what Windows PowerShell 5.1's ">" writes.
func utf16Of(text []byte, order binary.AppendByteOrder, bom bool) []byte {
	var out []byte
	if bom {
		out = order.AppendUint16(out, 0xfeff)
	}
	for _, u := range utf16.Encode([]rune(string(text))) {
		out = order.AppendUint16(out, u)
	}
	return out
}

// groupsText is what a loaded network's groups say, rule by rule: the
// same for every encoding of the same files.
func groupsText(r *ec2json.Result) string {
	var s string
	for _, g := range r.Network.Groups().Groups() {
		s += fmt.Sprintf("%s %q:", g.ID, g.Description)
		for _, e := range g.Ingress {
			s += " in " + e.Rule.String()
		}
		for _, e := range g.Egress {
			s += " out " + e.Rule.String()
		}
		s += "\n"
	}
	return s
}

// accented is a group whose description has letters beyond ASCII, one
// of them beyond the Basic Multilingual Plane (a surrogate pair in
// UTF-16).
const accented = `{"SecurityGroups":[{"GroupId":"sg-0a1b2c3d4e5f6ffff","GroupName":"büro","OwnerId":"111122223333",
	"VpcId":"vpc-0a1b2c3d4e5f60001","Description":"Zugang für das Büro 🔒",
	"IpPermissions":[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"192.0.2.0/24","Description":"Bürozugang"}]}]}]}`

// TestTextEncodings loads the sample's files as shells and editors save
// what the AWS CLI prints: with a UTF-8 byte order mark, as UTF-16 either
// way round with or without one, with CRLF line ends. Each loads as the
// UTF-8 files do, and the lines errors and origins name are the file's.
func TestTextEncodings(t *testing.T) {
	configs := func() []ec2json.Source { return append(sample.Configs(), src("office.json", accented)) }
	want, err := ec2json.Load(configs()...)
	require.NoError(t, err)
	require.Contains(t, groupsText(want), `sg-0a1b2c3d4e5f6ffff "Zugang für das Büro 🔒": in tcp 22 from 192.0.2.0/24`)
	for _, tc := range []struct {
		name   string
		encode func([]byte) []byte
	}{
		{"UTF-8 with a byte order mark", func(b []byte) []byte { return append([]byte{0xef, 0xbb, 0xbf}, b...) }},
		{"UTF-16LE with a byte order mark", func(b []byte) []byte { return utf16Of(b, binary.LittleEndian, true) }},
		{"UTF-16BE with a byte order mark", func(b []byte) []byte { return utf16Of(b, binary.BigEndian, true) }},
		{"UTF-16LE", func(b []byte) []byte { return utf16Of(b, binary.LittleEndian, false) }},
		{"UTF-16BE", func(b []byte) []byte { return utf16Of(b, binary.BigEndian, false) }},
		{"CRLF line ends", func(b []byte) []byte { return []byte(strings.ReplaceAll(string(b), "\n", "\r\n")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sources := configs()
			for k := range sources {
				sources[k].Data = tc.encode(sources[k].Data)
			}
			got, err := ec2json.Load(sources...)
			require.NoError(t, err)
			assert.Equal(t, groupsText(want), groupsText(got))
			assert.Len(t, got.Network.Interfaces(), len(want.Network.Interfaces()))
			file, line, ok := got.Origin("sg-0a1b2c3d4e5f60002")
			assert.True(t, ok)
			assert.Equal(t, "sample/security-groups.json", file)
			assert.Equal(t, 106, line)

			// A mistake's line is the line in the file as saved.
			bad := src("sgs.json", "{\"SecurityGroups\": [\n  {\"GroupId\": \"sg-1\",\n   \"IpPermissions\": [}\n]}")
			bad.Data = tc.encode(bad.Data)
			_, err = ec2json.Load(bad)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "sgs.json: invalid JSON at line 3: ")
		})
	}
}

func TestTextEncodingErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"UTF-32LE", []byte{'{', 0, 0, 0, '}', 0, 0, 0}, "vpcs.json: is UTF-32 text: save it as UTF-8"},
		{"UTF-32BE", []byte{0, 0, 0, '{', 0, 0, 0, '}'}, "vpcs.json: is UTF-32 text: save it as UTF-8"},
		{"UTF-32LE with a byte order mark", []byte{0xff, 0xfe, 0, 0, '{', 0, 0, 0}, "vpcs.json: is UTF-32 text: save it as UTF-8"},
		{"UTF-32BE with a byte order mark", []byte{0, 0, 0xfe, 0xff, 0, 0, 0, '{'}, "vpcs.json: is UTF-32 text: save it as UTF-8"},
		{"UTF-16 cut in a character", append(utf16Of([]byte(vpcs), binary.LittleEndian, true), '}'),
			"vpcs.json: is UTF-16 text with an odd number of bytes: cut short?"},
		{"UTF-16, not JSON", utf16Of([]byte("hello, world"), binary.LittleEndian, true), "vpcs.json: invalid JSON at line 1: "},
		{"a byte order mark alone", []byte{0xef, 0xbb, 0xbf}, "vpcs.json: is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ec2json.Load(ec2json.Source{Name: "vpcs.json", Data: tc.data})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestOtherOutputFormats: a file of the AWS CLI's table, text or YAML
// output, as a CLI whose default output is not json writes, gets an error
// that says so and how to get JSON.
func TestOtherOutputFormats(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"table", "-------------------------------------------\n|         DescribeSecurityGroups          |\n" +
			"+-----------------------------------------+\n||            SecurityGroups             ||\n", "table"},
		{"table, CRLF", "---------------\r\n| DescribeVpcs |\r\n", "table"},
		{"text", "SECURITYGROUPS\tdefault VPC security group\tsg-0abc\tdefault\t111122223333\tvpc-0abc\n" +
			"IPPERMISSIONS\t-1\nUSERIDGROUPPAIRS\tsg-0abc\t111122223333\n", "text"},
		{"yaml", "SecurityGroups:\n- Description: default VPC security group\n  GroupId: sg-0abc\n", "yaml"},
		{"yaml-stream", "- SecurityGroups:\n  - Description: default VPC security group\n", "yaml"},
		{"yaml in UTF-16", string(utf16Of([]byte("Vpcs:\n- VpcId: vpc-0abc\n"), binary.LittleEndian, true)), "yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ec2json.Load(src("sgs.json", tc.data))
			require.Error(t, err)
			assert.Equal(t, "sgs.json: is the AWS CLI's "+tc.want+" output, not JSON: run the command again with --output json "+
				"(the default comes from output in ~/.aws/config, or AWS_DEFAULT_OUTPUT)", err.Error())
		})
	}
	for _, data := range []string{"", "\n\n", "\xef\xbb\xbf", "\xff\xfe", "\xff\xfe\n\x00"} {
		_, err := ec2json.Load(src("sgs.json", data))
		require.Error(t, err)
		assert.Equal(t, "sgs.json: is empty: did the command that wrote it fail?", err.Error(), "%q", data)
	}
	// Not JSON, and none of these: the parser's own words.
	for _, data := range []string{"hello", "sg-0abc\tweb\n", "<html>", "Key=Value", "{\"Vpcs\": [}"} {
		_, err := ec2json.Load(src("x.json", data))
		require.Error(t, err, data)
		assert.NotContains(t, err.Error(), "AWS CLI's", data)
		assert.Contains(t, err.Error(), "x.json: invalid JSON at line 1", data)
	}
}

// TestPagedOutput: with --max-items, the CLI prints one page and the
// NextToken to go on from. A warning says so, and an error about
// something missing names the paged file, where it may have been.
func TestPagedOutput(t *testing.T) {
	const token = `"NextToken": "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAxfQ=="`
	paged := func(name, body string) ec2json.Source {
		return src(name, strings.Replace(body, "{", "{"+token+",", 1))
	}
	r, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), paged("sgs.json", sgs("")), src("enis.json", enis("")))
	require.NoError(t, err)
	assert.Contains(t, r.Warnings, "sgs.json: holds one page of the results only (NextToken is set): "+
		"run the command again without --max-items to get them all")

	// The interface's group is on a page left out.
	other := strings.Replace(sgs(""), `"GroupId":"sg-web"`, `"GroupId":"sg-other"`, 1)
	_, err = ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets), paged("sgs.json", other), src("enis.json", enis("")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sg-web")
	assert.True(t, strings.HasSuffix(err.Error(), " (sgs.json holds one page of the results only: NextToken is set)"), err.Error())

	// A null or empty token is the last page.
	for _, last := range []string{`"NextToken": null`, `"NextToken": ""`} {
		r, err := ec2json.Load(src("vpcs.json", vpcs), src("subnets.json", subnets),
			src("sgs.json", strings.Replace(sgs(""), "{", "{"+last+",", 1)), src("enis.json", enis("")))
		require.NoError(t, err)
		for _, w := range r.Warnings {
			assert.NotContains(t, w, "NextToken", last)
		}
	}
}
