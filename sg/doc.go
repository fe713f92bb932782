// Package sg models AWS VPC security groups: their rules, the managed prefix
// lists and group references those rules point at, AWS's quotas, and a
// compiled matcher that answers "which rule, if any, allows this packet".
//
// # Model
//
// A [Registry] holds a region's security groups and managed prefix lists.
// Rules are added and removed with the same verbs as the EC2 API
// ([Registry.AuthorizeIngress], [Registry.RevokeEgress], ...), with AWS's
// validation and its error codes (see [Error]). Every change takes effect at
// once and bumps [Registry.Generation], which is how compiled matchers know
// they are stale.
//
// Security groups are allow-only. The rules of every group attached to an
// interface form one set: order does not matter, and a packet is allowed if
// any rule matches it ("most permissive rule wins"). IPv4 rules never match
// IPv6 traffic and the reverse.
//
// # Compiled matching
//
// [Registry.Compile] turns the groups attached to one interface into an
// immutable [Ruleset]. For each direction, address family and protocol, the
// port (or ICMP type/code) space is cut into the elementary intervals that
// rule boundaries define, and each interval holds one prefix set: a short
// slice scanned in order of decreasing prefix length, or a
// [github.com/gaissmai/bart] table once it grows past a handful of prefixes.
// Judging a packet is a binary search over the intervals and one
// longest-prefix lookup, whatever the number of rules.
//
// When several rules match, the one reported is the one with the most
// specific peer prefix (ties go to the group attached first, then to the
// rule added first). Per-rule hit counters credit that rule only, so a rule
// that never decides a packet is one whose removal would change nothing for
// the traffic seen.
//
// # Choices where AWS documents nothing
//
//   - A rule that references a group matches the primary and secondary
//     private IPv4 addresses and the IPv6 addresses of every interface with
//     that group attached (AWS says "private IP addresses", plural), and
//     the prefixes delegated to those interfaces: EKS's cluster security
//     group lets pods on different nodes talk with its self-referencing
//     rule alone, pods whose addresses come from delegated prefixes too.
//   - A group-reference rule counts toward the IPv4 rule quota.
//   - A prefix list whose MaxEntries is zero weighs its Weight (AWS-managed
//     lists), or one rule if that is zero too.
//   - A rule is "open to the world" for the untracked-flow test when its peer
//     is the CIDR 0.0.0.0/0 or ::/0; a prefix list that happens to contain
//     0.0.0.0/0 does not count.
//   - The other direction "permits all response traffic" (AWS's second
//     untracked condition) with a -1 rule, or a TCP (UDP) rule for ports
//     0-65535, open to the world: AWS's text says "for all ports".
//   - A new custom group gets an all-traffic egress rule for IPv4 only, even
//     in a VPC with IPv6 (as AWS CDK models it; AWS's docs do not say).
//   - Searches of AWS's documentation found nothing more on these points;
//     each is a one-line change should AWS say otherwise.
package sg
