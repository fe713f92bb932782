package main

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/sg"
)

// defaultSport is the reply's ephemeral port unless --sport says
// otherwise: the start of Linux's range (32768-60999), the most demanding
// on network ACLs' ephemeral-port entries.
const defaultSport = 32768

func checkCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check")
	var configs multiFlag
	fs.Var(&configs, "config", "a `FILE` that aws ec2 (or elbv2) describe-* printed (repeatable)")
	srcArg := fs.String("src", "", "source `ADDR|ENI-ID|INSTANCE-ID`: an address, an interface's ID, or an instance's (its primary interface)")
	dstArg := fs.String("dst", "", "destination `ADDR|ENI-ID|INSTANCE-ID`: an address, an interface's ID, or an instance's (its primary interface)")
	protoArg := fs.String("protocol", "", "the `PROTOCOL`: tcp, udp, icmp, icmpv6 or a protocol number")
	port := fs.Int("port", -1, "destination port `N` (tcp, udp)")
	sport := fs.Int("sport", defaultSport, "source port `N`, to which the reply returns")
	icmpType := fs.Int("icmp-type", -1, "ICMP type `T` (default: echo request)")
	icmpCode := fs.Int("icmp-code", 0, "ICMP code `C`")
	format := fs.String("format", "text", "output `FORMAT`: text or mermaid")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(configs) == 0 {
		return bad("check: --config is required (the JSON that aws ec2 describe-* printed)")
	}
	if *format != "text" && *format != "mermaid" {
		return bad("check: --format %q: use text or mermaid", *format)
	}
	if *srcArg == "" || *dstArg == "" || *protoArg == "" {
		return bad("check: --src, --dst and --protocol are required")
	}
	proto, err := sg.ParseProtocol(*protoArg)
	if err != nil || proto == sg.AllProtocols {
		return bad("check: --protocol %q: use tcp, udp, icmp, icmpv6 or a number 0-255", *protoArg)
	}
	switch {
	case proto.HasPorts() && *port == -1:
		return bad("check: --port: %s needs a destination port 0-65535", proto)
	case proto.HasPorts() && (*port < 0 || *port > 65535):
		return bad("check: --port %d is not a port (0-65535)", *port)
	}
	if *sport < 0 || *sport > 65535 {
		return bad("check: --sport %d is not a port (0-65535)", *sport)
	}
	res, err := loadConfig(configs, false, stderr)
	if err != nil {
		return err
	}
	n := res.Network
	src, err := endpoint(n, "--src", *srcArg, netip.Addr{})
	if err != nil {
		return err
	}
	dst, err := endpoint(n, "--dst", *dstArg, src)
	if err != nil {
		return err
	}
	if src.Is4() != dst.Is4() {
		if s2, err := endpoint(n, "--src", *srcArg, dst); err == nil && s2.Is4() == dst.Is4() {
			src = s2
		} else {
			return bad("check: --src %s and --dst %s are of different address families", src, dst)
		}
	}
	req, err := request(proto, src, dst, *port, *sport, *icmpType, *icmpCode)
	if err != nil {
		return err
	}
	reqPath, repPath := n.Exchange(&req, time.Unix(0, 0).UTC())
	if *format == "mermaid" {
		writeMermaid(stdout, n, &reqPath, &repPath)
	} else {
		writeCheck(stdout, &reqPath, &repPath, res.Mirror)
	}
	if reqPath.Allowed() && repPath.Allowed() {
		return nil
	}
	return &exitError{code: 1}
}

// endpoint resolves an address, interface ID or instance ID (its primary
// interface, device 0); for an interface it picks the primary address of
// the family of like (IPv4 when like is unset).
func endpoint(n *eni.Network, flag, arg string, like netip.Addr) (netip.Addr, error) {
	if strings.HasPrefix(arg, "i-") {
		var primary *eni.Interface
		for _, i := range n.Interfaces() {
			if s := i.Spec(); s.InstanceID == arg && (primary == nil || s.DeviceIndex < primary.Spec().DeviceIndex) {
				primary = i
			}
		}
		if primary == nil {
			return netip.Addr{}, bad("check: %s %s: no interface in the --config files is attached to that instance", flag, arg)
		}
		arg = primary.ID()
	}
	if strings.HasPrefix(arg, "eni-") {
		i := n.Interface(arg)
		if i == nil {
			return netip.Addr{}, bad("check: %s %s: no such interface in the --config files", flag, arg)
		}
		addrs := i.Addrs()
		for _, a := range addrs {
			if !like.IsValid() || a.Is4() == like.Is4() {
				return a, nil
			}
		}
		if len(addrs) > 0 {
			return addrs[0], nil
		}
		return netip.Addr{}, bad("check: %s %s has no address", flag, arg)
	}
	a, err := netip.ParseAddr(arg)
	if err != nil {
		return netip.Addr{}, bad("check: %s %q is neither an address nor an interface ID", flag, arg)
	}
	return a.Unmap(), nil
}

