package eni

import (
	"net/netip"
	"time"
)

// Service names traffic that security groups (and network ACLs) never
// filter. The zero value, NoService, is ordinary traffic.
type Service uint8

const (
	NoService         Service = iota
	AmazonDNS                 // Route 53 Resolver: 169.254.169.253, fd00:ec2::253, VPC base+2
	InstanceMetadata          // IMDS: 169.254.169.254, fd00:ec2::254
	TimeSync                  // Amazon Time Sync: 169.254.169.123, fd00:ec2::123
	ECSTaskMetadata           // 169.254.170.2
	WindowsActivation         // 169.254.169.250, .251, fd00:ec2::250
	DHCP                      // UDP 67/68 (DHCPv4), 546/547 (DHCPv6)
	VPCRouter                 // subnet base+1, fe80:ec2::1
	numServices
)

var serviceNames = [numServices]string{"", "Amazon DNS", "instance metadata (IMDS)", "Amazon Time Sync",
	"ECS task metadata", "Windows license activation", "DHCP", "the VPC router's reserved address"}

func (s Service) String() string {
	if s < numServices {
		return serviceNames[s]
	}
	return "invalid"
}

var linkLocal = [...]struct {
	addr netip.Addr
	svc  Service
}{
	{netip.MustParseAddr("169.254.169.253"), AmazonDNS},
	{netip.MustParseAddr("fd00:ec2::253"), AmazonDNS},
	{netip.MustParseAddr("169.254.169.254"), InstanceMetadata},
	{netip.MustParseAddr("fd00:ec2::254"), InstanceMetadata},
	{netip.MustParseAddr("169.254.169.123"), TimeSync},
	{netip.MustParseAddr("fd00:ec2::123"), TimeSync},
	{netip.MustParseAddr("169.254.170.2"), ECSTaskMetadata},
	{netip.MustParseAddr("169.254.169.250"), WindowsActivation},
	{netip.MustParseAddr("169.254.169.251"), WindowsActivation},
	{netip.MustParseAddr("fd00:ec2::250"), WindowsActivation},
	{netip.MustParseAddr("fe80:ec2::1"), VPCRouter},
}

// serviceAddrs are the never-filtered addresses of one interface's VPC and
// subnet, resolved when the interface's state is compiled.
type serviceAddrs struct {
	dns     netip.Addr // VPC primary CIDR base+2
	router4 netip.Addr // subnet base+1
	router6 netip.Addr
}

// service reports whether a packet with this remote address is traffic
// security groups never filter. It runs per packet, so a prefix test keeps
// ordinary traffic away from the table scan.
func (s *serviceAddrs) service(p *Packet, remote netip.Addr) Service {
	if p.Proto == 17 && isDHCP(p.SrcPort, p.DstPort) {
		return DHCP
	}
	switch remote {
	case s.dns:
		return AmazonDNS
	case s.router4, s.router6:
		return VPCRouter
	}
	if remote.Is4() {
		if b := remote.As4(); b[0] != 169 || b[1] != 254 {
			return NoService
		}
	} else if b := remote.As16(); !(b[0] == 0xfd && b[1] == 0 && b[2] == 0x0e && b[3] == 0xc2) &&
		!(b[0] == 0xfe && b[1] == 0x80 && b[2] == 0x0e && b[3] == 0xc2) {
		return NoService
	}
	for _, l := range linkLocal {
		if l.addr == remote {
			return l.svc
		}
	}
	return NoService
}

func isDHCP(sp, dp uint16) bool {
	return (sp == 68 && dp == 67) || (sp == 67 && dp == 68) || (sp == 546 && dp == 547) || (sp == 547 && dp == 546)
}

// offset returns the address n after the base of p.
func offset(p netip.Prefix, n byte) netip.Addr {
	a := p.Masked().Addr()
	if a.Is4() {
		b := a.As4()
		b[3] += n
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	b[15] += n
	return netip.AddrFrom16(b)
}

// linkLocalLimited reports whether packets to the service count against
// an interface's link-local allowance: the Resolver, IMDS, Time Sync and
// Windows activation (AWS's list; not ECS task metadata, DHCP or the VPC
// router).
func (s Service) linkLocalLimited() bool {
	switch s {
	case AmazonDNS, InstanceMetadata, TimeSync, WindowsActivation:
		return true
	}
	return false
}

// LinkLocalPPS is how many packets a second an interface may send to
// [AmazonDNS], [InstanceMetadata], [TimeSync] and [WindowsActivation]
// together; AWS drops the rest and counts them as
// linklocal_allowance_exceeded. The limit is AWS's, and cannot be raised.
const LinkLocalPPS = 1024

// linkLocalBudget spends an interface's link-local allowance. AWS says
// "1024 packets per second" and no more; sgsim reads it as a token
// bucket that holds a second's worth and refills at that rate, so a
// burst of up to 1024 passes at once and a steady stream passes at 1024
// a second, however the seconds fall.
type linkLocalBudget struct {
	credit int64 // packets' worth, in units of 1/1e9 packet; LinkLocalPPS*1e9 when full
	last   int64 // Unix nanoseconds of the last refill
	used   bool  // credit and last are set; before that the budget is full
}

// spend reports whether a packet at time now fits the allowance, taking
// its share when commit is set. Time going back (captures merged out of
// order) refills nothing.
func (b *linkLocalBudget) spend(now int64, commit bool) bool {
	const full, cost = LinkLocalPPS * int64(time.Second), int64(time.Second)
	credit := full
	if b.used {
		credit = b.credit
		if d := now - b.last; d >= int64(time.Second) {
			credit = full
		} else if d > 0 {
			credit = min(full, credit+d*LinkLocalPPS)
		}
	}
	if credit < cost {
		return false
	}
	if commit {
		b.credit, b.used = credit-cost, true
		b.last = max(b.last, now)
	}
	return true
}
