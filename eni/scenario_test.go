package eni_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/sg"
)

const (
	in  = eni.Inbound
	out = eni.Outbound
)

// step is one packet of a scenario, with an optional change made first.
type step struct {
	name   string
	do     func(w *world)
	at     float64
	iface  string
	dir    eni.Direction
	pkt    *eni.Packet
	want   eni.Action
	reason eni.Reason
	flow   string // "", "new", "untracked", "tracked"
}

func run(t *testing.T, w *world, steps []step) {
	t.Helper()
	for k, s := range steps {
		if s.do != nil {
			s.do(w)
		}
		i := w.net.Interface(s.iface)
		require.NotNil(t, i, "step %d: no interface %s", k, s.iface)
		v := i.Evaluate(s.dir, s.pkt, at(s.at))
		label := fmt.Sprintf("step %d %q: %s", k, s.name, v)
		assert.Equal(t, s.want, v.Action, label)
		if s.reason != eni.ReasonNone {
			assert.Equal(t, s.reason, v.Reason, label)
		}
		switch s.flow {
		case "new":
			assert.True(t, v.NewConn, label)
		case "untracked":
			assert.True(t, v.Untracked, label)
		case "tracked":
			assert.True(t, v.Tracked && !v.Untracked, label)
		}
	}
}

// TestWebServer is the seed's web server: HTTP and HTTPS from anywhere,
// SSH from the admin network only, AWS's default egress.
func TestWebServer(t *testing.T) {
	w := newWorld(t)
	web := w.group("web", tcpRule(80, "0.0.0.0/0"), tcpRule(443, "0.0.0.0/0"), tcpRule(22, "203.0.113.0/24"))
	w.iface("eni-web", "subnet-public", "10.0.1.10", web)
	run(t, w, []step{
		{name: "https from the internet: open both ways, so untracked", iface: "eni-web", dir: in,
			pkt: tcp("198.51.100.7:50000", "10.0.1.10:443", eni.SYN), want: eni.Allow, reason: eni.ReasonRule, flow: "untracked"},
		{name: "SYN-ACK goes out on the egress rule", at: 0.01, iface: "eni-web", dir: out,
			pkt: tcp("10.0.1.10:443", "198.51.100.7:50000", eni.SYN|eni.ACK), want: eni.Allow, reason: eni.ReasonRule},
		{name: "ssh from admin", at: 1, iface: "eni-web", dir: in, pkt: tcp("203.0.113.9:40000", "10.0.1.10:22", eni.SYN),
			want: eni.Allow, reason: eni.ReasonRule, flow: "new"},
		{name: "ssh from elsewhere", at: 2, iface: "eni-web", dir: in, pkt: tcp("198.51.100.7:40001", "10.0.1.10:22", eni.SYN),
			want: eni.Deny, reason: eni.ReasonNoRule},
		{name: "mysql from anywhere", at: 3, iface: "eni-web", dir: in, pkt: tcp("198.51.100.7:40002", "10.0.1.10:3306", eni.SYN),
			want: eni.Deny, reason: eni.ReasonNoRule},
		{name: "outbound https to update servers", at: 4, iface: "eni-web", dir: out, pkt: tcp("10.0.1.10:41000", "192.0.2.80:443", eni.SYN),
			want: eni.Allow, reason: eni.ReasonRule, flow: "new"},
		{name: "its reply", at: 4.1, iface: "eni-web", dir: in, pkt: tcp("192.0.2.80:443", "10.0.1.10:41000", eni.SYN|eni.ACK),
			want: eni.Allow, reason: eni.ReasonTracked},
		{name: "IPv6 is not covered by IPv4 rules", at: 5, iface: "eni-web", dir: in,
			pkt: tcp("[2001:db8:ffff::1]:50000", "[2001:db8:1234:1::10]:443", eni.SYN), want: eni.Deny},
	})
}

