// Package audit judges a modelled VPC's effective exposure and hygiene: the
// checks AWS Security Hub runs on security groups and network ACLs, and
// more, computed on the same compiled model that judges packets rather
// than on the rules' text. A port range 0-1024 exposes 22; protocol -1
// exposes everything; an IPv6 ::/0 rule counts; a network ACL entry that
// denies the port from the internet first removes the finding.
//
// Exposure is judged per interface: the union of its groups' inbound
// rules whose peer is the whole internet (0.0.0.0/0, ::/0, or a prefix
// list holding one of them), filtered by its subnet's network ACL as an
// arbitrary internet address would meet it (an address outside every
// narrower ACL entry). A group attached to nothing exposes nothing; it is
// reported as unused instead.
package audit

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/mirror"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

// Severity orders findings. The zero value is Info.
type Severity uint8

const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "invalid"
}

// ParseSeverity reads "info", "low", "medium", "high" or "critical" (any case).
func ParseSeverity(s string) (Severity, error) {
	for k, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(k), nil
		}
	}
	return 0, fmt.Errorf("%q is not a severity: use info, low, medium, high or critical", s)
}

// Check describes one kind of finding.
type Check struct {
	ID       string // Security Hub control ID where one exists (EC2.19), else SGSIM.*
	Title    string
	Severity Severity
	Fix      string // a one-line fix
}

// Checks lists every check, in report order.
var Checks = []Check{
	{"EC2.2", "The VPC default security group should not allow inbound or outbound traffic", High,
		"remove every rule of the default group and attach purpose-made groups instead"},
	{"EC2.13", "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22", High,
		"allow SSH only from known addresses (a /32 or a prefix list), or use Session Manager"},
	{"EC2.14", "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 3389", High,
		"allow RDP only from known addresses (a /32 or a prefix list), or use Fleet Manager"},
	{"EC2.18", "Security groups should only allow unrestricted incoming traffic for authorized ports", High,
		"narrow the rule to the ports the service needs, or its peer to known addresses"},
	{"EC2.19", "Security groups should not allow unrestricted access to ports with high risk", Critical,
		"never open this port to the internet: allow it only from the groups or addresses that need it"},
	{"SGSIM.MONGODB", "Security groups should not allow unrestricted access to MongoDB (27017)", High,
		"allow MongoDB only from the application's security group"},
	{"SGSIM.NETBIOS", "Security groups should not allow unrestricted access to NetBIOS (139)", High,
		"never expose NetBIOS to the internet; allow it only inside the VPC if at all"},
	{"EC2.21", "Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389", Medium,
		"add a deny entry for 22 and 3389 from 0.0.0.0/0 (and ::/0) numbered before the allow entries"},
	{"SGSIM.ALL_PROTOCOLS_IN", "Security groups should not allow all protocols from the internet", High,
		"replace the -1 rule with rules for the protocols and ports the service needs"},
	{"SGSIM.WIDE_RANGE", "Security group rules should not open wide port ranges", Low,
		"list the ports the service needs instead of a range"},
	{"SGSIM.OUTBOUND_ALL", "Security groups should restrict outbound traffic", Low,
		"replace the allow-all egress rule with rules for the destinations and ports the instances need"},
	{"SGSIM.REDUNDANT_RULE", "Security group rules should not repeat what a broader rule allows", Low,
		"remove the narrower rule: the broader one already allows everything it does"},
	{"SGSIM.SHADOWED_ACL_ENTRY", "Network ACL entries should be reachable", Low,
		"renumber the entry before the one that hides it, or delete it"},
	{"EC2.22", "Unused security groups should be removed", Low,
		"delete the group, or attach it where it was meant to be"},
	{"SGSIM.STALE_REFERENCE", "Rules should not reference groups or prefix lists that no longer exist", Medium,
		"remove the rule, or point it at an existing group or prefix list"},
	{"SGSIM.QUOTA", "Security groups should stay clear of the rule quota", Low,
		"merge rules (prefix lists, wider but still tight CIDRs) or split the group"},
	{"SGSIM.NO_DESCRIPTION", "Security groups and rules should have descriptions", Info,
		"say what the rule is for: the next person to read it will thank you"},
	{"SGSIM.UNUSED_RULE", "Rules that no traffic in the capture used", Info,
		"consider removing the rule, after checking a capture long enough to see every legitimate use"},
	{"SGSIM.UNUSED_ACL_ENTRY", "Network ACL entries that no traffic in the capture used", Info,
		"consider removing the entry, after checking a capture long enough to see every legitimate use"},
	{"SGSIM.REFERENCE_THROUGH_APPLIANCE", "Rules should not reference groups whose traffic an appliance forwards", Medium,
		"allow the members' addresses or subnets instead: a group reference does not match traffic that came through an appliance"},
	{"SGSIM.IDLED_OUT", "Tracked connections should not idle out while still in use", Medium,
		"send keepalives more often than the idle timeout, or raise the interface's timeout (ConnectionTrackingSpecification)"},
	{"SGSIM.PUBLIC_WITHOUT_ROUTE", "Interfaces with a public address should be in a subnet that routes the internet to an internet gateway", Medium,
		"route 0.0.0.0/0 to the internet gateway in the subnet's table, or move the interface to a public subnet: its answers to the internet go elsewhere"},
	{"SGSIM.NAT_REPLIES_REFUSED", "NAT gateways' subnets should let in the replies (TCP and UDP 1024-65535 from the internet)", Medium,
		"allow TCP and UDP 1024-65535 from 0.0.0.0/0 inbound in the NAT gateway's subnet's ACL: the replies come back to the gateway's ports"},
	{"SGSIM.BALANCER_CLIENTS_REFUSED", "Targets of internet-facing Network Load Balancers that keep their clients' addresses should let the clients in", High,
		"allow the clients' addresses (0.0.0.0/0 for a public service) on the target's port in its groups, or turn the target group's client IP " +
			"preservation off: the target sees the clients' addresses, not the balancer's"},
	{"SGSIM.UNUSED_MIRROR_RULE", "Traffic mirror filter rules that no traffic in the capture reached", Info,
		"consider removing the rule, or moving it before the rule that decides its traffic, after checking a capture long enough to see every use"},
	{"SGSIM.MIRROR_TARGET_REFUSES", "Traffic mirror targets should accept the copies (UDP 4789 from each source)", Medium,
		"allow UDP 4789 from the source in the target's security groups: AWS drops copies the target's groups refuse"},
	{"SGSIM.MIRROR_COPIES_NOTHING", "Traffic mirror sessions should have filter rules", Low,
		"add rules to the filter for the direction to mirror: a filter without rules copies nothing that way"},
}

