// Package ec2json loads what the AWS CLI prints for a VPC's configuration
// into an [eni.Network]: describe-vpcs, describe-subnets,
// describe-security-groups, describe-security-group-rules,
// describe-network-interfaces, describe-network-acls,
// describe-managed-prefix-lists and get-managed-prefix-list-entries;
// describe-flow-logs, for the flow logs a replay writes ([FlowLog]);
// describe-route-tables, whose routes to network interfaces send packets
// through appliances ([eni.Path.Via]); and
// describe-instances (whose instances' interfaces need no
// describe-network-interfaces) with describe-instance-types, for what an
// interface's instance type decides: whether it is built on the Nitro
// System (flow logs aggregate over 60 s at most there) and the idle
// timeouts its interfaces start with (350 s for established TCP on Nitro
// v6 types), under the interface's own ConnectionTrackingConfiguration.
//
// With aws elbv2 describe-target-groups and describe-target-health, the
// targets of an internet-facing Network Load Balancer that keeps its
// clients' addresses are reached by it, past their subnets' routes
// ([eni.Network.AddTargetGroup]); describe-target-group-attributes says
// whether a group keeps them (preserve_client_ip.enabled), else AWS's
// default for its type does. Neither output names its group: such a file
// is tied to its group by the argument "ARN=FILE" or by the group's ID
// (the last part of its ARN) in the file's name. describe-listeners says
// which listener forwards to a group, and describe-listener-attributes
// (tied to its listener the same way) a TCP listener's
// tcp.idle_timeout.seconds: how long the balancer keeps an idle flow.
// Listeners without it keep the default, 350 s.
//
// Each file's kind is recognised from its top-level key (Vpcs, Subnets,
// SecurityGroups, SecurityGroupRules, NetworkInterfaces, NetworkAcls,
// PrefixLists, Entries, FlowLogs, Reservations, InstanceTypes,
// RouteTables, TargetGroups, TargetHealthDescriptions, Listeners,
// Attributes), or, for a
// file holding the list alone (describe-... --query 'SecurityGroups[...]'),
// from the keys of its first object; unknown keys and fields are ignored.
// A file may be UTF-8, with or without a byte order mark, or UTF-16, as
// Windows PowerShell 5.1 saves what a command prints.
// The output
// of get-managed-prefix-list-entries names no list, so its file is tied to
// its list by the argument "pl-0abc=FILE", or else by the first "pl-..."
// in the file's name (for example entries-pl-0abc.json).
//
// Files may leave things out. Without describe-vpcs, VPCs are inferred
// from what references them, their blocks from their subnets; without
// describe-subnets, each subnet is taken to be the /24 (IPv4) or /64
// (IPv6) around its interfaces' addresses; without describe-network-acls,
// every subnet gets an allow-all default ACL. Each such guess is reported
// in [Result.Warnings].
//
// Every mistake is an [*Error] naming the file, the object and the field,
// e.g. "sgs.json: sg-0abc: IpPermissions[2].FromPort: 70000 is not a
// port". A reference to a group, subnet or prefix list that no file
// defines is an error naming both ends; groups of other accounts or of
// other VPCs (peered, or attached to the same transit gateway) may stay
// outside the files, with a warning: rules naming them match nothing.
package ec2json

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/flowlog"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

