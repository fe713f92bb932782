package eni

import "fmt"

// Code is an EC2 API error code; each is also a sentinel for errors.Is.
type Code struct{ name, what string }

func (c *Code) Error() string { return c.name }

// Name returns the AWS error code.
func (c *Code) Name() string { return c.name }

// Error codes returned by this package.
var (
	ErrInterfaceNotFound = &Code{"InvalidNetworkInterfaceID.NotFound", "the network interface does not exist"}
	ErrInterfaceExists   = &Code{"InvalidNetworkInterfaceID.Duplicate", "a network interface with this ID exists"}
	ErrVPCNotFound       = &Code{"InvalidVpcID.NotFound", "the VPC does not exist"}
	ErrVPCExists         = &Code{"InvalidVpcID.Duplicate", "a VPC with this ID exists"}
	ErrSubnetNotFound    = &Code{"InvalidSubnetID.NotFound", "the subnet does not exist"}
	ErrSubnetExists      = &Code{"InvalidSubnetID.Duplicate", "a subnet with this ID exists"}
	ErrSubnetRange       = &Code{"InvalidSubnet.Range", "the CIDR is not within the VPC's CIDRs, or is too large or small"}
	ErrInvalidCIDR       = &Code{"InvalidParameterValue", "malformed CIDR block"}
	ErrAddressInUse      = &Code{"InvalidIPAddress.InUse", "the address is assigned to another interface"}
	ErrAddressRange      = &Code{"InvalidParameterValue", "the address is not usable in the interface's subnet"}
	ErrNoGroups          = &Code{"InvalidParameterValue", "an interface needs at least one security group"}
	ErrTooManyGroups     = &Code{"SecurityGroupsPerInterfaceLimitExceeded", "too many security groups for one interface"}
	ErrGroupNotFound     = &Code{"InvalidGroup.NotFound", "the security group does not exist"}
	ErrGroupVPC          = &Code{"InvalidParameterValue", "the security group belongs to another VPC"}
	ErrNotAttached       = &Code{"InvalidGroup.NotFound", "the security group is not attached to the interface"}
	ErrConnTrack         = &Code{"InvalidParameterValue", "invalid connection tracking setting"}
	ErrACLNotFound       = &Code{"InvalidNetworkAclID.NotFound", "the network ACL does not exist"}
	ErrACLExists         = &Code{"InvalidNetworkAclID.Duplicate", "a network ACL with this ID exists"}
	ErrACLVPC            = &Code{"InvalidParameterValue", "the network ACL belongs to another VPC"}
	ErrACLInUse          = &Code{"DependencyViolation", "the network ACL is the VPC's default or is associated with subnets"}
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
	s := e.Code.name + ": "
	if e.Resource != "" {
		s += e.Resource + ": "
	}
	if e.Field != "" {
		s += e.Field + ": "
	}
	msg := e.Msg
	if msg == "" {
		msg = e.Code.what
	}
	if e.Value != "" {
		return s + fmt.Sprintf("%q: %s", e.Value, msg)
	}
	return s + msg
}

// Unwrap returns the error's code.
func (e *Error) Unwrap() error { return e.Code }