func check(id string) Check {
	for _, c := range Checks {
		if c.ID == id {
			return c
		}
	}
	panic("audit: unknown check " + id) // a bug in this package
}

// Finding is one problem.
type Finding struct {
	Check
	Severity   Severity // may differ from the check's default
	Resource   string   // the object the finding is about: a rule, group, ACL entry or interface
	GroupID    string
	RuleID     string
	ACLID      string
	ACLEntry   int
	Interfaces []string // where an exposure is effective
	Message    string
}

// Options tune an audit.
type Options struct {
	// AllowedPorts may be open to the internet without an EC2.18 finding.
	// Default 80 and 443.
	AllowedPorts []uint16
	// WideRange is the number of ports above which a TCP or UDP range is
	// reported as wide. Default 100.
	WideRange int
	// Mirror, when set, is the traffic mirror sessions to check.
	Mirror *mirror.Set
	// Usage, when set, reports rules and network ACL entries that no
	// traffic used: give the capture's time span (the registry's hit
	// counters and the network's ACL usage say which decided packets).
	Usage *Usage
}

// Usage describes the capture whose rule hit counts an audit reads.
type Usage struct {
	Capture     string
	First, Last time.Time
	// MirrorRules are the traffic mirror filters' rules, with the frames
	// of the capture each decided.
	MirrorRules []MirrorRuleUse
}

// MirrorRuleUse is a traffic mirror filter's rule and the frames it
// decided.
type MirrorRuleUse struct {
	Filter    string
	Direction eni.Direction // Inbound: an ingress rule
	Rule      string        // as mirror.Rule's String gives it
	Frames    int
}

// HighRiskPorts are the ports of Security Hub's EC2.19.
var HighRiskPorts = []uint16{20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500,
	5601, 8080, 8088, 8888, 9200, 9300}

// Run audits the network and returns its findings, most severe first.
func Run(n *eni.Network, opts Options) []Finding {
	if opts.AllowedPorts == nil {
		opts.AllowedPorts = []uint16{80, 443}
	}
	if opts.WideRange == 0 {
		opts.WideRange = 100
	}
	a := &auditor{n: n, reg: n.Groups(), opts: opts}
	a.index()
	a.defaultGroups()
	a.exposure()
	a.aclChecks()
	a.ruleChecks()
	a.groupChecks()
	a.throughAppliances()
	a.mirrorChecks()
	a.routeChecks()
	a.balancerChecks()
	a.unused()
	sort.SliceStable(a.out, func(i, j int) bool {
		if a.out[i].Severity != a.out[j].Severity {
			return a.out[i].Severity > a.out[j].Severity
		}
		return a.out[i].ID < a.out[j].ID
	})
	return a.out
}

type auditor struct {
	n        *eni.Network
	reg      *sg.Registry
	opts     Options
	groups   []sg.GroupInfo
	attached map[string][]*eni.Interface // group → interfaces
	out      []Finding
}

func (a *auditor) add(id string, f Finding) {
	c := check(id)
	f.Check = c
	if f.Severity == 0 {
		f.Severity = c.Severity
	}
	a.out = append(a.out, f)
}

func (a *auditor) index() {
	a.groups = a.reg.Groups()
	a.attached = map[string][]*eni.Interface{}
	for _, i := range a.n.Interfaces() {
		for _, g := range i.Groups() {
			a.attached[g] = append(a.attached[g], i)
		}
	}
}

func ruleResource(r sg.RuleInfo) string {
	return fmt.Sprintf("%s %s (%s %s)", r.GroupID, r.ID, r.Direction, r.Rule.Describe(r.Direction))
}

