package eni_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/nacl"
	"github.com/sgsim/sgsim/sg"
)

func aclEntry(n int, egress bool, proto int16, action nacl.Action, cidr string, from, to int32) nacl.Entry {
	return nacl.Entry{RuleNumber: n, Egress: egress, Protocol: proto, Action: action,
		CIDR: mustPrefix(cidr), FromPort: from, ToPort: to, ICMPType: from, ICMPCode: to}
}

func stageKinds(p eni.Path) []string {
	var out []string
	for _, s := range p.Stages() {
		out = append(out, fmt.Sprintf("%s:%v", s.Kind, s.Allowed))
	}
	return out
}

// TestPathStages: ACLs apply between subnets only, and the path lists every
// stage.
func TestPathStages(t *testing.T) {
	w := newWorld(t)
	any := w.group("any", allRule("10.0.0.0/8"))
	w.iface("eni-a", "subnet-app", "10.0.2.10", any)
	w.iface("eni-a2", "subnet-app", "10.0.2.11", any)
	w.iface("eni-d", "subnet-data", "10.0.3.10", any)
	deny, err := w.net.CreateACL("acl-deny", "vpc-1")
	require.NoError(t, err)
	_ = deny
	require.NoError(t, w.net.AssociateACL("subnet-app", "acl-deny"))

	// Edge 21: inside the subnet, the deny-all ACL does not apply.
	p := w.net.Judge(tcp("10.0.2.10:4000", "10.0.2.11:22", eni.SYN), t0)
	assert.True(t, p.Allowed(), "%s", p)
	assert.Equal(t, []string{"source security groups:true", "destination security groups:true"}, stageKinds(p))

	// Across subnets it does, on the way out.
	p = w.net.Judge(tcp("10.0.2.10:4001", "10.0.3.10:22", eni.SYN), t0)
	assert.False(t, p.Allowed(), "%s", p)
	assert.Equal(t, []string{"source security groups:true", "source subnet ACL:false",
		"destination subnet ACL:true", "destination security groups:true"}, stageKinds(p))
	assert.Equal(t, nacl.DenyAllIPv4, p.Stages()[1].ACLResult.RuleNumber)
	assert.Contains(t, p.String(), "SUBNET_ACL_RESTRICTION: acl-deny (subnet-app) outbound: entry * deny all traffic to 0.0.0.0/0")
	assert.True(t, p.Stages()[3].Hypothetical)
	assert.Zero(t, w.net.Interface("eni-d").Stats().Allowed[in], "a hypothetical stage changes nothing")
	// The source's group saw the SYN leave and tracks it, though the subnet
	// ACL dropped it next (aws-semantics §7: SG egress comes before the ACL):
	// two entries, the intra-subnet SSH and this one.
	assert.Equal(t, 2, w.net.Interface("eni-a").Stats().Tracking.Entries)

	// Edge 25: back to the default ACL.
	require.NoError(t, w.net.DisassociateACL("subnet-app"))
	p = w.net.Judge(tcp("10.0.2.10:4002", "10.0.3.10:22", eni.SYN), t0)
	assert.True(t, p.Allowed(), "%s", p)
	vpc, _ := w.net.VPC("vpc-1")
	require.ErrorIs(t, w.net.DeleteACL(vpc.DefaultACLID), eni.ErrACLInUse)
	require.NoError(t, w.net.DeleteACL("acl-deny"))

	// From outside the VPC only the destination side applies.
	p = w.net.Judge(tcp("198.51.100.1:4000", "10.0.3.10:22", eni.SYN), t0)
	assert.Equal(t, []string{"destination subnet ACL:true", "destination security groups:false"}, stageKinds(p))
	p = w.net.Judge(tcp("198.51.100.1:4000", "198.51.100.2:22", eni.SYN), t0)
	assert.True(t, p.Skip())
}

