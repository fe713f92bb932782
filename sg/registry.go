package sg

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	fam4 = 0
	fam6 = 1
)

// RuleRef identifies a rule for the life of a [Registry], even after the
// rule is revoked, so verdicts and connection-tracking entries can name the
// rule that admitted them. The zero value refers to no rule.
type RuleRef uint32

// GroupSpec names a security group to create.
type GroupSpec struct {
	ID          string // "sg-..."; generated when empty
	Name        string // unique per VPC, not case-sensitive, not starting "sg-"
	Description string
	VpcID       string
	OwnerID     string // account ID
}

// GroupInfo is a snapshot of a security group.
type GroupInfo struct {
	GroupSpec
	IsDefault bool // the VPC's default group
	Ingress   []RuleInfo
	Egress    []RuleInfo
}

// RuleInfo is a snapshot of a stored rule and its hit counters.
type RuleInfo struct {
	Ref       RuleRef
	ID        string // "sgr-..."
	GroupID   string
	Direction Direction
	Rule      Rule
	Revoked   bool
	// Packets counts the packets this rule decided (packets of tracked
	// connections are credited to the connection, not to the rule).
	Packets uint64
	// Connections counts the tracked connections this rule admitted.
	Connections uint64
}

// String describes the rule, e.g. "sg-web sgr-01 ingress tcp 443 from 0.0.0.0/0".
func (ri RuleInfo) String() string {
	return fmt.Sprintf("%s %s %s %s", ri.GroupID, ri.ID, ri.Direction, ri.Rule.describe(ri.Direction))
}

type ruleRecord struct {
	ref     RuleRef
	id      string
	group   string
	dir     Direction
	rule    Rule
	revoked bool // guarded by Registry.mu

	// The counters: plain, as Ruleset.Count is on every packet's path;
	// see Registry.SetCountLock.
	packets uint64
	conns   uint64
}

type group struct {
	spec      GroupSpec
	isDefault bool
	rules     [2][]*ruleRecord // by Direction, in the order added
}

// Registry holds a region's security groups and managed prefix lists. It is
// safe for concurrent use; every change is visible to the next [Compile].
type Registry struct {
	mu          sync.RWMutex
	quotas      Quotas
	groups      map[string]*group
	order       []*group
	lists       map[string]*PrefixList
	rules       []*ruleRecord // RuleRef-1 → record; never shrinks
	nextGroupID uint64
	inUse       func(groupID string) string
	countLock   sync.Locker // held by whoever calls Ruleset.Count; nil: none

	gen atomic.Uint64
}

// SetInUseCheck installs a function that names what still uses a group
// (for example "eni-0abc"), or returns "" when nothing does; DeleteGroup
// refuses to delete a group in use. It is called with the registry locked
// and must not call back into it.
func (r *Registry) SetInUseCheck(f func(groupID string) string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inUse = f
}

// SetCountLock names the lock under which the registry's compiled
// rulesets credit rules ([Ruleset.Count]): snapshots that read the
// counters (Group, Groups, Rule, Rules) and ResetCounters take it first,
// so that they may run while packets are judged. eni.Network sets it to
// its evaluation lock. Without it, read the counters only while no packet
// is counted. The lock must not be held when the registry is called.
func (r *Registry) SetCountLock(l sync.Locker) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.countLock = l
}

// lockCounts takes the count lock, if any, and returns its release.
func (r *Registry) lockCounts() func() {
	r.mu.RLock()
	l := r.countLock
	r.mu.RUnlock()
	if l == nil {
		return func() {}
	}
	l.Lock()
	return l.Unlock
}

// NewRegistry returns an empty registry with AWS's default quotas.
func NewRegistry() *Registry {
	return &Registry{quotas: DefaultQuotas(), groups: map[string]*group{}, lists: map[string]*PrefixList{}}
}

// Generation returns a number that changes whenever a group, rule or prefix
// list changes. Compiled rulesets record it to know when they are stale.
func (r *Registry) Generation() uint64 { return r.gen.Load() }

// Quotas returns the quotas in force.
func (r *Registry) Quotas() Quotas {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.quotas
}

// SetQuotas changes the quotas, as a granted quota increase would. Existing
// groups keep their rules even if they now exceed the rule quota; new rules
// are refused until they fit.
func (r *Registry) SetQuotas(q Quotas) error {
	if err := q.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.quotas = q
	return nil
}