func (a *auditor) defaultGroups() {
	for _, g := range a.groups {
		if g.IsDefault && len(g.Ingress)+len(g.Egress) > 0 {
			a.add("EC2.2", Finding{Resource: g.ID, GroupID: g.ID,
				Message: fmt.Sprintf("default group %s of %s has %d inbound and %d outbound rules", g.ID, g.VpcID, len(g.Ingress), len(g.Egress))})
		}
	}
}

// worldPrefixes returns the whole-internet prefixes a peer stands for.
func (a *auditor) worldFamilies(p sg.Peer) (v4, v6 bool) {
	switch p.Kind {
	case sg.PeerCIDR:
		if p.CIDR.Bits() == 0 {
			return p.CIDR.Addr().Is4(), p.CIDR.Addr().Is6()
		}
	case sg.PeerPrefixList:
		if pl, ok := a.reg.PrefixList(p.PrefixListID); ok {
			for _, e := range pl.Entries {
				if e.CIDR.Bits() == 0 {
					v4, v6 = v4 || e.CIDR.Addr().Is4(), v6 || e.CIDR.Addr().Is6()
				}
			}
		}
	}
	return v4, v6
}

// probes stand for "any internet address": the first not inside any
// narrower entry of the ACL is what an arbitrary host would look like.
var probes = map[bool][]netip.Addr{
	false: {netip.MustParseAddr("45.33.32.156"), netip.MustParseAddr("151.101.1.1"), netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("223.5.5.5")},
	true:  {netip.MustParseAddr("2a00:1450:4001::1"), netip.MustParseAddr("2600:1f18::1"), netip.MustParseAddr("2001:4860:4860::8888")},
}

func probeFor(acl *nacl.ACL, v6 bool) netip.Addr {
	cands := probes[v6]
outer:
	for _, c := range cands {
		for _, e := range acl.Entries() {
			if e.CIDR.Bits() > 0 && e.CIDR.Contains(c) {
				continue outer
			}
		}
		return c
	}
	return cands[0]
}

// aclAllows reports whether the ACL lets some port in [lo, hi] of proto in
// from an arbitrary internet address. ACL decisions change only at entry
// boundaries, so those are the ports worth trying.
func aclAllows(acl *nacl.ACL, v6 bool, proto uint8, lo, hi uint16) bool {
	if acl == nil {
		return true
	}
	probe := probeFor(acl, v6)
	cands := []uint16{lo}
	for _, e := range acl.Entries() {
		for _, b := range []int32{e.FromPort, e.ToPort + 1} {
			if b > int32(lo) && b <= int32(hi) {
				cands = append(cands, uint16(b))
			}
		}
	}
	for _, port := range cands {
		if acl.Evaluate(false, proto, port, 0, 0, probe).Allowed() {
			return true
		}
	}
	return false
}

func (a *auditor) subnetACL(i *eni.Interface) *nacl.ACL {
	s, ok := a.n.Subnet(i.Spec().SubnetID)
	if !ok {
		return nil
	}
	return a.n.ACL(s.ACLID)
}

// exposure runs the port checks: for every inbound rule open to the
// internet, on every interface carrying it, what its subnet's ACL lets
// through.
func (a *auditor) exposure() {
	for _, g := range a.groups {
		ifaces := a.attached[g.ID]
		for _, r := range g.Ingress {
			v4, v6 := a.worldFamilies(r.Rule.Peer)
			if !v4 && !v6 {
				continue
			}
			type span struct {
				proto  uint8
				lo, hi uint16
			}
			var spans []span
			switch p := r.Rule.Protocol; {
			case p == sg.AllProtocols:
				spans = []span{{6, 0, 65535}, {17, 0, 65535}}
			case p.HasPorts():
				spans = []span{{uint8(p), uint16(r.Rule.FromPort), uint16(r.Rule.ToPort)}}
			}
			// where reports the interfaces on which the ports are reachable.
			where := func(proto uint8, lo, hi uint16) []string {
				var out []string
				for _, i := range ifaces {
					acl := a.subnetACL(i)
					if (v4 && aclAllows(acl, false, proto, lo, hi)) || (v6 && aclAllows(acl, true, proto, lo, hi)) {
						out = append(out, i.ID())
					}
				}
				return out
			}
			world := worldText(v4, v6)
			if r.Rule.Protocol == sg.AllProtocols {
				if at := where(6, 0, 65535); len(at) > 0 {
					a.add("SGSIM.ALL_PROTOCOLS_IN", Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID, Interfaces: at,
						Message: fmt.Sprintf("every protocol and port is open to %s on %s", world, strings.Join(at, ", "))})
				}
			}
			for _, s := range spans {
				name := eni.ProtoName(s.proto)
				portFinding := func(id string, port uint16, what string) {
					if port < s.lo || port > s.hi {
						return
					}
					if at := where(s.proto, port, port); len(at) > 0 {
						a.add(id, Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID, Interfaces: at,
							Message: fmt.Sprintf("%s %d (%s) is open to %s on %s", name, port, what, world, strings.Join(at, ", "))})
					}
				}
				portFinding("EC2.13", 22, "SSH")
				portFinding("EC2.14", 3389, "RDP")
				portFinding("SGSIM.MONGODB", 27017, "MongoDB")
				portFinding("SGSIM.NETBIOS", 139, "NetBIOS")
				var risky []string
				var riskyAt []string
				for _, port := range HighRiskPorts {
					if port >= s.lo && port <= s.hi {
						if at := where(s.proto, port, port); len(at) > 0 {
							risky = append(risky, fmt.Sprint(port))
							riskyAt = union(riskyAt, at)
						}
					}
				}
				if len(risky) > 0 {
					a.add("EC2.19", Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID, Interfaces: riskyAt,
						Message: fmt.Sprintf("high-risk %s port(s) %s open to %s on %s", name, strings.Join(risky, ", "), world, strings.Join(riskyAt, ", "))})
				}
				var other []string
				var otherAt []string
				for _, seg := range minus(s.lo, s.hi, a.opts.AllowedPorts) {
					if at := where(s.proto, seg[0], seg[1]); len(at) > 0 {
						other = append(other, portRange(seg[0], seg[1]))
						otherAt = union(otherAt, at)
					}
				}
				if len(other) > 0 {
					a.add("EC2.18", Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID, Interfaces: otherAt,
						Message: fmt.Sprintf("%s %s open to %s on %s (authorized: %s)", name, strings.Join(other, ", "), world,
							strings.Join(otherAt, ", "), portList(a.opts.AllowedPorts))})
				}
			}
		}
	}
}

