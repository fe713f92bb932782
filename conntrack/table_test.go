package conntrack_test

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ct "github.com/sgsim/sgsim/conntrack"
)

var (
	local  = netip.MustParseAddr("10.0.1.10")
	remote = netip.MustParseAddr("203.0.113.5")
)

const sec = int64(time.Second)

func newTable(t testing.TB, mod func(*ct.Config)) *ct.Table {
	t.Helper()
	cfg := ct.DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	tab, err := ct.New(cfg)
	require.NoError(t, err)
	return tab
}

func tcpPkt(dir ct.Dir, flags uint8) *ct.Packet {
	return &ct.Packet{Proto: 6, Dir: dir, Local: local, Remote: remote, LocalPort: 22, RemotePort: 50000, TCPFlags: flags}
}

func udpPkt(dir ct.Dir) *ct.Packet {
	return &ct.Packet{Proto: 17, Dir: dir, Local: local, Remote: remote, LocalPort: 53, RemotePort: 40000}
}

func TestTCPLifecycle(t *testing.T) {
	tab := newTable(t, nil)
	_, ok := tab.Lookup(tcpPkt(ct.Inbound, ct.SYN), 0)
	require.False(t, ok)
	c, res := tab.Track(tcpPkt(ct.Inbound, ct.SYN), 7, 0)
	require.Equal(t, ct.Created, res)
	assert.Equal(t, ct.TCPSynSent, c.State)
	assert.Equal(t, uint32(7), c.Tag)
	assert.Equal(t, ct.Inbound, c.Origin)

	steps := []struct {
		dir   ct.Dir
		flags uint8
		want  ct.State
	}{
		{ct.Outbound, ct.SYN | ct.ACK, ct.TCPSynReceived},
		{ct.Inbound, ct.ACK, ct.TCPEstablished},
		{ct.Outbound, ct.ACK, ct.TCPEstablished},
		{ct.Inbound, ct.FIN | ct.ACK, ct.TCPClosing},
		{ct.Outbound, ct.FIN | ct.ACK, ct.TCPClosed},
		{ct.Inbound, ct.ACK, ct.TCPClosed},
	}
	for i, s := range steps {
		c, ok := tab.Lookup(tcpPkt(s.dir, s.flags), int64(i+1)*sec)
		require.True(t, ok, "step %d", i)
		assert.Equal(t, s.want, c.State, "step %d", i)
	}
	// A new SYN on the closed 5-tuple is a new connection for the rules to judge.
	_, ok = tab.Lookup(tcpPkt(ct.Inbound, ct.SYN), 8*sec)
	assert.False(t, ok)
	assert.Equal(t, 0, tab.Len())
}

func TestPeekAndCanTrack(t *testing.T) {
	tab := newTable(t, func(c *ct.Config) { c.MaxEntries = 1 })
	syn := tcpPkt(ct.Inbound, ct.SYN)
	assert.Equal(t, ct.Created, tab.CanTrack(syn))
	assert.Equal(t, ct.NotStartable, tab.CanTrack(tcpPkt(ct.Inbound, ct.ACK)))
	tab.Track(syn, 0, 0)
	other := tcpPkt(ct.Inbound, ct.SYN)
	other.RemotePort = 1
	assert.Equal(t, ct.Full, tab.CanTrack(other))
	synack := tcpPkt(ct.Outbound, ct.SYN|ct.ACK)
	c, ok := tab.Peek(synack, sec)
	require.True(t, ok)
	assert.Equal(t, ct.TCPSynSent, c.State, "Peek changes nothing")
	c, _ = tab.Lookup(synack, sec)
	assert.Equal(t, ct.TCPSynReceived, c.State)
	_, ok = tab.Peek(synack, 1000*sec)
	assert.False(t, ok, "expired")
	assert.Equal(t, 1, tab.Len(), "Peek does not remove")
}