// TestDatabaseOnlyFromApp: the database accepts 5432 only from members of
// the app group; membership changes apply at once.
func TestDatabaseOnlyFromApp(t *testing.T) {
	w := newWorld(t)
	app := w.group("app")
	web := w.group("web", tcpRule(443, "0.0.0.0/0"))
	db := w.group("db", tcpRule(5432, app))
	w.iface("eni-app", "subnet-app", "10.0.2.10", app)
	w.iface("eni-web", "subnet-public", "10.0.1.10", web)
	w.iface("eni-db", "subnet-data", "10.0.3.10", db)
	run(t, w, []step{
		{name: "app → db", iface: "eni-db", dir: in, pkt: tcp("10.0.2.10:40000", "10.0.3.10:5432", eni.SYN), want: eni.Allow, flow: "new"},
		{name: "web → db", iface: "eni-db", dir: in, pkt: tcp("10.0.1.10:40000", "10.0.3.10:5432", eni.SYN), want: eni.Deny, reason: eni.ReasonNoRule},
		{name: "internet → db", iface: "eni-db", dir: in, pkt: tcp("198.51.100.1:40000", "10.0.3.10:5432", eni.SYN), want: eni.Deny},
		{name: "web joins app", do: func(w *world) { require.NoError(w.t, w.net.AttachGroup("eni-web", app)) },
			iface: "eni-db", dir: in, pkt: tcp("10.0.1.10:40001", "10.0.3.10:5432", eni.SYN), want: eni.Allow},
		{name: "a secondary address of a member matches", do: func(w *world) {
			require.NoError(w.t, w.net.AssignAddresses("eni-app", mustAddr("10.0.2.11")))
		}, iface: "eni-db", dir: in, pkt: tcp("10.0.2.11:40000", "10.0.3.10:5432", eni.SYN), want: eni.Allow},
		{name: "web leaves app", do: func(w *world) { require.NoError(w.t, w.net.DetachGroup("eni-web", app)) },
			iface: "eni-db", dir: in, pkt: tcp("10.0.1.10:40002", "10.0.3.10:5432", eni.SYN), want: eni.Deny},
		{name: "app's public address is not a member address (edge 12)", iface: "eni-db", dir: in,
			pkt: tcp("54.1.2.3:40000", "10.0.3.10:5432", eni.SYN), want: eni.Deny},
		{name: "app deleted: its address no longer matches", do: func(w *world) { require.NoError(w.t, w.net.DeleteInterface("eni-app")) },
			iface: "eni-db", dir: in, pkt: tcp("10.0.2.10:40003", "10.0.3.10:5432", eni.SYN), want: eni.Deny},
	})
}

// TestComplianceScanner: hosts admit every protocol and port from the
// scanner's group, and nothing else from it.
func TestComplianceScanner(t *testing.T) {
	w := newWorld(t)
	scanner := w.group("scanner")
	target := w.group("target", allRule(scanner), tcpRule(443, "10.0.0.0/16"))
	w.iface("eni-scan", "subnet-app", "10.0.2.50", scanner)
	w.iface("eni-host", "subnet-data", "10.0.3.20", target)
	steps := []step{}
	for k, port := range []uint16{1, 22, 3389, 8080, 65535} {
		steps = append(steps, step{name: fmt.Sprintf("scan port %d", port), at: float64(k), iface: "eni-host", dir: in,
			pkt: tcp("10.0.2.50:55555", fmt.Sprintf("10.0.3.20:%d", port), eni.SYN), want: eni.Allow})
	}
	steps = append(steps,
		step{name: "scanner UDP probe", at: 10, iface: "eni-host", dir: in, pkt: udp("10.0.2.50:55555", "10.0.3.20:161"), want: eni.Allow},
		step{name: "scanner ping", at: 11, iface: "eni-host", dir: in, pkt: icmp("10.0.2.50", "10.0.3.20", 8, 0, 9), want: eni.Allow},
		step{name: "echo reply is tracked", at: 11.1, iface: "eni-host", dir: out, pkt: icmp("10.0.3.20", "10.0.2.50", 0, 0, 9),
			want: eni.Allow, reason: eni.ReasonTracked},
		step{name: "another host scanning", at: 12, iface: "eni-host", dir: in, pkt: tcp("10.0.2.51:55555", "10.0.3.20:22", eni.SYN), want: eni.Deny},
		step{name: "another host on 443", at: 13, iface: "eni-host", dir: in, pkt: tcp("10.0.2.51:55555", "10.0.3.20:443", eni.SYN), want: eni.Allow},
	)
	run(t, w, steps)
}

// TestMultiTier: internet → web → app → db, each tier reachable only from
// the one before it.
func TestMultiTier(t *testing.T) {
	w := newWorld(t)
	web := w.group("web", tcpRule(443, "0.0.0.0/0"))
	app := w.group("app", tcpRule(8080, web))
	db := w.group("db", tcpRule(5432, app))
	w.iface("eni-web", "subnet-public", "10.0.1.10", web)
	w.iface("eni-app", "subnet-app", "10.0.2.10", app)
	w.iface("eni-db", "subnet-data", "10.0.3.10", db)
	run(t, w, []step{
		{name: "internet → web", iface: "eni-web", dir: in, pkt: tcp("198.51.100.1:1000", "10.0.1.10:443", eni.SYN), want: eni.Allow},
		{name: "web → app leaves web", iface: "eni-web", dir: out, pkt: tcp("10.0.1.10:2000", "10.0.2.10:8080", eni.SYN), want: eni.Allow},
		{name: "web → app enters app", iface: "eni-app", dir: in, pkt: tcp("10.0.1.10:2000", "10.0.2.10:8080", eni.SYN), want: eni.Allow},
		{name: "app → db", iface: "eni-db", dir: in, pkt: tcp("10.0.2.10:3000", "10.0.3.10:5432", eni.SYN), want: eni.Allow},
		{name: "web → db skips a tier", iface: "eni-db", dir: in, pkt: tcp("10.0.1.10:3000", "10.0.3.10:5432", eni.SYN), want: eni.Deny},
		{name: "internet → app", iface: "eni-app", dir: in, pkt: tcp("198.51.100.1:1000", "10.0.2.10:8080", eni.SYN), want: eni.Deny},
		{name: "internet → db", iface: "eni-db", dir: in, pkt: tcp("198.51.100.1:1000", "10.0.3.10:5432", eni.SYN), want: eni.Deny},
		{name: "db replies to app on its tracked connection", iface: "eni-db", dir: out,
			pkt: tcp("10.0.3.10:5432", "10.0.2.10:3000", eni.SYN|eni.ACK), want: eni.Allow, reason: eni.ReasonTracked},
	})
}

