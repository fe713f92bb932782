package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sgsim/sgsim/audit"
	"github.com/sgsim/sgsim/capture"
	"github.com/sgsim/sgsim/ec2json"
	"github.com/sgsim/sgsim/replay"
)

func auditCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit")
	var configs multiFlag
	fs.Var(&configs, "config", "a `FILE` that aws ec2 (or elbv2) describe-* printed (repeatable)")
	pcap := fs.String("pcap", "", "a capture `FILE` (pcap or pcapng; - reads standard input) whose traffic shows which rules are used")
	format := fs.String("format", "table", "output `FORMAT`: table, json or sarif")
	failOn := fs.String("fail-on", "", "exit 1 when a finding of this `SEVERITY` or worse exists (info, low, medium, high, critical)")
	allowed := fs.String("allowed-ports", "80,443", "`PORTS` that may be open to the internet without an EC2.18 finding")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(configs) == 0 {
		return bad("audit: --config is required (the JSON that aws ec2 describe-* printed)")
	}
	switch *format {
	case "table", "json", "sarif":
	default:
		return bad("audit: --format %q: use table, json or sarif", *format)
	}
	var threshold audit.Severity
	if *failOn != "" {
		s, err := audit.ParseSeverity(*failOn)
		if err != nil {
			return bad("audit: --fail-on: %v", err)
		}
		threshold = s
	}
	opts := audit.Options{}
	for _, p := range strings.Split(*allowed, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return bad("audit: --allowed-ports: %q is not a port", p)
		}
		opts.AllowedPorts = append(opts.AllowedPorts, uint16(n))
	}
	if opts.AllowedPorts == nil {
		opts.AllowedPorts = []uint16{}
	}
	res, err := loadConfig(configs, false, stderr)
	if err != nil {
		return err
	}
	var readErr error // the capture's, after every frame before it counted
	if *pcap != "" {
		u, rerr, err := replayForUsage(res, *pcap)
		if err != nil {
			return err
		}
		opts.Usage, readErr = u, rerr
	}
	opts.Mirror = res.Mirror
	findings := audit.Run(res.Network, opts)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	switch *format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(findingsJSON(findings)); err != nil {
			return err
		}
	case "sarif":
		if err := writeSARIF(out, res, findings); err != nil {
			return err
		}
	default:
		writeFindings(out, findings, opts.Usage)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	// Said whatever the findings: rules may look unused only because the
	// frames that needed them were lost.
	var cut *capture.TruncatedError
	switch {
	case errors.As(readErr, &cut):
		fmt.Fprintf(stderr, "sgsim: %s: %v\n", *pcap, cut)
	case readErr != nil:
		return bad("%s: %v", *pcap, readErr)
	}
	if *failOn != "" {
		for _, f := range findings {
			if f.Severity >= threshold {
				return &exitError{code: 1, msg: fmt.Sprintf("audit: %d finding(s) at %s or worse", countAtLeast(findings, threshold), threshold)}
			}
		}
	}
	if cut != nil {
		return &exitError{code: 1}
	}
	return nil
}

func countAtLeast(fs []audit.Finding, s audit.Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity >= s {
			n++
		}
	}
	return n
}

// replayForUsage replays a capture so the rules' hit counters say which
// rules traffic used. A capture that cannot be read to its end (cut short,
// or malformed) counts every frame before the fault, which readErr names.
func replayForUsage(res *ec2json.Result, flag string) (u *audit.Usage, readErr, err error) {
	f, name, _, c, err := openCapture(flag)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	rd, err := capture.NewReader(f)
	if err != nil {
		return nil, nil, bad("%s: %v", name, err)
	}
	rp := replay.New(res.Network, replay.Options{Mirror: res.Mirror})
	readErr = rp.Run(rd, nil) // with no fn, any error is the reader's
	s := rp.Summary()
	u = &audit.Usage{Capture: name, First: s.First, Last: s.Last}
	if s.Mirror != nil {
		for _, r := range s.Mirror.Rules {
			u.MirrorRules = append(u.MirrorRules, audit.MirrorRuleUse{Filter: r.Filter, Direction: r.Direction, Rule: r.Rule.String(), Frames: r.Frames})
		}
	}
	return u, readErr, nil
}

func writeFindings(w io.Writer, fs []audit.Finding, u *audit.Usage) {
	counts := map[audit.Severity]int{}
	for _, f := range fs {
		counts[f.Severity]++
	}
	fmt.Fprintf(w, "%d findings: %d critical, %d high, %d medium, %d low, %d info\n", len(fs),
		counts[audit.Critical], counts[audit.High], counts[audit.Medium], counts[audit.Low], counts[audit.Info])
	if u != nil {
		fmt.Fprintf(w, "rule usage from %s, %s of traffic: a short capture proves little\n", u.Capture, u.Last.Sub(u.First).Round(1e9))
	}
	var last string
	for _, f := range fs {
		if f.ID != last {
			fmt.Fprintf(w, "\n%s %s: %s\n  fix: %s\n", strings.ToUpper(f.Severity.String()), f.ID, f.Title, f.Fix)
			last = f.ID
		}
		fmt.Fprintf(w, "  - %s\n", f.Message)
	}
}

type findingJSON struct {
	ID         string   `json:"id"`
	Severity   string   `json:"severity"`
	Title      string   `json:"title"`
	Resource   string   `json:"resource"`
	Group      string   `json:"group,omitempty"`
	Rule       string   `json:"rule,omitempty"`
	ACL        string   `json:"acl,omitempty"`
	ACLEntry   int      `json:"acl_entry,omitempty"`
	Interfaces []string `json:"interfaces,omitempty"`
	Message    string   `json:"message"`
	Fix        string   `json:"fix"`
}

func findingsJSON(fs []audit.Finding) []findingJSON {
	out := make([]findingJSON, 0, len(fs))
	for _, f := range fs {
		out = append(out, findingJSON{ID: f.ID, Severity: f.Severity.String(), Title: f.Title, Resource: f.Resource,
			Group: f.GroupID, Rule: f.RuleID, ACL: f.ACLID, ACLEntry: f.ACLEntry, Interfaces: f.Interfaces, Message: f.Message, Fix: f.Fix})
	}
	return out
}