func TestTCPTimeouts(t *testing.T) {
	tab := newTable(t, func(c *ct.Config) { c.TCPEstablished = 60 * time.Second })
	tab.Track(tcpPkt(ct.Outbound, ct.SYN), 0, 0)
	_, ok := tab.Lookup(tcpPkt(ct.Inbound, ct.SYN|ct.ACK), 119*sec)
	require.True(t, ok, "handshake timeout is 120 s")
	_, ok = tab.Lookup(tcpPkt(ct.Outbound, ct.ACK), 120*sec)
	require.True(t, ok)
	_, ok = tab.Lookup(tcpPkt(ct.Inbound, ct.ACK), 179*sec)
	require.True(t, ok, "59 s idle with a 60 s established timeout")
	_, ok = tab.Lookup(tcpPkt(ct.Inbound, ct.ACK), 239*sec)
	assert.False(t, ok, "60 s idle: gone")
	assert.Equal(t, uint64(1), tab.Stats().Expired)

	tab.Track(tcpPkt(ct.Outbound, ct.SYN), 0, 0)
	_, ok = tab.Lookup(tcpPkt(ct.Inbound, ct.SYN|ct.ACK), 120*sec)
	assert.False(t, ok, "an unanswered handshake expires after 120 s")

	tab.Track(tcpPkt(ct.Outbound, ct.SYN), 0, 0)
	tab.Lookup(tcpPkt(ct.Inbound, ct.RST), 1*sec)
	_, ok = tab.Lookup(tcpPkt(ct.Outbound, ct.ACK), 10*sec)
	assert.True(t, ok, "a reset flow lingers 10 s")
	tab.Lookup(tcpPkt(ct.Inbound, ct.RST), 10*sec)
	_, ok = tab.Lookup(tcpPkt(ct.Outbound, ct.ACK), 21*sec)
	assert.False(t, ok)
}

func TestTCPStartRules(t *testing.T) {
	tab := newTable(t, nil)
	for _, flags := range []uint8{ct.ACK, ct.SYN | ct.ACK, ct.FIN, ct.RST, ct.SYN | ct.RST} {
		_, res := tab.Track(tcpPkt(ct.Inbound, flags), 0, 0)
		assert.Equal(t, ct.NotStartable, res, "flags %#x", flags)
	}
	pick := newTable(t, func(c *ct.Config) { c.TCPPickup = true })
	c, res := pick.Track(tcpPkt(ct.Inbound, ct.ACK), 0, 0)
	assert.Equal(t, ct.Created, res)
	assert.Equal(t, ct.TCPEstablished, c.State)
	_, res = pick.Track(tcpPkt(ct.Inbound, ct.RST), 0, 0)
	assert.Equal(t, ct.NotStartable, res)
}

func TestUDPSingleAndStream(t *testing.T) {
	tab := newTable(t, nil)
	tab.Track(udpPkt(ct.Inbound), 0, 0)
	c, ok := tab.Lookup(udpPkt(ct.Outbound), 1*sec)
	require.True(t, ok)
	assert.Equal(t, ct.UDPSingle, c.State)
	assert.Equal(t, 30*time.Second, c.Timeout)
	_, ok = tab.Lookup(udpPkt(ct.Inbound), 32*sec)
	assert.False(t, ok, "one request and one reply, then 31 s idle: gone (UdpTimeout 30 s)")

	tab.Track(udpPkt(ct.Inbound), 0, 100*sec)
	for i, dir := range []ct.Dir{ct.Outbound, ct.Inbound, ct.Outbound} {
		c, ok = tab.Lookup(udpPkt(dir), int64(101+i)*sec)
		require.True(t, ok)
	}
	assert.Equal(t, ct.UDPStream, c.State, "two exchanges make a stream")
	_, ok = tab.Lookup(udpPkt(ct.Inbound), 282*sec)
	assert.True(t, ok, "179 s idle: a stream lives 180 s")
	_, ok = tab.Lookup(udpPkt(ct.Inbound), 462*sec)
	assert.False(t, ok)

	tab.Track(udpPkt(ct.Outbound), 0, 1000*sec)
	for i := 0; i < 5; i++ {
		c, _ = tab.Lookup(udpPkt(ct.Outbound), int64(1001+i)*sec)
	}
	assert.Equal(t, ct.UDPSingle, c.State, "traffic in one direction only is not a stream")
}

