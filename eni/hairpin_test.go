package eni_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/nacl"
)

// hairpinWorld has app (10.0.1.10, public 203.0.113.10) and db
// (10.0.2.20, public 203.0.113.20), db letting in 5432 from app's group
// and from 203.0.113.99, and lone (10.0.1.30), with no public address.
// Both subnets' ACLs allow everything.
func hairpinWorld(t *testing.T) *world {
	w := newWorld(t)
	app := w.group("app")
	db := w.group("db", tcpRule(5432, "sg-app"), tcpRule(5432, "203.0.113.99/32"))
	add := func(id, subnet, private, public string, group string) {
		spec := eni.InterfaceSpec{ID: id, SubnetID: subnet, Groups: []string{group}, PrivateIPv4: []netip.Addr{netip.MustParseAddr(private)}}
		if public != "" {
			spec.PublicIPv4 = []eni.PublicIP{{Public: netip.MustParseAddr(public), Private: netip.MustParseAddr(private)}}
		}
		_, err := w.net.AddInterface(spec)
		require.NoError(t, err)
	}
	add("eni-app", "subnet-public", "10.0.1.10", "203.0.113.10", app)
	add("eni-db", "subnet-app", "10.0.2.20", "203.0.113.20", db)
	add("eni-lone", "subnet-public", "10.0.1.30", "", app)
	return w
}

// TestHairpin: a packet from one interface to another's public address
// goes out through the internet gateway and back in. The destination
// sees the source's public address, so a rule naming the source's group
// does not let it in (reference §11, case 12), while the same packet to
// the private address is let in. Wherever it was captured, at the source
// (private source, public destination) or at the destination (public
// source, private destination), it is judged alike, and every way of
// judging agrees.
func TestHairpin(t *testing.T) {
	ways := []struct {
		name  string
		judge func(n *eni.Network) func(p *eni.Packet, ts time.Time, out *eni.Path)
	}{
		{"Network.JudgeInto", func(n *eni.Network) func(*eni.Packet, time.Time, *eni.Path) { return n.JudgeInto }},
		{"FlowCache.JudgeInto", func(n *eni.Network) func(*eni.Packet, time.Time, *eni.Path) { return n.NewFlowCache().JudgeInto }},
	}
	for _, way := range ways {
		t.Run(way.name, func(t *testing.T) {
			w := hairpinWorld(t)
			judge := way.judge(w.net)
			var out eni.Path
			// By the private address: the group reference matches.
			judge(tcp("10.0.1.10:40000", "10.0.2.20:5432", eni.SYN), at(0), &out)
			assert.True(t, out.Allowed(), "%s", out)
			_, _, ok := out.Hairpin()
			assert.False(t, ok)

			for k, p := range []*eni.Packet{
				tcp("10.0.1.10:40001", "203.0.113.20:5432", eni.SYN),    // captured at app
				tcp("203.0.113.10:40002", "10.0.2.20:5432", eni.SYN),    // captured at db
				tcp("203.0.113.10:40003", "203.0.113.20:5432", eni.SYN), // between them
			} {
				judge(p, at(float64(1+k)), &out)
				assert.False(t, out.Allowed(), "%s", out)
				sent, received, ok := out.Hairpin()
				require.True(t, ok, "%s", out)
				assert.Equal(t, netip.MustParseAddr("10.0.1.10"), sent.Src)
				assert.Equal(t, netip.MustParseAddr("203.0.113.20"), sent.Dst)
				assert.Equal(t, netip.MustParseAddr("203.0.113.10"), received.Src)
				assert.Equal(t, netip.MustParseAddr("10.0.2.20"), received.Dst)
				assert.Equal(t, netip.MustParseAddr("10.0.1.10"), out.Packet.Src)
				assert.Equal(t, netip.MustParseAddr("10.0.2.20"), out.Packet.Dst)
				src, dst, ok := out.Public()
				assert.True(t, ok)
				assert.Equal(t, netip.MustParseAddr("203.0.113.10"), src)
				assert.Equal(t, netip.MustParseAddr("203.0.113.20"), dst)
				st := out.Stages()
				require.Len(t, st, 4, "both subnets' ACLs apply: %s", out)
				assert.True(t, st[0].Allowed)
				assert.Equal(t, sent, st[0].Verdict.Packet)
				assert.Equal(t, eni.StageDestGroups, st[3].Kind)
				assert.False(t, st[3].Allowed)
				assert.Equal(t, received, st[3].Verdict.Packet)
				assert.Equal(t, "eni-db", st[3].Verdict.Interface.ID())
			}
		})
	}
}