// TestPathNamesEveryRefusal: both an ACL and a group refuse; both are named.
func TestPathNamesEveryRefusal(t *testing.T) {
	w := newWorld(t)
	w.iface("eni-d", "subnet-data", "10.0.3.10", w.group("db", tcpRule(5432, "10.0.2.0/24")))
	_, err := w.net.CreateACL("acl-data", "vpc-1")
	require.NoError(t, err)
	require.NoError(t, w.net.AssociateACL("subnet-data", "acl-data"))
	p := w.net.Judge(tcp("198.51.100.1:4000", "10.0.3.10:5432", eni.SYN), t0)
	require.False(t, p.Allowed())
	refusals := p.Refusals()
	require.Len(t, refusals, 2)
	assert.Equal(t, eni.StageDestACL, refusals[0].Kind)
	assert.Equal(t, eni.StageDestGroups, refusals[1].Kind)
	assert.Equal(t, eni.ReasonNoRule, refusals[1].Verdict.Reason)
	assert.Contains(t, p.String(), "not reached")
}

// TestEphemeralPorts (edges 22 and 24): replies need ACL entries of their
// own, ephemeral ports included.
func TestEphemeralPorts(t *testing.T) {
	w := newWorld(t)
	w.iface("eni-web", "subnet-public", "10.0.1.10", w.group("web", tcpRule(443, "0.0.0.0/0")))
	a, err := w.net.CreateACL("acl-web", "vpc-1")
	require.NoError(t, err)
	require.NoError(t, a.CreateEntry(aclEntry(100, false, 6, nacl.Allow, "0.0.0.0/0", 443, 443)))
	require.NoError(t, w.net.AssociateACL("subnet-public", "acl-web"))

	syn := w.net.Judge(tcp("198.51.100.1:40000", "10.0.1.10:443", eni.SYN), t0)
	assert.True(t, syn.Allowed(), "%s", syn)
	reply := w.net.Judge(tcp("10.0.1.10:443", "198.51.100.1:40000", eni.SYN|eni.ACK), at(0.01))
	assert.False(t, reply.Allowed(), "the SYN-ACK cannot leave the subnet")
	assert.True(t, reply.Stages()[0].Allowed, "the security group let it out")
	assert.Equal(t, eni.StageSourceACL, reply.Refusals()[0].Kind)

	// Windows-style ephemeral range only: Linux clients' ports fail.
	require.NoError(t, a.CreateEntry(aclEntry(100, true, 6, nacl.Allow, "0.0.0.0/0", 49152, 65535)))
	for _, c := range []struct {
		port uint16
		ok   bool
	}{{40000, false}, {49151, false}, {49152, true}, {60999, true}} {
		p := w.net.Judge(tcp("10.0.1.10:443", fmt.Sprintf("198.51.100.1:%d", c.port), eni.ACK), at(1))
		assert.Equal(t, c.ok, p.Allowed(), "reply to port %d: %s", c.port, p)
	}
}

// TestACLBreaksTrackedConnection (edge 23): tracking does not help against
// a new ACL deny.
func TestACLBreaksTrackedConnection(t *testing.T) {
	w := newWorld(t)
	w.iface("eni-db", "subnet-data", "10.0.3.10", w.group("db", tcpRule(5432, "10.0.2.0/24")))
	w.iface("eni-app", "subnet-app", "10.0.2.10", w.group("app"))
	steps := []*eni.Packet{
		tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN),
		tcp("10.0.3.10:5432", "10.0.2.10:40000", eni.SYN|eni.ACK),
		tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.ACK),
	}
	for k, p := range steps {
		require.True(t, w.net.Judge(p, at(float64(k))).Allowed())
	}
	vpc, _ := w.net.VPC("vpc-1")
	acl := w.net.ACL(vpc.DefaultACLID)
	require.NoError(t, acl.CreateEntry(aclEntry(50, false, 6, nacl.Deny, "10.0.2.0/24", 5432, 5432)))
	p := w.net.Judge(tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.ACK|eni.PSH), at(5))
	assert.False(t, p.Allowed(), "%s", p)
	assert.Equal(t, eni.ReasonTracked, p.Stages()[3].Verdict.Reason, "the group would still pass it")
}

