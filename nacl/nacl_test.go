package nacl_test

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/nacl"
)

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

func in(n int, proto int16, action nacl.Action, cidr string, from, to int32) nacl.Entry {
	return nacl.Entry{RuleNumber: n, Protocol: proto, Action: action, CIDR: pfx(cidr), FromPort: from, ToPort: to, ICMPType: from, ICMPCode: to}
}

func out(n int, proto int16, action nacl.Action, cidr string, from, to int32) nacl.Entry {
	e := in(n, proto, action, cidr, from, to)
	e.Egress = true
	return e
}

func TestFirstMatchWins(t *testing.T) {
	// Edge 18: deny 22 from 198.51.100.0/24 at 90, allow all at 100.
	a := nacl.New("acl-1", "vpc-1", false)
	require.NoError(t, a.CreateEntry(in(90, 6, nacl.Deny, "198.51.100.0/24", 22, 22)))
	require.NoError(t, a.CreateEntry(in(100, -1, nacl.Allow, "0.0.0.0/0", 0, 0)))
	r := a.Evaluate(false, 6, 22, 0, 0, addr("198.51.100.5"))
	assert.Equal(t, nacl.Result{Action: nacl.Deny, RuleNumber: 90}, decided(r))
	r = a.Evaluate(false, 6, 22, 0, 0, addr("203.0.113.5"))
	assert.Equal(t, nacl.Result{Action: nacl.Allow, RuleNumber: 100}, decided(r))

	// The same deny at 110 comes too late.
	require.NoError(t, a.DeleteEntry(false, 90))
	require.NoError(t, a.CreateEntry(in(110, 6, nacl.Deny, "198.51.100.0/24", 22, 22)))
	r = a.Evaluate(false, 6, 22, 0, 0, addr("198.51.100.5"))
	assert.Equal(t, nacl.Result{Action: nacl.Allow, RuleNumber: 100}, decided(r))

	// Edge 19: nothing matches outbound → the * entry.
	r = a.Evaluate(true, 6, 443, 0, 0, addr("198.51.100.5"))
	assert.Equal(t, nacl.Result{Action: nacl.Deny, RuleNumber: nacl.DenyAllIPv4}, decided(r))
}

func TestFamilies(t *testing.T) {
	// Edge 20: IPv4 entries never judge IPv6 packets.
	a := nacl.New("acl-1", "vpc-1", true)
	require.NoError(t, a.CreateEntry(in(100, -1, nacl.Allow, "0.0.0.0/0", 0, 0)))
	r := a.Evaluate(false, 6, 443, 0, 0, addr("2001:db8::1"))
	assert.Equal(t, nacl.Result{Action: nacl.Deny, RuleNumber: nacl.DenyAllIPv6}, decided(r))
	require.NoError(t, a.CreateEntry(in(101, -1, nacl.Allow, "::/0", 0, 0)))
	assert.True(t, a.Evaluate(false, 6, 443, 0, 0, addr("2001:db8::1")).Allowed())
}

func TestDefaultAndCustom(t *testing.T) {
	// Edge 25: a new custom ACL denies everything.
	c := nacl.New("acl-c", "vpc-1", true)
	for _, egress := range []bool{false, true} {
		assert.False(t, c.Evaluate(egress, 6, 443, 0, 0, addr("10.0.0.1")).Allowed())
		assert.False(t, c.Evaluate(egress, 17, 53, 0, 0, addr("2001:db8::1")).Allowed())
	}
	assert.Len(t, c.Entries(), 4, "only the * entries")

	d := nacl.NewDefault("acl-d", "vpc-1", true)
	for _, egress := range []bool{false, true} {
		assert.Equal(t, 100, d.Evaluate(egress, 6, 443, 0, 0, addr("10.0.0.1")).RuleNumber)
		assert.Equal(t, 101, d.Evaluate(egress, 6, 443, 0, 0, addr("2001:db8::1")).RuleNumber)
	}
	names := []string{}
	for _, e := range d.Entries() {
		names = append(names, e.String())
	}
	assert.Equal(t, []string{
		"100 allow all traffic from 0.0.0.0/0", "101 allow all traffic from ::/0",
		"* deny all traffic from 0.0.0.0/0", "* deny all traffic from ::/0",
		"100 allow all traffic to 0.0.0.0/0", "101 allow all traffic to ::/0",
		"* deny all traffic to 0.0.0.0/0", "* deny all traffic to ::/0"}, names)
}

