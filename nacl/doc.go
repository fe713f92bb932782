// Package nacl models VPC network ACLs: numbered allow and deny entries per
// direction, evaluated lowest number first, first match wins, with the
// implicit "*" deny at the end. ACLs are stateless: a reply is judged like
// any other packet, so it needs entries of its own (ephemeral ports
// included).
//
// Entries follow CreateNetworkAclEntry: rule numbers 1-32766, unique per
// direction; protocol -1 or a number; port ranges for TCP (6) and UDP (17);
// ICMP type and code for ICMP (1) and for ICMPv6 (58) with an IPv6 CIDR,
// -1 meaning all. For every other protocol ports and ICMP fields are
// ignored. Protocol 58 with an IPv4 CIDR matches every ICMP type and code,
// whatever was specified; we read "all ICMP" as IPv4 packets of protocol 1
// or 58. IPv4 entries never judge IPv6 packets and the reverse. CIDRs are
// stored canonical (host bits masked). The entry quota (20 per direction
// and address family, up to 40) counts numbered entries; the "*" entries,
// which cannot be changed, do not count (AWS's 2023 text counted them, the
// current one counts per direction).
//
// An [ACL] may be changed while packets are judged: every change compiles
// a new immutable snapshot that the next evaluation uses. Judging a packet
// is a binary search over the port (or ICMP type/code) intervals that the
// entries define, then a walk of the few entries covering that interval,
// in rule-number order; it allocates nothing. A caller credits each packet
// to the entry that decided it ([Result.Count]), and [ACL.Usage] lists the
// entries with their counts: which entries traffic used, and which none did.
package nacl
