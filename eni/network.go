package eni

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/internal/prefix"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

// VPCSpec describes a VPC to add.
type VPCSpec struct {
	ID      string
	OwnerID string
	// CIDRs are the VPC's IPv4 and IPv6 blocks; the first IPv4 block is the
	// primary one, whose base+2 address is Amazon DNS.
	CIDRs []netip.Prefix
	// DefaultGroupID names the VPC's default security group, which is
	// created with AWS's default rules; one is generated when empty.
	DefaultGroupID string
	// NoDefaultGroup skips creating the default group, for callers that
	// load an existing one with its current rules.
	NoDefaultGroup bool
	// DefaultACLID names the VPC's default network ACL (allow all in and
	// out), which new subnets use; one is generated when empty.
	DefaultACLID string
	// NoDefaultACL skips creating the default ACL; the caller adds one with
	// [Network.AddACL] and marks it default.
	NoDefaultACL bool
}

// VPC is a snapshot of a VPC.
type VPC struct {
	VPCSpec
}

// HasIPv6 reports whether the VPC has an IPv6 block.
func (v VPC) HasIPv6() bool {
	return slices.ContainsFunc(v.CIDRs, func(p netip.Prefix) bool { return p.Addr().Is6() })
}

func (v VPC) primary4() (netip.Prefix, bool) {
	for _, p := range v.CIDRs {
		if p.Addr().Is4() {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// Contains reports whether a is inside one of the VPC's blocks.
func (v VPC) Contains(a netip.Addr) bool {
	return slices.ContainsFunc(v.CIDRs, func(p netip.Prefix) bool { return p.Contains(a) })
}

// SubnetSpec describes a subnet to add.
type SubnetSpec struct {
	ID       string
	VpcID    string
	CIDR     netip.Prefix // IPv4 block, /16 to /28; may be invalid for an IPv6-only subnet
	IPv6CIDR netip.Prefix // optional IPv6 /64 (AWS allows /44 to /64)
	// AvailabilityZoneID (use1-az1) and Region (us-east-1), where known:
	// flow logs of version 4 carry them.
	AvailabilityZoneID string
	Region             string
}

// Subnet is a snapshot of a subnet.
type Subnet struct {
	SubnetSpec
	ACLID string // the network ACL associated with the subnet
}

// Network is the model of a region's VPCs, subnets, security groups and
// network interfaces. Its methods are safe for concurrent use, including
// while interfaces evaluate packets; every change applies to the next
// packet.
type Network struct {
	mu      sync.RWMutex
	groups  *sg.Registry
	vpcs    map[string]*VPC
	subnets map[string]*Subnet
	ifaces  map[string]*Interface
	order   []*Interface
	byAddr  map[netip.Addr]*Interface
	acls    map[string]*nacl.ACL
	// targetGroups are the Network Load Balancers' target groups, by ID;
	// balancerFlows each balancer's flows, by its name and TCP idle
	// timeout, which outlive the snapshots, as interfaces' tables do
	// (guarded by eval once made).
	targetGroups  map[string]TargetGroupSpec
	balancerFlows map[balancerFlowsKey]*balancerFlows
	// pickup is SetTCPPickup's setting, for the tables made after it.
	pickup bool
	// routeTables matter only where a route sends traffic to an
	// interface (an appliance).
	routeTables map[string]*RouteTable
	port25      bool
	// nextIndex numbers interfaces for Interface.Index.
	nextIndex int

	gen  atomic.Uint64
	snap atomic.Pointer[snapshot]

	// eval serialises packet evaluation: every interface's tracking table,
	// counters and compiled rules. One lock for the network, not one per
	// interface, so that a packet's whole path is judged under a single
	// acquisition. Taken before mu, never while holding it.
	eval sync.Mutex
	// rulesets are the compiled rules of each list of groups, shared by
	// the interfaces that carry the same list (an auto scaling group's
	// instances, a service's endpoints): compiling is the dearest thing a
	// new interface does, and a compiled ruleset can be large. Valid for
	// one network generation and one registry generation; guarded by eval.
	rulesets rulesetCache

	// users names, for each group, an interface carrying it: the group
	// registry's in-use check reads it with the registry locked, so it has
	// a lock of its own that is never held while taking another.
	usersMu sync.Mutex
	users   map[string]map[*Interface]struct{}

	// texts holds the rule texts explanations use, as of the registry's
	// generation textGen: a replay explains the same few rules on every
	// frame, and each text takes a dozen allocations to make.
	textMu  sync.Mutex
	textGen uint64
	texts   map[sg.RuleRef]string
}

// rulesetCache holds compiled rulesets by their groups, for one network
// and one registry generation.
type rulesetCache struct {
	netGen, regGen uint64
	byGroups       map[string]*sg.Ruleset
}

// ruleset returns the compiled rules of groups, as of the network snapshot
// snap and the registry generation rg, compiling them if no interface
// with the same groups has. Called with n.eval held, not n.mu.
func (n *Network) ruleset(groups []string, snap *snapshot, rg uint64) *sg.Ruleset {
	return n.cachedRuleset(strings.Join(groups, ","), groups, snap.gen, rg, func(g string) []netip.Prefix { return snap.members[g] })
}

// cachedRuleset returns the rules of the groups as members resolves their
// references, from the cache under key when it holds them for these
// generations. Called with n.eval held.
func (n *Network) cachedRuleset(key string, groups []string, netGen, rg uint64, members sg.Members) *sg.Ruleset {
	c := &n.rulesets
	if c.byGroups == nil || c.netGen != netGen || c.regGen != rg {
		*c = rulesetCache{netGen: netGen, regGen: rg, byGroups: map[string]*sg.Ruleset{}}
	}
	if rs := c.byGroups[key]; rs != nil {
		return rs
	}
	rs := n.groups.Compile(groups, members)
	if rs.Generation() == rg {
		// Compiled as of rg: the registry did not change meanwhile.
		c.byGroups[key] = rs
	}
	return rs
}

// NewNetwork returns an empty network with its own security group registry
// and AWS's default quotas. Outbound TCP to port 25 outside the VPC is
// blocked, as EC2 does by default.
func NewNetwork() *Network {
	n := &Network{
		groups:  sg.NewRegistry(),
		vpcs:    map[string]*VPC{},
		subnets: map[string]*Subnet{},
		ifaces:  map[string]*Interface{},
		byAddr:  map[netip.Addr]*Interface{},
		acls:    map[string]*nacl.ACL{},
		port25:  true,
	}
	// Rules are credited with the evaluation held; the registry's
	// snapshots read the counters under it.
	n.groups.SetCountLock(&n.eval)
	n.groups.SetInUseCheck(func(id string) string {
		n.usersMu.Lock()
		defer n.usersMu.Unlock()
		var ids []string
		for i := range n.users[id] {
			ids = append(ids, i.spec.ID)
		}
		if len(ids) == 0 {
			return ""
		}
		slices.Sort(ids)
		return ids[0]
	})
	return n
}

// Groups returns the network's security group registry: create groups and
// authorize or revoke rules there.
func (n *Network) Groups() *sg.Registry { return n.groups }

// SetPort25Restricted turns EC2's default block of outbound TCP port 25 to
// addresses outside the VPC on or off (AWS lifts it on request).
func (n *Network) SetPort25Restricted(on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.port25 = on
	n.changed()
}

// AddVPC adds a VPC and, unless told not to, its default security group.
func (n *Network) AddVPC(spec VPCSpec) (VPC, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.vpcs[spec.ID] != nil {
		return VPC{}, &Error{Code: ErrVPCExists, Resource: spec.ID}
	}
	spec.CIDRs = slices.Clone(spec.CIDRs)
	for i, p := range spec.CIDRs {
		if !p.IsValid() || p.Addr().Is4In6() {
			return VPC{}, &Error{Code: ErrInvalidCIDR, Resource: spec.ID, Field: fmt.Sprintf("CIDRs[%d]", i), Value: p.String()}
		}
		spec.CIDRs[i] = p.Masked()
	}
	v := &VPC{VPCSpec: spec}
	if !spec.NoDefaultGroup {
		id, err := n.groups.CreateDefaultGroup(sg.GroupSpec{ID: spec.DefaultGroupID, VpcID: spec.ID, OwnerID: spec.OwnerID}, v.HasIPv6())
		if err != nil {
			return VPC{}, err
		}
		v.DefaultGroupID = id
	}
	if !spec.NoDefaultACL {
		if v.DefaultACLID == "" {
			v.DefaultACLID = fmt.Sprintf("acl-%017x", len(n.acls)+1)
		}
		if n.acls[v.DefaultACLID] != nil {
			return VPC{}, &Error{Code: ErrACLExists, Resource: spec.ID, Field: "DefaultACLID", Value: v.DefaultACLID}
		}
		n.acls[v.DefaultACLID] = nacl.NewDefault(v.DefaultACLID, spec.ID, v.HasIPv6())
	}
	n.vpcs[spec.ID] = v
	n.changed()
	return *v, nil
}

// VPC returns a snapshot of a VPC.
func (n *Network) VPC(id string) (VPC, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if v := n.vpcs[id]; v != nil {
		return *v, true
	}
	return VPC{}, false
}

// AddSubnet adds a subnet to a VPC. Its blocks must lie inside the VPC's.
func (n *Network) AddSubnet(spec SubnetSpec) (Subnet, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v := n.vpcs[spec.VpcID]
	if v == nil {
		return Subnet{}, &Error{Code: ErrVPCNotFound, Resource: spec.ID, Field: "VpcId", Value: spec.VpcID}
	}
	if n.subnets[spec.ID] != nil {
		return Subnet{}, &Error{Code: ErrSubnetExists, Resource: spec.ID}
	}
	check := func(field string, p netip.Prefix, is6 bool, minBits, maxBits int) error {
		if !p.IsValid() {
			return nil
		}
		if p.Addr().Is6() != is6 || p.Bits() < minBits || p.Bits() > maxBits || !v.Contains(p.Addr()) {
			return &Error{Code: ErrSubnetRange, Resource: spec.ID, Field: field, Value: p.String(),
				Msg: fmt.Sprintf("must be a /%d to /%d inside a block of %s", minBits, maxBits, v.ID)}
		}
		return nil
	}
	if err := check("CidrBlock", spec.CIDR, false, 16, 28); err != nil {
		return Subnet{}, err
	}
	if err := check("Ipv6CidrBlock", spec.IPv6CIDR, true, 44, 64); err != nil {
		return Subnet{}, err
	}
	if !spec.CIDR.IsValid() && !spec.IPv6CIDR.IsValid() {
		return Subnet{}, &Error{Code: ErrSubnetRange, Resource: spec.ID, Field: "CidrBlock", Msg: "a subnet needs an IPv4 or IPv6 block"}
	}
	spec.CIDR, spec.IPv6CIDR = spec.CIDR.Masked(), spec.IPv6CIDR.Masked()
	s := &Subnet{SubnetSpec: spec, ACLID: v.DefaultACLID}
	n.subnets[spec.ID] = s
	n.changed()
	return *s, nil
}

// Subnet returns a snapshot of a subnet.
func (n *Network) Subnet(id string) (Subnet, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if s := n.subnets[id]; s != nil {
		return *s, true
	}
	return Subnet{}, false
}

// Subnets returns a snapshot of every subnet, sorted by ID.
func (n *Network) Subnets() []Subnet {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]Subnet, 0, len(n.subnets))
	for _, s := range n.subnets {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(x, y Subnet) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// AddInterface creates a network interface in a subnet with its addresses,
// groups and connection-tracking settings.
func (n *Network) AddInterface(spec InterfaceSpec) (*Interface, error) {
	cfg := conntrack.DefaultConfig()
	if spec.Type == TypeNATGateway {
		cfg.TCPEstablished = NATGatewayIdleTimeout
	}
	if spec.ConnTrack != nil {
		cfg = *spec.ConnTrack
	}
	table, err := conntrack.New(cfg)
	if err != nil {
		return nil, &Error{Code: ErrConnTrack, Resource: spec.ID, Field: "ConnectionTrackingSpecification", Msg: err.Error()}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ifaces[spec.ID] != nil {
		return nil, &Error{Code: ErrInterfaceExists, Resource: spec.ID}
	}
	if n.pickup {
		table.SetTCPPickup(true) // the table is no one else's yet
	}
	sub := n.subnets[spec.SubnetID]
	if sub == nil {
		return nil, &Error{Code: ErrSubnetNotFound, Resource: spec.ID, Field: "SubnetId", Value: spec.SubnetID}
	}
	if spec.Type == "" {
		spec.Type = TypeInterface
	}
	spec.PrivateIPv4 = slices.Clone(spec.PrivateIPv4)
	spec.PublicIPv4 = slices.Clone(spec.PublicIPv4)
	spec.IPv6 = slices.Clone(spec.IPv6)
	spec.Prefixes = slices.Clone(spec.Prefixes)
	spec.Groups = slices.Clone(spec.Groups)
	spec.ConnTrack = nil
	if err := n.checkAddrs(spec.ID, sub, nil, spec.PrivateIPv4, spec.IPv6); err != nil {
		return nil, err
	}
	if err := n.checkPublic(spec); err != nil {
		return nil, err
	}
	if err := n.checkPrefixes(spec, sub); err != nil {
		return nil, err
	}
	if len(spec.Groups) > 0 || !spec.RequesterManaged {
		if err := n.checkGroups(spec.ID, sub.VpcID, spec.Groups); err != nil {
			return nil, err
		}
	}
	i := &Interface{net: n, spec: spec, vpcID: sub.VpcID, table: table, index: n.nextIndex, natName: natName(spec)}
	n.nextIndex++
	n.ifaces[spec.ID] = i
	n.use(i, nil, spec.Groups)
	n.order = append(n.order, i)
	for _, a := range i.addrs() {
		n.byAddr[a] = i
	}
	n.changed()
	return i, nil
}

// DeleteInterface removes an interface; the groups it carried stop
// matching its addresses.
func (n *Network) DeleteInterface(id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.ifaces[id]
	if i == nil {
		return &Error{Code: ErrInterfaceNotFound, Resource: id}
	}
	for _, a := range i.addrs() {
		delete(n.byAddr, a)
	}
	delete(n.ifaces, id)
	n.use(i, i.spec.Groups, nil)
	n.order = slices.DeleteFunc(n.order, func(x *Interface) bool { return x == i })
	n.changed()
	return nil
}

// delegatedTo returns the interface a delegated prefix holding a belongs
// to, or nil. Called with n.mu held.
func (n *Network) delegatedTo(a netip.Addr) *Interface {
	for _, i := range n.order {
		for _, p := range i.spec.Prefixes {
			if p.Contains(a) {
				return i
			}
		}
	}
	return nil
}

// checkPrefixes checks an interface's delegated prefixes: each within its
// subnet's block of its family, given as AWS gives them (masked), none
// overlapping another prefix or holding an interface's address. Called
// with n.mu held.
func (n *Network) checkPrefixes(spec InterfaceSpec, sub *Subnet) error {
	for k, p := range spec.Prefixes {
		field := fmt.Sprintf("Prefixes[%d]", k)
		bad := func(code *Code, msg string) error {
			return &Error{Code: code, Resource: spec.ID, Field: field, Value: p.String(), Msg: msg}
		}
		block := sub.CIDR
		if p.Addr().Is6() {
			block = sub.IPv6CIDR
		}
		switch {
		case !p.IsValid() || p.Addr().Is4In6():
			return bad(ErrAddressRange, "not a prefix")
		case p != p.Masked():
			return bad(ErrAddressRange, "host bits set")
		case !block.IsValid():
			return bad(ErrAddressRange, fmt.Sprintf("subnet %s has no block of this family", sub.ID))
		case p.Bits() < block.Bits() || !block.Contains(p.Addr()):
			return bad(ErrAddressRange, fmt.Sprintf("outside subnet %s (%s)", sub.ID, block))
		case p.Addr().Is4() && (reserved4(block, p.Addr()) || reserved4(block, lastAddr(p))):
			return bad(ErrAddressRange, fmt.Sprintf("holds addresses AWS reserves: the first four and the last of %s", block))
		}
		for j, q := range spec.Prefixes[:k] {
			if q.Overlaps(p) {
				return bad(ErrAddressInUse, fmt.Sprintf("overlaps Prefixes[%d] %s", j, q))
			}
		}
		for _, a := range append(slices.Clone(spec.PrivateIPv4), spec.IPv6...) {
			if p.Contains(a) {
				return bad(ErrAddressInUse, fmt.Sprintf("holds the interface's address %s", a))
			}
		}
		for a, o := range n.byAddr {
			if p.Contains(a) {
				return bad(ErrAddressInUse, fmt.Sprintf("holds %s, assigned to %s", a, o.spec.ID))
			}
		}
		for _, o := range n.order {
			for _, q := range o.spec.Prefixes {
				if q.Overlaps(p) {
					return bad(ErrAddressInUse, fmt.Sprintf("overlaps %s, delegated to %s", q, o.spec.ID))
				}
			}
		}
	}
	return nil
}

// checkPublic checks an interface's public addresses: IPv4, each for one
// of its private IPv4 addresses, none another interface's. Called with
// n.mu held.
func (n *Network) checkPublic(spec InterfaceSpec) error {
	seen := map[netip.Addr]bool{}
	for k, pub := range spec.PublicIPv4 {
		field := fmt.Sprintf("PublicIPv4[%d]", k)
		switch {
		case !pub.Public.Is4() || pub.Public.IsPrivate() || pub.Public.IsLoopback() || pub.Public.IsLinkLocalUnicast():
			return &Error{Code: ErrAddressRange, Resource: spec.ID, Field: field, Value: pub.Public.String(), Msg: "not a public IPv4 address"}
		case !slices.Contains(spec.PrivateIPv4, pub.Private):
			return &Error{Code: ErrAddressRange, Resource: spec.ID, Field: field, Value: pub.Private.String(),
				Msg: "not one of the interface's private IPv4 addresses"}
		case seen[pub.Public]:
			return &Error{Code: ErrAddressInUse, Resource: spec.ID, Field: field, Value: pub.Public.String(), Msg: "listed twice"}
		}
		seen[pub.Public] = true
		for _, o := range n.order {
			for _, x := range o.spec.PublicIPv4 {
				if x.Public == pub.Public {
					return &Error{Code: ErrAddressInUse, Resource: spec.ID, Field: field, Value: pub.Public.String(),
						Msg: "associated with " + o.spec.ID}
				}
			}
		}
	}
	return nil
}

// Interface returns the interface with the given ID, or nil.
func (n *Network) Interface(id string) *Interface {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.ifaces[id]
}

// Interfaces returns every interface, in the order they were added.
func (n *Network) Interfaces() []*Interface {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return slices.Clone(n.order)
}

// InterfaceByAddr returns the interface that owns a private address, or
// one in a prefix delegated to it; or nil.
func (n *Network) InterfaceByAddr(a netip.Addr) *Interface {
	n.mu.RLock()
	defer n.mu.RUnlock()
	a = a.Unmap()
	if i := n.byAddr[a]; i != nil {
		return i
	}
	return n.delegatedTo(a)
}

// SetGroups replaces an interface's security groups, as
// ModifyNetworkInterfaceAttribute --groups does: at least one, at most the
// quota, all in the interface's VPC.
func (n *Network) SetGroups(id string, groups ...string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.ifaces[id]
	if i == nil {
		return &Error{Code: ErrInterfaceNotFound, Resource: id}
	}
	if err := n.checkGroups(id, i.vpcID, groups); err != nil {
		return err
	}
	n.use(i, i.spec.Groups, groups)
	i.spec.Groups = slices.Clone(groups)
	n.changed()
	return nil
}

// AttachGroup adds one group to an interface's set.
func (n *Network) AttachGroup(id, group string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.ifaces[id]
	if i == nil {
		return &Error{Code: ErrInterfaceNotFound, Resource: id}
	}
	if slices.Contains(i.spec.Groups, group) {
		return nil
	}
	groups := append(slices.Clone(i.spec.Groups), group)
	if err := n.checkGroups(id, i.vpcID, groups); err != nil {
		return err
	}
	n.use(i, i.spec.Groups, groups)
	i.spec.Groups = groups
	n.changed()
	return nil
}

// DetachGroup removes one group from an interface's set; removing the last
// one is an error, as every interface carries at least one group.
func (n *Network) DetachGroup(id, group string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.ifaces[id]
	if i == nil {
		return &Error{Code: ErrInterfaceNotFound, Resource: id}
	}
	if !slices.Contains(i.spec.Groups, group) {
		return &Error{Code: ErrNotAttached, Resource: id, Field: "Groups", Value: group}
	}
	groups := slices.DeleteFunc(slices.Clone(i.spec.Groups), func(g string) bool { return g == group })
	if len(groups) == 0 {
		return &Error{Code: ErrNoGroups, Resource: id, Field: "Groups", Value: group,
			Msg: "it is the interface's last group; attach another first"}
	}
	n.use(i, i.spec.Groups, groups)
	i.spec.Groups = groups
	n.changed()
	return nil
}

// AssignAddresses adds secondary private IPv4 or IPv6 addresses to an
// interface. Rules that reference its groups match them at once.
func (n *Network) AssignAddresses(id string, addrs ...netip.Addr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.ifaces[id]
	if i == nil {
		return &Error{Code: ErrInterfaceNotFound, Resource: id}
	}
	var v4, v6 []netip.Addr
	for _, a := range addrs {
		if a = a.Unmap(); a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	if err := n.checkAddrs(id, n.subnets[i.spec.SubnetID], i, v4, v6); err != nil {
		return err
	}
	i.spec.PrivateIPv4 = append(slices.Clone(i.spec.PrivateIPv4), v4...)
	i.spec.IPv6 = append(slices.Clone(i.spec.IPv6), v6...)
	for _, a := range addrs {
		n.byAddr[a.Unmap()] = i
	}
	n.changed()
	return nil
}

// UnassignAddresses removes secondary addresses from an interface. The
// primary private IPv4 address cannot be removed.
func (n *Network) UnassignAddresses(id string, addrs ...netip.Addr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.ifaces[id]
	if i == nil {
		return &Error{Code: ErrInterfaceNotFound, Resource: id}
	}
	for _, a := range addrs {
		a = a.Unmap()
		if len(i.spec.PrivateIPv4) > 0 && a == i.spec.PrivateIPv4[0] {
			return &Error{Code: ErrAddressRange, Resource: id, Field: "PrivateIpAddress", Value: a.String(),
				Msg: "the primary private IPv4 address cannot be unassigned"}
		}
		if !slices.Contains(i.spec.PrivateIPv4, a) && !slices.Contains(i.spec.IPv6, a) {
			return &Error{Code: ErrAddressRange, Resource: id, Field: "PrivateIpAddresses", Value: a.String(),
				Msg: "not assigned to this interface"}
		}
	}
	drop := func(x netip.Addr) bool { return slices.Contains(addrs, x) }
	i.spec.PrivateIPv4 = slices.DeleteFunc(slices.Clone(i.spec.PrivateIPv4), drop)
	i.spec.IPv6 = slices.DeleteFunc(slices.Clone(i.spec.IPv6), drop)
	for _, a := range addrs {
		delete(n.byAddr, a.Unmap())
	}
	n.changed()
	return nil
}

// checkAddrs validates addresses for an interface in subnet sub: inside
// the subnet, not one of AWS's five reserved IPv4 addresses, not in use by
// another interface.
func (n *Network) checkAddrs(id string, sub *Subnet, self *Interface, v4, v6 []netip.Addr) error {
	seen := map[netip.Addr]bool{}
	if self != nil {
		for _, a := range self.addrs() {
			seen[a] = true
		}
	}
	check := func(field string, a netip.Addr, block netip.Prefix) error {
		a = a.Unmap()
		bad := func(msg string) error {
			return &Error{Code: ErrAddressRange, Resource: id, Field: field, Value: a.String(), Msg: msg}
		}
		switch {
		case !a.IsValid():
			return bad("not an address")
		case !block.IsValid():
			return bad(fmt.Sprintf("subnet %s has no block of this family", sub.ID))
		case !block.Contains(a):
			return bad(fmt.Sprintf("outside subnet %s (%s)", sub.ID, block))
		case a.Is4() && reserved4(block, a):
			return bad(fmt.Sprintf("AWS reserves the first four and the last address of %s", block))
		case seen[a]:
			return bad("listed twice")
		}
		if other := n.byAddr[a]; other != nil && other != self {
			return &Error{Code: ErrAddressInUse, Resource: id, Field: field, Value: a.String(),
				Msg: "assigned to " + other.spec.ID}
		}
		if other := n.delegatedTo(a); other != nil {
			return &Error{Code: ErrAddressInUse, Resource: id, Field: field, Value: a.String(),
				Msg: "in a prefix delegated to " + other.spec.ID}
		}
		seen[a] = true
		return nil
	}
	for k, a := range v4 {
		if err := check(fmt.Sprintf("PrivateIpAddresses[%d]", k), a, sub.CIDR); err != nil {
			return err
		}
	}
	for k, a := range v6 {
		if err := check(fmt.Sprintf("Ipv6Addresses[%d]", k), a, sub.IPv6CIDR); err != nil {
			return err
		}
	}
	return nil
}

// lastAddr returns the last address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | (1<<(32-p.Bits()) - 1)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func reserved4(block netip.Prefix, a netip.Addr) bool {
	base := block.Masked().Addr().As4()
	b := a.As4()
	host := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	first := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	last := first | (1<<(32-block.Bits()) - 1)
	return host-first < 4 || host == last
}

func (n *Network) checkGroups(id, vpcID string, groups []string) error {
	if len(groups) == 0 {
		return &Error{Code: ErrNoGroups, Resource: id, Field: "Groups"}
	}
	if max := n.groups.Quotas().GroupsPerInterface; len(groups) > max {
		return &Error{Code: ErrTooManyGroups, Resource: id, Field: "Groups", Value: fmt.Sprint(len(groups)),
			Msg: fmt.Sprintf("the quota is %d groups per interface", max)}
	}
	for k, g := range groups {
		vpc, ok := n.groups.GroupVPC(g)
		field := fmt.Sprintf("Groups[%d]", k)
		switch {
		case !ok:
			return &Error{Code: ErrGroupNotFound, Resource: id, Field: field, Value: g}
		case vpc != vpcID:
			return &Error{Code: ErrGroupVPC, Resource: id, Field: field, Value: g,
				Msg: fmt.Sprintf("the group is in %s, the interface in %s", vpc, vpcID)}
		case slices.Contains(groups[:k], g):
			return &Error{Code: ErrGroupNotFound, Resource: id, Field: field, Value: g, Msg: "listed twice"}
		}
	}
	return nil
}

// use moves an interface from the groups it carried to the groups it now
// carries in the in-use index the group registry reads.
func (n *Network) use(i *Interface, old, now []string) {
	n.usersMu.Lock()
	defer n.usersMu.Unlock()
	if n.users == nil {
		n.users = map[string]map[*Interface]struct{}{}
	}
	for _, g := range old {
		delete(n.users[g], i)
	}
	for _, g := range now {
		if n.users[g] == nil {
			n.users[g] = map[*Interface]struct{}{}
		}
		n.users[g][i] = struct{}{}
	}
}

// changed marks the snapshots and every compiled interface stale. Called
// with n.mu held; the snapshots are rebuilt when next read, so loading a
// large configuration object by object stays linear.
func (n *Network) changed() { n.gen.Add(1) }

// snapshot is what packets read without taking n.mu: which interface owns
// an address, which subnet holds it, which addresses each group stands for.
type snapshot struct {
	gen     uint64
	routes  *routes
	members map[string][]netip.Prefix
}

// current returns the snapshot of the network as it is now, building it
// if something changed since the last one.
func (n *Network) current() *snapshot {
	if s := n.snap.Load(); s != nil && s.gen == n.gen.Load() {
		return s
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.currentLocked()
}

// currentLocked is current for callers holding n.mu for writing.
func (n *Network) currentLocked() *snapshot {
	gen := n.gen.Load()
	if s := n.snap.Load(); s != nil && s.gen == gen {
		return s
	}
	s := &snapshot{gen: gen, members: map[string][]netip.Prefix{}}
	for _, i := range n.order {
		m := i.members()
		for _, g := range i.spec.Groups {
			s.members[g] = append(s.members[g], m...)
		}
	}
	r := &routes{byAddr: make(map[netip.Addr]*Interface, len(n.byAddr))}
	for a, i := range n.byAddr {
		r.byAddr[a] = i
	}
	for _, i := range n.order {
		for _, p := range i.spec.Prefixes {
			r.delegated.Insert(p, i)
			r.anyDelegated = true
		}
	}
	for _, i := range n.order {
		for _, pub := range i.spec.PublicIPv4 {
			if slices.Contains(i.spec.PrivateIPv4, pub.Private) { // still assigned
				r.addPublic(pub)
			}
		}
	}
	ids := make([]string, 0, len(n.subnets))
	for id := range n.subnets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	bySubnet := make(map[string]*subnetRoute, len(ids))
	for _, id := range ids {
		sn := n.subnets[id]
		sr := &subnetRoute{id: id, vpc: sn.VpcID, acl: n.acls[sn.ACLID]}
		bySubnet[id] = sr
		for _, p := range []netip.Prefix{sn.CIDR, sn.IPv6CIDR} {
			if p.IsValid() {
				r.subnets.Insert(p, sr)
				r.few = append(r.few, subnetBlock{prefix.Of(p), sr})
			}
		}
	}
	r.appliances, r.bySubnet = n.compileRouteTables(bySubnet), bySubnet
	r.balancers = n.compileTargetGroups()
	// Subnets of a VPC never overlap, so the first block that contains an
	// address is the only one.
	if len(r.few) > 8 {
		r.few = nil
	} else if r.few == nil {
		r.few = []subnetBlock{}
	}
	s.routes = r
	n.snap.Store(s)
	return s
}
