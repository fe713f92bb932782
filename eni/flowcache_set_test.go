package eni

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFlowCacheSet fills one set of the cache past its ways: kinds are
// found by key whatever their tags, the oldest kind makes room for a new
// one, and the entry the caller has in hand is never the one taken.
func TestFlowCacheSet(t *testing.T) {
	fc := NewNetwork().NewFlowCache()
	kind := func(k int) *Packet {
		p := UDP(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(1000+k)), netip.MustParseAddrPort("10.0.0.2:53"))
		return &p
	}
	const h = 0x5a5a<<48 | 3 // one set, one tag for all
	var first [flowCacheWays]*flowEntry
	for k := range flowCacheWays {
		e, hit := fc.find(kind(k), h, nil)
		require.False(t, hit, "kind %d before it was added", k)
		require.Equal(t, kind(k).SrcPort, e.key.srcPort)
		first[k] = e
	}
	for k := range flowCacheWays {
		e, hit := fc.find(kind(k), h, nil)
		require.True(t, hit, "kind %d with its set full", k)
		require.Same(t, first[k], e, "kind %d", k)
	}
	// Kind 4 takes kind 0's entry; kind 5, with kind 1's entry in hand,
	// passes it by and takes kind 2's.
	e, hit := fc.find(kind(4), h, nil)
	require.False(t, hit)
	require.Same(t, first[0], e)
	e, hit = fc.find(kind(5), h, first[1])
	require.False(t, hit)
	require.Same(t, first[2], e)
	for _, k := range []int{1, 3, 4, 5} {
		_, hit := fc.find(kind(k), h, nil)
		require.True(t, hit, "kind %d after two more", k)
	}
	// Kinds 0 and 2 were pushed out; each finds itself gone and takes an
	// entry again, the next in turn: kind 3's, then kind 4's.
	_, hit = fc.find(kind(0), h, nil)
	require.False(t, hit, "kind 0 after two more")
	_, hit = fc.find(kind(2), h, nil)
	require.False(t, hit, "kind 2 after two more")
	_, hit = fc.find(kind(0), h, nil)
	require.True(t, hit, "kind 0 once taken again")
}

// TestFlowCacheGrows: the cache starts at its least and stays there while
// the kinds it pushes out are done with (a new kind every lookup), and
// grows when it pushes out kinds still in use (a few thousand, judged in
// turn), up to its most.
func TestFlowCacheGrows(t *testing.T) {
	fc := NewNetwork().NewFlowCache()
	kind := func(k int) *Packet {
		p := UDP(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(k >> 8), byte(k)}), uint16(1000+k%7)), netip.MustParseAddrPort("10.0.0.2:53"))
		return &p
	}
	var path Path
	judge := func(p *Packet) {
		fc.JudgeInto(p, time.Unix(0, 0), &path)
	}
	for k := range 50 * flowCacheMin {
		judge(kind(k))
	}
	require.Equal(t, flowCacheMin, len(fc.entries), "kinds seen once: no growth")

	for range 20 {
		for k := range 3000 {
			judge(kind(k))
		}
	}
	require.GreaterOrEqual(t, len(fc.entries), 4*flowCacheMin, "3,000 live kinds")
	hits := 0
	for k := range 3000 {
		if _, hit := fc.find(kind(k), kind(k).FlowHash(), nil); hit {
			hits++
		}
	}
	require.Greater(t, hits, 2400, "most of the live kinds are found")

	for range 20 {
		for k := range 60000 {
			judge(kind(k))
		}
	}
	require.Equal(t, flowCacheMax, len(fc.entries), "never past its most")
}