// CreateGroup creates a custom security group as AWS does: no inbound rules
// and one outbound rule allowing all IPv4 traffic.
func (r *Registry) CreateGroup(spec GroupSpec) (string, error) {
	return r.create(spec, false, []Rule{{Protocol: AllProtocols, Peer: CIDR(netip.MustParsePrefix("0.0.0.0/0"))}}, nil)
}

// CreateEmptyGroup creates a group with no rules at all, as Terraform leaves
// one after removing AWS's default egress rule: nothing in, nothing out.
func (r *Registry) CreateEmptyGroup(spec GroupSpec) (string, error) {
	return r.create(spec, false, nil, nil)
}

// ImportGroup creates a group with no rules, marked as its VPC's default
// group or not, for loading an existing configuration whose rules are then
// authorized one by one.
func (r *Registry) ImportGroup(spec GroupSpec, isDefault bool) (string, error) {
	return r.create(spec, isDefault, nil, nil)
}

// CreateDefaultGroup creates a VPC's default group, named "default": all
// inbound traffic from members of the group itself, all outbound traffic to
// 0.0.0.0/0 and, when the VPC has IPv6, to ::/0. It cannot be deleted.
func (r *Registry) CreateDefaultGroup(spec GroupSpec, vpcHasIPv6 bool) (string, error) {
	spec.Name = "default"
	if spec.Description == "" {
		spec.Description = "default VPC security group"
	}
	egress := []Rule{{Protocol: AllProtocols, Peer: CIDR(netip.MustParsePrefix("0.0.0.0/0"))}}
	if vpcHasIPv6 {
		egress = append(egress, Rule{Protocol: AllProtocols, Peer: CIDR(netip.MustParsePrefix("::/0"))})
	}
	self := func(id string) []Rule {
		return []Rule{{Protocol: AllProtocols, Peer: Peer{Kind: PeerGroup, GroupID: id, UserID: spec.OwnerID}}}
	}
	return r.create(spec, true, egress, self)
}

func (r *Registry) create(spec GroupSpec, isDefault bool, egress []Rule, ingress func(id string) []Rule) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.groups) >= r.quotas.GroupsPerRegion {
		return "", errorf(ErrGroupsLimit, spec.ID, "", "the region holds %d groups already", len(r.groups))
	}
	if spec.ID == "" {
		for {
			r.nextGroupID++
			spec.ID = fmt.Sprintf("sg-%017x", r.nextGroupID)
			if r.groups[spec.ID] == nil {
				break
			}
		}
	}
	if !strings.HasPrefix(spec.ID, "sg-") {
		return "", &Error{Code: ErrInvalidGroup, Value: spec.ID, Msg: "a group ID starts with sg-"}
	}
	if r.groups[spec.ID] != nil {
		return "", &Error{Code: ErrDuplicateGroup, Group: spec.ID, Value: spec.ID}
	}
	spec.Name = strings.TrimRight(spec.Name, " ")
	if spec.Name == "" || len(spec.Name) > 255 || (!isDefault && strings.HasPrefix(strings.ToLower(spec.Name), "sg-")) {
		return "", &Error{Code: ErrInvalidGroupName, Group: spec.ID, Value: spec.Name,
			Msg: "names are 1-255 characters and may not start with sg-"}
	}
	if len(spec.Description) > 255 {
		return "", &Error{Code: ErrInvalidDescription, Group: spec.ID, Msg: "group descriptions are at most 255 characters"}
	}
	for _, g := range r.order {
		if g.spec.VpcID == spec.VpcID && strings.EqualFold(g.spec.Name, spec.Name) {
			return "", &Error{Code: ErrDuplicateGroup, Group: spec.ID, Value: spec.Name,
				Msg: fmt.Sprintf("VPC %s already has a group with this name (%s)", spec.VpcID, g.spec.ID)}
		}
	}
	g := &group{spec: spec, isDefault: isDefault}
	r.groups[spec.ID] = g
	r.order = append(r.order, g)
	for _, rule := range egress {
		n, _ := rule.normalize(spec.ID) // AWS's own defaults: always valid
		r.store(g, Egress, n)
	}
	if ingress != nil {
		for _, rule := range ingress(spec.ID) {
			n, _ := rule.normalize(spec.ID)
			r.store(g, Ingress, n)
		}
	}
	r.gen.Add(1)
	return spec.ID, nil
}

