package eni

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/sg"
)

// TestRulesetShared: interfaces that carry the same groups, in the same
// order, judge with one compiled ruleset; other groups, another order, or
// a change to the network or the rules compile anew.
func TestRulesetShared(t *testing.T) {
	n := NewNetwork()
	_, err := n.AddVPC(VPCSpec{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	require.NoError(t, err)
	_, err = n.AddSubnet(SubnetSpec{ID: "subnet-1", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")})
	require.NoError(t, err)
	reg := n.Groups()
	for _, id := range []string{"sg-a", "sg-b"} {
		_, err := reg.CreateGroup(sg.GroupSpec{ID: id, Name: "group " + id[3:], VpcID: "vpc-1"})
		require.NoError(t, err)
		_, err = reg.AuthorizeIngress(id, sg.Rule{Protocol: sg.TCP, FromPort: 443, ToPort: 443, Peer: sg.GroupPeer("sg-a")})
		require.NoError(t, err)
	}
	add := func(id, addr string, groups ...string) *Interface {
		i, err := n.AddInterface(InterfaceSpec{ID: id, SubnetID: "subnet-1", PrivateIPv4: []netip.Addr{netip.MustParseAddr(addr)}, Groups: groups})
		require.NoError(t, err)
		return i
	}
	x, y := add("eni-x", "10.0.1.10", "sg-a", "sg-b"), add("eni-y", "10.0.1.11", "sg-a", "sg-b")
	z, w := add("eni-z", "10.0.1.12", "sg-b", "sg-a"), add("eni-w", "10.0.1.13", "sg-a")
	rules := func(i *Interface) *sg.Ruleset {
		n.eval.Lock()
		defer n.eval.Unlock()
		return i.current().rules
	}
	assert.Same(t, rules(x), rules(y), "same groups, same order")
	assert.NotSame(t, rules(x), rules(z), "another order: rules are numbered in attachment order")
	assert.NotSame(t, rules(x), rules(w))

	// Members of sg-a change the rules' addresses: a new network generation.
	before := rules(x)
	add("eni-v", "10.0.1.14", "sg-a")
	assert.NotSame(t, before, rules(x))
	assert.Same(t, rules(x), rules(y))
	// So does a rule change, through the registry's generation.
	before = rules(y)
	_, err = reg.AuthorizeIngress("sg-b", sg.Rule{Protocol: sg.TCP, FromPort: 22, ToPort: 22, Peer: sg.MustParsePeer("10.0.0.0/16")})
	require.NoError(t, err)
	assert.NotSame(t, before, rules(y))
	assert.Same(t, rules(x), rules(y))

	// And the shared rules judge each interface as its own would.
	syn := TCP(netip.MustParseAddrPort("10.0.1.14:40000"), netip.MustParseAddrPort("10.0.1.11:443"), SYN)
	p := n.Judge(&syn, time.Unix(0, 0))
	assert.True(t, p.Allowed(), "%s", p)
	ssh := TCP(netip.MustParseAddrPort("10.0.1.14:40001"), netip.MustParseAddrPort("10.0.1.10:22"), SYN)
	assert.True(t, n.Judge(&ssh, time.Unix(0, 0)).Allowed())
	ssh = TCP(netip.MustParseAddrPort("10.0.1.14:40002"), netip.MustParseAddrPort("10.0.1.13:22"), SYN)
	assert.False(t, n.Judge(&ssh, time.Unix(0, 0)).Allowed(), "eni-w has no sg-b")
}
