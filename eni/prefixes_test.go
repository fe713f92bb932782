package eni_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
)

// prefixWorld has two nodes in subnet-app whose pods take addresses from
// prefixes delegated to the nodes' interfaces (as EKS does with prefix
// delegation), in one group that lets its own members in on every
// protocol, as EKS's cluster group does; and a database in subnet-data
// that lets the nodes' group in on 5432.
func prefixWorld(t *testing.T) *world {
	w := newWorld(t)
	nodes := w.group("nodes")
	_, err := w.reg.AuthorizeIngress(nodes, allRule("sg-nodes"))
	require.NoError(t, err)
	db := w.group("db", tcpRule(5432, "sg-nodes"))
	for _, n := range []struct{ id, addr, prefix string }{
		{"eni-node1", "10.0.2.10", "10.0.2.32/28"},
		{"eni-node2", "10.0.2.11", "10.0.2.48/28"},
	} {
		_, err := w.net.AddInterface(eni.InterfaceSpec{ID: n.id, SubnetID: "subnet-app", Groups: []string{nodes},
			PrivateIPv4: []netip.Addr{mustAddr(n.addr)}, Prefixes: []netip.Prefix{netip.MustParsePrefix(n.prefix)}})
		require.NoError(t, err)
	}
	w.iface("eni-db", "subnet-data", "10.0.3.10", db)
	return w
}

// TestDelegatedPrefixes: an address in a delegated prefix is its
// interface's: packets from and to it are judged there, and rules
// referencing the interface's groups match it; pods on two nodes talk
// through the self-referencing rule, and reach the database.
func TestDelegatedPrefixes(t *testing.T) {
	w := prefixWorld(t)
	assert.Equal(t, "eni-node1", w.net.InterfaceByAddr(mustAddr("10.0.2.40")).ID())
	assert.Nil(t, w.net.InterfaceByAddr(mustAddr("10.0.2.70")))
	for _, judge := range []func(*eni.Packet, ...float64) eni.Path{
		func(p *eni.Packet, at ...float64) eni.Path { return w.net.Judge(p, t0) },
		func(p *eni.Packet, at ...float64) eni.Path {
			var out eni.Path
			w.net.NewFlowCache().JudgeInto(p, t0, &out)
			return out
		},
	} {
		pod := judge(tcp("10.0.2.33:40000", "10.0.2.50:8080", eni.SYN))
		require.True(t, pod.Allowed(), "%s", pod)
		assert.Equal(t, "eni-node1", pod.Src.ID())
		assert.Equal(t, "eni-node2", pod.Dst.ID())
		st := pod.Stages()
		assert.Equal(t, "sg-nodes", st[len(st)-1].Verdict.Interface.Groups()[0])

		toDB := judge(tcp("10.0.2.40:40001", "10.0.3.10:5432", eni.SYN))
		assert.True(t, toDB.Allowed(), "%s", toDB)

		// An address of the subnet outside the prefixes is no node's, and
		// not a member of the group.
		stray := judge(tcp("10.0.2.70:40002", "10.0.3.10:5432", eni.SYN))
		assert.False(t, stray.Allowed(), "%s", stray)
		assert.Nil(t, stray.Src)
	}
}

// TestDelegatedPrefixChecks: a prefix lies in its subnet's block of its
// family, is masked, and overlaps no other prefix nor holds an address.
func TestDelegatedPrefixChecks(t *testing.T) {
	w := prefixWorld(t)
	nodes := "sg-nodes"
	w.iface("eni-y", "subnet-app", "10.0.2.20", nodes)
	for _, tt := range []struct {
		name, addr, prefix, want string
	}{
		{"outside the subnet", "10.0.2.12", "10.0.3.32/28", `eni-x: Prefixes[0]: "10.0.3.32/28": outside subnet subnet-app (10.0.2.0/24)`},
		{"host bits", "10.0.2.12", "10.0.2.65/28", `eni-x: Prefixes[0]: "10.0.2.65/28": host bits set`},
		{"no IPv6 block", "10.0.2.12", "2001:db8:1234:1::/80", `subnet subnet-app has no block of this family`},
		{"another's prefix", "10.0.2.12", "10.0.2.32/27", `overlaps 10.0.2.32/28, delegated to eni-node1`},
		{"holds its own address", "10.0.2.66", "10.0.2.64/28", `holds the interface's address 10.0.2.66`},
		{"holds another's address", "10.0.2.100", "10.0.2.16/28", `holds 10.0.2.20, assigned to eni-y`},
		{"reserved addresses", "10.0.2.100", "10.0.2.0/28", `holds addresses AWS reserves: the first four and the last of 10.0.2.0/24`},
		{"the last address", "10.0.2.100", "10.0.2.240/28", `holds addresses AWS reserves`},
		{"an address in another's prefix", "10.0.2.35", "10.0.2.96/28", `PrivateIpAddresses[0]: "10.0.2.35": in a prefix delegated to eni-node1`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-x", SubnetID: "subnet-app", Groups: []string{nodes},
				PrivateIPv4: []netip.Addr{mustAddr(tt.addr)}, Prefixes: []netip.Prefix{netip.MustParsePrefix(tt.prefix)}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