// TestDefaultGroupSelfReference (edge 45): members of an unchanged default
// group reach each other on everything; nobody else gets in.
func TestDefaultGroupSelfReference(t *testing.T) {
	w := newWorld(t)
	w.iface("eni-a", "subnet-public", "10.0.1.10,2001:db8:1234:1::a", w.def)
	w.iface("eni-b", "subnet-public", "10.0.1.11,2001:db8:1234:1::b", w.def)
	_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-x", SubnetID: "subnet-public",
		PrivateIPv4: splitAddrs("10.0.1.10"), Groups: []string{w.def}})
	require.ErrorIs(t, err, eni.ErrAddressInUse)
	assert.Contains(t, err.Error(), "eni-a")
	run(t, w, []step{
		{name: "tcp a → b", iface: "eni-b", dir: in, pkt: tcp("10.0.1.10:1000", "10.0.1.11:9999", eni.SYN), want: eni.Allow},
		{name: "udp a → b", iface: "eni-b", dir: in, pkt: udp("10.0.1.10:1000", "10.0.1.11:53"), want: eni.Allow},
		{name: "icmp a → b", iface: "eni-b", dir: in, pkt: icmp("10.0.1.10", "10.0.1.11", 8, 0, 1), want: eni.Allow},
		{name: "gre a → b", iface: "eni-b", dir: in, pkt: ipPkt(47, "10.0.1.10", "10.0.1.11"), want: eni.Allow},
		{name: "IPv6 a → b: member addresses include IPv6", iface: "eni-b", dir: in,
			pkt: tcp("[2001:db8:1234:1::a]:1000", "[2001:db8:1234:1::b]:22", eni.SYN), want: eni.Allow},
		{name: "internet → b", iface: "eni-b", dir: in, pkt: tcp("198.51.100.1:1000", "10.0.1.11:22", eni.SYN), want: eni.Deny},
		{name: "internet → b over IPv6", iface: "eni-b", dir: in, pkt: tcp("[2001:db8:ffff::1]:1000", "[2001:db8:1234:1::b]:22", eni.SYN), want: eni.Deny},
		{name: "b → internet (default egress all)", iface: "eni-b", dir: out, pkt: tcp("10.0.1.11:1000", "198.51.100.1:443", eni.SYN), want: eni.Allow},
		{name: "b → internet over IPv6 (::/0 egress in an IPv6 VPC)", iface: "eni-b", dir: out,
			pkt: tcp("[2001:db8:1234:1::b]:1000", "[2001:db8:ffff::1]:443", eni.SYN), want: eni.Allow},
	})
}

func ipPkt(proto uint8, src, dst string) *eni.Packet {
	p := eni.IP(proto, mustAddr(src), mustAddr(dst))
	return &p
}

// TestAdditivityTrap (§1.3, edge 7): a /32 SSH rule next to a 0.0.0.0/0 SSH
// rule, in the same group or another, lets everyone in.
func TestAdditivityTrap(t *testing.T) {
	for _, split := range []bool{false, true} {
		t.Run(fmt.Sprintf("separate groups %v", split), func(t *testing.T) {
			w := newWorld(t)
			groups := []string{w.group("admin", tcpRule(22, "203.0.113.1/32"))}
			if split {
				groups = append(groups, w.group("oops", tcpRule(22, "0.0.0.0/0")))
			} else {
				_, err := w.reg.AuthorizeIngress(groups[0], tcpRule(22, "0.0.0.0/0"))
				require.NoError(t, err)
			}
			w.iface("eni-1", "subnet-public", "10.0.1.10", groups...)
			v := w.net.Interface("eni-1").Evaluate(in, tcp("198.51.100.66:4000", "10.0.1.10:22", eni.SYN), t0)
			assert.True(t, v.Allowed(), "%s", v)
			assert.Contains(t, v.Explain(), "0.0.0.0/0")
			v = w.net.Interface("eni-1").Evaluate(in, tcp("203.0.113.1:4000", "10.0.1.10:22", eni.SYN), t0)
			assert.True(t, v.Allowed())
			assert.Contains(t, v.Explain(), "203.0.113.1/32", "the most specific rule explains the admin's session")
		})
	}
}

