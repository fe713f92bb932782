package ec2json

import (
	"bytes"
	"encoding/binary"
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