func TestICMP(t *testing.T) {
	tab := newTable(t, nil)
	echo := &ct.Packet{Proto: 1, Dir: ct.Outbound, Local: local, Remote: remote, ICMPType: 8, ICMPID: 77}
	reply := &ct.Packet{Proto: 1, Dir: ct.Inbound, Local: local, Remote: remote, ICMPType: 0, ICMPID: 77}
	_, res := tab.Track(echo, 0, 0)
	require.Equal(t, ct.Created, res)
	_, ok := tab.Lookup(reply, sec)
	assert.True(t, ok)
	other := *reply
	other.ICMPID = 78
	_, ok = tab.Lookup(&other, sec)
	assert.False(t, ok, "another identifier")
	theirs := &ct.Packet{Proto: 1, Dir: ct.Inbound, Local: local, Remote: remote, ICMPType: 8, ICMPID: 77}
	_, ok = tab.Lookup(theirs, sec)
	assert.False(t, ok, "their echo request with our identifier is another flow")
	unreach := &ct.Packet{Proto: 1, Dir: ct.Inbound, Local: local, Remote: remote, ICMPType: 3}
	_, ok = tab.Lookup(unreach, sec)
	assert.False(t, ok, "ICMP errors are not let through by tracking")
	_, res = tab.Track(unreach, 0, sec)
	assert.Equal(t, ct.NotStartable, res)
	_, ok = tab.Lookup(reply, 31*sec)
	assert.False(t, ok, "ICMP entries live 30 s")

	v6 := &ct.Packet{Proto: 58, Dir: ct.Inbound, Local: netip.MustParseAddr("2001:db8::1"),
		Remote: netip.MustParseAddr("2001:db8::2"), ICMPType: 128, ICMPID: 1}
	_, res = tab.Track(v6, 0, 0)
	require.Equal(t, ct.Created, res)
	v6r := *v6
	v6r.Dir, v6r.ICMPType = ct.Outbound, 129
	_, ok = tab.Lookup(&v6r, sec)
	assert.True(t, ok)
}

func TestOtherProtocolWindow(t *testing.T) {
	tab := newTable(t, nil)
	gre := func(dir ct.Dir) *ct.Packet {
		return &ct.Packet{Proto: 47, Dir: dir, Local: local, Remote: netip.MustParseAddr("198.51.100.9")}
	}
	_, res := tab.Track(gre(ct.Outbound), 0, 0)
	require.Equal(t, ct.Created, res)
	_, ok := tab.Lookup(gre(ct.Inbound), 300*sec)
	assert.True(t, ok, "GRE back after 300 s")
	_, ok = tab.Lookup(gre(ct.Inbound), 900*sec)
	assert.False(t, ok, "after 600 s of silence")
}

func TestCapacity(t *testing.T) {
	tab := newTable(t, func(c *ct.Config) { c.MaxEntries = 2 })
	pkt := func(port uint16) *ct.Packet {
		return &ct.Packet{Proto: 17, Dir: ct.Outbound, Local: local, Remote: remote, LocalPort: port, RemotePort: 53}
	}
	_, r1 := tab.Track(pkt(1), 0, 0)
	_, r2 := tab.Track(pkt(2), 0, 0)
	_, r3 := tab.Track(pkt(3), 0, sec)
	assert.Equal(t, []ct.Result{ct.Created, ct.Created, ct.Full}, []ct.Result{r1, r2, r3})
	assert.Equal(t, uint64(1), tab.Stats().Exceeded)
	assert.Equal(t, 0, tab.Available())
	_, ok := tab.Lookup(pkt(1), sec)
	assert.True(t, ok, "tracked flows keep working when the table is full")
	_, r4 := tab.Track(pkt(3), 0, 31*sec)
	assert.Equal(t, ct.Created, r4, "flow 2 expired, making room")
	assert.Equal(t, 2, tab.Stats().Peak)
}

