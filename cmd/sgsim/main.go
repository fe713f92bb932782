// Command sgsim simulates AWS VPC security groups and network ACLs
// offline: it loads what `aws ec2 describe-*` printed for a VPC and replays
// packet captures through it, or checks whether one connection would work.
//
//	sgsim replay [--config FILE]... [--pcap FILE] [--format summary|jsonl|flowlog] [--vxlan] [--window 60s] [--log-format '${version} ...'] [--traffic-type ALL] [--flowlog-dir DIR] [--mirror-out FILE]
//	sgsim check --config FILE... --src ADDR|ENI --dst ADDR|ENI --protocol P [--port N] [--format text|mermaid]
//	sgsim audit --config FILE... [--pcap FILE] [--format table|json|sarif] [--fail-on SEVERITY]
//	sgsim diff --config FILE... --against FILE... --pcap FILE
//
// With neither --config nor --pcap, replay runs an embedded three-tier
// sample. Exit status: 0 when all is well; 1 when check finds the
// connection refused, audit finds something at --fail-on or worse, or a
// capture was cut short; 2 for bad input.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/internal/sample"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `sgsim simulates AWS VPC security groups and network ACLs offline.

Usage:
  sgsim replay [--config FILE]... [--pcap FILE] [--format summary|jsonl|flowlog] [--vxlan] [--window DURATION] [--log-format FIELDS] [--traffic-type ACCEPT|REJECT|ALL]
               [--tcp-pickup] [--flowlog-dir DIR] [--only ACCEPT,REJECT,SKIP] [--mirror-out FILE]
  sgsim check  --config FILE... --src ADDR|ENI-ID|INSTANCE-ID --dst ADDR|ENI-ID|INSTANCE-ID --protocol tcp|udp|icmp|icmpv6|NUMBER
               [--port N] [--sport N] [--icmp-type T] [--icmp-code C] [--format text|mermaid]
  sgsim audit  --config FILE... [--pcap FILE] [--format table|json|sarif] [--fail-on SEVERITY]
               [--allowed-ports 80,443]
  sgsim diff   --config FILE... --against FILE... --pcap FILE [--fail-on newly-rejected|newly-accepted|any]

--config takes the JSON that aws ec2 describe-vpcs, describe-subnets, describe-security-groups,
describe-security-group-rules, describe-network-interfaces, describe-network-acls,
describe-managed-prefix-lists and get-managed-prefix-list-entries print (one file each, any
order; give an entries file as pl-ID=FILE). "sgsim replay" alone replays an embedded sample.
With describe-flow-logs among them, "replay --format flowlog" writes the VPC's own flow logs,
each in its format, traffic type and interval; two or more go to --flowlog-dir DIR, one file each.
With describe-instances and describe-instance-types, interfaces of Nitro instances aggregate
over 60 s at most and start with their type's idle timeouts (350 s for TCP on Nitro v6).
With describe-route-tables, routes to a network interface or NAT gateway send packets through
that appliance, packets no route covers are dropped, and a NAT gateway or an egress-only internet
gateway lets in only the replies to connections the instances opened (a NAT gateway forgets a TCP
connection quiet for 350 s). With aws elbv2 describe-target-groups, describe-target-health and
describe-target-group-attributes (a group's file as ARN=FILE, or with the group's ID in its name),
an internet-facing Network Load Balancer's targets get its clients past their routes; with
describe-listeners and describe-listener-attributes (tied to its listener likewise), the balancer
keeps an idle TCP flow for its listener's tcp.idle_timeout.seconds, not the default 350 s. With
describe-traffic-mirror-sessions, -filters and -targets, replay says what each session copies
(--mirror-out writes the copies); with describe-vpc-peering-connections, flow logs give
traffic-path through a peering connection; with AWS's ip-ranges.json, they name the AWS services
of the packets' addresses.
`

// exitError carries an exit status and the one line to print on stderr,
// or, for a request for help, the text to print on stdout.
type exitError struct {
	code int
	msg  string
	help string
}

func (e *exitError) Error() string { return e.msg }

func bad(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "replay":
		err = replayCmd(args[1:], stdout, stderr)
	case "check":
		err = checkCmd(args[1:], stdout, stderr)
	case "audit":
		err = auditCmd(args[1:], stdout, stderr)
	case "diff":
		err = diffCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		if len(args) > 1 && args[0] == "help" {
			// sgsim help CMD is CMD --help.
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = bad("unknown command %q: use replay, check, audit or diff (sgsim help)", args[0])
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		fmt.Fprint(stdout, ee.help)
		if ee.msg != "" {
			fmt.Fprintln(stderr, "sgsim:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "sgsim:", err)
	return 2
}

// stdin is where --pcap - reads a capture from; tests replace it.
var stdin io.Reader = os.Stdin

// openCapture opens the capture a --pcap flag names: a file, or standard
// input for "-" (tcpdump -w - writes there). It returns the name to show,
// the size when known (0 for a pipe) and what to close.
func openCapture(flag string) (r io.Reader, name string, size int64, closer io.Closer, err error) {
	if flag == "-" {
		return stdin, "stdin", 0, io.NopCloser(nil), nil
	}
	f, err := os.Open(flag)
	if err != nil {
		return nil, flag, 0, nil, bad("%s: cannot read: %v", flag, unwrapPath(err))
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, flag, size, f, nil
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Errors become one line of ours; help goes to stdout (see parse).
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags, turning flag errors into one clear line, and -h or
// --help into the command's help.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &exitError{code: 0, help: commandHelp(fs)}
		}
		return bad("%s: %v (sgsim %s --help)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return bad("%s: unexpected argument %q (sgsim %s --help)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}

// commandHelp is a command's synopsis, from the usage text, and its flags.
func commandHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	in := false
	for _, line := range strings.Split(usage, "\n") {
		switch {
		case strings.HasPrefix(line, "  sgsim "):
			in = strings.HasPrefix(line, "  sgsim "+fs.Name()+" ")
		case !strings.HasPrefix(line, "    "):
			in = false
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("\nFlags:\n")
	type row struct{ name, text string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		arg, text := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if arg != "" {
			name += " " + arg
		}
		// -1 marks "not given" (the port, the ICMP type): not a default
		// to show.
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "-1" {
			text += " (default " + d + ")"
		}
		rows = append(rows, row{name, text})
		width = max(width, len(name))
	})
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, r.name, r.text)
	}
	return b.String()
}

// loadConfig loads the --config files, or the sample when none are given
// and useSample is set. Warnings go to stderr.
func loadConfig(files []string, useSample bool, stderr io.Writer) (*ec2json.Result, error) {
	var sources []ec2json.Source
	if len(files) == 0 && useSample {
		sources = sample.Configs()
	} else {
		var err error
		if sources, err = ec2json.ReadFiles(files...); err != nil {
			return nil, bad("%v", err)
		}
	}
	res, err := ec2json.Load(sources...)
	if err != nil {
		return nil, bad("%v", err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, "sgsim: warning:", w)
	}
	return res, nil
}