// DeleteGroup deletes a group. The default group cannot be deleted, nor a
// group that a rule of another group references, nor one the in-use check
// (see [Registry.SetInUseCheck]) reports as attached.
func (r *Registry) DeleteGroup(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.groups[id]
	if g == nil {
		return &Error{Code: ErrInvalidGroup, Value: id}
	}
	if g.isDefault {
		return &Error{Code: ErrCannotDelete, Group: id}
	}
	if r.inUse != nil {
		if user := r.inUse(id); user != "" {
			return errorf(ErrDependencyViolation, id, "", "%s uses it", user)
		}
	}
	for _, other := range r.order {
		if other == g {
			continue
		}
		for _, list := range other.rules {
			for _, rec := range list {
				if rec.rule.Peer.Kind == PeerGroup && rec.rule.Peer.GroupID == id {
					return errorf(ErrDependencyViolation, id, "", "rule %s of %s references it", rec.id, other.spec.ID)
				}
			}
		}
	}
	for _, list := range g.rules {
		for _, rec := range list {
			rec.revoked = true
		}
	}
	delete(r.groups, id)
	for i, x := range r.order {
		if x == g {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	r.gen.Add(1)
	return nil
}

// HasGroup reports whether the group exists.
func (r *Registry) HasGroup(id string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.groups[id] != nil
}

// GroupVPC returns the VPC of a group, and whether the group exists.
func (r *Registry) GroupVPC(id string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if g := r.groups[id]; g != nil {
		return g.spec.VpcID, true
	}
	return "", false
}

// Group returns a snapshot of a group with its rules and counters.
func (r *Registry) Group(id string) (GroupInfo, bool) {
	defer r.lockCounts()()
	r.mu.RLock()
	defer r.mu.RUnlock()
	g := r.groups[id]
	if g == nil {
		return GroupInfo{}, false
	}
	return g.info(), true
}

// Groups returns snapshots of every group, in the order they were created.
func (r *Registry) Groups() []GroupInfo {
	defer r.lockCounts()()
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]GroupInfo, len(r.order))
	for i, g := range r.order {
		out[i] = g.info()
	}
	return out
}

func (g *group) info() GroupInfo {
	gi := GroupInfo{GroupSpec: g.spec, IsDefault: g.isDefault}
	for _, rec := range g.rules[Ingress] {
		gi.Ingress = append(gi.Ingress, rec.info())
	}
	for _, rec := range g.rules[Egress] {
		gi.Egress = append(gi.Egress, rec.info())
	}
	return gi
}

func (rec *ruleRecord) info() RuleInfo {
	return RuleInfo{Ref: rec.ref, ID: rec.id, GroupID: rec.group, Direction: rec.dir, Rule: rec.rule,
		Revoked: rec.revoked, Packets: rec.packets, Connections: rec.conns}
}

// Rule returns a snapshot of the rule ref names, revoked or not.
func (r *Registry) Rule(ref RuleRef) (RuleInfo, bool) {
	defer r.lockCounts()()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if ref == 0 || int(ref) > len(r.rules) {
		return RuleInfo{}, false
	}
	return r.rules[ref-1].info(), true
}

// Rules returns snapshots of every live rule with its counters, group by
// group in creation order, ingress before egress.
func (r *Registry) Rules() []RuleInfo {
	defer r.lockCounts()()
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []RuleInfo
	for _, g := range r.order {
		for _, list := range g.rules {
			for _, rec := range list {
				out = append(out, rec.info())
			}
		}
	}
	return out
}

// RuleLoad returns what a group's rules weigh against the rule quota, by
// direction ([Ingress], [Egress]) and address family (0 IPv4, 1 IPv6),
// prefix lists counting their MaxEntries (or weight).
func (r *Registry) RuleLoad(groupID string) (load [2][2]int, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	g := r.groups[groupID]
	if g == nil {
		return load, false
	}
	for d, list := range g.rules {
		for _, rec := range list {
			f, w := r.weight(rec.rule)
			load[d][f] += w
		}
	}
	return load, true
}

