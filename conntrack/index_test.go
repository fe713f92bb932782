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
	t.Helper()
	inIndex := 0
	for s, v := range tab.index {
		if v == 0 {
			continue
		}
		inIndex++
		e := &tab.slab[v-1]
		require.NotEqual(t, StateNone, e.state, "step %d: index slot %d names a free entry", step, s)
		_, found := tab.find(&e.key)
		require.Equal(t, v, found, "step %d: entry %d is in the index at %d, where find does not reach", step, v, s)
	}
	require.Equal(t, tab.stats.Entries, inIndex, "step %d", step)
	listed := 0
	for s := State(1); s < numStates; s++ {
		for h := tab.lists[s].head; h != 0; h = tab.slab[h-1].next {
			require.Equal(t, s, tab.slab[h-1].state, "step %d", step)
			listed++
		}
	}
	require.Equal(t, tab.stats.Entries, listed, "step %d", step)
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
		switch rng.IntN(3) {
		case 0:
			p.Proto = protoUDP
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
	}
	require.Greater(t, tab.stats.Exceeded, uint64(0), "the table never filled: %+v", tab.stats)
	require.Greater(t, tab.stats.Expired, uint64(0))
}