func TestIPv6Association(t *testing.T) {
	// Edge 26: a default ACL whose inbound entries were edited gets no
	// rule 101 inbound when the VPC gains IPv6; outbound does.
	d := nacl.NewDefault("acl-d", "vpc-1", false)
	require.NoError(t, d.ReplaceEntry(in(100, 6, nacl.Allow, "0.0.0.0/0", 443, 443)))
	d.AddIPv6()
	assert.Equal(t, nacl.Result{Action: nacl.Deny, RuleNumber: nacl.DenyAllIPv6}, decided(d.Evaluate(false, 6, 443, 0, 0, addr("2001:db8::1"))))
	assert.Equal(t, nacl.Result{Action: nacl.Allow, RuleNumber: 101}, decided(d.Evaluate(true, 6, 443, 0, 0, addr("2001:db8::1"))))
}

func TestProtocolQuirks(t *testing.T) {
	a := nacl.New("acl-1", "vpc-1", true)
	// Edge 27: 58 with an IPv4 CIDR and type 128 code 0 → all ICMP.
	require.NoError(t, a.CreateEntry(in(10, 58, nacl.Allow, "10.0.0.0/8", 128, 0)))
	// 58 with an IPv6 CIDR keeps its type and code.
	require.NoError(t, a.CreateEntry(in(20, 58, nacl.Allow, "2001:db8::/32", 128, -1)))
	// Protocol 47 with ports 22-22 → all GRE.
	require.NoError(t, a.CreateEntry(in(30, 47, nacl.Allow, "0.0.0.0/0", 22, 22)))
	// Edge 28: host bits are masked.
	require.NoError(t, a.CreateEntry(in(40, 6, nacl.Allow, "100.68.0.18/18", 80, 80)))

	assert.Equal(t, 10, a.Evaluate(false, 1, 0, 3, 4, addr("10.1.1.1")).RuleNumber, "icmp unreachable")
	assert.Equal(t, 10, a.Evaluate(false, 1, 0, 8, 0, addr("10.1.1.1")).RuleNumber, "icmp echo")
	assert.Equal(t, 20, a.Evaluate(false, 58, 0, 128, 0, addr("2001:db8::9")).RuleNumber)
	assert.False(t, a.Evaluate(false, 58, 0, 135, 0, addr("2001:db8::9")).Allowed())
	assert.Equal(t, 30, a.Evaluate(false, 47, 0, 0, 0, addr("192.0.2.1")).RuleNumber)
	assert.Equal(t, 40, a.Evaluate(false, 6, 80, 0, 0, addr("100.68.50.1")).RuleNumber)
	e, ok := a.Entry(false, 40)
	require.True(t, ok)
	assert.Equal(t, pfx("100.68.0.0/18"), e.CIDR)
	e, _ = a.Entry(false, 30)
	assert.Equal(t, "30 allow protocol 47 from 0.0.0.0/0", e.String())
}

func TestEntryErrors(t *testing.T) {
	a := nacl.New("acl-1", "vpc-1", false)
	require.NoError(t, a.CreateEntry(in(100, 6, nacl.Allow, "0.0.0.0/0", 80, 80)))
	tests := []struct {
		name  string
		err   error
		code  *nacl.Code
		parts []string
	}{
		{"edge 29: rule 32767", a.CreateEntry(in(32767, -1, nacl.Allow, "0.0.0.0/0", 0, 0)), nacl.ErrRuleNumber, []string{"acl-1", "32767"}},
		{"edge 29: rule 0", a.CreateEntry(in(0, -1, nacl.Allow, "0.0.0.0/0", 0, 0)), nacl.ErrRuleNumber, []string{"ingress 0"}},
		{"duplicate number", a.CreateEntry(in(100, 17, nacl.Deny, "0.0.0.0/0", 53, 53)), nacl.ErrDuplicateEntry, []string{"ingress 100"}},
		{"bad ports", a.CreateEntry(in(110, 6, nacl.Allow, "0.0.0.0/0", 90, 80)), nacl.ErrPortRange, []string{"90-80"}},
		{"bad protocol", a.CreateEntry(in(120, 300, nacl.Allow, "0.0.0.0/0", 0, 0)), nacl.ErrProtocol, []string{"300"}},
		{"bad cidr", a.CreateEntry(nacl.Entry{RuleNumber: 130, Protocol: -1}), nacl.ErrCIDR, []string{"ingress 130"}},
		{"replace missing", a.ReplaceEntry(in(140, -1, nacl.Allow, "0.0.0.0/0", 0, 0)), nacl.ErrEntryNotFound, []string{"ingress 140"}},
		{"delete missing", a.DeleteEntry(true, 100), nacl.ErrEntryNotFound, []string{"egress 100"}},
	}
	for _, tt := range tests {
		require.Error(t, tt.err, tt.name)
		assert.ErrorIs(t, tt.err, tt.code, tt.name)
		for _, p := range tt.parts {
			assert.Contains(t, tt.err.Error(), p, tt.name)
		}
	}
	assert.NoError(t, a.CreateEntry(out(100, 17, nacl.Deny, "0.0.0.0/0", 53, 53)), "numbers repeat across directions")

	q := nacl.New("acl-q", "vpc-1", true)
	for k := 1; k <= 20; k++ {
		require.NoError(t, q.CreateEntry(in(k, -1, nacl.Allow, "10.0.0.0/8", 0, 0)))
	}
	assert.ErrorIs(t, q.CreateEntry(in(21, -1, nacl.Allow, "10.0.0.0/8", 0, 0)), nacl.ErrEntryLimit)
	assert.NoError(t, q.CreateEntry(in(21, -1, nacl.Allow, "::/0", 0, 0)), "IPv6 entries count apart")
	require.NoError(t, q.SetQuota(40))
	assert.NoError(t, q.CreateEntry(in(22, -1, nacl.Allow, "10.0.0.0/8", 0, 0)))
	assert.ErrorIs(t, q.SetQuota(41), nacl.ErrQuota)
}