func TestConfigValidate(t *testing.T) {
	def := ct.DefaultConfig()
	require.NoError(t, def.Validate())
	tests := []struct {
		name             string
		tcp, udp, udpStr int
		field            string
	}{
		{"tcp 59", 59, 0, 0, "TcpEstablishedTimeout"},
		{"tcp 432001", 432001, 0, 0, "TcpEstablishedTimeout"},
		{"udp 61", 0, 61, 0, "UdpTimeout"},
		{"udp 29", 0, 29, 0, "UdpTimeout"},
		{"stream 59", 0, 0, 59, "UdpStreamTimeout"},
		{"stream 181", 0, 0, 181, "UdpStreamTimeout"},
	}
	for _, tt := range tests {
		_, err := def.WithAWSTimeouts(tt.tcp, tt.udp, tt.udpStr)
		var ce *ct.ConfigError
		require.ErrorAs(t, err, &ce, tt.name)
		assert.Equal(t, tt.field, ce.Field, tt.name)
		assert.Contains(t, err.Error(), tt.field)
	}
	c, err := def.WithAWSTimeouts(60, 60, 60)
	require.NoError(t, err)
	assert.Equal(t, 60*time.Second, c.TCPEstablished)
	bad := def
	bad.ICMP = 0
	assert.Error(t, bad.Validate())
	bad = def
	bad.MaxEntries = 0
	assert.Error(t, bad.Validate())
	bad.MaxEntries = 1<<30 + 1
	assert.EqualError(t, bad.Validate(), "MaxEntries: 1073741825 must be from 1 to 1073741824")
	bad.MaxEntries = 1 << 30
	assert.NoError(t, bad.Validate())
}

// TestAgainstModel drives the table with random flows and checks every
// answer against a plain map, exercising growth and backward-shift deletion.
// TestDoubleCapacity: a Packet.Double flow (a DynamoDB connection
// through a gateway endpoint) takes two entries of the capacity, and
// gives both back when it goes.
func TestDoubleCapacity(t *testing.T) {
	pkt := func(port uint16, double bool) *ct.Packet {
		return &ct.Packet{Proto: 17, Dir: ct.Outbound, Local: local, Remote: remote, LocalPort: port, RemotePort: 443, Double: double}
	}
	for _, tt := range []struct {
		name    string
		doubles []bool // the flows opened, in order, at time 0
		want    []ct.Result
		entries int
	}{
		{"a double and a single fill three", []bool{true, false, false}, []ct.Result{ct.Created, ct.Created, ct.Full}, 3},
		{"a double does not fit in one", []bool{false, false, true, false}, []ct.Result{ct.Created, ct.Created, ct.Full, ct.Created}, 3},
		{"two doubles do not fit in three", []bool{true, true}, []ct.Result{ct.Created, ct.Full}, 2},
		{"singles as before", []bool{false, false, false, false}, []ct.Result{ct.Created, ct.Created, ct.Created, ct.Full}, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tab := newTable(t, func(c *ct.Config) { c.MaxEntries = 3 })
			var got []ct.Result
			for k, d := range tt.doubles {
				p := pkt(uint16(k+1), d)
				want := tab.CanTrack(p)
				_, r := tab.Track(p, 0, 0)
				assert.Equal(t, want, r, "CanTrack agrees with Track, flow %d", k)
				got = append(got, r)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.entries, tab.Len())
			assert.Equal(t, tt.entries, tab.Stats().Peak)
			assert.Equal(t, 3-tt.entries, tab.Available())
			tab.Expire(31 * sec) // every UDP flow idles out
			assert.Equal(t, 0, tab.Len(), "a double gives both entries back")
			_, r := tab.Track(pkt(9, true), 0, 31*sec)
			assert.Equal(t, ct.Created, r)
			assert.Equal(t, 2, tab.Len())
		})
	}
}

// TestAgainstModel runs random traffic against a model of the table:
// which flows are live, and the table full exactly when the model's
// entries say, with every flow counting once, and with a third of them
// counting twice (Packet.Double).
func TestAgainstModel(t *testing.T) {
	for _, tt := range []struct {
		name   string
		seed   uint64
		double func(port uint16) bool
	}{
		{"single", 3, func(uint16) bool { return false }},
		{"a third double", 5, func(port uint16) bool { return port%3 == 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) { againstModel(t, tt.seed, tt.double) })
	}
}

