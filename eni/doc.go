// Package eni models VPC network interfaces, the VPCs and subnets they live
// in, and the check AWS applies to every packet that crosses one.
//
// A [Network] holds VPCs, subnets, interfaces and the security group
// [sg.Registry]. Interfaces carry 1 to 5 groups (the quota goes to 16);
// a rule that references a group matches the private addresses of every
// interface carrying it, so attaching, detaching or re-addressing an
// interface changes what those rules match at the next packet.
//
// # The check at one interface
//
//	frame ──► decode ──► never-filtered service? ──► source/dest check ──► EC2 port 25
//	                          │ yes: ALLOW, or DENY past the                   │
//	                          ▼ link-local allowance                           ▼
//	                                            tracked connection? ──yes──► ALLOW
//	                                                   │ no
//	                                                   ▼
//	                               union of the attached groups' rules ──none──► DENY
//	                                                   │ match
//	                                                   ▼
//	             untracked (open to the world both ways)? ──yes──► ALLOW, no entry
//	                                                   │ no
//	                                                   ▼
//	                            open a tracked connection ──table full──► DENY
//	                                                   │
//	                                                   ▼
//	                                                 ALLOW
//
// Each [Verdict] records the stage that decided it, the rule
// ([sg.RuleRef]) or tracked connection ([conntrack.Conn]) involved, and
// can explain itself in a sentence; the text is built only on request, so
// judging a packet allocates nothing.
//
// # A packet's whole path
//
// [Network.JudgeInto] follows a packet from its source interface through
// the subnets' network ACLs to its destination interface ([Path]). A
// packet that names an interface's public IPv4 address
// ([InterfaceSpec.PublicIPv4]) is first given the private one, as the
// internet gateway translates it ([Path.Public]). A packet from one
// interface to another's public address goes out through the gateway and
// back in ([Path.Hairpin]): the destination sees the source's public
// address, which no rule referencing the source's group matches. An
// address in a prefix delegated to an interface ([InterfaceSpec.Prefixes])
// is the interface's. A route table's route to an interface
// ([Network.AddRouteTable]) sends packets through it, an appliance
// ([Path.Via]): a firewall, a Gateway Load Balancer endpoint or a NAT
// gateway, whose replies come back through it too; the appliance's subnet
// may route them through a second ([Path.Vias]). A packet that no route
// of its subnet's table covers is dropped as it leaves the subnet
// ([ReasonNoRoute]), and so is one a blackhole route matches. Network ACL entries count the packets they decided
// ([Network.ACLUsage]), as rules do. [Network.Exchange] judges a
// connection's first packet and its reply, and [Path.Err] explains a
// refusal as an error: what a test of a design needs. A refusal for want
// of a tracked connection that had gone idle says so ([Verdict.IdledOut]). A
// replay judges every frame through a [FlowCache], which answers exactly
// as JudgeInto does and remembers, per kind of packet, what only a change
// of configuration can alter, so that a flow's later packets skip the
// lookups; [FlowCache.JudgeEach] judges a batch of packets at once, and
// [FlowCache.JudgeEachHashed] a batch whose [Packet.FlowHash] values were
// worked out beforehand, as a replay does on the goroutine that decodes.
//
// A network judges one packet, or one batch, at a time: every interface's
// connection tracking, counters and compiled rules sit behind a single
// lock, so a packet's path is judged whole, and changes made from other
// goroutines apply between packets.
//
// # Choices where AWS documents nothing
//
//   - Later fragments carry no ports; they share the verdict of their
//     datagram's first fragment for 30 seconds, and are refused when no
//     allowed first fragment was seen.
//   - The source/destination check refuses inbound packets not addressed to
//     the interface and outbound packets not sent from it.
//   - EC2's port 25 restriction applies to interfaces of type "interface",
//     to destinations outside the VPC's CIDR blocks.
//   - Amazon DNS is the primary VPC CIDR's base+2 (and 169.254.169.253,
//     fd00:ec2::253); the VPC router is each subnet's base+1 (and
//     fe80:ec2::1). DHCP is recognised by its UDP ports.
//   - A network ACL entry counts a packet when its answer applied: not at
//     a stage judged only to explain an earlier refusal, nor for traffic
//     no ACL filters.
//   - The link-local allowance ([LinkLocalPPS], 1024 packets a second
//     that an interface sends to Amazon DNS, IMDS, Time Sync and Windows
//     activation together) is a token bucket: a burst of up to 1024
//     passes at once, and it refills at 1024 a second. Replies from the
//     services do not count.
//   - A flow whose route goes through a gateway AWS always tracks (an
//     egress-only internet gateway, a NAT gateway, a transit gateway, a
//     Gateway Load Balancer or firewall endpoint, a DynamoDB gateway
//     endpoint) is tracked at the instance's interface, whatever its
//     rules say: the gateway has no security groups of its own. Transit
//     gateways and Gateway Load Balancers are on AWS's 2023 list only;
//     sgsim takes both lists. A DynamoDB connection takes two entries of
//     the interface's table, as AWS counts them.
//   - An egress-only internet gateway or a NAT gateway lets in a packet
//     from the internet when the destination interface tracks a live
//     connection for it that the interface opened. AWS tracks every flow
//     through either gateway, so that table holds every connection the
//     gateway saw go out. A NAT gateway also keeps the TCP connections
//     it translates, in its interface's table: a SYN from inside opens
//     one, and one idle for 350 s ([NATGatewayIdleTimeout], fixed) is
//     dropped, whatever the instance's table keeps, so the next packet
//     from either side is refused at the gateway
//     (NAT_GATEWAY_NO_CONNECTION). AWS resets the instance's, in the far
//     end's name: a reset from the internet's side that no connection
//     explains is taken for that one (NAT_GATEWAY_RESET). For UDP
//     and ICMP, whose gateway timeouts AWS does not document, and for
//     the egress-only gateway, the interface's timeouts stand in for
//     the gateway's. The gateway judges
//     what the destination subnet's route for the source sends to it (for
//     a NAT gateway, to an interface without a public address), whether
//     or not the VPC also has an internet gateway. An ICMP error about an
//     instance's flow (Packet Too Big, say) is refused there, as the
//     table ties no error to a flow (see the conntrack package). A
//     Network Load Balancer that keeps its clients' addresses delivers
//     packets from the internet to its targets by another way: with its
//     target groups ([Network.AddTargetGroup]), a packet between the
//     internet and a target's address and port goes by the balancer,
//     past the routes, and AWS tracks the flow. The balancer keeps its
//     flows itself: a client's SYN (or any UDP packet) opens one, and one
//     idle for 350 s (or its TCP listener's timeout; UDP: 120 s;
//     [BalancerTCPIdleTimeout]) is dropped,
//     whatever the target's table keeps, so the next packet from either
//     side is refused at the balancer (NLB_NO_FLOW, a [RouteDrop] with
//     NoBalancerFlow). Without target groups, such a packet, to a target
//     behind either gateway, is refused as if it had come through the
//     gateway.
package eni
