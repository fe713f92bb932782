package nacl

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/sgsim/sgsim/internal/awserr"
)

// Action is an entry's action. The zero value is Deny.
type Action uint8

const (
	Deny Action = iota
	Allow
)

func (a Action) String() string {
	if a == Allow {
		return "allow"
	}
	return "deny"
}

// Rule numbers of the implicit deny entries, as the EC2 API lists them.
const (
	MaxRuleNumber = 32766
	DenyAllIPv4   = 32767
	DenyAllIPv6   = 32768
)

// Entry is one network ACL entry. The zero value is not a valid entry.
type Entry struct {
	RuleNumber int
	Egress     bool  // true: traffic leaving the subnet; false: entering
	Protocol   int16 // -1 for all, or an IP protocol number
	Action     Action
	CIDR       netip.Prefix // IPv4 or IPv6 block: the source (ingress) or destination (egress)
	// FromPort and ToPort bound the destination port for TCP and UDP.
	FromPort, ToPort int32
	// ICMPType and ICMPCode select ICMP messages; -1 means all.
	ICMPType, ICMPCode int32
}

// String describes the entry, e.g. "100 allow tcp 443 from 0.0.0.0/0".
func (e Entry) String() string {
	num := strconv.Itoa(e.RuleNumber)
	if e.RuleNumber >= DenyAllIPv4 {
		num = "*"
	}
	word := "from"
	if e.Egress {
		word = "to"
	}
	return fmt.Sprintf("%s %s %s %s %s", num, e.Action, e.matchText(), word, e.CIDR)
}

func (e Entry) matchText() string {
	switch {
	case e.Protocol == -1:
		return "all traffic"
	case e.Protocol == 6 || e.Protocol == 17:
		name := map[int16]string{6: "tcp", 17: "udp"}[e.Protocol]
		if e.FromPort == e.ToPort {
			return fmt.Sprintf("%s %d", name, e.FromPort)
		}
		return fmt.Sprintf("%s %d-%d", name, e.FromPort, e.ToPort)
	case e.icmpFields():
		name := map[int16]string{1: "icmp", 58: "icmpv6"}[e.Protocol]
		if e.ICMPType == -1 {
			return name + " all types"
		}
		if e.ICMPCode == -1 {
			return fmt.Sprintf("%s type %d", name, e.ICMPType)
		}
		return fmt.Sprintf("%s type %d code %d", name, e.ICMPType, e.ICMPCode)
	case e.Protocol == 58:
		return "all icmp"
	}
	return "protocol " + strconv.Itoa(int(e.Protocol))
}

// icmpFields reports whether the entry's ICMP type and code are used.
func (e Entry) icmpFields() bool {
	return e.Protocol == 1 || (e.Protocol == 58 && e.CIDR.Addr().Is6())
}

// Code is an EC2 API error code; each is also a sentinel for errors.Is.
type Code = awserr.Code

// Error codes.
var (
	ErrRuleNumber     = awserr.New("InvalidParameterValue", "rule numbers are 1-32766")
	ErrDuplicateEntry = awserr.New("NetworkAclEntryAlreadyExists", "an entry with this rule number exists in this direction")
	ErrEntryNotFound  = awserr.New("InvalidNetworkAclEntry.NotFound", "no entry with this rule number in this direction")
	ErrProtocol       = awserr.New("InvalidParameterValue", "protocol must be -1 or 0-255")
	ErrPortRange      = awserr.New("InvalidParameterValue", "invalid port range")
	ErrICMP           = awserr.New("InvalidParameterValue", "invalid ICMP type or code")
	ErrCIDR           = awserr.New("InvalidParameterValue", "malformed CIDR block")
	ErrEntryLimit     = awserr.New("NetworkAclEntryLimitExceeded", "too many entries in this direction and address family")
	ErrQuota          = awserr.New("InvalidParameterValue", "entries per ACL may be 1-40")
)

// Error is a rejected request; it names the ACL, the entry and the value.
type Error struct {
	Code  *Code
	ACL   string
	Entry string // e.g. "ingress 100"
	Value string
	Msg   string
}

func (e *Error) Error() string {
	s := e.Code.Name() + ": " + e.ACL
	if e.Entry != "" {
		s += ": " + e.Entry
	}
	msg := e.Msg
	if msg == "" {
		msg = e.Code.Description()
	}
	if e.Value != "" {
		return s + fmt.Sprintf(": %q: %s", e.Value, msg)
	}
	return s + ": " + msg
}

// Unwrap returns the error's code.
func (e *Error) Unwrap() error { return e.Code }

// DefaultEntryQuota is AWS's default number of entries per direction and
// address family; it may be raised to MaxEntryQuota.
const (
	DefaultEntryQuota = 20
	MaxEntryQuota     = 40
)

