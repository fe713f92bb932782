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

// A Network Load Balancer keeps a UDP flow 120 s, whatever its exchanges:
// a timeout no interface may have, so its table comes from NewFixed.
func ExampleNewFixed() {
	cfg := conntrack.DefaultConfig()
	cfg.TCPEstablished, cfg.UDP, cfg.UDPStream = 350*time.Second, 120*time.Second, 120*time.Second
	_, err := conntrack.New(cfg)
	fmt.Println("as an interface's:", err)
	table, err := conntrack.NewFixed(cfg)
	fmt.Println("as a balancer's:", err)
	client := &conntrack.Packet{Proto: 17, Dir: conntrack.Inbound,
		Local: netip.MustParseAddr("10.0.2.10"), LocalPort: 443,
		Remote: netip.MustParseAddr("198.51.100.7"), RemotePort: 50000}
	table.Track(client, 0, 0)
	reply := *client
	reply.Dir = conntrack.Outbound
	_, ok := table.Lookup(&reply, int64(100*time.Second))
	fmt.Println("reply after 100 s:", ok)
	_, ok = table.Lookup(&reply, int64(221*time.Second))
	fmt.Println("reply after 121 s more:", ok)
	// Output:
	// as an interface's: UdpTimeout: 120 is outside 30-60 seconds
	// as a balancer's: <nil>
	// reply after 100 s: true
	// reply after 121 s more: false
}
