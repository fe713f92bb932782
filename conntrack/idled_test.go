package conntrack_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ct "github.com/sgsim/sgsim/conntrack"
)

// TestIdled: a connection dropped for idleness is remembered, whether the
// packet that came too late found it expired, the reaper dropped it, or
// Expire did, so a packet refused for want of it can be told so. Only
// its own flow's packets find it, and a later connection of the same
// flow takes its place.
func TestIdled(t *testing.T) {
	t.Run("found expired", func(t *testing.T) {
		tab := newTable(t, nil)
		_, ok := tab.Idled(udpPkt(ct.Outbound), 0)
		assert.False(t, ok, "nothing has expired")
		tab.Track(udpPkt(ct.Inbound), 7, 0)
		_, ok = tab.Lookup(udpPkt(ct.Outbound), 31*sec)
		require.False(t, ok)
		c, ok := tab.Idled(udpPkt(ct.Outbound), 1000*sec)
		require.True(t, ok)
		assert.Equal(t, ct.Conn{State: ct.UDPSingle, Origin: ct.Inbound, Tag: 7, Created: 0, LastSeen: 0, Timeout: 30 * time.Second}, c)
		_, ok = tab.Idled(tcpPkt(ct.Outbound, ct.ACK), 1000*sec)
		assert.False(t, ok, "another flow")
	})
	t.Run("expired, not yet dropped", func(t *testing.T) {
		tab := newTable(t, nil)
		tab.Track(udpPkt(ct.Inbound), 5, 0)
		_, ok := tab.Idled(udpPkt(ct.Outbound), 10*sec)
		assert.False(t, ok, "live")
		c, ok := tab.Idled(udpPkt(ct.Outbound), 40*sec)
		require.True(t, ok)
		assert.Equal(t, uint32(5), c.Tag)
		assert.Equal(t, 1, tab.Len(), "Idled changes nothing")
	})
	t.Run("reaped", func(t *testing.T) {
		tab := newTable(t, nil)
		tab.Track(tcpPkt(ct.Inbound, ct.SYN), 3, 0)
		// Other flows' packets, long after, let the reaper drop it.
		for k := 0; k < 64; k++ {
			p := udpPkt(ct.Inbound)
			p.RemotePort = uint16(1000 + k)
			tab.Track(p, 0, 200*sec+int64(k)*int64(time.Millisecond))
		}
		assert.Equal(t, 64, tab.Len(), "the handshake's entry was reaped")
		c, ok := tab.Idled(tcpPkt(ct.Outbound, ct.ACK), 1000*sec)
		require.True(t, ok)
		assert.Equal(t, ct.TCPSynSent, c.State)
		assert.Equal(t, uint32(3), c.Tag)
	})
	t.Run("Expire, then a later connection", func(t *testing.T) {
		tab := newTable(t, nil)
		tab.Track(udpPkt(ct.Inbound), 1, 0)
		tab.Expire(40 * sec)
		c, ok := tab.Idled(udpPkt(ct.Inbound), 1000*sec)
		require.True(t, ok)
		assert.Equal(t, uint32(1), c.Tag)
		tab.Track(udpPkt(ct.Outbound), 2, 100*sec)
		tab.Expire(200 * sec)
		c, ok = tab.Idled(udpPkt(ct.Inbound), 1000*sec)
		require.True(t, ok)
		assert.Equal(t, uint32(2), c.Tag)
		assert.Equal(t, 100*sec, c.Created)
	})
	t.Run("many", func(t *testing.T) {
		tab := newTable(t, nil)
		const n = 3000
		flow := func(k int) *ct.Packet {
			p := udpPkt(ct.Inbound)
			p.Remote = netip.AddrFrom4([4]byte{198, 51, byte(k >> 8), byte(k)})
			return p
		}
		for k := range n {
			tab.Track(flow(k), uint32(k), 0)
		}
		tab.Expire(60 * sec)
		found := 0
		for k := range n {
			if c, ok := tab.Idled(flow(k), 1000*sec); ok {
				require.Equal(t, uint32(k), c.Tag)
				found++
			}
		}
		// As many as it held at once, into a space as large: most fit.
		assert.Greater(t, found, n/2)
	})
}