// TestPingReplyRefusedByACL retells AWS's flow-log example (§9.2): the
// group lets the ping in and its reply out; the ACL lets the ping in but
// not the reply out.
func TestPingReplyRefusedByACL(t *testing.T) {
	w := newWorld(t)
	id, err := w.reg.CreateEmptyGroup(sg.GroupSpec{ID: "sg-ping", Name: "ping", VpcID: "vpc-1"})
	require.NoError(t, err)
	_, err = w.reg.AuthorizeIngress(id, rule(sg.ICMP, -1, -1, "0.0.0.0/0"))
	require.NoError(t, err)
	w.iface("eni-1", "subnet-public", "10.0.1.10", id)
	a, err := w.net.CreateACL("acl-ping", "vpc-1")
	require.NoError(t, err)
	require.NoError(t, a.CreateEntry(aclEntry(100, false, 1, nacl.Allow, "0.0.0.0/0", -1, -1)))
	require.NoError(t, w.net.AssociateACL("subnet-public", "acl-ping"))

	assert.True(t, w.net.Judge(icmp("203.0.113.12", "10.0.1.10", 8, 0, 1), t0).Allowed())
	p := w.net.Judge(icmp("10.0.1.10", "203.0.113.12", 0, 0, 1), at(0.001))
	assert.False(t, p.Allowed())
	assert.Equal(t, eni.ReasonTracked, p.Stages()[0].Verdict.Reason, "stateful group: the reply passes")
	assert.Equal(t, eni.StageSourceACL, p.Refusals()[0].Kind, "stateless ACL: it does not")
}

func TestPathNeverFiltered(t *testing.T) {
	w := newWorld(t)
	id, err := w.reg.CreateEmptyGroup(sg.GroupSpec{ID: "sg-none", Name: "none", VpcID: "vpc-1"})
	require.NoError(t, err)
	w.iface("eni-1", "subnet-app", "10.0.2.10", id)
	_, err = w.net.CreateACL("acl-deny", "vpc-1")
	require.NoError(t, err)
	require.NoError(t, w.net.AssociateACL("subnet-app", "acl-deny"))
	p := w.net.Judge(udp("10.0.2.10:5000", "10.0.0.2:53"), t0)
	assert.True(t, p.Allowed(), "%s", p)
	assert.Equal(t, eni.AmazonDNS, p.Service)
	p = w.net.Judge(udp("10.0.0.2:53", "10.0.2.10:5000"), t0)
	assert.True(t, p.Allowed(), "%s", p)
	assert.Len(t, p.Stages(), 1)
}

func TestPathNoAllocs(t *testing.T) {
	w := newWorld(t)
	any := w.group("any", allRule("10.0.0.0/8"))
	w.iface("eni-a", "subnet-app", "10.0.2.10", any)
	w.iface("eni-d", "subnet-data", "10.0.3.10", any)
	pkt := tcp("10.0.2.10:4000", "10.0.3.10:22", eni.ACK)
	w.net.Judge(tcp("10.0.2.10:4000", "10.0.3.10:22", eni.SYN), t0)
	var out eni.Path
	allocs := testing.AllocsPerRun(1000, func() { w.net.JudgeInto(pkt, t0, &out) })
	assert.Zero(t, allocs)
}

