package ec2json

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"unicode/utf16"
	"unicode/utf8"
)

// utf8Text returns a file's JSON as UTF-8, without a byte order mark.
// The AWS CLI prints UTF-8, but what reaches a file depends on the shell:
// Windows PowerShell 5.1's ">" and Out-File write UTF-16 (little-endian,
// with a byte order mark), its "Out-File -Encoding utf8" and some editors
// put a UTF-8 byte order mark in front. JSON text has ASCII in its first
// two characters, so UTF-16 without a mark shows by its zero bytes (RFC
// 4627, section 3). UTF-32, which no shell writes, is refused with its
// name rather than as invalid JSON.
func utf8Text(s Source) ([]byte, error) {
	data := s.Data
	zero := func(k int) bool { return data[k] == 0 }
	switch {
	case bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte{0xff, 0xfe, 0, 0}), bytes.HasPrefix(data, []byte{0, 0, 0xfe, 0xff}),
		len(data) >= 4 && zero(0) && zero(1) && zero(2) && !zero(3),
		len(data) >= 4 && !zero(0) && zero(1) && zero(2) && zero(3):
		return nil, &Error{File: s.Name, Msg: "is UTF-32 text: save it as UTF-8"}
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		return fromUTF16(s.Name, data[2:], binary.LittleEndian)
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		return fromUTF16(s.Name, data[2:], binary.BigEndian)
	case len(data) >= 2 && !zero(0) && zero(1):
		return fromUTF16(s.Name, data, binary.LittleEndian)
	case len(data) >= 2 && zero(0) && !zero(1):
		return fromUTF16(s.Name, data, binary.BigEndian)
	}
	return data, nil
}

// fromUTF16 converts UTF-16 text in the byte order given to UTF-8. An
// unpaired surrogate becomes U+FFFD, as a lone invalid byte of UTF-8
// does for encoding/json.
func fromUTF16(name string, data []byte, order binary.ByteOrder) ([]byte, error) {
	if len(data)%2 != 0 {
		return nil, &Error{File: name, Msg: "is UTF-16 text with an odd number of bytes: cut short?"}
	}
	units := make([]uint16, len(data)/2)
	for k := range units {
		units[k] = order.Uint16(data[2*k:])
	}
	out := make([]byte, 0, len(units))
	for _, r := range utf16.Decode(units) {
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}

// otherOutput names the AWS CLI output format that data, which is not
// JSON, is in ("table", "text" or "yaml"), or returns "": a CLI whose
// default output is not json (aws configure asks for one; the
// AWS_DEFAULT_OUTPUT variable overrides it) writes these to a file as
// readily.
func otherOutput(data []byte) string {
	text := bytes.TrimLeft(data, " \t\r\n")
	line, _, _ := bytes.Cut(text, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	switch {
	case len(line) == 0:
		return ""
	case len(bytes.Trim(line, "-")) == 0:
		// ---------------------
		// |  DescribeVpcs     |
		return "table"
	case bytes.IndexByte(line, '\t') > 0 && isUpperWord(line[:bytes.IndexByte(line, '\t')]):
		// SECURITYGROUPS	default VPC security group	sg-0abc	...
		return "text"
	case yamlKey.Match(line):
		// SecurityGroups:
		// - Description: ...
		return "yaml"
	}
	return ""
}

// yamlKey matches the first line of YAML output: a top-level key and a
// colon, a value after it or none.
// yaml-stream output is a list of pages: "- SecurityGroups:".
var yamlKey = regexp.MustCompile(`^(- )?[A-Z][A-Za-z0-9]*:( |$)`)

// isUpperWord reports whether w is a word in capitals, as the text
// output's first column names what a line holds (SECURITYGROUPS,
// IPPERMISSIONS).
func isUpperWord(w []byte) bool {
	for _, c := range w {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return len(w) > 0
}