// request builds the packet that opens the connection; its reply is
// [eni.Packet.Reply].
func request(proto sg.Protocol, src, dst netip.Addr, port, sport, icmpType, icmpCode int) (eni.Packet, error) {
	sa, da := netip.AddrPortFrom(src, uint16(sport)), netip.AddrPortFrom(dst, uint16(port))
	switch {
	case proto == sg.TCP:
		return eni.TCP(sa, da, eni.SYN), nil
	case proto == sg.UDP:
		return eni.UDP(sa, da), nil
	case proto.IsICMP():
		if (proto == sg.ICMPv6) != src.Is6() {
			return eni.Packet{}, bad("check: --protocol %s does not go with %s addresses", proto, map[bool]string{true: "IPv6", false: "IPv4"}[src.Is6()])
		}
		if icmpType < 0 {
			icmpType = 8 // echo request
			if proto == sg.ICMPv6 {
				icmpType = 128
			}
		}
		if icmpType > 255 || icmpCode < 0 || icmpCode > 255 {
			return eni.Packet{}, bad("check: --icmp-type and --icmp-code are 0-255")
		}
		return eni.ICMP(src, dst, uint8(icmpType), uint8(icmpCode), 1), nil
	}
	return eni.IP(uint8(proto), src, dst), nil
}

// writeCheck prints both paths, what the traffic mirror sessions (when
// set is not nil) copy of each, and the verdict with what to change.
func writeCheck(w io.Writer, req, rep *eni.Path, set *mirror.Set) {
	for _, p := range []struct {
		name string
		path *eni.Path
	}{{"REQUEST", req}, {"REPLY", rep}} {
		fmt.Fprintf(w, "%-8s %s\n", p.name, p.path.String())
		if set != nil {
			var buf [mirror.MaxDecisions]mirror.Decision
			for _, d := range set.Decide(p.path, buf[:0]) {
				fmt.Fprintf(w, "  mirror: %s\n", d.Explain())
			}
		}
	}
	switch {
	case req.Allowed() && rep.Allowed():
		fmt.Fprintln(w, "RESULT   the connection works: the request and its reply both get through")
	case !req.Allowed():
		fmt.Fprintln(w, "RESULT   the connection fails: the request is refused")
	default:
		fmt.Fprintln(w, "RESULT   the connection fails: the request gets through but its reply is refused")
	}
	for _, s := range req.Refusals() {
		fmt.Fprintf(w, "  change: %s\n", s.Explain())
	}
	for _, s := range rep.Refusals() {
		if i := s.Verdict.Interface; i != nil && !trackedAt(req, i) {
			// The request never opened a connection here: once it gets
			// through, the reply rides it (security groups are stateful),
			// or, for an untracked flow, meets rules open both ways.
			fmt.Fprintf(w, "  (the reply's refusal by %s %s goes once the request gets through: it rides the connection the request opens)\n",
				i.ID(), s.Verdict.Direction)
			continue
		}
		fmt.Fprintf(w, "  change: %s\n", s.Explain())
	}
}

// trackedAt reports whether the request was let through interface i's
// security groups for real: only then does the reply's refusal there say
// something to change. A request refused there, or judged there only as
// if it had got that far, opens no connection the reply could ride.
func trackedAt(req *eni.Path, i *eni.Interface) bool {
	for _, s := range req.Stages() {
		if s.Verdict.Interface == i && !s.Kind.ACL() {
			return s.Allowed && !s.Hypothetical
		}
	}
	return true // the request did not meet i: nothing to ride
}