// ResetCounters sets every rule's hit counters to zero.
func (r *Registry) ResetCounters() {
	defer r.lockCounts()()
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, rec := range r.rules {
		rec.packets, rec.conns = 0, 0
	}
}

// AuthorizeIngress adds inbound rules to a group, as
// AuthorizeSecurityGroupIngress does: all or none, effective at once.
func (r *Registry) AuthorizeIngress(groupID string, rules ...Rule) ([]RuleRef, error) {
	return r.authorize(groupID, Ingress, rules)
}

// AuthorizeEgress adds outbound rules to a group, as
// AuthorizeSecurityGroupEgress does.
func (r *Registry) AuthorizeEgress(groupID string, rules ...Rule) ([]RuleRef, error) {
	return r.authorize(groupID, Egress, rules)
}

// RevokeIngress removes inbound rules, matched on protocol, ports and peer
// (descriptions need not match). Tracked connections the rules admitted
// live on until they idle out.
func (r *Registry) RevokeIngress(groupID string, rules ...Rule) error {
	return r.revoke(groupID, Ingress, rules)
}

// RevokeEgress removes outbound rules; see [Registry.RevokeIngress].
func (r *Registry) RevokeEgress(groupID string, rules ...Rule) error {
	return r.revoke(groupID, Egress, rules)
}

// RevokeRules removes rules by ID ("sgr-..."), in either direction.
func (r *Registry) RevokeRules(groupID string, ids ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.groups[groupID]
	if g == nil {
		return &Error{Code: ErrInvalidGroup, Value: groupID}
	}
	var drop []*ruleRecord
	for _, id := range ids {
		rec := g.find(func(rec *ruleRecord) bool { return rec.id == id })
		if rec == nil {
			return &Error{Code: ErrNotFound, Group: groupID, Value: id}
		}
		drop = append(drop, rec)
	}
	for _, rec := range drop {
		g.remove(rec)
	}
	r.gen.Add(1)
	return nil
}

func (g *group) find(f func(*ruleRecord) bool) *ruleRecord {
	for _, list := range g.rules {
		for _, rec := range list {
			if f(rec) {
				return rec
			}
		}
	}
	return nil
}

