package flowlog_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/flowlog"
)

// TestAWSExample reproduces AWS's example: a ping let in whose reply the
// network ACL refuses gives an ACCEPT and a REJECT record.
func TestAWSExample(t *testing.T) {
	a := flowlog.NewAggregator(time.Minute)
	home, inst := netip.MustParseAddr("203.0.113.12"), netip.MustParseAddr("172.31.16.139")
	start := time.Unix(1432917027, 0)
	for k := 0; k < 4; k++ {
		ts := start.Add(time.Duration(k) * 10 * time.Second)
		a.Add(flowlog.Packet{AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789", Src: home, Dst: inst,
			Protocol: 1, Bytes: 84, Time: ts, Accept: true})
		a.Add(flowlog.Packet{AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789", Src: inst, Dst: home,
			Protocol: 1, Bytes: 84, Time: ts.Add(time.Millisecond), Accept: false})
	}
	var buf bytes.Buffer
	require.NoError(t, a.Write(&buf))
	assert.Equal(t, flowlog.Header+"\n"+
		"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917057 ACCEPT OK\n"+
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917027 1432917057 REJECT OK\n", buf.String())
}

func TestWindows(t *testing.T) {
	a := flowlog.NewAggregator(time.Minute)
	p := flowlog.Packet{InterfaceID: "eni-1", Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
		SrcPort: 5000, DstPort: 443, Protocol: 6, Bytes: 100, Accept: true}
	for _, sec := range []int64{0, 30, 59, 60, 61, 200} {
		p.Time = time.Unix(1700000040+sec, 0) // 1700000040 is a minute boundary
		a.Add(p)
	}
	rs := a.Records()
	require.Len(t, rs, 3)
	assert.Equal(t, uint64(3), rs[0].Packets)
	assert.Equal(t, uint64(2), rs[1].Packets)
	assert.Equal(t, uint64(1), rs[2].Packets)
	assert.Equal(t, "2 unknown eni-1 10.0.0.1 10.0.0.2 5000 443 6 3 300 1700000040 1700000099 ACCEPT OK", rs[0].String())
}

// TestWriteClosedStreams writes records as their windows close and
// requires the same output as writing everything at the end, while the
// records held stay within the open windows.
func TestWriteClosedStreams(t *testing.T) {
	batch, stream := flowlog.NewAggregator(time.Minute), flowlog.NewAggregator(time.Minute)
	var streamed bytes.Buffer
	start := time.Unix(1700000000, 0)
	most := 0
	for k := 0; k < 20000; k++ {
		p := flowlog.Packet{InterfaceID: fmt.Sprintf("eni-%d", k%3), Src: netip.MustParseAddr("10.0.0.1"),
			Dst: netip.AddrFrom4([4]byte{10, 0, 1, byte(k % 7)}), SrcPort: uint16(40000 + k/50), DstPort: 443, Protocol: 6,
			Bytes: 100, Time: start.Add(time.Duration(k) * 100 * time.Millisecond), Accept: k%5 != 0}
		batch.Add(p)
		stream.Add(p)
		if k%100 == 0 {
			require.NoError(t, stream.WriteClosed(&streamed))
			most = max(most, len(stream.Records()))
		}
	}
	require.NoError(t, stream.Write(&streamed))
	var all bytes.Buffer
	require.NoError(t, batch.Write(&all))
	assert.Equal(t, all.String(), streamed.String())
	// Over 2,000 s, the records held at once are about two windows' worth:
	// a few percent of them all.
	total := strings.Count(all.String(), "\n") - 1
	assert.Greater(t, total, 10000)
	assert.Less(t, most, total/10)
	assert.Empty(t, stream.Records())
}
