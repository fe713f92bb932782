package main

import (
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
)

// The JSON Lines writer appends each frame's object by hand, field by
// field in the order and with the omissions of the struct tags above:
// encoding/json's reflection cost more than judging the frame. A test
// checks every line against encoding/json.

// appendFrame appends f as one JSON object, without a newline.
func appendFrame(b []byte, f *jsonFrame) []byte {
	b = append(b, `{"frame":`...)
	b = strconv.AppendInt(b, int64(f.Frame), 10)
	b = append(b, `,"time":"`...)
	b = f.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, "verdict", f.Verdict)
	b = appendField(b, "reason", f.Reason)
	b = appendOptString(b, "protocol", f.Protocol)
	b = appendOptInt(b, "protocol_number", f.ProtocolNumber)
	b = appendOptAddr(b, "src", f.Src)
	b = appendOptAddr(b, "dst", f.Dst)
	b = appendOptAddr(b, "public_src", f.PublicSrc)
	b = appendOptAddr(b, "public_dst", f.PublicDst)
	b = appendOptBool(b, "hairpin", f.Hairpin)
	b = appendOptInt(b, "sport", f.SrcPort)
	b = appendOptInt(b, "dport", f.DstPort)
	b = appendOptInt(b, "icmp_type", f.ICMPType)
	b = appendOptInt(b, "icmp_code", f.ICMPCode)
	b = appendOptString(b, "tcp_flags", f.TCPFlags)
	if f.Bytes != 0 {
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, int64(f.Bytes), 10)
	}
	b = appendOptBool(b, "mirrored", f.Mirrored)
	b = appendOptString(b, "source_interface", f.SourceInterface)
	b = appendOptString(b, "destination_interface", f.DestinationInterface)
	b = appendOptString(b, "via_interface", f.ViaInterface)
	b = appendList(b, "via_interfaces", f.ViaInterfaces, func(b []byte, s *string) []byte { return appendString(b, *s) })
	b = appendOptString(b, "balancer", f.Balancer)
	if f.DecidedBy != nil {
		b = append(b, `,"decided_by":`...)
		b = appendStage(b, f.DecidedBy)
	}
	b = appendList(b, "stages", f.Stages, appendStage)
	b = appendList(b, "mirror_copies", f.MirrorCopies, appendMirror)
	b = appendOptBool(b, "mirror_copy", f.MirrorCopy)
	b = appendOptString(b, "mirror_session", f.MirrorSession)
	b = appendOptInt(b, "mirror_vni", f.MirrorVNI)
	b = appendOptString(b, "mirror_mismatch", f.MirrorMismatch)
	return append(b, '}')
}

// appendList appends ,"name":[...], each element by one, unless the list
// is empty (omitempty).
func appendList[T any](b []byte, name string, list []T, one func([]byte, *T) []byte) []byte {
	if len(list) == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":[`...)
	for k := range list {
		if k > 0 {
			b = append(b, ',')
		}
		b = one(b, &list[k])
	}
	return append(b, ']')
}

func appendMirror(b []byte, m *jsonMirror) []byte {
	b = append(b, `{"interface":`...)
	b = appendString(b, m.Interface)
	b = appendField(b, "direction", m.Direction)
	b = appendField(b, "result", m.Result)
	b = appendOptString(b, "session", m.Session)
	b = appendOptString(b, "target", m.Target)
	b = appendOptInt(b, "filter_rule", m.FilterRule)
	b = appendField(b, "explanation", m.Explanation)
	return append(b, '}')
}

func appendStage(b []byte, s *jsonStage) []byte {
	b = append(b, `{"stage":`...)
	b = appendString(b, s.Stage)
	b = appendOptString(b, "interface", s.Interface)
	b = appendOptString(b, "acl", s.ACL)
	b = appendOptString(b, "subnet", s.Subnet)
	b = appendOptString(b, "route_table", s.RouteTable)
	b = appendField(b, "direction", s.Direction)
	b = appendField(b, "result", s.Result)
	b = appendField(b, "code", s.Code)
	b = appendOptString(b, "group", s.Group)
	b = appendOptString(b, "rule", s.Rule)
	b = appendOptString(b, "rule_text", s.RuleText)
	b = appendOptInt(b, "acl_entry", s.ACLEntry)
	b = appendOptString(b, "acl_entry_text", s.ACLEntryText)
	if c := s.Connection; c != nil {
		b = append(b, `,"connection":{"state":`...)
		b = appendString(b, c.State)
		b = appendField(b, "opened", c.OpenedBy)
		b = appendField(b, "since", c.Since)
		b = append(b, '}')
	}
	b = appendOptBool(b, "new_connection", s.NewConnection)
	b = appendOptBool(b, "untracked", s.Untracked)
	b = appendOptString(b, "service", s.Service)
	b = appendOptBool(b, "not_reached", s.NotReached)
	b = appendOptBool(b, "idled_out", s.IdledOut)
	b = appendField(b, "explanation", s.Explanation)
	return append(b, '}')
}

// appendField appends ,"name":"value". Names are plain ASCII.
func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendOptString(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendField(b, name, v)
}

// appendOptAddr appends ,"name":"address" for a valid address, as
// encoding/json writes a netip.Addr (its text) with omitzero.
func appendOptAddr(b []byte, name string, a netip.Addr) []byte {
	if !a.IsValid() {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":"`...)
	b = a.AppendTo(b)
	return append(b, '"')
}

func appendOptInt(b []byte, name string, v *int) []byte {
	if v == nil {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, int64(*v), 10)
}

func appendOptBool(b []byte, name string, v bool) []byte {
	if !v {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, `":true`...)
}

const hexDigits = "0123456789abcdef"

// plain marks the bytes a JSON string holds as they are.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string exactly as encoding/json does
// with HTML escaping off: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