func (g *group) remove(rec *ruleRecord) {
	list := g.rules[rec.dir]
	for i, x := range list {
		if x == rec {
			g.rules[rec.dir] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	rec.revoked = true
}

func (r *Registry) authorize(groupID string, dir Direction, rules []Rule) ([]RuleRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.groups[groupID]
	if g == nil {
		return nil, &Error{Code: ErrInvalidGroup, Value: groupID}
	}
	normal := make([]Rule, 0, len(rules))
	var load [2]int
	for _, list := range g.rules[dir] {
		f, w := r.weight(list.rule)
		load[f] += w
	}
	for _, rule := range rules {
		n, err := rule.normalize(groupID)
		if err != nil {
			return nil, err
		}
		if err := r.checkPeer(g, n.Peer); err != nil {
			return nil, err
		}
		for _, prev := range normal {
			if sameRule(prev, n) {
				return nil, &Error{Code: ErrDuplicateInRequest, Group: groupID, Value: n.describe(dir)}
			}
		}
		for _, rec := range g.rules[dir] {
			if sameRule(rec.rule, n) {
				return nil, &Error{Code: ErrDuplicate, Group: groupID, Value: n.describe(dir),
					Msg: "the rule already exists as " + rec.id}
			}
		}
		if n.ID != "" && g.find(func(rec *ruleRecord) bool { return rec.id == n.ID }) != nil {
			return nil, &Error{Code: ErrDuplicate, Group: groupID, Value: n.ID, Msg: "a rule with this ID exists"}
		}
		f, w := r.weight(n)
		load[f] += w
		if load[f] > r.quotas.RulesPerGroup {
			fam := "IPv4"
			if f == fam6 {
				fam = "IPv6"
			}
			return nil, errorf(ErrRulesLimit, groupID, n.describe(dir),
				"%s %s rules would weigh %d, the quota is %d", fam, dir, load[f], r.quotas.RulesPerGroup)
		}
		normal = append(normal, n)
	}
	refs := make([]RuleRef, len(normal))
	for i, n := range normal {
		refs[i] = r.store(g, dir, n).ref
	}
	r.gen.Add(1)
	return refs, nil
}

// checkPeer enforces what Authorize checks of a peer: a referenced group in
// the same account and VPC must exist, and so must a prefix list. Groups in
// other accounts or VPCs may be outside the model.
func (r *Registry) checkPeer(g *group, p Peer) error {
	switch p.Kind {
	case PeerGroup:
		if r.groups[p.GroupID] != nil || p.stale() || p.Foreign(g.spec.OwnerID, g.spec.VpcID) {
			return nil
		}
		return &Error{Code: ErrInvalidGroup, Group: g.spec.ID, Value: p.GroupID,
			Msg: "the referenced security group does not exist"}
	case PeerPrefixList:
		if r.lists[p.PrefixListID] == nil {
			return &Error{Code: ErrInvalidPrefixList, Group: g.spec.ID, Value: p.PrefixListID}
		}
	}
	return nil
}

// weight returns the quota bucket (family) a rule counts in and its weight.
func (r *Registry) weight(rule Rule) (family, weight int) {
	switch rule.Peer.Kind {
	case PeerCIDR:
		if rule.Peer.CIDR.Addr().Is6() {
			return fam6, 1
		}
	case PeerPrefixList:
		if pl := r.lists[rule.Peer.PrefixListID]; pl != nil {
			return pl.family(), pl.weight()
		}
	}
	return fam4, 1
}

func (r *Registry) store(g *group, dir Direction, rule Rule) *ruleRecord {
	rec := &ruleRecord{ref: RuleRef(len(r.rules) + 1), group: g.spec.ID, dir: dir, rule: rule, id: rule.ID}
	if rec.id == "" {
		rec.id = fmt.Sprintf("sgr-%017x", uint64(rec.ref))
		rec.rule.ID = rec.id
	}
	r.rules = append(r.rules, rec)
	g.rules[dir] = append(g.rules[dir], rec)
	return rec
}

func (r *Registry) revoke(groupID string, dir Direction, rules []Rule) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.groups[groupID]
	if g == nil {
		return &Error{Code: ErrInvalidGroup, Value: groupID}
	}
	drop := make([]*ruleRecord, 0, len(rules))
	for _, rule := range rules {
		n, err := rule.normalize(groupID)
		if err != nil {
			return err
		}
		var found *ruleRecord
		for _, rec := range g.rules[dir] {
			if sameRule(rec.rule, n) {
				found = rec
				break
			}
		}
		if found == nil {
			return &Error{Code: ErrNotFound, Group: groupID, Value: n.describe(dir)}
		}
		drop = append(drop, found)
	}
	for _, rec := range drop {
		g.remove(rec)
	}
	r.gen.Add(1)
	return nil
}

// CreatePrefixList adds a managed prefix list. Its entries are validated
// against its family and MaxEntries and canonicalised.
func (r *Registry) CreatePrefixList(pl PrefixList) error {
	if !strings.HasPrefix(pl.ID, "pl-") {
		return &Error{Code: ErrInvalidPrefixList, Value: pl.ID, Msg: "a prefix list ID starts with pl-"}
	}
	entries, err := pl.validateEntries(pl.Entries)
	if err != nil {
		return err
	}
	pl.Entries = entries
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lists[pl.ID] != nil {
		return &Error{Code: ErrDuplicateGroup, Group: pl.ID, Value: pl.ID, Msg: "the prefix list exists"}
	}
	r.lists[pl.ID] = &pl
	r.gen.Add(1)
	return nil
}

// SetPrefixListEntries replaces a prefix list's entries. Every rule that
// references the list uses the new entries at once.
func (r *Registry) SetPrefixListEntries(id string, entries []PrefixListEntry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	pl := r.lists[id]
	if pl == nil {
		return &Error{Code: ErrInvalidPrefixList, Value: id}
	}
	e, err := pl.validateEntries(entries)
	if err != nil {
		return err
	}
	cp := *pl
	cp.Entries = e
	r.lists[id] = &cp
	r.gen.Add(1)
	return nil
}

// PrefixList returns a copy of a prefix list.
func (r *Registry) PrefixList(id string) (PrefixList, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	pl := r.lists[id]
	if pl == nil {
		return PrefixList{}, false
	}
	cp := *pl
	cp.Entries = append([]PrefixListEntry(nil), pl.Entries...)
	return cp, true
}
