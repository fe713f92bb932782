package eni

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/gaissmai/bart"

	"github.com/sgsim/sgsim/internal/prefix"
	"github.com/sgsim/sgsim/nacl"
)

// routes is an immutable snapshot of where addresses live: which
// interface owns an address, and which subnet (and so which network ACL)
// holds it. Path evaluation reads it without locks.
type routes struct {
	byAddr  map[netip.Addr]*Interface
	subnets bart.Table[*subnetRoute]
	// few holds the subnet blocks when there are only a few: a scan beats
	// a table lookup for the handful most VPCs have.
	few []subnetBlock
	// public maps the interfaces' public IPv4 addresses to their private
	// ones; publicBits has a bit set for each one's hash, so that the
	// packets of a capture, whose addresses are mostly not public ones,
	// are passed by without a map lookup.
	public     map[netip.Addr]netip.Addr
	publicBits [4]uint64
	// delegated holds the interfaces' delegated prefixes, looked up when
	// an address is no interface's own (anyDelegated: there are some).
	delegated    bart.Table[*Interface]
	anyDelegated bool
	// publicOf maps private addresses to their public ones: a packet
	// between two interfaces by way of a public address leaves the first
	// with its own public address as the source.
	publicOf map[netip.Addr]netip.Addr
	// appliances is set when some route table sends traffic to an
	// interface: then a packet may go through one on its way.
	appliances bool
	bySubnet   map[string]*subnetRoute
	// balancers maps the targets of internet-facing Network Load
	// Balancers that keep their clients' addresses to the hops that stand
	// for them (see Network.AddTargetGroup); nil when there are none.
	balancers map[balancedKey]*hop
}

// addPublic records a public address of an interface.
func (r *routes) addPublic(p PublicIP) {
	if r.public == nil {
		r.public, r.publicOf = map[netip.Addr]netip.Addr{}, map[netip.Addr]netip.Addr{}
	}
	r.publicOf[p.Private] = p.Public
	r.public[p.Public] = p.Private
	h := publicHash(p.Public.As4())
	r.publicBits[h>>6] |= 1 << (h & 63)
}

func publicHash(a [4]byte) uint8 { return a[0]*7 ^ a[1]*3 ^ a[2]*5 ^ a[3] }

// maybePublic reports whether a might be a public address of an
// interface: false for certain when it is not.
func (r *routes) maybePublic(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	h := publicHash(a.As4())
	return r.publicBits[h>>6]&(1<<(h&63)) != 0
}

// translate writes to out.Packet the packet p with each public address of
// an interface replaced by its private one, as the internet gateway
// does, and returns out.Packet and true; or returns p itself and false
// when it names none.
//
// A packet from one interface to another's public address goes out
// through the internet gateway and comes back in (a hairpin): the source
// side sees the destination's public address, and the destination side
// the source's public address, never its private one, so a rule naming
// the source's group does not match it. translate then also writes the
// two sides' packets to out.public.views.
func (r *routes) translate(p *Packet, out *Path) (*Packet, bool) {
	out.public.on, out.public.hairpin = false, false
	if r.public == nil || (!r.maybePublic(p.Src) && !r.maybePublic(p.Dst)) {
		return p, false
	}
	src, srcOK := r.public[p.Src]
	dst, dstOK := r.public[p.Dst]
	if !srcOK && !dstOK {
		return p, false
	}
	pub := &out.public
	pub.src, pub.dst = netip.Addr{}, netip.Addr{}
	out.setPacket(p)
	if srcOK {
		pub.src, out.Packet.Src = p.Src, src
	}
	if dstOK {
		pub.dst, out.Packet.Dst = p.Dst, dst
	}
	pub.on = true
	// A hairpin, seen at one end (the other names its private address)
	// or between them.
	if (srcOK || r.owner(p.Src) != nil) && (dstOK || r.owner(p.Dst) != nil) {
		if !srcOK {
			pub.src = r.publicOf[p.Src] // none: the source cannot reach the gateway
		}
		if !dstOK {
			pub.dst = r.publicOf[p.Dst]
		}
		pub.hairpin = true
		sent, received := &pub.views[0], &pub.views[1]
		*sent, *received = out.Packet, out.Packet
		if pub.dst.IsValid() {
			sent.Dst = pub.dst
		}
		received.Src = pub.src
	}
	return &out.Packet, true
}

// owner returns the interface that a belongs to, by address or by
// delegated prefix, or nil.
func (r *routes) owner(a netip.Addr) *Interface {
	if i := r.byAddr[a]; i != nil || !r.anyDelegated {
		return i
	}
	i, _ := r.delegated.Lookup(a)
	return i
}

type subnetBlock struct {
	pfx prefix.Masked
	sr  *subnetRoute
}

// subnetOf returns the subnet whose block holds a, or nil.
func (r *routes) subnetOf(a netip.Addr) *subnetRoute {
	if r.few != nil {
		pa := prefix.AddrOf(a)
		for k := range r.few {
			if r.few[k].pfx.Contains(pa) {
				return r.few[k].sr
			}
		}
		return nil
	}
	sr, _ := r.subnets.Lookup(a)
	return sr
}

type subnetRoute struct {
	id  string
	vpc string
	acl *nacl.ACL
	// table is the subnet's route table and gateway its VPC's internet
	// gateway's, when the files give them.
	table, gateway *routeTable
}

