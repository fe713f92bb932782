package sg

import (
	"strconv"
	"strings"
)

// Protocol is an IP protocol number as a security group rule names it, or
// [AllProtocols] (AWS's "-1"). The zero value is protocol 0 (IPv6 hop-by-hop),
// a valid if unusual rule protocol.
type Protocol int16

// Protocols with names in the EC2 API.
const (
	AllProtocols Protocol = -1
	ICMP         Protocol = 1
	TCP          Protocol = 6
	UDP          Protocol = 17
	ICMPv6       Protocol = 58
)

// ParseProtocol parses an EC2 IpProtocol value: "tcp", "udp", "icmp",
// "icmpv6" (any case), "-1", or a decimal protocol number 0-255.
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "tcp":
		return TCP, nil
	case "udp":
		return UDP, nil
	case "icmp":
		return ICMP, nil
	case "icmpv6":
		return ICMPv6, nil
	case "-1", "all":
		return AllProtocols, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 255 {
		return 0, &Error{Code: ErrInvalidProtocol, Value: s,
			Msg: "unknown protocol; use tcp, udp, icmp, icmpv6, -1 or a number 0-255"}
	}
	return Protocol(n), nil
}

// String returns the protocol as the EC2 API prints it: names for tcp, udp,
// icmp and icmpv6, "-1" for all, the decimal number otherwise.
func (p Protocol) String() string {
	switch p {
	case AllProtocols:
		return "-1"
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case ICMP:
		return "icmp"
	case ICMPv6:
		return "icmpv6"
	}
	return strconv.Itoa(int(p))
}

// HasPorts reports whether rules for p carry a port range (TCP, UDP).
func (p Protocol) HasPorts() bool { return p == TCP || p == UDP }

// IsICMP reports whether rules for p carry an ICMP type and code.
func (p Protocol) IsICMP() bool { return p == ICMP || p == ICMPv6 }

// Valid reports whether p is -1 or a protocol number 0-255.
func (p Protocol) Valid() bool { return p >= -1 && p <= 255 }