// TestTrackedVsUntracked covers edges 1-4: AWS's example group, tracked
// flows surviving rule removal and untracked ones cut at once.
func TestTrackedVsUntracked(t *testing.T) {
	aws := func(t *testing.T) *world {
		w := newWorld(t)
		id := w.group("example", tcpRule(22, "203.0.113.1/32"), tcpRule(80, "0.0.0.0/0"), tcpRule(80, "::/0"),
			rule(sg.ICMP, -1, -1, "0.0.0.0/0"))
		_, err := w.reg.AuthorizeEgress(id, allRule("::/0"))
		require.NoError(t, err)
		w.iface("eni-1", "subnet-public", "10.0.1.10,2001:db8:1234:1::10", id)
		return w
	}
	revoke := func(dir sg.Direction, r sg.Rule) func(w *world) {
		return func(w *world) {
			var err error
			if dir == sg.Ingress {
				err = w.reg.RevokeIngress("sg-example", r)
			} else {
				err = w.reg.RevokeEgress("sg-example", r)
			}
			require.NoError(w.t, err)
		}
	}
	t.Run("edge 4: which flows are tracked", func(t *testing.T) {
		run(t, aws(t), []step{
			{name: "22 from /32 is tracked", iface: "eni-1", dir: in, pkt: tcp("203.0.113.1:5000", "10.0.1.10:22", eni.SYN), want: eni.Allow, flow: "new"},
			{name: "80 v4 untracked", iface: "eni-1", dir: in, pkt: tcp("198.51.100.1:5000", "10.0.1.10:80", eni.SYN), want: eni.Allow, flow: "untracked"},
			{name: "80 v6 untracked", iface: "eni-1", dir: in, pkt: tcp("[2001:db8:9::1]:5000", "[2001:db8:1234:1::10]:80", eni.SYN),
				want: eni.Allow, flow: "untracked"},
			{name: "icmp always tracked", iface: "eni-1", dir: in, pkt: icmp("198.51.100.1", "10.0.1.10", 8, 0, 3), want: eni.Allow, flow: "new"},
			{name: "outbound-initiated flows are tracked", iface: "eni-1", dir: out, pkt: tcp("10.0.1.10:6000", "198.51.100.7:443", eni.SYN),
				want: eni.Allow, flow: "new"},
			{name: "remove the IPv4 egress rule", do: revoke(sg.Egress, allRule("0.0.0.0/0")), at: 1, iface: "eni-1", dir: in,
				pkt: tcp("198.51.100.2:5000", "10.0.1.10:80", eni.SYN), want: eni.Allow, flow: "new"},
			{name: "its reply passes on tracking", at: 1.1, iface: "eni-1", dir: out, pkt: tcp("10.0.1.10:80", "198.51.100.2:5000", eni.SYN|eni.ACK),
				want: eni.Allow, reason: eni.ReasonTracked},
			{name: "IPv6 80 stays untracked", at: 2, iface: "eni-1", dir: in, pkt: tcp("[2001:db8:9::1]:5001", "[2001:db8:1234:1::10]:80", eni.SYN),
				want: eni.Allow, flow: "untracked"},
		})
	})
	t.Run("edge 1: tracked session survives rule removal", func(t *testing.T) {
		run(t, aws(t), []step{
			{iface: "eni-1", dir: in, pkt: tcp("203.0.113.1:5000", "10.0.1.10:22", eni.SYN), want: eni.Allow},
			{at: 0.1, iface: "eni-1", dir: out, pkt: tcp("10.0.1.10:22", "203.0.113.1:5000", eni.SYN|eni.ACK), want: eni.Allow},
			{at: 0.2, iface: "eni-1", dir: in, pkt: tcp("203.0.113.1:5000", "10.0.1.10:22", eni.ACK), want: eni.Allow},
			{name: "rule deleted; session goes on", do: revoke(sg.Ingress, tcpRule(22, "203.0.113.1/32")), at: 100, iface: "eni-1", dir: in,
				pkt: tcp("203.0.113.1:5000", "10.0.1.10:22", eni.ACK|eni.PSH), want: eni.Allow, reason: eni.ReasonTracked},
			{name: "new ssh refused", at: 101, iface: "eni-1", dir: in, pkt: tcp("203.0.113.1:5001", "10.0.1.10:22", eni.SYN), want: eni.Deny},
			{name: "after the 5-day idle timeout the session is gone", at: 100 + 432000, iface: "eni-1", dir: in,
				pkt: tcp("203.0.113.1:5000", "10.0.1.10:22", eni.ACK), want: eni.Deny},
		})
	})
	open := func(t *testing.T) *world {
		w := newWorld(t)
		w.iface("eni-1", "subnet-public", "10.0.1.10", w.group("example", tcpRule(22, "0.0.0.0/0")))
		return w
	}
	t.Run("edge 2: untracked session cut when the inbound rule goes", func(t *testing.T) {
		run(t, open(t), []step{
			{iface: "eni-1", dir: in, pkt: tcp("198.51.100.1:5000", "10.0.1.10:22", eni.SYN), want: eni.Allow, flow: "untracked"},
			{at: 1, iface: "eni-1", dir: out, pkt: tcp("10.0.1.10:22", "198.51.100.1:5000", eni.SYN|eni.ACK), want: eni.Allow, reason: eni.ReasonRule},
			{name: "narrowed", do: func(w *world) {
				require.NoError(w.t, w.reg.RevokeIngress("sg-example", tcpRule(22, "0.0.0.0/0")))
				_, err := w.reg.AuthorizeIngress("sg-example", tcpRule(22, "192.0.2.0/24"))
				require.NoError(w.t, err)
			}, at: 2, iface: "eni-1", dir: in, pkt: tcp("198.51.100.1:5000", "10.0.1.10:22", eni.ACK), want: eni.Deny, reason: eni.ReasonNoRule},
		})
	})
	t.Run("edge 3: untracked session cut when the outbound rule goes", func(t *testing.T) {
		run(t, open(t), []step{
			{iface: "eni-1", dir: in, pkt: tcp("198.51.100.1:5000", "10.0.1.10:22", eni.SYN), want: eni.Allow, flow: "untracked"},
			{name: "egress removed", do: revoke(sg.Egress, allRule("0.0.0.0/0")), at: 1, iface: "eni-1", dir: out,
				pkt: tcp("10.0.1.10:22", "198.51.100.1:5000", eni.ACK), want: eni.Deny, reason: eni.ReasonNoRule},
			{name: "mid-stream packets do not open a connection", at: 2, iface: "eni-1", dir: in,
				pkt: tcp("198.51.100.1:5000", "10.0.1.10:22", eni.ACK), want: eni.Allow},
			{at: 2.1, iface: "eni-1", dir: out, pkt: tcp("10.0.1.10:22", "198.51.100.1:5000", eni.ACK), want: eni.Deny},
			{name: "a new session is tracked and works", at: 3, iface: "eni-1", dir: in,
				pkt: tcp("198.51.100.1:5001", "10.0.1.10:22", eni.SYN), want: eni.Allow, flow: "new"},
			{at: 3.1, iface: "eni-1", dir: out, pkt: tcp("10.0.1.10:22", "198.51.100.1:5001", eni.SYN|eni.ACK), want: eni.Allow, reason: eni.ReasonTracked},
		})
	})
}