// Error is a mistake in a configuration file.
type Error struct {
	File   string
	Object string // group, interface, ACL, subnet, VPC or prefix list ID
	Field  string // e.g. "IpPermissions[2].FromPort"
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	for _, part := range []string{e.File, e.Object, e.Field} {
		if part != "" {
			b.WriteString(part)
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Source is one configuration file's bytes.
type Source struct {
	Name string
	Data []byte
	// PrefixList ties a get-managed-prefix-list-entries file to its list.
	PrefixList string
	// TargetGroup ties a describe-target-health file to its target group,
	// by its ARN (else the group's ID in the file's name does).
	TargetGroup string
	// Listener ties a describe-listener-attributes file to its listener,
	// by its ARN (else the listener's ID in the file's name does).
	Listener string
}

var plInName = regexp.MustCompile(`pl-[0-9a-zA-Z]+`)

// PrefixListIn returns the first prefix list ID ("pl-...") in a file's
// base name, or "": how an entries file is tied to its list.
func PrefixListIn(name string) string { return plInName.FindString(filepath.Base(name)) }

// ReadFiles reads configuration files named on a command line. An argument
// "pl-0abc=FILE" ties an entries file to its prefix list.
func ReadFiles(args ...string) ([]Source, error) {
	var out []Source
	for _, a := range args {
		src := Source{Name: a}
		if id, path, ok := strings.Cut(a, "="); ok && strings.HasPrefix(id, "pl-") {
			src.Name, src.PrefixList = path, id
		} else if ok && targetGroupArg(id) {
			src.Name, src.TargetGroup = path, id
		} else if ok && listenerArg(id) {
			src.Name, src.Listener = path, id
		}
		data, err := os.ReadFile(src.Name)
		if err != nil {
			return nil, &Error{File: src.Name, Msg: "cannot read: " + unwrapPathError(err)}
		}
		if src.PrefixList == "" {
			src.PrefixList = PrefixListIn(src.Name)
		}
		src.Data = data
		out = append(out, src)
	}
	return out, nil
}

func unwrapPathError(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// Result is a loaded configuration.
type Result struct {
	Network *eni.Network
	// Mirror holds the traffic mirror sessions, filters and targets, or
	// is nil when no file gives any.
	Mirror *mirror.Set
	// AWSRanges are the AWS service address ranges of an ip-ranges.json
	// file, for flow logs' pkt-src-aws-service and pkt-dst-aws-service;
	// nil when no file is one.
	AWSRanges *flowlog.AWSRanges
	// FlowLogs are the flow logs of describe-flow-logs, in file order.
	FlowLogs []FlowLog
	Warnings []string
	// Files lists, for each file, what it held ("3 security groups").
	Files []string

	peerings  map[string]Peering
	origins   map[string]string // object ID → file
	data      map[string][]byte // file → bytes
	instances *instanceIndex
}

// Origin returns the file that defined an object (a group, interface,
// ACL, subnet, VPC or prefix list) and the line where its ID first
// appears, for tools that point at the source, such as SARIF reports.
func (r *Result) Origin(id string) (file string, line int, ok bool) {
	file, ok = r.origins[id]
	if !ok {
		return "", 0, false
	}
	data := r.data[file]
	k := strings.Index(string(data), `"`+id+`"`)
	if k < 0 {
		return file, 1, true
	}
	return file, 1 + strings.Count(string(data[:k]), "\n"), true
}

type located[T any] struct {
	file string
	v    T
}

type loader struct {
	vpcs    []located[vpc]
	subnets []located[subnet]
	groups  []located[securityGroup]
	rules   []located[securityGroupRule]
	enis    []located[networkInterface]
	acls    []located[networkACL]
	lists   []located[prefixList]
	entries map[string]located[[]prefixListEntry]

	targetGroups []located[targetGroup]
	health       []healthFile
	groupAttrs   []attrFile // and listeners'
	listeners    []located[listener]

	flowLogs   []located[flowLog]
	flowLogOut []FlowLog

	routeTables  []located[routeTableJSON]
	reservations []located[reservation]
	types        []located[instanceType]
	instances    instanceIndex

	mirrorSessions []located[trafficMirrorSession]
	mirrorFilters  []located[trafficMirrorFilter]
	mirrorTargets  []located[trafficMirrorTarget]
	mirror         *mirror.Set

	awsRanges     *flowlog.AWSRanges
	awsRangesFile string

	peerings   []located[vpcPeeringConnection]
	peeringOut map[string]Peering

	seen     map[string]string // object ID → file defining it
	paged    []string          // files holding one page of a command's results
	warnings []string
	files    []string
	net      *eni.Network
}

// Load builds a network from configuration files.
func Load(sources ...Source) (*Result, error) {
	l := &loader{entries: map[string]located[[]prefixListEntry]{}, seen: map[string]string{}, net: eni.NewNetwork()}
	if len(sources) == 0 {
		return nil, &Error{Msg: "no configuration files"}
	}
	sources = slices.Clone(sources)
	for k := range sources {
		s := &sources[k]
		var err error
		if s.Data, err = utf8Text(*s); err != nil {
			return nil, err
		}
		if err := l.parse(*s); err != nil {
			return nil, err
		}
	}
	if err := l.instanceInterfaces(); err != nil {
		return nil, err
	}
	steps := []func() error{l.buildVPCs, l.buildPrefixLists, l.buildGroups, l.buildACLs, l.buildInstances, l.buildInterfaces, l.buildRouteTables,
		l.buildTargetGroups, l.buildMirror, l.buildPeerings, l.buildFlowLogs}
	for _, step := range steps {
		if err := step(); err != nil {
			var e *Error
			if errors.As(err, &e) && len(l.paged) > 0 {
				// What is missing may be on the pages left out.
				e.Msg += fmt.Sprintf(" (%s holds one page of the results only: NextToken is set)", strings.Join(l.paged, ", "))
			}
			return nil, err
		}
	}
	data := map[string][]byte{}
	for _, s := range sources {
		data[s.Name] = s.Data
	}
	return &Result{Network: l.net, Mirror: l.mirror, AWSRanges: l.awsRanges, peerings: l.peeringOut, FlowLogs: l.flowLogOut, Warnings: l.warnings, Files: l.files, origins: l.seen, data: data, instances: &l.instances}, nil
}

func (l *loader) warn(format string, args ...any) {
	l.warnings = append(l.warnings, fmt.Sprintf(format, args...))
}

// define records that file defines object id, refusing a second definition.
func (l *loader) define(file, id string) error {
	if prev, ok := l.seen[id]; ok {
		return &Error{File: file, Object: id, Msg: "is defined twice (also in " + prev + ")"}
	}
	l.seen[id] = file
	return nil
}

func (l *loader) parse(s Source) error {
	var top map[string]json.RawMessage
	if key, list, ok, err := bareList(s); err != nil {
		return err
	} else if ok {
		if key == "" {
			l.warn("%s: an empty list: nothing to load", s.Name)
			l.files = append(l.files, s.Name+": an empty list")
			return nil
		}
		top = map[string]json.RawMessage{key: list}
	} else if len(bytes.TrimSpace(s.Data)) == 0 {
		// "aws ec2 describe-... > file" leaves the file empty when the
		// command fails: its error went to the terminal.
		return &Error{File: s.Name, Msg: "is empty: did the command that wrote it fail?"}
	} else if err := json.Unmarshal(s.Data, &top); err != nil {
		if other := otherOutput(s.Data); other != "" {
			return &Error{File: s.Name, Msg: "is the AWS CLI's " + other + " output, not JSON: run the command again with --output json " +
				"(the default comes from output in ~/.aws/config, or AWS_DEFAULT_OUTPUT)"}
		}
		msg := "not a JSON object: " + err.Error()
		if se, ok := err.(*json.SyntaxError); ok {
			line := 1 + strings.Count(string(s.Data[:min(int(se.Offset), len(s.Data))]), "\n")
			msg = fmt.Sprintf("invalid JSON at line %d: %v", line, se)
		}
		return &Error{File: s.Name, Msg: msg}
	}
	if raw, ok := top["NextToken"]; ok {
		var token string
		if json.Unmarshal(raw, &token) == nil && token != "" {
			// --max-items (or --page-size with --no-paginate) stops the
			// CLI after a page and prints where to go on from.
			l.paged = append(l.paged, s.Name)
			l.warn("%s: holds one page of the results only (NextToken is set): run the command again without --max-items to get them all", s.Name)
		}
	}
	found := 0
	count := func(n int, what string) {
		found++
		l.files = append(l.files, fmt.Sprintf("%s: %d %s", s.Name, n, what))
	}
	var err error
	steps := []func() error{
		func() error {
			return collect(l, s.Name, top, "Vpcs", "VPCs", func(x *vpc) string { return x.VpcID }, &l.vpcs, count)
		},
		func() error {
			return collect(l, s.Name, top, "Subnets", "subnets", func(x *subnet) string { return x.SubnetID }, &l.subnets, count)
		},
		func() error {
			return collect(l, s.Name, top, "SecurityGroups", "security groups", func(x *securityGroup) string { return x.GroupID }, &l.groups, count)
		},
		func() error {
			// Rules are not objects of their own: several share a group.
			return collect(l, s.Name, top, "SecurityGroupRules", "security group rules", func(x *securityGroupRule) string { return x.GroupID }, &l.rules, count)
		},
		func() error {
			return collect(l, s.Name, top, "NetworkInterfaces", "network interfaces", func(x *networkInterface) string { return x.NetworkInterfaceID }, &l.enis, count)
		},
		func() error {
			return collect(l, s.Name, top, "NetworkAcls", "network ACLs", func(x *networkACL) string { return x.NetworkACLID }, &l.acls, count)
		},
		func() error {
			return collect(l, s.Name, top, "PrefixLists", "prefix lists", func(x *prefixList) string { return x.PrefixListID }, &l.lists, count)
		},
		func() error {
			return collect(l, s.Name, top, "FlowLogs", "flow logs", func(x *flowLog) string { return x.FlowLogID }, &l.flowLogs, count)
		},
		func() error {
			return collect(l, s.Name, top, "InstanceTypes", "instance types", func(x *instanceType) string { return x.InstanceType }, &l.types, count)
		},
		func() error {
			return collect(l, s.Name, top, "RouteTables", "route tables", func(x *routeTableJSON) string { return x.RouteTableID }, &l.routeTables, count)
		},
		func() error {
			return collect(l, s.Name, top, "TargetGroups", "target groups", func(x *targetGroup) string { return x.TargetGroupArn }, &l.targetGroups, count)
		},
		func() error {
			return collect(l, s.Name, top, "Listeners", "listeners", func(x *listener) string { return x.ListenerArn }, &l.listeners, count)
		},
		func() error {
			return collect(l, s.Name, top, "TrafficMirrorSessions", "traffic mirror sessions",
				func(x *trafficMirrorSession) string { return x.TrafficMirrorSessionID }, &l.mirrorSessions, count)
		},
		func() error {
			return collect(l, s.Name, top, "TrafficMirrorFilters", "traffic mirror filters",
				func(x *trafficMirrorFilter) string { return x.TrafficMirrorFilterID }, &l.mirrorFilters, count)
		},
		func() error {
			return collect(l, s.Name, top, "TrafficMirrorTargets", "traffic mirror targets",
				func(x *trafficMirrorTarget) string { return x.TrafficMirrorTargetID }, &l.mirrorTargets, count)
		},
		func() error {
			return collect(l, s.Name, top, "VpcPeeringConnections", "VPC peering connections",
				func(x *vpcPeeringConnection) string { return x.VpcPeeringConnectionID }, &l.peerings, count)
		},
		func() error {
			raw, ok := top["Reservations"]
			if !ok {
				return nil
			}
			// A reservation is not an object of its own: its instances are.
			v, err := decodeList[reservation](s.Name, "Reservations", raw, nil)
			if err != nil {
				return err
			}
			n := 0
			for _, r := range v {
				l.reservations = append(l.reservations, located[reservation]{s.Name, r})
				n += len(r.Instances)
			}
			count(n, "instances")
			return nil
		},
	}
	for _, step := range steps {
		if err = step(); err != nil {
			return err
		}
	}
	if _, ok := top["prefixes"]; ok && top["syncToken"] != nil {
		// ip-ranges.json, as AWS publishes it: not describe-* output.
		r, err := flowlog.ParseAWSRanges(s.Data)
		if err != nil {
			return &Error{File: s.Name, Msg: err.Error()}
		}
		if l.awsRanges != nil {
			return &Error{File: s.Name, Msg: "a second ip-ranges.json (also " + l.awsRangesFile + ")"}
		}
		l.awsRanges, l.awsRangesFile = r, s.Name
		count(r.Len(), "AWS service address ranges")
	}
	if raw, ok := top["Attributes"]; ok {
		// describe-target-group-attributes or describe-listener-attributes:
		// only the group or listener it is of knows what its keys mean.
		f := attrFile{file: s.Name, group: s.TargetGroup, listener: s.Listener}
		if err := json.Unmarshal(raw, &f.attrs); err != nil {
			return &Error{File: s.Name, Object: "Attributes", Msg: "is not a list of Key and Value pairs"}
		}
		l.groupAttrs = append(l.groupAttrs, f)
		count(len(f.attrs), "attributes")
	}
	if raw, ok := top["TargetHealthDescriptions"]; ok {
		v, err := decodeList[targetHealth](s.Name, "TargetHealthDescriptions", raw, nil)
		if err != nil {
			return err
		}
		l.health = append(l.health, healthFile{file: s.Name, group: s.TargetGroup, targets: v})
		count(len(v), "targets")
	}
	if raw, ok := top["Entries"]; ok {
		if s.PrefixList == "" {
			return &Error{File: s.Name, Object: "Entries",
				Msg: "get-managed-prefix-list-entries output names no list: pass it as pl-ID=FILE or put the list ID in the file name"}
		}
		v, err := decodeList[prefixListEntry](s.Name, "Entries", raw, nil)
		if err != nil {
			return err
		}
		if prev, ok := l.entries[s.PrefixList]; ok {
			return &Error{File: s.Name, Object: s.PrefixList, Msg: "entries given twice (also in " + prev.file + ")"}
		}
		l.entries[s.PrefixList] = located[[]prefixListEntry]{s.Name, v}
		count(len(v), "entries of "+s.PrefixList)
	}
	if found == 0 {
		keys := make([]string, 0, len(top))
		for k := range top {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return &Error{File: s.Name, Msg: fmt.Sprintf("holds none of Vpcs, Subnets, SecurityGroups, SecurityGroupRules, "+
			"NetworkInterfaces, NetworkAcls, PrefixLists, Entries, FlowLogs, Reservations, InstanceTypes, RouteTables, TargetGroups, TargetHealthDescriptions, Listeners, Attributes, "+
			"TrafficMirrorSessions, TrafficMirrorFilters, TrafficMirrorTargets or VpcPeeringConnections, and is not ip-ranges.json (its keys: %s)", strings.Join(keys, ", "))}
	}
	return nil
}

// wrap places an error from the model packages at a file and object,
// without repeating the object's ID.
func wrap(file, obj, field string, err error) error {
	var ee *eni.Error
	var se *sg.Error
	var ne *nacl.Error
	switch {
	case errors.As(err, &ee):
		f := ee.Field
		if field != "" {
			f = field
		}
		msg := ee.Msg
		if msg == "" {
			msg = ee.Code.Error()
		}
		if ee.Value != "" {
			msg = fmt.Sprintf("%q: %s", ee.Value, msg)
		}
		return &Error{File: file, Object: obj, Field: f, Msg: msg + " (" + ee.Code.Name() + ")"}
	case errors.As(err, &se):
		return &Error{File: file, Object: obj, Field: field, Msg: strings.TrimPrefix(se.Error(), se.Code.Name()+": "+obj+": ") + " (" + se.Code.Name() + ")"}
	case errors.As(err, &ne):
		msg := strings.TrimPrefix(ne.Error(), ne.Code.Name()+": "+ne.ACL+": ")
		return &Error{File: file, Object: obj, Field: field, Msg: msg + " (" + ne.Code.Name() + ")"}
	}
	return wrap(file, obj, field, err)
}

func parsePrefix(file, obj, field, s string, want6 bool) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil || p.Addr().Is4In6() {
		return netip.Prefix{}, &Error{File: file, Object: obj, Field: field, Msg: fmt.Sprintf("%q is not a CIDR block", s)}
	}
	if p.Addr().Is6() != want6 {
		fam := "an IPv4"
		if want6 {
			fam = "an IPv6"
		}
		return netip.Prefix{}, &Error{File: file, Object: obj, Field: field, Msg: fmt.Sprintf("%q is not %s CIDR block", s, fam)}
	}
	return p.Masked(), nil
}

// withTimeouts applies AWS's three idle timeouts, as a file gives them, to
// cfg; an error names each field as field plus prefix plus AWS's name
// ("ConnectionTrackingConfiguration." "" "UdpTimeout").
func withTimeouts(cfg conntrack.Config, file, obj, field, prefix string, tcp, udp, stream flexInt) (conntrack.Config, error) {
	for _, f := range []struct {
		name string
		v    flexInt
	}{{"TcpEstablishedTimeout", tcp}, {"UdpTimeout", udp}, {"UdpStreamTimeout", stream}} {
		if f.v.set && f.v.v <= 0 {
			return cfg, &Error{File: file, Object: obj, Field: field + prefix + f.name, Msg: fmt.Sprintf("%d is not a timeout", f.v.v)}
		}
	}
	out, err := cfg.WithAWSTimeouts(int(tcp.v), int(udp.v), int(stream.v))
	if err != nil {
		f, msg := strings.TrimSuffix(field, "."), err.Error()
		if ce, ok := err.(*conntrack.ConfigError); ok {
			f, msg = field+prefix+ce.Field, strings.TrimPrefix(msg, ce.Field+": ")
		}
		return cfg, &Error{File: file, Object: obj, Field: f, Msg: msg}
	}
	return out, nil
}

// parseDelegated parses a delegated prefix, which AWS gives masked.
func parseDelegated(file, obj, field, s string, want6 bool) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil || p.Addr().Is4In6() || p.Addr().Is6() != want6 {
		fam := "an IPv4"
		if want6 {
			fam = "an IPv6"
		}
		return netip.Prefix{}, &Error{File: file, Object: obj, Field: field, Msg: fmt.Sprintf("%q is not %s prefix", s, fam)}
	}
	return p, nil
}

func parseAddr(file, obj, field, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, &Error{File: file, Object: obj, Field: field, Msg: fmt.Sprintf("%q is not an IP address", s)}
	}
	return a.Unmap(), nil
}

// collect decodes the list under key, if the file has one, and appends
// its objects; objects other than rules must not be defined twice.
func collect[T any](l *loader, file string, top map[string]json.RawMessage, key, what string, id func(*T) string,
	into *[]located[T], count func(int, string)) error {
	raw, ok := top[key]
	if !ok {
		return nil
	}
	v, err := decodeList(file, key, raw, id)
	if err != nil {
		return err
	}
	for k := range v {
		if key != "SecurityGroupRules" {
			if err := l.define(file, id(&v[k])); err != nil {
				return err
			}
		}
		*into = append(*into, located[T]{file, v[k]})
	}
	count(len(v), what)
	return nil
}

// buildVPCs adds VPCs and subnets, inferring what the files leave out.
func (l *loader) buildVPCs() error {
	type vpcPlan struct {
		spec    eni.VPCSpec
		file    string
		subnets []eni.SubnetSpec
		files   []string
	}
	plans := map[string]*vpcPlan{}
	var order []string
	plan := func(id string) *vpcPlan {
		if plans[id] == nil {
			plans[id] = &vpcPlan{spec: eni.VPCSpec{ID: id, NoDefaultGroup: true}}
			order = append(order, id)
		}
		return plans[id]
	}
	for _, v := range l.vpcs {
		p := plan(v.v.VpcID)
		p.file, p.spec.OwnerID = v.file, v.v.OwnerID
		var blocks []string
		if v.v.CidrBlock != "" {
			blocks = append(blocks, v.v.CidrBlock)
		}
		for _, a := range v.v.CidrBlockAssociationSet {
			if a.CidrBlockState != nil && a.CidrBlockState.State != "" && !strings.EqualFold(a.CidrBlockState.State, "associated") {
				continue
			}
			if a.CidrBlock != "" && !slices.Contains(blocks, a.CidrBlock) {
				blocks = append(blocks, a.CidrBlock)
			}
		}
		for k, b := range blocks {
			pfx, err := parsePrefix(v.file, v.v.VpcID, fmt.Sprintf("CidrBlockAssociationSet[%d].CidrBlock", k), b, false)
			if err != nil {
				return err
			}
			p.spec.CIDRs = append(p.spec.CIDRs, pfx)
		}
		for k, a := range v.v.IPv6CidrBlockAssociationSet {
			if a.IPv6CidrBlockState != nil && a.IPv6CidrBlockState.State != "" && !strings.EqualFold(a.IPv6CidrBlockState.State, "associated") {
				continue
			}
			pfx, err := parsePrefix(v.file, v.v.VpcID, fmt.Sprintf("Ipv6CidrBlockAssociationSet[%d].Ipv6CidrBlock", k), a.IPv6CidrBlock, true)
			if err != nil {
				return err
			}
			p.spec.CIDRs = append(p.spec.CIDRs, pfx)
		}
	}
	haveVPCs, haveSubnets := len(l.vpcs) > 0, len(l.subnets) > 0
	for _, s := range l.subnets {
		if s.v.VpcID == "" {
			return &Error{File: s.file, Object: s.v.SubnetID, Field: "VpcId", Msg: "missing"}
		}
		if haveVPCs && plans[s.v.VpcID] == nil {
			return &Error{File: s.file, Object: s.v.SubnetID, Field: "VpcId",
				Msg: fmt.Sprintf("%s is not defined in any --config file (VPCs come from %s)", s.v.VpcID, l.vpcs[0].file)}
		}
		spec := eni.SubnetSpec{ID: s.v.SubnetID, VpcID: s.v.VpcID, AvailabilityZoneID: s.v.AvailabilityZoneID}
		if a := s.v.SubnetArn; a != "" {
			// arn:aws:ec2:REGION:ACCOUNT:subnet/ID, the only place
			// describe-subnets names the region.
			parts := strings.SplitN(a, ":", 6)
			if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ec2" || parts[3] == "" {
				return &Error{File: s.file, Object: s.v.SubnetID, Field: "SubnetArn",
					Msg: fmt.Sprintf("%q is not an EC2 ARN (arn:aws:ec2:REGION:ACCOUNT:subnet/ID)", a)}
			}
			spec.Region = parts[3]
		}
		if s.v.CidrBlock != "" {
			p, err := parsePrefix(s.file, s.v.SubnetID, "CidrBlock", s.v.CidrBlock, false)
			if err != nil {
				return err
			}
			spec.CIDR = p
		}
		for k, a := range s.v.IPv6CidrBlockAssociationSet {
			p, err := parsePrefix(s.file, s.v.SubnetID, fmt.Sprintf("Ipv6CidrBlockAssociationSet[%d].Ipv6CidrBlock", k), a.IPv6CidrBlock, true)
			if err != nil {
				return err
			}
			spec.IPv6CIDR = p
		}
		pl := plan(s.v.VpcID)
		pl.subnets = append(pl.subnets, spec)
		pl.files = append(pl.files, s.file)
	}
	// Subnets the interfaces use but no file describes.
	if !haveSubnets {
		inferred := map[string]*eni.SubnetSpec{}
		for _, e := range l.enis {
			x := e.v
			if x.SubnetID == "" || x.VpcID == "" {
				return &Error{File: e.file, Object: x.NetworkInterfaceID, Field: "SubnetId",
					Msg: "missing; without describe-subnets output the interface's SubnetId and VpcId are needed"}
			}
			s := inferred[x.SubnetID]
			if s == nil {
				s = &eni.SubnetSpec{ID: x.SubnetID, VpcID: x.VpcID}
				inferred[x.SubnetID] = s
			}
			for _, a := range interfaceAddrs(x) {
				ad, err := netip.ParseAddr(a)
				if err != nil {
					continue // reported when the interface is built
				}
				if ad.Is4() && !s.CIDR.IsValid() {
					s.CIDR = netip.PrefixFrom(ad, 24).Masked()
				} else if ad.Is6() && !s.IPv6CIDR.IsValid() {
					s.IPv6CIDR = netip.PrefixFrom(ad, 64).Masked()
				}
			}
		}
		ids := make([]string, 0, len(inferred))
		for id := range inferred {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			s := inferred[id]
			pl := plan(s.VpcID)
			pl.subnets = append(pl.subnets, *s)
			pl.files = append(pl.files, "")
			l.warn("no describe-subnets output: %s taken to be %s (the block around its interfaces' addresses)", id, blockText(*s))
		}
	}
	for _, g := range l.groups {
		if g.v.VpcID != "" {
			plan(g.v.VpcID)
		}
	}
	for _, a := range l.acls {
		if a.v.VpcID != "" {
			plan(a.v.VpcID)
		}
	}
	for _, id := range order {
		p := plans[id]
		if p.file == "" {
			if haveVPCs {
				return &Error{Object: id, Msg: "is referenced but not defined in any --config file with Vpcs"}
			}
			p.spec.CIDRs = coveringBlocks(p.subnets)
			l.warn("no describe-vpcs output: %s taken to span %s", id, prefixesText(p.spec.CIDRs))
		}
		p.spec.NoDefaultACL = l.hasDefaultACL(id)
		if !p.spec.NoDefaultACL && len(l.acls) > 0 {
			l.warn("no network ACL of %s in the files: its subnets get an allow-all default ACL", id)
		}
		if _, err := l.net.AddVPC(p.spec); err != nil {
			return wrap(p.file, id, "", err)
		}
		for k, s := range p.subnets {
			if _, err := l.net.AddSubnet(s); err != nil {
				return wrap(p.files[k], s.ID, "", err)
			}
		}
	}
	if len(l.acls) == 0 && len(order) > 0 {
		l.warn("no describe-network-acls output: every subnet is taken to use an allow-all default ACL")
	}
	return nil
}

func (l *loader) hasDefaultACL(vpcID string) bool {
	for _, a := range l.acls {
		if a.v.VpcID == vpcID && a.v.IsDefault {
			return true
		}
	}
	return false
}

func interfaceAddrs(x networkInterface) []string {
	var out []string
	if x.PrivateIPAddress != "" {
		out = append(out, x.PrivateIPAddress)
	}
	for _, a := range x.PrivateIPAddresses {
		out = append(out, a.PrivateIPAddress)
	}
	for _, a := range x.IPv6Addresses {
		out = append(out, a.IPv6Address)
	}
	return out
}

func blockText(s eni.SubnetSpec) string {
	var parts []string
	for _, p := range []netip.Prefix{s.CIDR, s.IPv6CIDR} {
		if p.IsValid() {
			parts = append(parts, p.String())
		}
	}
	return strings.Join(parts, " and ")
}

func prefixesText(ps []netip.Prefix) string {
	parts := make([]string, len(ps))
	for k, p := range ps {
		parts[k] = p.String()
	}
	return strings.Join(parts, ", ")
}

// coveringBlocks returns, per family, the smallest block covering every
// subnet (no larger than a /16 for IPv4 when it can be helped).
func coveringBlocks(subnets []eni.SubnetSpec) []netip.Prefix {
	var out []netip.Prefix
	for _, six := range []bool{false, true} {
		var cover netip.Prefix
		for _, s := range subnets {
			p := s.CIDR
			if six {
				p = s.IPv6CIDR
			}
			if !p.IsValid() {
				continue
			}
			if !cover.IsValid() {
				cover = p
				continue
			}
			for bits := min(cover.Bits(), p.Bits()); bits >= 0; bits-- {
				c := netip.PrefixFrom(cover.Addr(), bits).Masked()
				if c.Contains(p.Addr()) {
					cover = c
					break
				}
			}
		}
		if cover.IsValid() {
			if !six && cover.Bits() > 16 {
				cover = netip.PrefixFrom(cover.Addr(), 16).Masked()
			}
			if six && cover.Bits() > 56 {
				cover = netip.PrefixFrom(cover.Addr(), 56).Masked()
			}
			out = append(out, cover)
		}
	}
	return out
}

// awsManagedWeights are the quota weights of AWS-managed prefix lists,
// matched on the end of their names.
var awsManagedWeights = []struct {
	suffix string
	weight int
}{
	{"cloudfront.origin-facing", 55}, {"cloudfront.origin-facing.ipv6", 55}, {".dynamodb", 1}, {".s3", 1},
	{".ec2-instance-connect", 2}, {".ec2-instance-connect.ipv6", 2}, {"groundstation", 5},
	{".route53-healthchecks", 25}, {".route53-healthchecks.ipv6", 25}, {".s3express", 6},
	{".secretsmanager-managed-external-secrets", 20}, {".vpc-lattice", 10}, {".vpc-lattice.ipv6", 10},
}

func (l *loader) buildPrefixLists() error {
	for _, p := range l.lists {
		x := p.v
		pl := sg.PrefixList{ID: x.PrefixListID, Name: x.PrefixListName, OwnerID: x.OwnerID,
			IPv6: strings.EqualFold(x.AddressFamily, "IPv6")}
		if x.MaxEntries.set {
			pl.MaxEntries = int(x.MaxEntries.v)
		}
		if x.OwnerID == "AWS" {
			for _, w := range awsManagedWeights {
				if strings.HasSuffix(x.PrefixListName, w.suffix) {
					pl.Weight = w.weight
				}
			}
		}
		es, ok := l.entries[x.PrefixListID]
		if !ok {
			l.warn("%s: %s: no get-managed-prefix-list-entries output: rules referencing it match nothing", p.file, x.PrefixListID)
		}
		for k, e := range es.v {
			c, err := parsePrefix(es.file, x.PrefixListID, fmt.Sprintf("Entries[%d].Cidr", k), e.Cidr, pl.IPv6)
			if err != nil {
				return err
			}
			pl.Entries = append(pl.Entries, sg.PrefixListEntry{CIDR: c, Description: e.Description})
		}
		if err := l.net.Groups().CreatePrefixList(pl); err != nil {
			return wrap(p.file, x.PrefixListID, "", err)
		}
	}
	for id, es := range l.entries {
		if _, ok := l.net.Groups().PrefixList(id); !ok {
			return &Error{File: es.file, Object: id, Msg: "entries of a prefix list that no describe-managed-prefix-lists file defines"}
		}
	}
	return nil
}

// permission is one security group rule with where it came from.
type permission struct {
	file, field string
	dir         sg.Direction
	rule        sg.Rule
}

func (l *loader) buildGroups() error {
	reg := l.net.Groups()
	byRules := map[string][]located[securityGroupRule]{}
	for _, r := range l.rules {
		byRules[r.v.GroupID] = append(byRules[r.v.GroupID], r)
	}
	perms := map[string][]permission{}
	var maxWeight, maxGroups int
	for _, g := range l.groups {
		x := g.v
		var ps []permission
		var err error
		if rs, ok := byRules[x.GroupID]; ok {
			ps, err = rulesFromSGR(rs)
		} else {
			ps, err = rulesFromPermissions(g.file, x)
		}
		if err != nil {
			return err
		}
		if x.GroupName == "" {
			return &Error{File: g.file, Object: x.GroupID, Field: "GroupName", Msg: "missing"}
		}
		if x.VpcID == "" {
			return &Error{File: g.file, Object: x.GroupID, Field: "VpcId", Msg: "missing (EC2-Classic groups are not modelled)"}
		}
		if _, err := reg.ImportGroup(sg.GroupSpec{ID: x.GroupID, Name: x.GroupName, Description: x.Description,
			VpcID: x.VpcID, OwnerID: x.OwnerID}, x.GroupName == "default"); err != nil {
			return wrap(g.file, x.GroupID, "", err)
		}
		perms[x.GroupID] = ps
		maxWeight = max(maxWeight, len(ps))
	}
	for id, rs := range byRules {
		if perms[id] == nil && !slices.ContainsFunc(l.groups, func(g located[securityGroup]) bool { return g.v.GroupID == id }) {
			return &Error{File: rs[0].file, Object: rs[0].v.SecurityGroupRuleID, Field: "GroupId",
				Msg: fmt.Sprintf("%s is not defined in any --config file with SecurityGroups", id)}
		}
	}
	for _, e := range l.enis {
		maxGroups = max(maxGroups, len(e.v.Groups))
	}
	// Loaded configurations already passed AWS's quota checks, perhaps
	// under raised quotas: raise ours to fit, and say so.
	q := reg.Quotas()
	if maxWeight > q.RulesPerGroup || maxGroups > q.GroupsPerInterface {
		q.RulesPerGroup = max(q.RulesPerGroup, maxWeight)
		q.GroupsPerInterface = max(q.GroupsPerInterface, maxGroups)
		if q.Validate() != nil {
			q.GroupsPerInterface = max(1, 1000/q.RulesPerGroup)
		}
		if err := reg.SetQuotas(q); err == nil {
			l.warn("the files exceed AWS's default quotas: assuming %d rules per group and %d groups per interface",
				q.RulesPerGroup, q.GroupsPerInterface)
		}
	}
	ids := make([]string, 0, len(perms))
	for _, g := range l.groups {
		ids = append(ids, g.v.GroupID)
	}
	for _, id := range ids {
		owner, vpc := "", ""
		if gi, ok := reg.Group(id); ok {
			owner, vpc = gi.OwnerID, gi.VpcID
		}
		for _, p := range perms[id] {
			if peer := p.rule.Peer; peer.Kind == sg.PeerGroup && !reg.HasGroup(peer.GroupID) {
				// A group of another account, of a peered VPC, or of a VPC
				// attached to the same transit gateway (AWS §1.2) may well
				// be outside the files; one of the same VPC may not.
				if !peer.Foreign(owner, vpc) {
					return &Error{File: p.file, Object: id, Field: p.field,
						Msg: fmt.Sprintf("%s is not defined in any --config file", peer.GroupID)}
				}
				l.warn("%s: %s: %s: %s is in another account or VPC and not in the files: the rule matches nothing "+
					"(add that VPC's describe-security-groups and describe-network-interfaces output to model it)",
					p.file, id, p.field, peer.GroupID)
			}
			if p.rule.Peer.Kind == sg.PeerPrefixList {
				if _, ok := reg.PrefixList(p.rule.Peer.PrefixListID); !ok {
					return &Error{File: p.file, Object: id, Field: p.field,
						Msg: fmt.Sprintf("%s is not defined in any --config file with PrefixLists", p.rule.Peer.PrefixListID)}
				}
			}
			var err error
			if p.dir == sg.Ingress {
				_, err = reg.AuthorizeIngress(id, p.rule)
			} else {
				_, err = reg.AuthorizeEgress(id, p.rule)
			}
			if err != nil {
				return wrap(p.file, id, p.field, err)
			}
		}
	}
	return nil
}

// ruleFields validates protocol and ports the way the fields read, so the
// error names the field.
func ruleFields(file, obj, field string, proto flexString, from, to flexInt) (sg.Rule, error) {
	var r sg.Rule
	if !proto.set {
		return r, &Error{File: file, Object: obj, Field: field + ".IpProtocol", Msg: "missing"}
	}
	p, err := sg.ParseProtocol(proto.v)
	if err != nil {
		return r, &Error{File: file, Object: obj, Field: field + ".IpProtocol",
			Msg: fmt.Sprintf("%q is not a protocol (tcp, udp, icmp, icmpv6, -1 or 0-255)", proto.v)}
	}
	r.Protocol = p
	r.FromPort, r.ToPort = -1, -1
	switch {
	case p.HasPorts():
		for _, f := range []struct {
			name string
			v    flexInt
			dst  *int32
		}{{"FromPort", from, &r.FromPort}, {"ToPort", to, &r.ToPort}} {
			if !f.v.set {
				return r, &Error{File: file, Object: obj, Field: field + "." + f.name, Msg: "missing; " + p.String() + " rules need ports"}
			}
			if f.v.v < 0 || f.v.v > 65535 {
				return r, &Error{File: file, Object: obj, Field: field + "." + f.name, Msg: fmt.Sprintf("%d is not a port", f.v.v)}
			}
			*f.dst = int32(f.v.v)
		}
		if r.FromPort > r.ToPort {
			return r, &Error{File: file, Object: obj, Field: field + ".FromPort",
				Msg: fmt.Sprintf("%d is above ToPort %d", r.FromPort, r.ToPort)}
		}
	case p.IsICMP():
		for _, f := range []struct {
			name string
			v    flexInt
			dst  *int32
		}{{"FromPort", from, &r.FromPort}, {"ToPort", to, &r.ToPort}} {
			if !f.v.set {
				continue // icmpv6 without ports: all types and codes
			}
			if f.v.v < -1 || f.v.v > 255 {
				return r, &Error{File: file, Object: obj, Field: field + "." + f.name,
					Msg: fmt.Sprintf("%d is not an ICMP type or code (-1 or 0-255)", f.v.v)}
			}
			*f.dst = int32(f.v.v)
		}
		if r.FromPort == -1 && r.ToPort != -1 {
			return r, &Error{File: file, Object: obj, Field: field + ".ToPort",
				Msg: fmt.Sprintf("%d with FromPort -1: all ICMP types needs all codes (-1)", r.ToPort)}
		}
	}
	return r, nil
}

func rulesFromPermissions(file string, g securityGroup) ([]permission, error) {
	var out []permission
	for _, list := range []struct {
		name  string
		dir   sg.Direction
		perms []ipPermission
	}{{"IpPermissions", sg.Ingress, g.IPPermissions}, {"IpPermissionsEgress", sg.Egress, g.IPPermissionsEgress}} {
		for k, p := range list.perms {
			field := fmt.Sprintf("%s[%d]", list.name, k)
			base, err := ruleFields(file, g.GroupID, field, p.IPProtocol, p.FromPort, p.ToPort)
			if err != nil {
				return nil, err
			}
			add := func(sub string, peer sg.Peer, desc string) {
				r := base
				r.Peer, r.Description = peer, desc
				out = append(out, permission{file: file, field: field + "." + sub, dir: list.dir, rule: r})
			}
			for j, x := range p.IPRanges {
				c, err := parsePrefix(file, g.GroupID, fmt.Sprintf("%s.IpRanges[%d].CidrIp", field, j), x.CidrIP, false)
				if err != nil {
					return nil, err
				}
				add(fmt.Sprintf("IpRanges[%d]", j), sg.CIDR(c), x.Description)
			}
			for j, x := range p.IPv6Ranges {
				c, err := parsePrefix(file, g.GroupID, fmt.Sprintf("%s.Ipv6Ranges[%d].CidrIpv6", field, j), x.CidrIPv6, true)
				if err != nil {
					return nil, err
				}
				add(fmt.Sprintf("Ipv6Ranges[%d]", j), sg.CIDR(c), x.Description)
			}
			for j, x := range p.PrefixListIDs {
				add(fmt.Sprintf("PrefixListIds[%d]", j), sg.PrefixListPeer(x.PrefixListID), x.Description)
			}
			for j, x := range p.UserIDGroupPairs {
				if x.GroupID == "" {
					return nil, &Error{File: file, Object: g.GroupID, Field: fmt.Sprintf("%s.UserIdGroupPairs[%d].GroupId", field, j), Msg: "missing"}
				}
				add(fmt.Sprintf("UserIdGroupPairs[%d].GroupId", j), groupPeer(x), x.Description)
			}
		}
	}
	return out, nil
}

func groupPeer(x groupPair) sg.Peer {
	return sg.Peer{Kind: sg.PeerGroup, GroupID: x.GroupID, UserID: x.UserID, VpcID: x.VpcID,
		PeeringConnectionID: x.VpcPeeringConnectionID, PeeringStatus: x.PeeringStatus}
}

func rulesFromSGR(rs []located[securityGroupRule]) ([]permission, error) {
	var out []permission
	for _, lr := range rs {
		x, file := lr.v, lr.file
		obj := x.GroupID
		field := x.SecurityGroupRuleID
		if field == "" {
			field = "SecurityGroupRules"
		}
		r, err := ruleFields(file, obj, field, x.IPProtocol, x.FromPort, x.ToPort)
		if err != nil {
			return nil, err
		}
		r.ID, r.Description = x.SecurityGroupRuleID, x.Description
		n := 0
		if x.CidrIPv4 != "" {
			c, err := parsePrefix(file, obj, field+".CidrIpv4", x.CidrIPv4, false)
			if err != nil {
				return nil, err
			}
			r.Peer, n = sg.CIDR(c), n+1
		}
		if x.CidrIPv6 != "" {
			c, err := parsePrefix(file, obj, field+".CidrIpv6", x.CidrIPv6, true)
			if err != nil {
				return nil, err
			}
			r.Peer, n = sg.CIDR(c), n+1
		}
		if x.PrefixListID != "" {
			r.Peer, n = sg.PrefixListPeer(x.PrefixListID), n+1
		}
		if x.ReferencedGroupInfo != nil && x.ReferencedGroupInfo.GroupID != "" {
			r.Peer, n = groupPeer(*x.ReferencedGroupInfo), n+1
		}
		if n != 1 {
			return nil, &Error{File: file, Object: obj, Field: field,
				Msg: fmt.Sprintf("has %d peers; exactly one of CidrIpv4, CidrIpv6, PrefixListId and ReferencedGroupInfo is needed", n)}
		}
		dir := sg.Ingress
		if x.IsEgress {
			dir = sg.Egress
		}
		out = append(out, permission{file: file, field: field, dir: dir, rule: r})
	}
	return out, nil
}

func (l *loader) buildACLs() error {
	for _, la := range l.acls {
		x, file := la.v, la.file
		if _, ok := l.net.VPC(x.VpcID); !ok {
			return &Error{File: file, Object: x.NetworkACLID, Field: "VpcId", Msg: fmt.Sprintf("%s is not a known VPC", x.VpcID)}
		}
		v, _ := l.net.VPC(x.VpcID)
		a := nacl.New(x.NetworkACLID, x.VpcID, v.HasIPv6())
		a.IsDefault = x.IsDefault
		numbered := 0
		for _, e := range x.Entries {
			if e.RuleNumber.v < nacl.DenyAllIPv4 {
				numbered++
			}
		}
		if numbered > nacl.DefaultEntryQuota {
			_ = a.SetQuota(nacl.MaxEntryQuota)
		}
		for k, e := range x.Entries {
			field := fmt.Sprintf("Entries[%d]", k)
			if !e.RuleNumber.set {
				return &Error{File: file, Object: x.NetworkACLID, Field: field + ".RuleNumber", Msg: "missing"}
			}
			if e.RuleNumber.v == nacl.DenyAllIPv4 || e.RuleNumber.v == nacl.DenyAllIPv6 {
				continue // the "*" entries are implicit
			}
			ne := nacl.Entry{RuleNumber: int(e.RuleNumber.v), Egress: e.Egress, FromPort: -1, ToPort: -1, ICMPType: -1, ICMPCode: -1}
			switch strings.ToLower(e.RuleAction) {
			case "allow":
				ne.Action = nacl.Allow
			case "deny":
				ne.Action = nacl.Deny
			default:
				return &Error{File: file, Object: x.NetworkACLID, Field: field + ".RuleAction", Msg: fmt.Sprintf("%q is neither allow nor deny", e.RuleAction)}
			}
			proto, err := sg.ParseProtocol(e.Protocol.v)
			if err != nil || !e.Protocol.set {
				return &Error{File: file, Object: x.NetworkACLID, Field: field + ".Protocol", Msg: fmt.Sprintf("%q is not a protocol number", e.Protocol.v)}
			}
			ne.Protocol = int16(proto)
			switch {
			case e.CidrBlock != "" && e.IPv6CidrBlock == "":
				ne.CIDR, err = parsePrefix(file, x.NetworkACLID, field+".CidrBlock", e.CidrBlock, false)
			case e.IPv6CidrBlock != "" && e.CidrBlock == "":
				ne.CIDR, err = parsePrefix(file, x.NetworkACLID, field+".Ipv6CidrBlock", e.IPv6CidrBlock, true)
			default:
				err = &Error{File: file, Object: x.NetworkACLID, Field: field, Msg: "needs exactly one of CidrBlock and Ipv6CidrBlock"}
			}
			if err != nil {
				return err
			}
			if e.PortRange != nil {
				ne.FromPort, ne.ToPort = int32(e.PortRange.From.v), int32(e.PortRange.To.v)
				if !e.PortRange.From.set || !e.PortRange.To.set {
					return &Error{File: file, Object: x.NetworkACLID, Field: field + ".PortRange", Msg: "needs From and To"}
				}
			} else if proto == sg.TCP || proto == sg.UDP {
				return &Error{File: file, Object: x.NetworkACLID, Field: field + ".PortRange", Msg: "missing; TCP and UDP entries need one"}
			}
			if e.IcmpTypeCode != nil {
				ne.ICMPType, ne.ICMPCode = int32(e.IcmpTypeCode.Type.v), int32(e.IcmpTypeCode.Code.v)
				if !e.IcmpTypeCode.Type.set {
					ne.ICMPType = -1
				}
				if !e.IcmpTypeCode.Code.set {
					ne.ICMPCode = -1
				}
			}
			if err := a.CreateEntry(ne); err != nil {
				return wrap(file, x.NetworkACLID, field, err)
			}
		}
		if err := l.net.AddACL(a); err != nil {
			return wrap(file, x.NetworkACLID, "", err)
		}
		for k, as := range x.Associations {
			if _, ok := l.net.Subnet(as.SubnetID); !ok {
				return &Error{File: file, Object: x.NetworkACLID, Field: fmt.Sprintf("Associations[%d].SubnetId", k),
					Msg: fmt.Sprintf("%s is not defined in any --config file", as.SubnetID)}
			}
			if err := l.net.AssociateACL(as.SubnetID, x.NetworkACLID); err != nil {
				return wrap(file, x.NetworkACLID, fmt.Sprintf("Associations[%d].SubnetId", k), err)
			}
		}
	}
	return nil
}

func (l *loader) buildInterfaces() error {
	for _, le := range l.enis {
		x, file := le.v, le.file
		obj := x.NetworkInterfaceID
		if x.SubnetID == "" {
			return &Error{File: file, Object: obj, Field: "SubnetId", Msg: "is missing"}
		}
		if _, ok := l.net.Subnet(x.SubnetID); !ok {
			return &Error{File: file, Object: obj, Field: "SubnetId", Msg: fmt.Sprintf("%s is not defined in any --config file", x.SubnetID)}
		}
		spec := eni.InterfaceSpec{ID: obj, OwnerID: x.OwnerID, SubnetID: x.SubnetID, Type: eni.InterfaceType(x.InterfaceType),
			Description: x.Description, RequesterManaged: x.RequesterManaged}
		if x.InterfaceType == "nat_gateway" { // the API's enum says natGateway; some output spells it so
			spec.Type = eni.TypeNATGateway
		}
		if x.Attachment != nil {
			spec.InstanceID, spec.DeviceIndex = x.Attachment.InstanceID, int(x.Attachment.DeviceIndex.v)
		}
		if x.SourceDestCheck != nil && !*x.SourceDestCheck {
			spec.DisableSourceDestCheck = true
		}
		if x.PrivateIPAddress != "" {
			a, err := parseAddr(file, obj, "PrivateIpAddress", x.PrivateIPAddress)
			if err != nil {
				return err
			}
			spec.PrivateIPv4 = append(spec.PrivateIPv4, a)
		}
		// Public addresses, for the internet gateway's translation; the
		// top-level Association repeats the primary private address's.
		var pubFields []string
		addPublic := func(field, public string, private netip.Addr) error {
			a, err := parseAddr(file, obj, field, public)
			if err != nil {
				return err
			}
			for _, x := range spec.PublicIPv4 {
				if x.Public == a {
					return nil
				}
			}
			spec.PublicIPv4 = append(spec.PublicIPv4, eni.PublicIP{Public: a, Private: private})
			pubFields = append(pubFields, field)
			return nil
		}
		for k, p := range x.PrivateIPAddresses {
			a, err := parseAddr(file, obj, fmt.Sprintf("PrivateIpAddresses[%d].PrivateIpAddress", k), p.PrivateIPAddress)
			if err != nil {
				return err
			}
			if !slices.Contains(spec.PrivateIPv4, a) {
				spec.PrivateIPv4 = append(spec.PrivateIPv4, a)
			}
			if p.Association != nil && p.Association.PublicIP != "" {
				if err := addPublic(fmt.Sprintf("PrivateIpAddresses[%d].Association.PublicIp", k), p.Association.PublicIP, a); err != nil {
					return err
				}
			}
		}
		if x.Association != nil && x.Association.PublicIP != "" && len(spec.PrivateIPv4) > 0 {
			if err := addPublic("Association.PublicIp", x.Association.PublicIP, spec.PrivateIPv4[0]); err != nil {
				return err
			}
		}
		for k, p := range x.IPv6Addresses {
			a, err := parseAddr(file, obj, fmt.Sprintf("Ipv6Addresses[%d].Ipv6Address", k), p.IPv6Address)
			if err != nil {
				return err
			}
			spec.IPv6 = append(spec.IPv6, a)
		}
		// Delegated prefixes, with their fields in the order AddInterface
		// reports them.
		var delegated, prefixFields []string
		for k, p := range x.IPv4Prefixes {
			delegated, prefixFields = append(delegated, p.IPv4Prefix), append(prefixFields, fmt.Sprintf("Ipv4Prefixes[%d].Ipv4Prefix", k))
		}
		for k, p := range x.IPv6Prefixes {
			delegated, prefixFields = append(delegated, p.IPv6Prefix), append(prefixFields, fmt.Sprintf("Ipv6Prefixes[%d].Ipv6Prefix", k))
		}
		for k, p := range delegated {
			pfx, err := parseDelegated(file, obj, prefixFields[k], p, k >= len(x.IPv4Prefixes))
			if err != nil {
				return err
			}
			spec.Prefixes = append(spec.Prefixes, pfx)
		}
		for k, g := range x.Groups {
			if !l.net.Groups().HasGroup(g.GroupID) {
				return &Error{File: file, Object: obj, Field: fmt.Sprintf("Groups[%d].GroupId", k),
					Msg: fmt.Sprintf("%s is not defined in any --config file with SecurityGroups", g.GroupID)}
			}
			spec.Groups = append(spec.Groups, g.GroupID)
		}
		if len(spec.Groups) == 0 && !x.RequesterManaged {
			spec.RequesterManaged = true // AWS lets only service interfaces go without groups
		}
		l.instances.applyInstance(&spec, len(l.reservations) > 0)
		if c := x.ConnectionTrackingConfiguration; c != nil {
			cfg := conntrack.DefaultConfig()
			if spec.ConnTrack != nil {
				cfg = *spec.ConnTrack // the instance type's defaults
			}
			cfg, err := withTimeouts(cfg, file, obj, "ConnectionTrackingConfiguration.", "", c.TCPEstablishedTimeout, c.UDPTimeout, c.UDPStreamTimeout)
			if err != nil {
				return err
			}
			spec.ConnTrack = &cfg
		}
		if _, err := l.net.AddInterface(spec); err != nil {
			field := ""
			var ee *eni.Error
			var k int
			if errors.As(err, &ee) {
				if _, serr := fmt.Sscanf(ee.Field, "PublicIPv4[%d]", &k); serr == nil && k >= 0 && k < len(pubFields) {
					field = pubFields[k]
				}
				if _, serr := fmt.Sscanf(ee.Field, "Prefixes[%d]", &k); serr == nil && k >= 0 && k < len(prefixFields) {
					field = prefixFields[k]
				}
			}
			return wrap(file, obj, field, err)
		}
	}
	l.warnInstances()
	return nil
}
