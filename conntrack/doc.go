// Package conntrack is the connection-tracking table of one network
// interface: it remembers the flows that security group rules admitted so
// that their return traffic passes whatever the rules of the other
// direction say, and it forgets them when they go idle, as AWS does.
//
// # What is tracked
//
// Entries are keyed from the interface's point of view (local address and
// port, remote address and port, protocol), so both directions of a flow
// find the same entry. TCP and UDP keep their ports; ICMP query messages
// (echo, timestamp, information, address mask; ICMPv6 echo and node
// information) keep their identifier; every other protocol is tracked by
// address pair and protocol number only, as AWS documents.
//
// What may open an entry: a TCP SYN without ACK (or, with
// [Config.TCPPickup], any TCP packet, for captures that start mid-stream),
// any UDP datagram, an ICMP query request, any packet of another protocol.
// ICMP errors and replies never open an entry: they have no reply of their
// own, and AWS does not let an ICMP error through on the strength of a
// tracked TCP or UDP flow.
//
// # Timeouts
//
// AWS documents three idle timeouts and their ranges; [Config.Validate]
// enforces them: TcpEstablishedTimeout 60-432000 s (default 432000),
// UdpTimeout 30-60 s (default 30, for UDP seen in one direction or as a
// single request and response) and UdpStreamTimeout 60-180 s (default 180,
// once a flow has made a second request after a reply). Other protocols
// live 600 s after their last packet.
//
// AWS documents nothing for TCP before the handshake completes, after FIN
// or RST, or for ICMP. We follow Linux's defaults, each configurable:
// 120 s for a handshake in progress, 120 s once either side sent FIN, 10 s
// after RST or after both sides sent FIN, and 30 s for ICMP queries. A SYN
// on a closed entry starts a new connection, judged by the rules again.
//
// An entry expires once it has been idle for at least its timeout. The
// table remembers its most recent expiries (about as many as it has held
// entries at once, up to 4,096), so that a packet refused once its flow
// has gone can be told what it lost ([Table.Idled]); verdicts never
// depend on that memory.
//
// # Time and memory
//
// Time is whatever the caller says: each call takes the packet's timestamp
// in Unix nanoseconds, so replaying a capture is deterministic. Expired
// entries are dropped when a lookup finds them and, a few per call, from
// the head of per-state lists ordered by last use: never by a full scan.
//
// The table is an open-addressing index over a slab of fixed-size,
// pointer-free entries. Each index slot holds an entry's place and 32 bits
// of its key's hash, so that a search reads only the entry it finds. It grows on demand up to
// [Config.MaxEntries]; when it is full and nothing has expired, a packet
// that needs a new entry is refused and counted, like AWS's
// conntrack_allowance_exceeded. Entries already in the table keep working.
// A flow whose packet is marked [Packet.Double] counts as two entries
// against the capacity, as AWS counts a connection through a DynamoDB
// gateway endpoint.
//
// A caller that sees the same flow again and again (a replay) keeps a
// [Hint] per kind of packet: [Table.LookupHint] then finds the entry by
// its remembered slot, checked against the stored key, or knows it is
// still absent when no entry has been made since, without building or
// hashing the key; [Table.Predict] tells beforehand, changing nothing,
// what the lookup will answer. Both answer exactly as [Table.Lookup].
//
// A Table is not safe for concurrent use.
package conntrack