func TestStatefulEdges(t *testing.T) {
	t.Run("edge 5: ICMP echo reply leaves with no outbound rules", func(t *testing.T) {
		w := newWorld(t)
		id, err := w.reg.CreateEmptyGroup(sg.GroupSpec{ID: "sg-ping", Name: "ping", VpcID: "vpc-1"})
		require.NoError(t, err)
		_, err = w.reg.AuthorizeIngress(id, rule(sg.ICMP, 8, -1, "0.0.0.0/0"))
		require.NoError(t, err)
		w.iface("eni-1", "subnet-public", "10.0.1.10", id)
		run(t, w, []step{
			{iface: "eni-1", dir: in, pkt: icmp("198.51.100.1", "10.0.1.10", 8, 0, 7), want: eni.Allow, flow: "new"},
			{at: 0.001, iface: "eni-1", dir: out, pkt: icmp("10.0.1.10", "198.51.100.1", 0, 0, 7), want: eni.Allow, reason: eni.ReasonTracked},
			{name: "but the host cannot ping out", at: 1, iface: "eni-1", dir: out, pkt: icmp("10.0.1.10", "198.51.100.1", 8, 0, 8), want: eni.Deny},
		})
	})
	t.Run("edge 6: no outbound rules: answer but never originate", func(t *testing.T) {
		w := newWorld(t)
		id, err := w.reg.CreateEmptyGroup(sg.GroupSpec{ID: "sg-x", Name: "x", VpcID: "vpc-1"})
		require.NoError(t, err)
		_, err = w.reg.AuthorizeIngress(id, tcpRule(443, "10.0.0.0/8"))
		require.NoError(t, err)
		w.iface("eni-1", "subnet-public", "10.0.1.10", id)
		run(t, w, []step{
			{iface: "eni-1", dir: in, pkt: tcp("10.0.2.5:5000", "10.0.1.10:443", eni.SYN), want: eni.Allow},
			{iface: "eni-1", dir: out, pkt: tcp("10.0.1.10:443", "10.0.2.5:5000", eni.SYN|eni.ACK), want: eni.Allow, reason: eni.ReasonTracked},
			{iface: "eni-1", dir: out, pkt: tcp("10.0.1.10:5000", "10.0.2.5:443", eni.SYN), want: eni.Deny, reason: eni.ReasonNoRule},
			{iface: "eni-1", dir: out, pkt: udp("10.0.1.10:5000", "198.51.100.1:123"), want: eni.Deny},
		})
	})
	t.Run("edges 8-10: -1 and GRE rules, GRE's 600 s window", func(t *testing.T) {
		w := newWorld(t)
		id := w.group("gre", rule(sg.AllProtocols, 22, 22, "192.0.2.0/24"), rule(47, 1000, 2000, "198.51.100.0/24"))
		w.iface("eni-1", "subnet-public", "10.0.1.10", id)
		run(t, w, []step{
			{name: "-1 with port 22 allows udp 9999", iface: "eni-1", dir: in, pkt: udp("192.0.2.1:1", "10.0.1.10:9999"), want: eni.Allow},
			{name: "GRE ports ignored", iface: "eni-1", dir: in, pkt: ipPkt(47, "198.51.100.3", "10.0.1.10"), want: eni.Allow},
			{name: "GRE out to a new host", at: 10, iface: "eni-1", dir: out, pkt: ipPkt(47, "10.0.1.10", "203.0.113.9"), want: eni.Allow, flow: "new"},
			{name: "its GRE 300 s later", at: 310, iface: "eni-1", dir: in, pkt: ipPkt(47, "203.0.113.9", "10.0.1.10"), want: eni.Allow, reason: eni.ReasonTracked},
			{name: "after 600 s of silence", at: 910, iface: "eni-1", dir: in, pkt: ipPkt(47, "203.0.113.9", "10.0.1.10"), want: eni.Deny},
		})
	})
	t.Run("edge 38: auto-tracked interface types track open flows", func(t *testing.T) {
		w := newWorld(t)
		id := w.group("nlb", tcpRule(443, "0.0.0.0/0"))
		_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-nlb", SubnetID: "subnet-public", Type: eni.TypeNetworkLoadBalancer,
			PrivateIPv4: splitAddrs("10.0.1.20"), Groups: []string{id}})
		require.NoError(t, err)
		w.iface("eni-ec2", "subnet-public", "10.0.1.21", id)
		run(t, w, []step{
			{iface: "eni-nlb", dir: in, pkt: tcp("198.51.100.1:5000", "10.0.1.20:443", eni.SYN), want: eni.Allow, flow: "new"},
			{iface: "eni-ec2", dir: in, pkt: tcp("198.51.100.1:5000", "10.0.1.21:443", eni.SYN), want: eni.Allow, flow: "untracked"},
		})
	})
	t.Run("edge 39: PMTUD ICMP for a tracked TCP flow needs an ICMP rule", func(t *testing.T) {
		w := newWorld(t)
		w.iface("eni-1", "subnet-public", "10.0.1.10", w.group("web", tcpRule(443, "203.0.113.0/24")))
		run(t, w, []step{
			{iface: "eni-1", dir: in, pkt: tcp("203.0.113.1:5000", "10.0.1.10:443", eni.SYN), want: eni.Allow},
			{iface: "eni-1", dir: in, pkt: icmp("192.0.2.254", "10.0.1.10", 3, 4, 0), want: eni.Deny, reason: eni.ReasonNoRule},
			{name: "with an ICMP 3/4 rule", do: func(w *world) {
				_, err := w.reg.AuthorizeIngress("sg-web", rule(sg.ICMP, 3, 4, "0.0.0.0/0"))
				require.NoError(w.t, err)
			}, iface: "eni-1", dir: in, pkt: icmp("192.0.2.254", "10.0.1.10", 3, 4, 0), want: eni.Allow, reason: eni.ReasonRule},
		})
	})
	t.Run("edge 36: UDP request and reply idle 31 s", func(t *testing.T) {
		w := newWorld(t)
		w.iface("eni-1", "subnet-public", "10.0.1.10", w.group("dns", rule(sg.UDP, 53, 53, "10.0.0.0/8")))
		run(t, w, []step{
			{iface: "eni-1", dir: in, pkt: udp("10.0.2.9:4000", "10.0.1.10:53"), want: eni.Allow, flow: "new"},
			{at: 0.01, iface: "eni-1", dir: out, pkt: udp("10.0.1.10:53", "10.0.2.9:4000"), want: eni.Allow, reason: eni.ReasonTracked},
			{name: "reply again after 31 s: tracking is gone, but the egress rule allows it", at: 31.02, iface: "eni-1", dir: out,
				pkt: udp("10.0.1.10:53", "10.0.2.9:4000"), want: eni.Allow, reason: eni.ReasonRule},
		})
	})
	t.Run("edge 35: full table", func(t *testing.T) {
		w := newWorld(t)
		id := w.group("small", tcpRule(443, "10.0.0.0/8"))
		cfg := conntrack.DefaultConfig()
		cfg.MaxEntries = 2
		_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-1", SubnetID: "subnet-public", PrivateIPv4: splitAddrs("10.0.1.10"),
			Groups: []string{id}, ConnTrack: &cfg})
		require.NoError(t, err)
		run(t, w, []step{
			{iface: "eni-1", dir: in, pkt: tcp("10.0.2.1:1", "10.0.1.10:443", eni.SYN), want: eni.Allow},
			{iface: "eni-1", dir: in, pkt: tcp("10.0.2.1:2", "10.0.1.10:443", eni.SYN), want: eni.Allow},
			{iface: "eni-1", dir: in, pkt: tcp("10.0.2.1:3", "10.0.1.10:443", eni.SYN), want: eni.Deny, reason: eni.ReasonConnTrackFull},
			{name: "existing flows go on", iface: "eni-1", dir: out, pkt: tcp("10.0.1.10:443", "10.0.2.1:1", eni.SYN|eni.ACK),
				want: eni.Allow, reason: eni.ReasonTracked},
		})
		assert.Equal(t, uint64(1), w.net.Interface("eni-1").Stats().Tracking.Exceeded)
	})
}