// oracle judges by sorting the entries and scanning them: the readable
// reference for the compiled evaluator.
func oracle(a *nacl.ACL, egress bool, proto uint8, port uint16, typ, code uint8, remote netip.Addr) nacl.Result {
	es := a.Entries()
	slices.SortStableFunc(es, func(x, y nacl.Entry) int { return x.RuleNumber - y.RuleNumber })
	for _, e := range es {
		if e.Egress != egress || e.CIDR.Addr().Is6() != remote.Is6() || !e.CIDR.Contains(remote) {
			continue
		}
		switch {
		case e.Protocol == -1:
		case e.Protocol == 58 && e.CIDR.Addr().Is4():
			if proto != 1 && proto != 58 {
				continue
			}
		case int(e.Protocol) != int(proto):
			continue
		case proto == 6 || proto == 17:
			if int32(port) < e.FromPort || int32(port) > e.ToPort {
				continue
			}
		case proto == 1 || proto == 58:
			if (e.ICMPType != -1 && int32(typ) != e.ICMPType) || (e.ICMPCode != -1 && int32(code) != e.ICMPCode) {
				continue
			}
		}
		return nacl.Result{Action: e.Action, RuleNumber: e.RuleNumber}
	}
	panic("the * entries match everything")
}

func randomACL(rng *rand.Rand, n int) *nacl.ACL {
	a := nacl.New("acl-r", "vpc-1", true)
	_ = a.SetQuota(40)
	protos := []int16{-1, 6, 17, 1, 58, 47}
	for k := 0; k < n; k++ {
		p := protos[rng.IntN(len(protos))]
		cidr := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(4)), 0}), 8+rng.IntN(25))
		if rng.IntN(3) == 0 {
			cidr = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 1, 0x0d, 0xb8, 15: byte(rng.IntN(4))}), 32+rng.IntN(97))
		}
		from := int32(rng.IntN(50))
		to := from + int32(rng.IntN(20))
		if p == 1 || p == 58 {
			from, to = int32(rng.IntN(4))-1, int32(rng.IntN(3))-1
		}
		_ = a.CreateEntry(nacl.Entry{RuleNumber: 1 + rng.IntN(200), Egress: rng.IntN(2) == 0, Protocol: p,
			Action: nacl.Action(rng.IntN(2)), CIDR: cidr, FromPort: from, ToPort: to, ICMPType: from, ICMPCode: to})
	}
	return a
}

func check(t testing.TB, a *nacl.ACL, egress bool, proto uint8, port uint16, typ, code uint8, remote netip.Addr) {
	want := oracle(a, egress, proto, port, typ, code, remote)
	got := decided(a.Evaluate(egress, proto, port, typ, code, remote))
	if want != got {
		t.Fatalf("Evaluate(egress %v, proto %d, port %d, icmp %d/%d, %s) = %+v; oracle says %+v\n%v",
			egress, proto, port, typ, code, remote, got, want, a.Entries())
	}
}

func TestCompiledAgreesWithOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	protos := []uint8{6, 17, 1, 58, 47, 50}
	for round := 0; round < 100; round++ {
		a := randomACL(rng, rng.IntN(60))
		for k := 0; k < 300; k++ {
			remote := netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(4))})
			if rng.IntN(3) == 0 {
				remote = netip.AddrFrom16([16]byte{0x20, 1, 0x0d, 0xb8, 15: byte(rng.IntN(4))})
			}
			check(t, a, rng.IntN(2) == 0, protos[rng.IntN(len(protos))], uint16(rng.IntN(80)), uint8(rng.IntN(4)), uint8(rng.IntN(3)), remote)
		}
	}
}