// CreateACL creates a custom network ACL in a VPC, as CreateNetworkAcl
// does: it denies everything until entries are added, and serves no subnet
// until associated.
func (n *Network) CreateACL(id, vpcID string) (*nacl.ACL, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v := n.vpcs[vpcID]
	if v == nil {
		return nil, &Error{Code: ErrVPCNotFound, Resource: id, Field: "VpcId", Value: vpcID}
	}
	if id == "" {
		id = fmt.Sprintf("acl-%017x", len(n.acls)+1)
	}
	if n.acls[id] != nil {
		return nil, &Error{Code: ErrACLExists, Resource: id}
	}
	a := nacl.New(id, vpcID, v.HasIPv6())
	n.acls[id] = a
	return a, nil
}

// AddACL adds an ACL built elsewhere (for example loaded from
// describe-network-acls). A default ACL becomes its VPC's default.
func (n *Network) AddACL(a *nacl.ACL) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	v := n.vpcs[a.VpcID]
	if v == nil {
		return &Error{Code: ErrVPCNotFound, Resource: a.ID, Field: "VpcId", Value: a.VpcID}
	}
	if n.acls[a.ID] != nil {
		return &Error{Code: ErrACLExists, Resource: a.ID}
	}
	n.acls[a.ID] = a
	if a.IsDefault {
		v.DefaultACLID = a.ID
		for _, s := range n.subnets {
			if s.VpcID == v.ID && s.ACLID == "" {
				s.ACLID = a.ID
			}
		}
		n.changed()
	}
	return nil
}

// ACL returns the network ACL with this ID, or nil. Changes to its entries
// apply to the next packet.
func (n *Network) ACL(id string) *nacl.ACL {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.acls[id]
}

// ACLs returns every network ACL, sorted by ID.
func (n *Network) ACLs() []*nacl.ACL {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*nacl.ACL, 0, len(n.acls))
	for _, a := range n.acls {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y *nacl.ACL) int {
		if x.ID < y.ID {
			return -1
		}
		if x.ID > y.ID {
			return 1
		}
		return 0
	})
	return out
}

// ACLUsage returns the entries of the network ACL with this ID and the
// packets each decided on the paths this network judged (see
// [nacl.ACL.Usage]), or nil for an ID it does not hold. Entries count the
// packets their ACL's answer applied to, allowed or refused there: not a
// stage judged only to explain an earlier refusal, nor traffic that no ACL
// filters. It is safe while other goroutines judge packets.
func (n *Network) ACLUsage(id string) []nacl.EntryUsage {
	a := n.ACL(id)
	if a == nil {
		return nil
	}
	// Judging counts with the evaluation held.
	n.eval.Lock()
	defer n.eval.Unlock()
	return a.Usage()
}

// ACLSubnets returns, for each network ACL that a subnet uses, the IDs of
// the subnets that use it, sorted: the ACLs whose entries any traffic can
// meet.
func (n *Network) ACLSubnets() map[string][]string {
	out := map[string][]string{}
	for _, s := range n.Subnets() {
		if s.ACLID != "" {
			out[s.ACLID] = append(out[s.ACLID], s.ID)
		}
	}
	return out
}

// AssociateACL makes an ACL the subnet's one, replacing the previous
// association (a subnet has exactly one ACL).
func (n *Network) AssociateACL(subnetID, aclID string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.subnets[subnetID]
	if s == nil {
		return &Error{Code: ErrSubnetNotFound, Resource: subnetID}
	}
	a := n.acls[aclID]
	switch {
	case a == nil:
		return &Error{Code: ErrACLNotFound, Resource: subnetID, Field: "NetworkAclId", Value: aclID}
	case a.VpcID != s.VpcID:
		return &Error{Code: ErrACLVPC, Resource: subnetID, Field: "NetworkAclId", Value: aclID,
			Msg: fmt.Sprintf("the ACL is in %s, the subnet in %s", a.VpcID, s.VpcID)}
	}
	s.ACLID = aclID
	n.changed()
	return nil
}

// DisassociateACL returns a subnet to its VPC's default ACL.
func (n *Network) DisassociateACL(subnetID string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.subnets[subnetID]
	if s == nil {
		return &Error{Code: ErrSubnetNotFound, Resource: subnetID}
	}
	s.ACLID = n.vpcs[s.VpcID].DefaultACLID
	n.changed()
	return nil
}

// DeleteACL deletes a custom ACL that no subnet uses.
func (n *Network) DeleteACL(id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := n.acls[id]
	if a == nil {
		return &Error{Code: ErrACLNotFound, Resource: id}
	}
	if a.IsDefault || n.vpcs[a.VpcID].DefaultACLID == id {
		return &Error{Code: ErrACLInUse, Resource: id, Msg: "the default network ACL cannot be deleted"}
	}
	for _, s := range n.subnets {
		if s.ACLID == id {
			return &Error{Code: ErrACLInUse, Resource: id, Msg: "associated with " + s.ID}
		}
	}
	delete(n.acls, id)
	return nil
}

// SubnetOf returns the subnet whose block holds the address.
func (n *Network) SubnetOf(a netip.Addr) (Subnet, bool) {
	sr := n.current().routes.subnetOf(a.Unmap())
	if sr == nil {
		return Subnet{}, false
	}
	return n.Subnet(sr.id)
}