// TestNeverFiltered (edge 17): services security groups never filter pass
// even with no rules at all.
func TestNeverFiltered(t *testing.T) {
	w := newWorld(t)
	id, err := w.reg.CreateEmptyGroup(sg.GroupSpec{ID: "sg-none", Name: "none", VpcID: "vpc-1"})
	require.NoError(t, err)
	w.iface("eni-1", "subnet-public", "10.0.1.10,2001:db8:1234:1::10", id)
	tests := []struct {
		name string
		pkt  *eni.Packet
		svc  eni.Service
	}{
		{"VPC+2 DNS", udp("10.0.1.10:5353", "10.0.0.2:53"), eni.AmazonDNS},
		{"link-local DNS", udp("10.0.1.10:5353", "169.254.169.253:53"), eni.AmazonDNS},
		{"IPv6 DNS", udp("[2001:db8:1234:1::10]:5353", "[fd00:ec2::253]:53"), eni.AmazonDNS},
		{"IMDS", tcp("10.0.1.10:40000", "169.254.169.254:80", eni.SYN), eni.InstanceMetadata},
		{"IMDS IPv6", tcp("[2001:db8:1234:1::10]:40000", "[fd00:ec2::254]:80", eni.SYN), eni.InstanceMetadata},
		{"Time Sync", udp("10.0.1.10:123", "169.254.169.123:123"), eni.TimeSync},
		{"ECS", tcp("10.0.1.10:40000", "169.254.170.2:80", eni.SYN), eni.ECSTaskMetadata},
		{"Windows activation", tcp("10.0.1.10:40000", "169.254.169.250:1688", eni.SYN), eni.WindowsActivation},
		{"DHCP", udp("10.0.1.10:68", "255.255.255.255:67"), eni.DHCP},
		{"router", icmp("10.0.1.10", "10.0.1.1", 8, 0, 1), eni.VPCRouter},
	}
	for _, tt := range tests {
		v := w.net.Interface("eni-1").Evaluate(out, tt.pkt, t0)
		assert.Equal(t, eni.Allow, v.Action, tt.name)
		assert.Equal(t, eni.ReasonService, v.Reason, tt.name)
		assert.Equal(t, tt.svc, v.Service, tt.name)
	}
	v := w.net.Interface("eni-1").Evaluate(out, udp("10.0.1.10:5353", "10.0.0.3:53"), t0)
	assert.Equal(t, eni.Deny, v.Action, "base+3 is reserved but not a service")
	v = w.net.Interface("eni-1").Evaluate(in, udp("10.0.2.2:53", "10.0.1.10:5353"), t0)
	assert.Equal(t, eni.Deny, v.Action, "the app subnet's base+2 is not Amazon DNS")
}