// TestHairpinConnection: a hairpin connection allowed by the source's
// public address opens tracked connections at both ends, each keyed as
// that end saw the packet, and the replies ride them wherever they were
// captured.
func TestHairpinConnection(t *testing.T) {
	w := hairpinWorld(t)
	fc := w.net.NewFlowCache()
	var out eni.Path
	// Let app's public address in.
	_, err := w.reg.AuthorizeIngress("sg-db", tcpRule(5432, "203.0.113.10/32"))
	require.NoError(t, err)
	fc.JudgeInto(tcp("10.0.1.10:40000", "203.0.113.20:5432", eni.SYN), at(0), &out)
	require.True(t, out.Allowed(), "%s", out)
	assert.True(t, out.Stages()[0].Verdict.NewConn, "%s", out)
	assert.True(t, out.Stages()[3].Verdict.NewConn, "%s", out)
	for k, p := range []*eni.Packet{
		tcp("10.0.2.20:5432", "203.0.113.10:40000", eni.SYN|eni.ACK),    // the reply at db
		tcp("203.0.113.20:5432", "10.0.1.10:40000", eni.ACK),            // at app
		tcp("203.0.113.20:5432", "203.0.113.10:40000", eni.ACK|eni.PSH), // between
	} {
		fc.JudgeInto(p, at(float64(1+k)), &out)
		require.True(t, out.Allowed(), "%s", out)
		for _, s := range out.Stages() {
			if s.Kind == eni.StageSourceGroups || s.Kind == eni.StageDestGroups {
				assert.Equal(t, eni.ReasonTracked, s.Verdict.Reason, "%s", out)
			}
		}
	}
}

// TestHairpinACLs: by way of the gateway, the packet leaves its subnet
// and enters the other's, even when both are one subnet, so the ACLs
// apply where a private path within the subnet would skip them; and the
// ACLs see the public addresses.
func TestHairpinACLs(t *testing.T) {
	w := hairpinWorld(t)
	web := w.group("web", tcpRule(443, "0.0.0.0/0"))
	_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-web", SubnetID: "subnet-public", Groups: []string{web},
		PrivateIPv4: []netip.Addr{netip.MustParseAddr("10.0.1.40")},
		PublicIPv4:  []eni.PublicIP{{Public: netip.MustParseAddr("203.0.113.40"), Private: netip.MustParseAddr("10.0.1.40")}}})
	require.NoError(t, err)
	acl, err := w.net.CreateACL("acl-public", "vpc-1")
	require.NoError(t, err)
	for _, e := range []nacl.Entry{
		{RuleNumber: 100, Egress: true, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("10.0.0.0/16")},
		{RuleNumber: 100, Egress: false, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("10.0.0.0/16")},
	} {
		require.NoError(t, acl.CreateEntry(e))
	}
	require.NoError(t, w.net.AssociateACL("subnet-public", "acl-public"))

	var out eni.Path
	w.net.JudgeInto(tcp("10.0.1.10:40000", "10.0.1.40:443", eni.SYN), at(0), &out)
	assert.True(t, out.Allowed(), "within the subnet, no ACL: %s", out)
	assert.Len(t, out.Stages(), 2)

	w.net.JudgeInto(tcp("10.0.1.10:40001", "203.0.113.40:443", eni.SYN), at(1), &out)
	assert.False(t, out.Allowed(), "%s", out)
	st := out.Stages()
	require.Len(t, st, 4, "%s", out)
	assert.Equal(t, eni.StageSourceACL, st[1].Kind)
	assert.False(t, st[1].Allowed, "the ACL allows 10.0.0.0/16 out, not 203.0.113.40: %s", out)
	assert.False(t, st[2].Allowed, "nor 203.0.113.10 in: %s", out)
}

// TestHairpinWithoutPublicAddress: an interface without a public address
// cannot go out through the internet gateway: only its own side is
// judged.
func TestHairpinWithoutPublicAddress(t *testing.T) {
	w := hairpinWorld(t)
	for _, judge := range []func(*eni.Packet, time.Time, *eni.Path){w.net.JudgeInto, w.net.NewFlowCache().JudgeInto} {
		var out eni.Path
		judge(tcp("10.0.1.30:40000", "203.0.113.20:5432", eni.SYN), at(0), &out)
		assert.True(t, out.Allowed(), "%s", out)
		assert.Nil(t, out.Dst)
		assert.Equal(t, "eni-lone", out.Src.ID())
		sent, received, ok := out.Hairpin()
		require.True(t, ok)
		assert.Equal(t, netip.MustParseAddr("203.0.113.20"), sent.Dst)
		assert.False(t, received.Src.IsValid())
		for _, s := range out.Stages() {
			assert.NotEqual(t, eni.StageDestGroups, s.Kind, "%s", out)
			assert.NotEqual(t, eni.StageDestACL, s.Kind, "%s", out)
		}
	}
}