func worldText(v4, v6 bool) string {
	switch {
	case v4 && v6:
		return "0.0.0.0/0 and ::/0"
	case v6:
		return "::/0"
	}
	return "0.0.0.0/0"
}

func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}

// minus returns [lo, hi] without the allowed ports, as ranges.
func minus(lo, hi uint16, allowed []uint16) [][2]uint16 {
	var out [][2]uint16
	start := int(lo)
	for p := int(lo); p <= int(hi)+1; p++ {
		if p == int(hi)+1 || slices.Contains(allowed, uint16(p)) {
			if start < p {
				out = append(out, [2]uint16{uint16(start), uint16(p - 1)})
			}
			start = p + 1
		}
	}
	return out
}

func portRange(lo, hi uint16) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

func portList(ps []uint16) string {
	s := make([]string, len(ps))
	for k, p := range ps {
		s[k] = fmt.Sprint(p)
	}
	return strings.Join(s, ", ")
}

func (a *auditor) aclChecks() {
	for _, acl := range a.n.ACLs() {
		entries := acl.Entries()
		for _, v6 := range []bool{false, true} {
			for _, port := range []uint16{22, 3389} {
				probe := probeFor(acl, v6)
				r := acl.Evaluate(false, 6, port, 0, 0, probe)
				if r.Allowed() {
					e, _ := acl.Entry(false, r.RuleNumber)
					a.add("EC2.21", Finding{Resource: fmt.Sprintf("%s entry %d (%s)", acl.ID, r.RuleNumber, e), ACLID: acl.ID, ACLEntry: r.RuleNumber,
						Message: fmt.Sprintf("%s inbound entry %d admits tcp %d from %s", acl.ID, r.RuleNumber, port, worldText(!v6, v6))})
				}
			}
		}
		for k, e := range entries {
			if e.RuleNumber >= nacl.DenyAllIPv4 {
				continue
			}
			for _, f := range entries[:k] {
				if f.Egress == e.Egress && f.CIDR.Addr().Is6() == e.CIDR.Addr().Is6() && covers(f, e) {
					a.add("SGSIM.SHADOWED_ACL_ENTRY", Finding{Resource: fmt.Sprintf("%s entry %s", acl.ID, e), ACLID: acl.ID, ACLEntry: e.RuleNumber,
						Message: fmt.Sprintf("%s %s entry %d can never match: entry %d (%s) comes first and matches everything it would",
							acl.ID, dirWord(e.Egress), e.RuleNumber, f.RuleNumber, f)})
					break
				}
			}
		}
	}
}

func dirWord(egress bool) string {
	if egress {
		return "outbound"
	}
	return "inbound"
}

// covers reports whether entry f matches every packet entry e matches.
func covers(f, e nacl.Entry) bool {
	if f.CIDR.Bits() > e.CIDR.Bits() || !f.CIDR.Contains(e.CIDR.Addr()) {
		return false
	}
	if f.Protocol == -1 {
		return true
	}
	if f.Protocol != e.Protocol {
		return false
	}
	switch f.Protocol {
	case 6, 17:
		return f.FromPort <= e.FromPort && e.ToPort <= f.ToPort
	case 1, 58:
		return f.ICMPType == -1 || (f.ICMPType == e.ICMPType && (f.ICMPCode == -1 || f.ICMPCode == e.ICMPCode))
	}
	return true
}

