package conntrack_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/sgsim/sgsim/conntrack"
)

// A DNS query leaves the interface; its answer comes back on the tracked
// flow, and 30 idle seconds later the entry is gone.
func ExampleTable() {
	table, _ := conntrack.New(conntrack.DefaultConfig())
	query := &conntrack.Packet{Proto: 17, Dir: conntrack.Outbound,
		Local: netip.MustParseAddr("10.0.1.10"), LocalPort: 40000,
		Remote: netip.MustParseAddr("198.51.100.53"), RemotePort: 53}
	answer := *query
	answer.Dir = conntrack.Inbound

	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	_, res := table.Track(query, 0, start)
	fmt.Println("query opened an entry:", res == conntrack.Created)
	conn, ok := table.Lookup(&answer, start+int64(20*time.Millisecond))
	fmt.Println("answer tracked:", ok, conn.State, conn.Timeout)
	_, ok = table.Lookup(&answer, start+int64(31*time.Second))
	fmt.Println("late answer tracked:", ok)
	// Output:
	// query opened an entry: true
	// answer tracked: true udp 30s
	// late answer tracked: false
}