func TestPort25(t *testing.T) {
	w := newWorld(t)
	w.iface("eni-1", "subnet-public", "10.0.1.10", w.group("mail"))
	i := w.net.Interface("eni-1")
	v := i.Evaluate(out, tcp("10.0.1.10:4000", "198.51.100.25:25", eni.SYN), t0)
	assert.Equal(t, eni.ReasonPort25, v.Reason)
	v = i.Evaluate(out, tcp("10.0.1.10:4000", "10.0.2.25:25", eni.SYN), t0)
	assert.Equal(t, eni.Allow, v.Action, "inside the VPC")
	w.net.SetPort25Restricted(false)
	v = i.Evaluate(out, tcp("10.0.1.10:4001", "198.51.100.25:25", eni.SYN), t0)
	assert.Equal(t, eni.Allow, v.Action, "restriction lifted")
}

func TestSourceDestCheck(t *testing.T) {
	w := newWorld(t)
	id := w.group("any", allRule("0.0.0.0/0"))
	w.iface("eni-1", "subnet-public", "10.0.1.10", id)
	_, err := w.net.AddInterface(eni.InterfaceSpec{ID: "eni-nat", SubnetID: "subnet-public", PrivateIPv4: splitAddrs("10.0.1.11"),
		Groups: []string{id}, DisableSourceDestCheck: true})
	require.NoError(t, err)
	v := w.net.Interface("eni-1").Evaluate(in, tcp("198.51.100.1:1", "10.0.1.99:80", eni.SYN), t0)
	assert.Equal(t, eni.ReasonSourceDestCheck, v.Reason)
	v = w.net.Interface("eni-1").Evaluate(out, tcp("10.0.1.99:1", "198.51.100.1:80", eni.SYN), t0)
	assert.Equal(t, eni.ReasonSourceDestCheck, v.Reason)
	v = w.net.Interface("eni-nat").Evaluate(in, tcp("198.51.100.1:1", "10.0.2.99:80", eni.SYN), t0)
	assert.Equal(t, eni.Allow, v.Action, "a NAT instance forwards for others")
}