func (a *auditor) ruleChecks() {
	// Rules on one interface's union of groups: redundancy is judged where
	// the rules meet. Each pair is reported once.
	seen := map[[2]string]bool{}
	// Interfaces with the same groups meet the same pairs, each reported
	// once already: an auto scaling group's instances are judged once.
	sets := map[string]bool{}
	for _, i := range a.n.Interfaces() {
		key := strings.Join(slices.Sorted(slices.Values(i.Groups())), ",")
		if sets[key] {
			continue
		}
		sets[key] = true
		var rules []sg.RuleInfo
		for _, gid := range i.Groups() {
			if g, ok := a.reg.Group(gid); ok {
				rules = append(rules, g.Ingress...)
				rules = append(rules, g.Egress...)
			}
		}
		for _, r := range rules {
			for _, b := range rules {
				if r.Ref == b.Ref || r.Direction != b.Direction || !a.ruleCovers(b, r) {
					continue
				}
				if a.ruleCovers(r, b) && r.Ref < b.Ref {
					continue // identical: report the later one only
				}
				key := [2]string{r.ID, b.ID}
				if seen[key] {
					continue
				}
				seen[key] = true
				a.add("SGSIM.REDUNDANT_RULE", Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID, Interfaces: []string{i.ID()},
					Message: fmt.Sprintf("%s adds nothing on %s: %s already allows it", ruleResource(r), i.ID(), ruleResource(b))})
				break
			}
		}
	}
	for _, g := range a.groups {
		for _, r := range append(slices.Clone(g.Ingress), g.Egress...) {
			rule := r.Rule
			if rule.Protocol.HasPorts() && int(rule.ToPort-rule.FromPort)+1 > a.opts.WideRange && !(rule.FromPort == 0 && rule.ToPort == 65535 && r.Direction == sg.Egress) {
				sev := Low
				if v4, v6 := a.worldFamilies(rule.Peer); (v4 || v6) && r.Direction == sg.Ingress {
					sev = Medium
				}
				a.add("SGSIM.WIDE_RANGE", Finding{Severity: sev, Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID,
					Message: fmt.Sprintf("%s opens %d ports", ruleResource(r), rule.ToPort-rule.FromPort+1)})
			}
			if r.Direction == sg.Egress && rule.Protocol == sg.AllProtocols {
				if v4, v6 := a.worldFamilies(rule.Peer); v4 || v6 {
					a.add("SGSIM.OUTBOUND_ALL", Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID,
						Message: fmt.Sprintf("%s lets the group's members reach anything", ruleResource(r))})
				}
			}
			if p := rule.Peer; p.Kind == sg.PeerGroup && (!a.reg.HasGroup(p.GroupID) || (p.PeeringStatus != "" && p.PeeringStatus != "active")) {
				a.add("SGSIM.STALE_REFERENCE", Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID,
					Message: fmt.Sprintf("%s references %s, which is not in the configuration (deleted, or its peering is gone): it matches nothing", ruleResource(r), p.GroupID)})
			}
			if p := rule.Peer; p.Kind == sg.PeerPrefixList {
				if _, ok := a.reg.PrefixList(p.PrefixListID); !ok {
					a.add("SGSIM.STALE_REFERENCE", Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID,
						Message: fmt.Sprintf("%s references prefix list %s, which does not exist", ruleResource(r), p.PrefixListID)})
				}
			}
			if rule.Description == "" {
				a.add("SGSIM.NO_DESCRIPTION", Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID,
					Message: fmt.Sprintf("%s has no description", ruleResource(r))})
			}
		}
	}
}

// ruleCovers reports whether rule b allows everything rule r allows.
func (a *auditor) ruleCovers(b, r sg.RuleInfo) bool {
	br, rr := b.Rule, r.Rule
	if br.Protocol != sg.AllProtocols {
		if br.Protocol != rr.Protocol {
			return false
		}
		switch {
		case br.Protocol.HasPorts():
			if br.FromPort > rr.FromPort || rr.ToPort > br.ToPort {
				return false
			}
		case br.Protocol.IsICMP():
			if br.FromPort != -1 && (br.FromPort != rr.FromPort || (br.ToPort != -1 && br.ToPort != rr.ToPort)) {
				return false
			}
		}
	}
	bp, rp := br.Peer, rr.Peer
	switch {
	case bp.Kind == sg.PeerGroup && rp.Kind == sg.PeerGroup:
		return bp.GroupID == rp.GroupID
	case bp.Kind == sg.PeerPrefixList && rp.Kind == sg.PeerPrefixList:
		return bp.PrefixListID == rp.PrefixListID
	case bp.Kind == sg.PeerCIDR && rp.Kind == sg.PeerCIDR:
		return bp.CIDR.Addr().Is4() == rp.CIDR.Addr().Is4() && bp.CIDR.Bits() <= rp.CIDR.Bits() && bp.CIDR.Contains(rp.CIDR.Addr())
	case bp.Kind == sg.PeerCIDR && rp.Kind == sg.PeerPrefixList:
		pl, ok := a.reg.PrefixList(rp.PrefixListID)
		if !ok || len(pl.Entries) == 0 {
			return false
		}
		for _, e := range pl.Entries {
			if bp.CIDR.Addr().Is4() != e.CIDR.Addr().Is4() || bp.CIDR.Bits() > e.CIDR.Bits() || !bp.CIDR.Contains(e.CIDR.Addr()) {
				return false
			}
		}
		return true
	}
	return false
}