// BenchmarkPath compares a packet crossing subnets (two ACLs on its path)
// with one staying inside its subnet, and with one that a route sends
// through an appliance in a third subnet (four ACLs, three interfaces'
// checks; never the flow cache's fast lane).
func BenchmarkPath(b *testing.B) {
	for _, c := range []struct {
		name, dst string
		cached    bool
		appliance bool
	}{{"same-subnet", "10.0.2.11", false, false}, {"cross-subnet", "10.0.3.10", false, false},
		{"cross-subnet-flowcache", "10.0.3.10", true, false}, {"appliance-flowcache", "10.0.3.10", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			w := newWorld(b)
			any := w.group("any", allRule("10.0.0.0/8"))
			w.iface("eni-a", "subnet-app", "10.0.2.10", any)
			w.iface("eni-a2", "subnet-app", "10.0.2.11", any)
			w.iface("eni-d", "subnet-data", "10.0.3.10", any)
			for _, s := range []string{"subnet-app", "subnet-data"} {
				a, err := w.net.CreateACL("acl-"+s, "vpc-1")
				require.NoError(b, err)
				for k := 1; k <= 10; k++ {
					require.NoError(b, a.CreateEntry(aclEntry(k*10, false, 6, nacl.Deny, fmt.Sprintf("192.0.%d.0/24", k), 22, 22)))
					require.NoError(b, a.CreateEntry(aclEntry(k*10, true, 6, nacl.Deny, fmt.Sprintf("192.0.%d.0/24", k), 22, 22)))
				}
				require.NoError(b, a.CreateEntry(aclEntry(200, false, -1, nacl.Allow, "10.0.0.0/8", 0, 0)))
				require.NoError(b, a.CreateEntry(aclEntry(200, true, -1, nacl.Allow, "10.0.0.0/8", 0, 0)))
				require.NoError(b, w.net.AssociateACL(s, "acl-"+s))
			}
			if c.appliance {
				_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-fw", SubnetID: "subnet-public", Groups: []string{any},
					PrivateIPv4: []netip.Addr{mustAddr("10.0.1.5")}, DisableSourceDestCheck: true})
				require.NoError(b, err)
				require.NoError(b, w.net.AddRouteTable(eni.RouteTableSpec{ID: "rtb-app", VpcID: "vpc-1", Subnets: []string{"subnet-app"},
					Routes: []eni.Route{{Dest: netip.MustParsePrefix("10.0.3.0/24"), Interface: "eni-fw"}}}))
			}
			pkt := tcp("10.0.2.10:4000", c.dst+":22", eni.ACK)
			w.net.Judge(tcp("10.0.2.10:4000", c.dst+":22", eni.SYN), t0)
			var out eni.Path
			now := t0
			fc := w.net.NewFlowCache()
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(time.Microsecond)
				if c.cached {
					fc.JudgeInto(pkt, now, &out)
				} else {
					w.net.JudgeInto(pkt, now, &out)
				}
				if out.Action != eni.Allow { // not Allowed(): it copies the path
					b.Fatal(out.String())
				}
			}
		})
	}
}

// TestConcurrentPaths judges paths from several goroutines while ACL
// entries, associations and group rules change and the counters of
// rules and ACL entries are read; run with -race.
func TestConcurrentPaths(t *testing.T) {
	w := newWorld(t)
	any := w.group("any", allRule("10.0.0.0/8"))
	w.iface("eni-a", "subnet-app", "10.0.2.10", any)
	w.iface("eni-d", "subnet-data", "10.0.3.10", any)
	a, err := w.net.CreateACL("acl-x", "vpc-1")
	require.NoError(t, err)
	require.NoError(t, a.CreateEntry(aclEntry(100, false, -1, nacl.Allow, "0.0.0.0/0", 0, 0)))
	require.NoError(t, a.CreateEntry(aclEntry(100, true, -1, nacl.Allow, "0.0.0.0/0", 0, 0)))
	done := make(chan struct{})
	for g := 0; g < 3; g++ {
		go func(g int) {
			defer func() { done <- struct{}{} }()
			var out eni.Path
			for k := 0; k < 400; k++ {
				p := tcp(fmt.Sprintf("10.0.2.10:%d", 20000+g*1000+k), "10.0.3.10:5432", eni.SYN)
				w.net.JudgeInto(p, at(float64(k)), &out)
				_ = out.String()
			}
		}(g)
	}
	// Flow caches of their own, with connections both ways through the
	// same two interfaces: one judging packet by packet, one in batches.
	for g := 0; g < 2; g++ {
		go func(g int) {
			defer func() { done <- struct{}{} }()
			fc := w.net.NewFlowCache()
			var out [2]eni.Path
			for k := 0; k < 400; k++ {
				a, b := "10.0.2.10", "10.0.3.10"
				if g == 1 {
					a, b = b, a
				}
				port := 30000 + g*1000 + k/10
				flags := eni.ACK
				if k%10 == 0 {
					flags = eni.SYN
				}
				req := tcp(fmt.Sprintf("%s:%d", a, port), b+":5432", flags)
				rep := tcp(b+":5432", fmt.Sprintf("%s:%d", a, port), flags|eni.ACK)
				if g == 0 {
					fc.JudgeInto(req, at(float64(k)), &out[0])
					fc.JudgeInto(rep, at(float64(k)), &out[1])
				} else {
					out[0].Packet, out[1].Packet = *req, *rep
					fc.JudgeEach([]*eni.Path{&out[0], &out[1]}, []time.Time{at(float64(k)), at(float64(k))})
				}
				_, _ = out[0].String(), out[1].String()
			}
		}(g)
	}
	for k := 0; k < 100; k++ {
		require.NoError(t, w.net.AssociateACL("subnet-data", "acl-x"))
		require.NoError(t, a.ReplaceEntry(aclEntry(100, false, -1, nacl.Action(k%2), "0.0.0.0/0", 0, 0)))
		_, _ = w.reg.AuthorizeIngress(any, tcpRule(int32(7000+k), "10.0.0.0/8"))
		require.Len(t, w.net.ACLUsage("acl-x"), 6) // counts read while packets are counted
		require.NotEmpty(t, w.reg.Rules())         // so are the rules'
		_, _ = w.reg.Group(any)
		require.NoError(t, w.net.DisassociateACL("subnet-data"))
	}
	for g := 0; g < 5; g++ {
		<-done
	}
}