func againstModel(t *testing.T, seed uint64, double func(uint16) bool) {
	const window = 600 * sec
	tab := newTable(t, func(c *ct.Config) { c.MaxEntries = 300 })
	type flow struct {
		last   int64
		weight int
	}
	model := map[uint16]flow{} // remote port → last seen, entries taken
	used := func() int {
		n := 0
		for _, f := range model {
			n += f.weight
		}
		return n
	}
	rng := rand.New(rand.NewPCG(seed, seed+1))
	now := int64(0)
	for step := 0; step < 200000; step++ {
		now += int64(rng.IntN(20)) * sec / 4
		port := uint16(rng.IntN(400))
		p := &ct.Packet{Proto: 50, Dir: ct.Dir(rng.IntN(2)), Local: local,
			Remote: netip.AddrFrom4([4]byte{198, 51, byte(port >> 8), byte(port)}), Double: double(port)}
		f, known := model[port]
		alive := known && now-f.last < window
		if known && !alive {
			delete(model, port)
		}
		_, ok := tab.Lookup(p, now)
		require.Equal(t, alive, ok, "step %d port %d", step, port)
		if ok {
			model[port] = flow{now, f.weight}
			continue
		}
		// Expire the model as the table does before deciding it is full.
		for k, v := range model {
			if now-v.last >= window {
				delete(model, k)
			}
		}
		w := 1
		if p.Double {
			w = 2
		}
		_, res := tab.Track(p, 0, now)
		if used()+w > 300 {
			require.Equal(t, ct.Full, res, "step %d", step)
			continue
		}
		require.Equal(t, ct.Created, res, "step %d", step)
		model[port] = flow{now, w}
	}
	tab.Expire(now)
	assert.Equal(t, used(), tab.Len())
}

func TestNoAllocs(t *testing.T) {
	tab := newTable(t, func(c *ct.Config) { c.MaxEntries = 1 << 12 })
	pkts := make([]ct.Packet, 1<<12)
	for i := range pkts {
		pkts[i] = ct.Packet{Proto: 17, Dir: ct.Outbound, Local: local, Remote: remote, LocalPort: uint16(i), RemotePort: 53}
	}
	for i := range pkts { // warm up: the table reaches its full size
		tab.Track(&pkts[i], 0, 0)
	}
	now := int64(100 * sec) // everything has expired
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		p := &pkts[i%len(pkts)]
		if _, ok := tab.Lookup(p, now); !ok {
			tab.Track(p, 0, now)
		}
		i++
		now += sec / 100
	})
	assert.Zero(t, allocs, "lookup and insert after warm-up")
}

func BenchmarkLookupHit(b *testing.B) {
	tab := newTable(b, nil)
	p := tcpPkt(ct.Inbound, ct.SYN)
	tab.Track(p, 0, 0)
	q := tcpPkt(ct.Outbound, ct.ACK)
	b.ReportAllocs()
	now := int64(0)
	for b.Loop() {
		now++
		tab.Lookup(q, now)
	}
}

// BenchmarkChurn keeps a table at about 400,000 live UDP flows, as a busy
// interface has them: each operation is a new flow's miss, its entry, and
// (the reaper's) an idle entry's removal, so searches, inserts and
// removals all run in a table far larger than the caches.
func BenchmarkChurn(b *testing.B) {
	const live = 400_000
	tab := newTable(b, nil)
	step := int64(30*time.Second) / live // the UDP timeout, over the live flows
	p := ct.Packet{Proto: 17, Dir: ct.Outbound, Local: local, RemotePort: 53}
	flow := func(i int) {
		p.Remote = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		p.LocalPort = uint16(i>>24) + 1024
	}
	now, i := int64(0), 0
	for ; i < live; i++ {
		flow(i)
		now += step
		tab.Track(&p, 0, now)
	}
	b.ReportAllocs()
	for b.Loop() {
		flow(i)
		now += step
		if _, ok := tab.Lookup(&p, now); ok {
			b.Fatalf("flow %d found before it was made", i)
		}
		if _, res := tab.Track(&p, 0, now); res != ct.Created {
			b.Fatalf("flow %d: %v", i, res)
		}
		i++
	}
	if n := tab.Len(); n < live/2 || n > 2*live {
		b.Fatalf("%d live flows, want about %d", n, live)
	}
}