func FuzzCompiledAgreesWithOracle(f *testing.F) {
	f.Add(uint64(1), uint8(10), true, uint8(6), uint16(22), uint8(0), uint8(0), uint8(3), false)
	f.Add(uint64(2), uint8(40), false, uint8(1), uint16(0), uint8(3), uint8(4), uint8(1), false)
	f.Add(uint64(3), uint8(30), false, uint8(58), uint16(0), uint8(2), uint8(1), uint8(2), true)
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, egress bool, proto uint8, port uint16, typ, code, host uint8, is6 bool) {
		a := randomACL(rand.New(rand.NewPCG(seed, 1)), int(n%80))
		remote := netip.AddrFrom4([4]byte{10, host >> 6 & 3, host >> 4 & 3, host & 3})
		if is6 {
			remote = netip.AddrFrom16([16]byte{0x20, 1, 0x0d, 0xb8, 15: host & 3})
		}
		check(t, a, egress, proto, port%80, typ%5, code%4, remote)
	})
}

func TestNoAllocs(t *testing.T) {
	a := randomACL(rand.New(rand.NewPCG(9, 9)), 40)
	remote := addr("10.1.2.3")
	allocs := testing.AllocsPerRun(1000, func() { a.Evaluate(false, 6, 22, 0, 0, remote) })
	assert.Zero(t, allocs)
}

// decided is what a Result says, without its entry's counter.
func decided(r nacl.Result) nacl.Result {
	return nacl.Result{Action: r.Action, RuleNumber: r.RuleNumber}
}

// TestUsage: each entry counts the packets whose counted Result it was,
// the "*" entries per direction and family; a count survives other
// entries' changes, and starts again when its entry is replaced.
func TestUsage(t *testing.T) {
	a := nacl.New("acl-1", "vpc-1", true)
	require.NoError(t, a.CreateEntry(in(90, 6, nacl.Deny, "198.51.100.0/24", 22, 22)))
	require.NoError(t, a.CreateEntry(in(100, -1, nacl.Allow, "0.0.0.0/0", 0, 0)))
	require.NoError(t, a.CreateEntry(out(100, 6, nacl.Allow, "0.0.0.0/0", 1024, 65535)))
	count := func(n int, egress bool, port uint16, remote string) {
		for range n {
			a.Evaluate(egress, 6, port, 0, 0, addr(remote)).Count()
		}
	}
	count(3, false, 22, "198.51.100.5")                    // 90
	count(2, false, 443, "198.51.100.5")                   // 100
	count(4, true, 50000, "203.0.113.9")                   // egress 100
	count(1, true, 80, "203.0.113.9")                      // egress * (IPv4)
	count(2, false, 443, "2001:db8::1")                    // ingress * (IPv6)
	a.Evaluate(false, 6, 22, 0, 0, addr("198.51.100.5"))   // judged, not counted
	nacl.Result{Action: nacl.Deny, RuleNumber: 90}.Count() // a Result not from Evaluate counts nothing

	usage := func() map[string]uint64 {
		m := map[string]uint64{}
		for _, u := range a.Usage() {
			m[u.String()] = u.Packets
		}
		return m
	}
	assert.Equal(t, map[string]uint64{
		"90 deny tcp 22 from 198.51.100.0/24":   3,
		"100 allow all traffic from 0.0.0.0/0":  2,
		"* deny all traffic from 0.0.0.0/0":     0,
		"* deny all traffic from ::/0":          2,
		"100 allow tcp 1024-65535 to 0.0.0.0/0": 4,
		"* deny all traffic to 0.0.0.0/0":       1,
		"* deny all traffic to ::/0":            0,
	}, usage())
	assert.Equal(t, len(a.Entries()), len(a.Usage()))

	require.NoError(t, a.CreateEntry(in(110, 17, nacl.Allow, "0.0.0.0/0", 53, 53)))
	assert.Equal(t, uint64(3), usage()["90 deny tcp 22 from 198.51.100.0/24"], "another entry's change keeps the count")
	require.NoError(t, a.ReplaceEntry(in(90, 6, nacl.Deny, "198.51.100.0/24", 22, 23)))
	assert.Equal(t, uint64(0), usage()["90 deny tcp 22-23 from 198.51.100.0/24"], "a replaced entry starts again")
	require.NoError(t, a.DeleteEntry(false, 90))
	require.NoError(t, a.CreateEntry(in(90, 6, nacl.Deny, "198.51.100.0/24", 22, 22)))
	assert.Equal(t, uint64(0), usage()["90 deny tcp 22 from 198.51.100.0/24"], "so does one deleted and made again")
}