func (a *auditor) groupChecks() {
	q := a.reg.Quotas()
	for _, g := range a.groups {
		if !g.IsDefault && len(a.attached[g.ID]) == 0 {
			a.add("EC2.22", Finding{Resource: g.ID, GroupID: g.ID,
				Message: fmt.Sprintf("%s (%s) is attached to no network interface", g.ID, g.Name)})
		}
		if g.Description == "" {
			a.add("SGSIM.NO_DESCRIPTION", Finding{Resource: g.ID, GroupID: g.ID, Message: fmt.Sprintf("group %s (%s) has no description", g.ID, g.Name)})
		}
		load, _ := a.reg.RuleLoad(g.ID)
		for d, dir := range []string{"inbound", "outbound"} {
			for f, fam := range []string{"IPv4", "IPv6"} {
				if load[d][f]*10 >= q.RulesPerGroup*9 {
					a.add("SGSIM.QUOTA", Finding{Resource: g.ID, GroupID: g.ID,
						Message: fmt.Sprintf("%s's %s %s rules weigh %d of the quota's %d", g.ID, dir, fam, load[d][f], q.RulesPerGroup)})
				}
			}
		}
	}
}

// throughAppliances finds inbound rules referencing a group whose members'
// traffic to the rule's interfaces a route sends through an appliance:
// AWS matches a reference by the interface the traffic came from, the
// appliance, so the rule lets none of it in (reference §1.2).
func (a *auditor) throughAppliances() {
	if !a.n.RoutesThroughAppliances() {
		return
	}
	// Routes are per subnet and destination: each pair is asked once.
	type pair struct {
		subnet string
		dst    netip.Addr
	}
	vias := map[pair]*eni.Interface{}
	type place struct {
		addr   netip.Addr // primary
		subnet string
	}
	places := map[*eni.Interface]place{}
	where := func(i *eni.Interface) place {
		p, ok := places[i]
		if !ok {
			if all := i.Addrs(); len(all) > 0 {
				p.addr = all[0]
			}
			p.subnet = i.Spec().SubnetID
			places[i] = p
		}
		return p
	}
	for _, g := range a.groups {
		for _, r := range g.Ingress {
			p := r.Rule.Peer
			if p.Kind != sg.PeerGroup {
				continue
			}
			var first string
			pairs := 0
			for _, d := range a.attached[g.ID] {
				for _, m := range a.attached[p.GroupID] {
					if m == d {
						continue
					}
					src, dst := where(m), where(d)
					if !src.addr.IsValid() || !dst.addr.IsValid() {
						continue
					}
					k := pair{src.subnet, dst.addr}
					via, ok := vias[k]
					if !ok {
						via = a.n.RouteVia(src.addr, dst.addr)
						vias[k] = via
					}
					if via != nil && via != m && via != d {
						pairs++
						if first == "" {
							first = fmt.Sprintf("traffic from %s (%s) to %s goes through %s", m.ID(), m.Spec().SubnetID, d.ID(), via.ID())
						}
					}
				}
			}
			if pairs == 0 {
				continue
			}
			more := ""
			if pairs > 1 {
				more = fmt.Sprintf(" (and %d more pairs of interfaces)", pairs-1)
			}
			a.add("SGSIM.REFERENCE_THROUGH_APPLIANCE", Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID,
				Message: fmt.Sprintf("%s: %s%s, and a group reference does not match what an appliance forwards", ruleResource(r), first, more)})
		}
	}
}

// routeChecks finds interfaces with a public address whose subnet routes
// the internet elsewhere than to an internet gateway (they are reached,
// and answer through a NAT gateway or nowhere), and NAT gateways whose
// subnet's ACL refuses the replies to what the subnets routing through
// them send out.
func (a *auditor) routeChecks() {
	probe := probes[false][0]
	tables := map[string]*eni.RouteTable{} // by subnet; nil when none
	tableOf := func(subnet string) *eni.RouteTable {
		t, ok := tables[subnet]
		if !ok {
			if rt, found := a.n.SubnetRouteTable(subnet); found {
				t = &rt
			}
			tables[subnet] = t
		}
		return t
	}
	for _, i := range a.n.Interfaces() {
		sp := i.Spec()
		if len(sp.PublicIPv4) == 0 {
			continue
		}
		rt := tableOf(sp.SubnetID)
		if rt == nil {
			continue
		}
		r, ok := routeFor(rt, probe)
		if ok && strings.HasPrefix(r.Target, "igw-") {
			continue
		}
		if !ok && len(rt.Unresolved) > 0 {
			continue // a prefix list the files lack may be the route
		}
		where := "has no route for the internet"
		if ok {
			where = "sends the internet (0.0.0.0/0) to " + routeTargetText(r)
		}
		a.add("SGSIM.PUBLIC_WITHOUT_ROUTE", Finding{Resource: i.ID(), Interfaces: []string{i.ID()},
			Message: fmt.Sprintf("%s has the public address %s, but %s, the route table of its subnet %s, %s: the internet's packets "+
				"reach it through the internet gateway and its answers do not go back that way", i.ID(), sp.PublicIPv4[0].Public, rt.ID, sp.SubnetID, where)})
	}
	users := map[*eni.Interface][]string{} // NAT gateway → subnets routing the internet through it
	for _, sn := range a.n.Subnets() {
		rt := tableOf(sn.ID)
		if rt == nil {
			continue
		}
		if r, ok := routeFor(rt, probe); ok && r.Interface != "" {
			if nat := a.n.Interface(r.Interface); nat != nil && nat.Spec().Type == eni.TypeNATGateway {
				users[nat] = append(users[nat], sn.ID)
			}
		}
	}
	for _, nat := range a.n.Interfaces() {
		subnets := users[nat]
		acl := a.subnetACL(nat)
		if len(subnets) == 0 || acl == nil {
			continue
		}
		var refused []string
		for _, proto := range []uint8{6, 17} {
			for _, r := range aclRefuses(acl, proto, 1024, 65535) {
				refused = append(refused, fmt.Sprintf("%s %s", eni.ProtoName(proto), portRange(r[0], r[1])))
			}
		}
		if len(refused) == 0 {
			continue
		}
		a.add("SGSIM.NAT_REPLIES_REFUSED", Finding{Resource: nat.ID(), ACLID: acl.ID, Interfaces: []string{nat.ID()},
			Message: fmt.Sprintf("%s (%s), the ACL of the NAT gateway %s's subnet %s, refuses %s from the internet: replies to what %s "+
				"send out through it come back to those ports, and are dropped", acl.ID, nat.Spec().Description, nat.ID(), nat.Spec().SubnetID,
				strings.Join(refused, ", "), strings.Join(subnets, ", "))})
	}
}