// BenchmarkMemoryPerFlow fills a table with 1,000,000 live flows and
// reports the heap it takes per flow.
func BenchmarkMemoryPerFlow(b *testing.B) {
	const flows = 1_000_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tab := newTable(b, func(c *ct.Config) { c.MaxEntries = flows })
		p := ct.Packet{Proto: 17, Dir: ct.Outbound, Local: local}
		for i := 0; i < flows; i++ {
			p.Remote = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			p.LocalPort = uint16(i)
			if _, res := tab.Track(&p, 0, 0); res != ct.Created {
				b.Fatalf("flow %d: %v", i, res)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/flows, "bytes/flow")
		runtime.KeepAlive(tab)
	}
}

// TestTrackHintAfterClearedHint checks that a hint cleared after a miss
// knows nothing, as a zero Hint does: TrackHint opens the entry of the
// packet it is given, not of the one that missed.
func TestTrackHintAfterClearedHint(t *testing.T) {
	tab := newTable(t, nil)
	first := ct.Packet{Local: local, Remote: netip.MustParseAddr("198.51.100.1"), LocalPort: 40000, RemotePort: 443,
		Proto: 6, Dir: ct.Outbound, TCPFlags: ct.SYN}
	second := first
	second.RemotePort = 8443
	h := new(ct.Hint)
	var c ct.Conn
	require.False(t, tab.LookupHint(&first, sec, h, &c))
	*h = ct.Hint{}
	_, res := tab.TrackHint(&second, 1, sec, h)
	require.Equal(t, ct.Created, res)
	_, ok := tab.Lookup(&second, 2*sec)
	require.True(t, ok, "the entry of the packet given to TrackHint")
	_, ok = tab.Lookup(&first, 2*sec)
	require.False(t, ok, "no entry for the packet that missed")

	// Uncleared, the hint takes the key its miss built, for the same packet.
	h2 := new(ct.Hint)
	require.False(t, tab.LookupHint(&first, 3*sec, h2, &c))
	_, res = tab.TrackHint(&first, 1, 3*sec, h2)
	require.Equal(t, ct.Created, res)
	require.True(t, tab.LookupHint(&first, 4*sec, h2, &c))
	_, ok = tab.Lookup(&first, 4*sec)
	require.True(t, ok)
}

// TestLookupHintAgreesWithLookup drives two tables with the same random
// packets, one looked up with hints kept per kind of packet, and requires
// the same answers and counters throughout: a hint only saves work. What
// Predict says beforehand must come true.
func TestLookupHintAgreesWithLookup(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		plain := newTable(t, func(c *ct.Config) { c.MaxEntries = 40 })
		hinted := newTable(t, func(c *ct.Config) { c.MaxEntries = 40 })
		hints := map[ct.Packet]*ct.Hint{}
		predicted := map[ct.Prediction]int{}
		rng := rand.New(rand.NewPCG(seed, 11))
		now := int64(0)
		for step := 0; step < 100000; step++ {
			now += int64(rng.IntN(8)) * sec / 2
			p := ct.Packet{Dir: ct.Dir(rng.IntN(2)), Local: local,
				Remote: netip.AddrFrom4([4]byte{198, 51, 100, byte(rng.IntN(6))})}
			switch rng.IntN(4) {
			case 0:
				p.Proto, p.LocalPort, p.RemotePort = 17, 53, uint16(40000+rng.IntN(6))
			case 1:
				p.Proto, p.ICMPType, p.ICMPID = 1, []uint8{8, 0, 3}[rng.IntN(3)], uint16(rng.IntN(3))
			default:
				p.Proto, p.LocalPort, p.RemotePort = 6, 22, uint16(50000+rng.IntN(8))
				p.TCPFlags = []uint8{ct.SYN, ct.SYN | ct.ACK, ct.ACK, ct.FIN | ct.ACK, ct.RST}[rng.IntN(5)]
			}
			key := p
			key.TCPFlags = 0 // one hint for every packet of the same kind
			h := hints[key]
			if h == nil {
				h = new(ct.Hint)
				hints[key] = h
			}
			// Mostly a prediction for the very lookup that follows; now and
			// then one the lookup must not trust: for other flags, for an
			// earlier time, or with the table changed in between.
			mode := rng.IntN(8)
			other := p
			if mode == 1 {
				other.TCPFlags ^= ct.SYN | ct.ACK
			}
			at := now
			if mode == 2 {
				at = now - int64(rng.IntN(400))*sec
			}
			pred := hinted.Predict(&other, h, at)
			if mode == 3 && p.Proto == 6 {
				// Close the connection and open it again: the entry Predict
				// saw is gone.
				for _, f := range []uint8{ct.RST, ct.SYN} {
					q := p
					q.TCPFlags = f
					plain.Lookup(&q, now)
					hinted.Lookup(&q, now)
				}
			}
			want, wantOK := plain.Lookup(&p, now)
			got := ct.Conn{State: ct.OtherFlow} // a miss leaves it alone
			gotOK := hinted.LookupHint(&p, now, h, &got)
			if !gotOK {
				require.Equal(t, ct.Conn{State: ct.OtherFlow}, got, "seed %d step %d", seed, step)
				got = ct.Conn{}
			}
			if mode == 0 {
				switch pred {
				case ct.WillHit:
					require.True(t, gotOK, "seed %d step %d: predicted a hit", seed, step)
				case ct.WillMiss:
					require.False(t, gotOK, "seed %d step %d: predicted a miss", seed, step)
				}
				predicted[pred]++
			}
			require.Equal(t, wantOK, gotOK, "seed %d step %d %+v", seed, step, p)
			require.Equal(t, want, got, "seed %d step %d", seed, step)
			if !wantOK && rng.IntN(2) == 0 {
				_, r1 := plain.Track(&p, 7, now)
				track := hinted.Track
				if rng.IntN(2) == 0 { // and the hint learns where the entry is
					track = func(p *ct.Packet, tag uint32, now int64) (ct.Conn, ct.Result) {
						return hinted.TrackHint(p, tag, now, h)
					}
				}
				_, r2 := track(&p, 7, now)
				require.Equal(t, r1, r2, "seed %d step %d", seed, step)
			}
			require.Equal(t, plain.Stats(), hinted.Stats(), "seed %d step %d", seed, step)
		}
		// The hints must have told something, both ways, most of the time.
		require.Greater(t, predicted[ct.WillHit], 50, "seed %d %v", seed, predicted)
		require.Greater(t, predicted[ct.WillMiss], 1000, "seed %d", seed)
	}
}

