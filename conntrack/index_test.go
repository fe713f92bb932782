package conntrack

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// checkIndex verifies the table's structure: every live entry is in the
// index where find looks for it, the index holds nothing else, and the
// per-state lists hold every live entry once.
func checkIndex(t *testing.T, tab *Table, step int) {
	// Plain comparisons, not require's: this runs after every call of a
	// long workload, and each require call walks the stack.
	inIndex := 0
	for s, v := range tab.index {
		if v == 0 {
			continue
		}
		inIndex++
		i := uint32(v)
		e := &tab.slab[i-1]
		if e.state == StateNone {
			t.Fatalf("step %d: index slot %d names a free entry", step, s)
		}
		if got, want := uint32(v>>32), uint32(e.key.hash(tab.seed)); got != want {
			t.Fatalf("step %d: index slot %d holds hash bits %#x for entry %d, whose key's are %#x", step, s, got, i, want)
		}
		if _, found := tab.find(&e.key); found != i {
			t.Fatalf("step %d: entry %d is in the index at %d, where find does not reach (it finds %d)", step, i, s, found)
		}
	}
	if inIndex != tab.stats.Entries {
		t.Fatalf("step %d: %d entries in the index, %d live", step, inIndex, tab.stats.Entries)
	}
	listed := 0
	for s := State(1); s < numStates; s++ {
		if (tab.lists[s].head != 0) != (tab.held&(1<<s) != 0) {
			t.Fatalf("step %d: list %d has head %d but the reaper's mark is %b", step, s, tab.lists[s].head, tab.held)
		}
		for h := tab.lists[s].head; h != 0; h = tab.slab[h-1].next {
			if st := tab.slab[h-1].state; st != s {
				t.Fatalf("step %d: entry %d in state %v is in the list of %v", step, h, st, s)
			}
			listed++
		}
	}
	if listed != tab.stats.Entries {
		t.Fatalf("step %d: %d entries in the lists, %d live", step, listed, tab.stats.Entries)
	}
}

// TestIndexStaysWhole drives a small table through growth, a full table
// reclaiming expired entries, entries replaced on the same key, closes
// and expiry, checking its structure after every call.
func TestIndexStaysWhole(t *testing.T) {
	const sec = int64(time.Second)
	cfg := DefaultConfig()
	cfg.MaxEntries = 64
	tab, err := New(cfg)
	require.NoError(t, err)
	local := netip.MustParseAddr("10.0.1.10")
	rng := rand.New(rand.NewPCG(7, 9))
	hints := map[Packet]*Hint{}
	now := int64(0)
	for step := 0; step < 20000; step++ {
		now += int64(rng.IntN(3)) * sec / 4
		port := uint16(rng.IntN(600))
		p := Packet{Local: local, Remote: netip.AddrFrom4([4]byte{198, 51, byte(port >> 8), byte(port)}),
			LocalPort: 443, RemotePort: 40000 + port%7, Dir: Dir(rng.IntN(2))}
		switch rng.IntN(4) {
		case 0:
			p.Proto = protoUDP
		case 3:
			p.Proto, p.LocalPort, p.RemotePort = 47, 0, 0 // GRE: tracked by addresses alone
		case 1:
			p.Proto, p.LocalPort, p.RemotePort = protoICMP, 0, 0
			p.ICMPType, p.ICMPID = []uint8{8, 0}[rng.IntN(2)], port%5
		default:
			p.Proto = protoTCP
			p.TCPFlags = []uint8{SYN, SYN | ACK, ACK, FIN | ACK, RST}[rng.IntN(5)]
		}
		kind := p
		kind.TCPFlags = 0
		h := hints[kind]
		if h == nil {
			h = new(Hint)
			hints[kind] = h
		}
		var c Conn
		switch op := rng.IntN(100); {
		case op < 50:
			if !tab.LookupHint(&p, now, h, &c) {
				tab.TrackHint(&p, 1, now, h)
			}
		case op < 80:
			tab.Track(&p, 1, now) // may replace a live entry on the same key
		case op < 98:
			tab.Lookup(&p, now)
		default:
			now += int64(rng.IntN(60)) * sec
			tab.Expire(now)
		}
		checkIndex(t, tab, step)
		checkReap(t, tab, now+int64(rng.IntN(200))*sec, step)
	}
	require.Greater(t, tab.stats.Exceeded, uint64(0), "the table never filled: %+v", tab.stats)
	require.Greater(t, tab.stats.Expired, uint64(0))
}

// checkReap requires reap, which finds the next list from a mark of the
// lists that hold entries, to do exactly what trying each list in turn
// would: it reaps a copy of the table both ways and compares them.
func checkReap(t *testing.T, tab *Table, now int64, step int) {
	copyOf := func() *Table {
		c := *tab
		c.index, c.slab = append([]uint64(nil), tab.index...), append([]entry(nil), tab.slab...)
		return &c
	}
	fast, slow := copyOf(), copyOf()
	if step%5 == 0 { // as a new table has it
		fast.sweep, slow.sweep = StateNone, StateNone
	}
	budget := 1 + step%8
	fast.reap(now, budget)
	// Each list in turn from the sweep, StateNone and empty lists passed
	// over, for at most numStates-1 tries; the first that holds entries
	// loses its expired ones from the head.
	for tries := State(1); tries < numStates; tries++ {
		s := slow.sweep
		if slow.sweep++; slow.sweep >= numStates {
			slow.sweep = 1
		}
		if s == StateNone || slow.lists[s].head == 0 {
			continue
		}
		for b := budget; b > 0 && slow.lists[s].head != 0 && slow.expired(&slow.slab[slow.lists[s].head-1], now); b-- {
			slow.stats.Expired++
			slow.remove(slow.lists[s].head)
		}
		break
	}
	// Plain comparisons: require's reflection, twenty thousand times over,
	// would slow the test several times.
	if slow.sweep != fast.sweep || slow.stats != fast.stats || slow.lists != fast.lists || slow.held != fast.held {
		t.Fatalf("step %d: reaping by mark gave sweep %d, %+v, lists %v, mark %b; list by list gave %d, %+v, %v, %b",
			step, fast.sweep, fast.stats, fast.lists, fast.held, slow.sweep, slow.stats, slow.lists, slow.held)
	}
}