// TestACLUsage: an ACL's entries count the packets their answers applied
// to: allowed or refused there, not a stage judged only to explain an
// earlier refusal, and not traffic no ACL filters.
func TestACLUsage(t *testing.T) {
	w := newWorld(t)
	any := w.group("any", allRule("10.0.0.0/8"))
	mute := w.group("mute")
	require.NoError(t, w.reg.RevokeEgress(mute, allRule("0.0.0.0/0")))
	w.iface("eni-a", "subnet-app", "10.0.2.10", any)
	w.iface("eni-m", "subnet-app", "10.0.2.11", mute)
	w.iface("eni-d", "subnet-data", "10.0.3.10", any)
	acl, err := w.net.CreateACL("acl-data", "vpc-1")
	require.NoError(t, err)
	cidr := netip.MustParsePrefix
	for _, e := range []nacl.Entry{
		{RuleNumber: 100, Protocol: 6, Action: nacl.Allow, CIDR: cidr("10.0.2.0/24"), FromPort: 5432, ToPort: 5432},
		{RuleNumber: 110, Protocol: 6, Action: nacl.Deny, CIDR: cidr("10.0.0.0/16"), FromPort: 22, ToPort: 22},
		{RuleNumber: 100, Egress: true, Protocol: 6, Action: nacl.Allow, CIDR: cidr("10.0.2.0/24"), FromPort: 1024, ToPort: 65535},
	} {
		require.NoError(t, acl.CreateEntry(e))
	}
	require.NoError(t, w.net.AssociateACL("subnet-data", "acl-data"))

	judge := func(p *eni.Packet, allowed bool) {
		t.Helper()
		path := w.net.Judge(p, t0)
		require.Equal(t, allowed, path.Allowed(), "%s", path)
	}
	judge(tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN), true)         // in 100
	judge(tcp("10.0.3.10:5432", "10.0.2.10:40000", eni.SYN|eni.ACK), true) // out 100
	judge(tcp("10.0.2.10:40001", "10.0.3.10:22", eni.SYN), false)          // in 110
	judge(tcp("10.0.2.10:40002", "10.0.3.10:80", eni.SYN), false)          // in *
	judge(tcp("10.0.2.11:40003", "10.0.3.10:5432", eni.SYN), false)        // the group refuses first: not counted
	judge(udp("10.0.3.10:40004", "10.0.0.2:53"), true)                     // Amazon DNS: no ACL applies
	judge(tcp("10.0.3.10:40005", "10.0.2.10:443", eni.SYN), false)         // out *

	got := map[string]uint64{}
	for _, u := range w.net.ACLUsage("acl-data") {
		got[u.String()] = u.Packets
	}
	assert.Equal(t, map[string]uint64{
		"100 allow tcp 5432 from 10.0.2.0/24":     1,
		"110 deny tcp 22 from 10.0.0.0/16":        1,
		"* deny all traffic from 0.0.0.0/0":       1,
		"* deny all traffic from ::/0":            0, // the VPC has IPv6
		"100 allow tcp 1024-65535 to 10.0.2.0/24": 1,
		"* deny all traffic to 0.0.0.0/0":         1,
		"* deny all traffic to ::/0":              0,
	}, got)
	assert.Nil(t, w.net.ACLUsage("acl-nope"))
	users := w.net.ACLSubnets()
	assert.Equal(t, []string{"subnet-data"}, users["acl-data"])
	assert.NotContains(t, users, "acl-nope")
}