// TestLinkLocalLimit: an interface may send 1024 packets a second to
// Amazon DNS, IMDS, Time Sync and Windows activation together; AWS drops
// the rest (linklocal_allowance_exceeded). The allowance is the
// interface's own, covers nothing else, and refills with time.
func TestLinkLocalLimit(t *testing.T) {
	dns := func(k int) *eni.Packet { return udp(fmt.Sprintf("10.0.1.10:%d", 20000+k%20000), "10.0.0.2:53") }
	imds := func(int) *eni.Packet { return tcp("10.0.1.10:40000", "169.254.169.254:80", eni.ACK) }
	ecs := func(int) *eni.Packet { return tcp("10.0.1.10:40000", "169.254.170.2:80", eni.ACK) }
	type burst struct {
		pkt   func(int) *eni.Packet
		n     int
		start float64 // seconds after t0
		every float64 // seconds between packets
	}
	tests := []struct {
		name    string
		bursts  []burst
		dropped int
	}{
		{"1024 at once pass", []burst{{dns, 1024, 0, 0}}, 0},
		{"the 1025th at once is dropped", []burst{{dns, 1100, 0, 0}}, 76},
		{"DNS and IMDS share the allowance", []burst{{dns, 1000, 0, 0}, {imds, 100, 0, 0}}, 76},
		{"ECS task metadata is not limited", []burst{{dns, 1024, 0, 0}, {ecs, 500, 0, 0}}, 0},
		{"a second later the allowance is whole again", []burst{{dns, 1100, 0, 0}, {dns, 1024, 1, 0}}, 76},
		{"1000 a second, steadily, pass", []burst{{dns, 3000, 0, 0.001}}, 0},
		{"2000 a second for two seconds: 1024 a second more than the burst pass", []burst{{dns, 4000, 0, 0.0005}}, 4000 - 1024 - 2048},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			id, err := w.reg.CreateEmptyGroup(sg.GroupSpec{ID: "sg-none", Name: "none", VpcID: "vpc-1"})
			require.NoError(t, err)
			i := w.iface("eni-1", "subnet-public", "10.0.1.10", id)
			dropped := 0
			for _, b := range tt.bursts {
				for k := 0; k < b.n; k++ {
					v := i.Evaluate(out, b.pkt(k), at(b.start+float64(k)*b.every))
					switch v.Reason {
					case eni.ReasonLinkLocalLimit:
						require.Equal(t, eni.Deny, v.Action)
						dropped++
					case eni.ReasonService:
						require.Equal(t, eni.Allow, v.Action)
					default:
						t.Fatalf("packet %d: %s", k, v)
					}
				}
			}
			assert.InDelta(t, tt.dropped, dropped, 2, "dropped packets")
			assert.Equal(t, uint64(dropped), i.Stats().ByReason[eni.ReasonLinkLocalLimit])
		})
	}

	t.Run("per interface, outbound only, and Check spends nothing", func(t *testing.T) {
		w := newWorld(t)
		id, err := w.reg.CreateEmptyGroup(sg.GroupSpec{ID: "sg-none", Name: "none", VpcID: "vpc-1"})
		require.NoError(t, err)
		a := w.iface("eni-a", "subnet-public", "10.0.1.10", id)
		b := w.iface("eni-b", "subnet-public", "10.0.1.11", id)
		for k := 0; k < 2000; k++ {
			require.Equal(t, eni.ReasonService, a.Check(out, dns(k), t0).Reason, "a check spends nothing")
		}
		for k := 0; k < 1024; k++ {
			require.Equal(t, eni.Allow, a.Evaluate(out, dns(k), t0).Action, "packet %d", k)
		}
		assert.Equal(t, eni.ReasonLinkLocalLimit, a.Check(out, dns(0), t0).Reason, "a check sees the allowance spent")
		v := a.Evaluate(out, dns(0), t0)
		require.Equal(t, eni.ReasonLinkLocalLimit, v.Reason)
		assert.Contains(t, v.Explain(), "LINKLOCAL_ALLOWANCE_EXCEEDED: Amazon DNS is never filtered, but the interface sent more than 1024 packets a second")
		assert.Equal(t, eni.ReasonService, a.Evaluate(in, udp("10.0.0.2:53", "10.0.1.10:20000"), t0).Reason, "replies are not limited")
		assert.Equal(t, eni.ReasonService, b.Evaluate(out, udp("10.0.1.11:20000", "10.0.0.2:53"), t0).Reason, "another interface's allowance")

		p := w.net.Judge(udp("10.0.1.10:20001", "10.0.0.2:53"), t0)
		require.Equal(t, eni.Deny, p.Action, "%s", p)
		assert.Equal(t, eni.AmazonDNS, p.Service)
		require.Len(t, p.Stages(), 1, "never filtered: no ACL stage applies")
		assert.False(t, p.Stages()[0].Allowed)
		assert.Equal(t, eni.ReasonLinkLocalLimit, p.Refusals()[0].Verdict.Reason)
	})
}
