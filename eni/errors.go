package eni

import (
	"fmt"

	"github.com/sgsim/sgsim/internal/awserr"
)

// Code is an EC2 API error code; each is also a sentinel for errors.Is.
type Code = awserr.Code

// Error codes returned by this package.
var (
	ErrInterfaceNotFound  = awserr.New("InvalidNetworkInterfaceID.NotFound", "the network interface does not exist")
	ErrInterfaceExists    = awserr.New("InvalidNetworkInterfaceID.Duplicate", "a network interface with this ID exists")
	ErrVPCNotFound        = awserr.New("InvalidVpcID.NotFound", "the VPC does not exist")
	ErrVPCExists          = awserr.New("InvalidVpcID.Duplicate", "a VPC with this ID exists")
	ErrSubnetNotFound     = awserr.New("InvalidSubnetID.NotFound", "the subnet does not exist")
	ErrSubnetExists       = awserr.New("InvalidSubnetID.Duplicate", "a subnet with this ID exists")
	ErrSubnetRange        = awserr.New("InvalidSubnet.Range", "the CIDR is not within the VPC's CIDRs, or is too large or small")
	ErrInvalidCIDR        = awserr.New("InvalidParameterValue", "malformed CIDR block")
	ErrAddressInUse       = awserr.New("InvalidIPAddress.InUse", "the address is assigned to another interface")
	ErrAddressRange       = awserr.New("InvalidParameterValue", "the address is not usable in the interface's subnet")
	ErrNoGroups           = awserr.New("InvalidParameterValue", "an interface needs at least one security group")
	ErrTooManyGroups      = awserr.New("SecurityGroupsPerInterfaceLimitExceeded", "too many security groups for one interface")
	ErrGroupNotFound      = awserr.New("InvalidGroup.NotFound", "the security group does not exist")
	ErrGroupVPC           = awserr.New("InvalidParameterValue", "the security group belongs to another VPC")
	ErrNotAttached        = awserr.New("InvalidGroup.NotFound", "the security group is not attached to the interface")
	ErrConnTrack          = awserr.New("InvalidParameterValue", "invalid connection tracking setting")
	ErrACLNotFound        = awserr.New("InvalidNetworkAclID.NotFound", "the network ACL does not exist")
	ErrACLExists          = awserr.New("InvalidNetworkAclID.Duplicate", "a network ACL with this ID exists")
	ErrACLVPC             = awserr.New("InvalidParameterValue", "the network ACL belongs to another VPC")
	ErrACLInUse           = awserr.New("DependencyViolation", "the network ACL is the VPC's default or is associated with subnets")
	ErrInvalidRouteTable  = awserr.New("InvalidParameterValue", "invalid route table")
	ErrInvalidTargetGroup = awserr.New("ValidationError", "invalid target group")
)

// Error is a rejected request. It names the resource, the field and the
// offending value, and unwraps to its [Code].
type Error struct {
	Code     *Code
	Resource string // interface, subnet or VPC ID
	Field    string // e.g. "Groups", "PrivateIpAddresses[1]"
	Value    string
	Msg      string
}

func (e *Error) Error() string {
	s := e.Code.Name() + ": "
	if e.Resource != "" {
		s += e.Resource + ": "
	}
	if e.Field != "" {
		s += e.Field + ": "
	}
	msg := e.Msg
	if msg == "" {
		msg = e.Code.Description()
	}
	if e.Value != "" {
		return s + fmt.Sprintf("%q: %s", e.Value, msg)
	}
	return s + msg
}

// Unwrap returns the error's code.
func (e *Error) Unwrap() error { return e.Code }