func TestNewFixed(t *testing.T) {
	cfg := ct.DefaultConfig()
	cfg.TCPEstablished, cfg.UDP, cfg.UDPStream = 350*time.Second, 120*time.Second, 120*time.Second
	_, err := ct.New(cfg)
	require.Error(t, err, "120 s is outside an interface's UdpTimeout range")
	tab, err := ct.NewFixed(cfg)
	require.NoError(t, err)
	tab.Track(udpPkt(ct.Inbound), 0, 0)
	c, ok := tab.Lookup(udpPkt(ct.Outbound), 100*sec)
	require.True(t, ok, "within 120 s")
	assert.Equal(t, 120*time.Second, c.Timeout)
	_, ok = tab.Lookup(udpPkt(ct.Inbound), 221*sec)
	assert.False(t, ok, "idle 121 s")

	for _, bad := range []func(*ct.Config){
		func(c *ct.Config) { c.UDP = 0 },
		func(c *ct.Config) { c.TCPEstablished = -time.Second },
		func(c *ct.Config) { c.TCPClosed = 0 },
		func(c *ct.Config) { c.MaxEntries = 0 },
	} {
		c := cfg
		bad(&c)
		_, err := ct.NewFixed(c)
		assert.Error(t, err)
	}
}

func TestSetTCPPickup(t *testing.T) {
	tab := newTable(t, nil)
	var h ct.Hint
	p := tcpPkt(ct.Inbound, ct.ACK)
	_, res := tab.TrackHint(p, 0, 0, &h)
	assert.Equal(t, ct.NotStartable, res)
	tab.SetTCPPickup(true)
	assert.True(t, tab.Config().TCPPickup)
	assert.Equal(t, ct.Created, tab.CanTrack(p))
	_, res = tab.TrackHint(p, 0, 0, &h)
	assert.Equal(t, ct.Created, res, "a hint from before the change does not stand in the way")
	tab.SetTCPPickup(false)
	_, res = tab.Track(tcpPkt(ct.Inbound, ct.FIN), 0, 0)
	assert.Equal(t, ct.NotStartable, res)
}