// routeFor returns the route a table has for an address, by longest
// prefix; the VPC's own blocks' local route is left out, as the
// addresses asked about are the internet's.
func routeFor(rt *eni.RouteTable, a netip.Addr) (eni.Route, bool) {
	best, found := eni.Route{}, false
	for _, r := range rt.Routes {
		if r.Dest.Contains(a) && (!found || r.Dest.Bits() > best.Dest.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

func routeTargetText(r eni.Route) string {
	if r.Target != "" && r.Target != "-" {
		return r.Target
	}
	return r.Interface
}

// aclRefuses returns the ranges of ports in [lo, hi] of proto that the ACL
// refuses from an arbitrary internet address.
func aclRefuses(acl *nacl.ACL, proto uint8, lo, hi uint16) [][2]uint16 {
	probe := probeFor(acl, false)
	cuts := []int{int(lo)}
	for _, e := range acl.Entries() {
		for _, b := range []int32{e.FromPort, e.ToPort + 1} {
			if b > int32(lo) && b <= int32(hi) {
				cuts = append(cuts, int(b))
			}
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var out [][2]uint16
	for k, from := range cuts {
		to := int(hi)
		if k+1 < len(cuts) {
			to = cuts[k+1] - 1
		}
		if acl.Evaluate(false, proto, uint16(from), 0, 0, probe).Allowed() {
			continue
		}
		if n := len(out); n > 0 && int(out[n-1][1])+1 == from {
			out[n-1][1] = uint16(to)
			continue
		}
		out = append(out, [2]uint16{uint16(from), uint16(to)})
	}
	return out
}

// mirrorChecks finds sessions whose target interface's groups refuse the
// copies (VXLAN, UDP 4789 from the source's primary address: the source's
// own groups do not judge them, the target's do), and sessions whose
// filter copies nothing at all.
func (a *auditor) mirrorChecks() {
	set := a.opts.Mirror
	if set == nil {
		return
	}
	for _, s := range set.Sessions() {
		f, _ := set.FilterOf(s.ID)
		if len(f.Ingress) == 0 && len(f.Egress) == 0 && !f.AmazonDNS {
			a.add("SGSIM.MIRROR_COPIES_NOTHING", Finding{Resource: s.ID, Interfaces: []string{s.Source},
				Message: fmt.Sprintf("%s copies nothing of %s: its filter %s has no rules, in or out, and no network service", s.ID, s.Source, s.Filter)})
		}
		t, _ := set.TargetOf(s.ID)
		src, dst := a.n.Interface(s.Source), a.n.Interface(t.Interface)
		if t.Type != mirror.TargetInterface || src == nil || dst == nil {
			continue
		}
		from, to := primary4(src), primary4(dst)
		if !from.IsValid() || !to.IsValid() {
			continue
		}
		copyPkt := eni.UDP(netip.AddrPortFrom(from, 40000), netip.AddrPortFrom(to, eni.VXLANPort))
		if v := dst.Check(eni.Inbound, &copyPkt, time.Unix(0, 0)); v.Action != eni.Allow {
			a.add("SGSIM.MIRROR_TARGET_REFUSES", Finding{Resource: s.ID, Interfaces: []string{dst.ID()},
				Message: fmt.Sprintf("%s sends copies of %s to %s (%s), whose groups refuse them: %s", s.ID, s.Source, t.ID, dst.ID(), v.Explain())})
		}
	}
}

// primary4 returns an interface's primary private IPv4 address, which
// VPC Traffic Mirroring sends copies from and to.
func primary4(i *eni.Interface) netip.Addr {
	for _, a := range i.Addrs() {
		if a.Is4() {
			return a
		}
	}
	return netip.Addr{}
}

func (a *auditor) unused() {
	u := a.opts.Usage
	if u == nil {
		return
	}
	span := u.Last.Sub(u.First).Round(time.Second)
	// Connections the capture kept using after they had idled out: the
	// refusals nobody expects, since the session worked a moment before.
	for _, i := range a.n.Interfaces() {
		n := i.Stats().IdledOut
		if n > 0 && i.Spec().Type == eni.TypeNATGateway {
			a.add("SGSIM.IDLED_OUT", Finding{Resource: i.ID(), Interfaces: []string{i.ID()},
				Message: fmt.Sprintf("%d packets of %s through the NAT gateway at %s were refused because the gateway had dropped their "+
					"TCP connection, idle past its fixed %d s: send TCP keepalives more often than that", n, u.Capture, i.ID(),
					int64(eni.NATGatewayIdleTimeout/time.Second))})
			continue
		}
		if n > 0 {
			cfg := i.ConnTrackConfig()
			a.add("SGSIM.IDLED_OUT", Finding{Resource: i.ID(), Interfaces: []string{i.ID()},
				Message: fmt.Sprintf("%d packets of %s at %s were refused because their tracked connection had gone idle past its timeout "+
					"(TCP established %d s, UDP %d s, UDP stream %d s)", n, u.Capture, i.ID(),
					int64(cfg.TCPEstablished/time.Second), int64(cfg.UDP/time.Second), int64(cfg.UDPStream/time.Second))})
		}
	}
	for _, b := range a.n.BalancerStats() {
		if b.IdledOut > 0 {
			a.add("SGSIM.IDLED_OUT", Finding{Resource: b.Name,
				Message: fmt.Sprintf("%d packets of %s through Network Load Balancer %s were refused because the balancer had dropped their "+
					"flow, idle past its %d s (UDP %d s), whatever its targets' tables keep: send keepalives more often than that, "+
					"or raise the TCP listener's tcp.idle_timeout.seconds", b.IdledOut, u.Capture, b.Name,
					int64(b.TCPIdleTimeout/time.Second), int64(eni.BalancerUDPIdleTimeout/time.Second))})
		}
	}
	for _, r := range a.reg.Rules() {
		if r.Packets == 0 && len(a.attached[r.GroupID]) > 0 {
			a.add("SGSIM.UNUSED_RULE", Finding{Resource: ruleResource(r), GroupID: r.GroupID, RuleID: r.ID,
				Message: fmt.Sprintf("no frame of %s (%s, %s to %s) used %s", u.Capture, span,
					u.First.UTC().Format(time.RFC3339), u.Last.UTC().Format(time.RFC3339), ruleResource(r))})
		}
	}
	for _, r := range u.MirrorRules {
		if r.Frames == 0 {
			res := fmt.Sprintf("%s %s rule %s", r.Filter, r.Direction, r.Rule)
			a.add("SGSIM.UNUSED_MIRROR_RULE", Finding{Resource: res,
				Message: fmt.Sprintf("no frame of %s (%s, %s to %s) was decided by %s", u.Capture, span,
					u.First.UTC().Format(time.RFC3339), u.Last.UTC().Format(time.RFC3339), res)})
		}
	}
	// The numbered entries of the ACLs that subnets use: the "*" entries
	// cannot be removed.
	inUse := a.n.ACLSubnets()
	for _, acl := range a.n.ACLs() {
		if len(inUse[acl.ID]) == 0 {
			continue
		}
		for _, e := range a.n.ACLUsage(acl.ID) {
			if e.Packets == 0 && e.RuleNumber < nacl.DenyAllIPv4 {
				res := fmt.Sprintf("%s %s entry %s", acl.ID, dirWord(e.Egress), e.Entry)
				a.add("SGSIM.UNUSED_ACL_ENTRY", Finding{Resource: res, ACLID: acl.ID, ACLEntry: e.RuleNumber,
					Message: fmt.Sprintf("no frame of %s (%s, %s to %s) used %s", u.Capture, span,
						u.First.UTC().Format(time.RFC3339), u.Last.UTC().Format(time.RFC3339), res)})
			}
		}
	}
}

// balancerChecks finds the targets of internet-facing Network Load
// Balancers that keep their clients' addresses whose groups let no client
// from the internet at large in on the target's port: the balancer's
// health checks come from its own addresses and pass, while every client
// is refused, a common surprise when client IP preservation is on.
func (a *auditor) balancerChecks() {
	none := func(string) []netip.Prefix { return nil } // group references match no internet address
	for _, g := range a.n.TargetGroups() {
		protos := []uint8{g.Protocol}
		if g.Protocol == 0 {
			protos = []uint8{6, 17}
		}
		for _, t := range g.Targets {
			i := a.n.InterfaceByAddr(t.Addr())
			if i == nil || len(i.Groups()) == 0 {
				continue
			}
			probe := probes[t.Addr().Is6()][0]
			rs := a.reg.Compile(i.Groups(), none)
			for _, proto := range protos {
				if rs.Lookup(sg.Ingress, proto, sg.Key(proto, t.Port(), 0, 0), probe).OK() {
					continue
				}
				a.add("SGSIM.BALANCER_CLIENTS_REFUSED", Finding{Resource: i.ID(), Interfaces: []string{i.ID()},
					Message: fmt.Sprintf("%s (%s), a target of Network Load Balancer %s (%s), lets no client from the internet at large in "+
						"on %s %d (%s stands for one): the balancer keeps its clients' addresses, so its health checks pass and its clients are refused",
						i.ID(), t, g.Balancer, g.ID, eni.ProtoName(proto), t.Port(), probe)})
			}
		}
	}
}