// ACL is a network ACL. Its methods are safe for concurrent use.
type ACL struct {
	ID        string
	VpcID     string
	IsDefault bool

	mu      sync.Mutex
	entries []Entry // numbered entries only
	// hits and star count the packets each entry decided (see
	// Result.Count): per numbered entry, and per direction and address
	// family for the "*" entries.
	hits   map[entryKey]*uint64
	star   [2][2]uint64
	ipv6   bool // the * entries include the IPv6 one
	quota  int
	edited [2]bool // per direction (0 ingress, 1 egress): changed since creation
	snap   atomic.Pointer[compiled]
}

// New returns a custom ACL as AWS creates it: no numbered entries, so the
// "*" entries deny everything in and out. ipv6 adds the IPv6 "*" entries.
func New(id, vpcID string, ipv6 bool) *ACL {
	a := &ACL{ID: id, VpcID: vpcID, ipv6: ipv6, quota: DefaultEntryQuota}
	a.rebuild()
	return a
}

// NewDefault returns a VPC's default ACL: entry 100 allows all IPv4 traffic
// in and out and, when the VPC has IPv6, entry 101 all IPv6 traffic.
func NewDefault(id, vpcID string, ipv6 bool) *ACL {
	a := &ACL{ID: id, VpcID: vpcID, IsDefault: true, ipv6: ipv6, quota: DefaultEntryQuota}
	for _, egress := range []bool{false, true} {
		a.entries = append(a.entries, Entry{RuleNumber: 100, Egress: egress, Protocol: -1, Action: Allow,
			CIDR: netip.MustParsePrefix("0.0.0.0/0")})
		if ipv6 {
			a.entries = append(a.entries, Entry{RuleNumber: 101, Egress: egress, Protocol: -1, Action: Allow,
				CIDR: netip.MustParsePrefix("::/0")})
		}
	}
	a.rebuild()
	return a
}

// SetQuota changes the entries allowed per direction and family (1-40).
func (a *ACL) SetQuota(n int) error {
	if n < 1 || n > MaxEntryQuota {
		return &Error{Code: ErrQuota, ACL: a.ID, Value: strconv.Itoa(n)}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.quota = n
	return nil
}

// AddIPv6 is what associating an IPv6 block with the VPC does to the ACL:
// the IPv6 "*" entries appear and, for a default ACL, entry 101 (all IPv6)
// is added to each direction whose entries were never changed.
func (a *ACL) AddIPv6() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ipv6 {
		return
	}
	a.ipv6 = true
	if a.IsDefault {
		for d, egress := range []bool{false, true} {
			if !a.edited[d] {
				a.entries = append(a.entries, Entry{RuleNumber: 101, Egress: egress, Protocol: -1, Action: Allow,
					CIDR: netip.MustParsePrefix("::/0")})
			}
		}
	}
	a.rebuild()
}

// Entries returns every entry, the "*" entries included, sorted by
// direction (ingress first) and rule number.
func (a *ACL) Entries() []Entry {
	u := a.Usage()
	out := make([]Entry, len(u))
	for k := range u {
		out[k] = u[k].Entry
	}
	return out
}

// EntryUsage is an entry and the packets it decided.
type EntryUsage struct {
	Entry
	// Packets counts the packets whose Result this entry was and that
	// were counted (see [Result.Count]), since the entry was created or
	// last replaced.
	Packets uint64
}

// Usage returns every entry, as Entries orders them, with the packets
// each decided: a replay's figures of which entries traffic used. The
// counts are read as Count left them: call it when no packet is being
// counted, or under the lock Count is called with (eni.Network.ACLUsage).
func (a *ACL) Usage() []EntryUsage {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]EntryUsage, 0, len(a.entries)+4)
	for _, e := range a.entries {
		u := EntryUsage{Entry: e}
		if h := a.hits[entryKey{e.Egress, e.RuleNumber}]; h != nil {
			u.Packets = *h
		}
		out = append(out, u)
	}
	for d, egress := range []bool{false, true} {
		out = append(out, EntryUsage{Entry: Entry{RuleNumber: DenyAllIPv4, Egress: egress, Protocol: -1, Action: Deny,
			CIDR: netip.MustParsePrefix("0.0.0.0/0")}, Packets: a.star[d][0]})
		if a.ipv6 {
			out = append(out, EntryUsage{Entry: Entry{RuleNumber: DenyAllIPv6, Egress: egress, Protocol: -1, Action: Deny,
				CIDR: netip.MustParsePrefix("::/0")}, Packets: a.star[d][1]})
		}
	}
	slices.SortFunc(out, func(x, y EntryUsage) int {
		if x.Egress != y.Egress {
			if x.Egress {
				return 1
			}
			return -1
		}
		return x.RuleNumber - y.RuleNumber
	})
	return out
}

// entryKey names a numbered entry: its direction and rule number.
type entryKey struct {
	egress bool
	number int
}

// CreateEntry adds an entry, as CreateNetworkAclEntry does.
func (a *ACL) CreateEntry(e Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, err := a.normalize(e)
	if err != nil {
		return err
	}
	if a.find(n.Egress, n.RuleNumber) >= 0 {
		return &Error{Code: ErrDuplicateEntry, ACL: a.ID, Entry: entryName(n)}
	}
	count := 0
	for _, x := range a.entries {
		if x.Egress == n.Egress && x.CIDR.Addr().Is6() == n.CIDR.Addr().Is6() {
			count++
		}
	}
	if count >= a.quota {
		return &Error{Code: ErrEntryLimit, ACL: a.ID, Entry: entryName(n),
			Msg: fmt.Sprintf("the quota is %d entries per direction and address family", a.quota)}
	}
	a.entries = append(a.entries, n)
	a.edited[dirIndex(n.Egress)] = true
	a.rebuild()
	return nil
}

// ReplaceEntry replaces the entry with the same direction and rule number,
// as ReplaceNetworkAclEntry does.
func (a *ACL) ReplaceEntry(e Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, err := a.normalize(e)
	if err != nil {
		return err
	}
	k := a.find(n.Egress, n.RuleNumber)
	if k < 0 {
		return &Error{Code: ErrEntryNotFound, ACL: a.ID, Entry: entryName(n)}
	}
	a.entries[k] = n
	a.edited[dirIndex(n.Egress)] = true
	delete(a.hits, entryKey{n.Egress, n.RuleNumber}) // another entry: its count starts again
	a.rebuild()
	return nil
}

// DeleteEntry removes the entry with this direction and rule number.
func (a *ACL) DeleteEntry(egress bool, ruleNumber int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := a.find(egress, ruleNumber)
	if k < 0 {
		return &Error{Code: ErrEntryNotFound, ACL: a.ID, Entry: entryName(Entry{Egress: egress, RuleNumber: ruleNumber})}
	}
	a.entries = slices.Delete(a.entries, k, k+1)
	a.edited[dirIndex(egress)] = true
	delete(a.hits, entryKey{egress, ruleNumber})
	a.rebuild()
	return nil
}

func dirIndex(egress bool) int {
	if egress {
		return 1
	}
	return 0
}

func entryName(e Entry) string {
	if e.Egress {
		return "egress " + strconv.Itoa(e.RuleNumber)
	}
	return "ingress " + strconv.Itoa(e.RuleNumber)
}

func (a *ACL) find(egress bool, number int) int {
	for k, x := range a.entries {
		if x.Egress == egress && x.RuleNumber == number {
			return k
		}
	}
	return -1
}

// normalize validates an entry and returns it in stored form.
func (a *ACL) normalize(e Entry) (Entry, error) {
	bad := func(c *Code, value, msg string) error {
		return &Error{Code: c, ACL: a.ID, Entry: entryName(e), Value: value, Msg: msg}
	}
	if e.RuleNumber < 1 || e.RuleNumber > MaxRuleNumber {
		return e, bad(ErrRuleNumber, strconv.Itoa(e.RuleNumber), "")
	}
	if e.Protocol < -1 || e.Protocol > 255 {
		return e, bad(ErrProtocol, strconv.Itoa(int(e.Protocol)), "")
	}
	if !e.CIDR.IsValid() || e.CIDR.Addr().Is4In6() || e.CIDR.Addr().Zone() != "" {
		return e, bad(ErrCIDR, e.CIDR.String(), "")
	}
	if e.Action != Allow && e.Action != Deny {
		return e, bad(ErrProtocol, strconv.Itoa(int(e.Action)), "action must be allow or deny")
	}
	e.CIDR = e.CIDR.Masked()
	switch {
	case e.Protocol == 6 || e.Protocol == 17:
		if e.FromPort < 0 || e.ToPort > 65535 || e.FromPort > e.ToPort {
			return e, bad(ErrPortRange, fmt.Sprintf("%d-%d", e.FromPort, e.ToPort), "need 0 <= From <= To <= 65535")
		}
		e.ICMPType, e.ICMPCode = -1, -1
	case e.icmpFields():
		if e.ICMPType < -1 || e.ICMPType > 255 || e.ICMPCode < -1 || e.ICMPCode > 255 {
			return e, bad(ErrICMP, fmt.Sprintf("%d/%d", e.ICMPType, e.ICMPCode), "type and code are -1 or 0-255")
		}
		if e.ICMPType == -1 {
			e.ICMPCode = -1
		}
		e.FromPort, e.ToPort = -1, -1
	default:
		// All ports, all ICMP messages: AWS ignores what was given.
		e.FromPort, e.ToPort, e.ICMPType, e.ICMPCode = -1, -1, -1, -1
	}
	return e, nil
}
