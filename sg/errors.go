package sg

import "fmt"

// Code is an EC2 API error code. Each Code value is also a sentinel error, so
// callers can test with errors.Is(err, sg.ErrDuplicate). Several sentinels
// share AWS's generic "InvalidParameterValue" code but stay distinct values.
type Code struct {
	name string // AWS's error code
	what string // short description, for messages
}

func (c *Code) Error() string { return c.name }

// Name returns the AWS error code, for example "InvalidPermission.Duplicate".
func (c *Code) Name() string { return c.name }

// Error codes returned by this package and by packages that build on it.
var (
	ErrDuplicate           = &Code{"InvalidPermission.Duplicate", "the specified rule already exists"}
	ErrDuplicateInRequest  = &Code{"InvalidParameterValue", "the same permission must not appear multiple times"}
	ErrNotFound            = &Code{"InvalidPermission.NotFound", "the specified rule does not exist in this security group"}
	ErrRulesLimit          = &Code{"RulesPerSecurityGroupLimitExceeded", "the maximum number of rules per security group has been reached"}
	ErrGroupsLimit         = &Code{"SecurityGroupLimitExceeded", "the maximum number of security groups in the region has been reached"}
	ErrInvalidPortRange    = &Code{"InvalidParameterValue", "invalid port range"}
	ErrInvalidProtocol     = &Code{"InvalidParameterValue", "invalid IP protocol"}
	ErrInvalidCIDR         = &Code{"InvalidParameterValue", "malformed CIDR block"}
	ErrInvalidGroup        = &Code{"InvalidGroup.NotFound", "the security group does not exist"}
	ErrDuplicateGroup      = &Code{"InvalidGroup.Duplicate", "a security group with this ID or name already exists"}
	ErrInvalidGroupName    = &Code{"InvalidParameterValue", "invalid security group name"}
	ErrInvalidDescription  = &Code{"InvalidParameterValue", "invalid description"}
	ErrInvalidPrefixList   = &Code{"InvalidPrefixListID.NotFound", "the prefix list does not exist"}
	ErrPrefixListEntries   = &Code{"PrefixListMaxEntriesExceeded", "the prefix list has more entries than its MaxEntries"}
	ErrPrefixListFamily    = &Code{"InvalidParameterValue", "CIDR of the wrong address family for this prefix list"}
	ErrCannotDelete        = &Code{"CannotDelete", "the default security group cannot be deleted"}
	ErrDependencyViolation = &Code{"DependencyViolation", "resource is still in use"}
	ErrInvalidQuota        = &Code{"InvalidParameterValue", "invalid quota"}
)

// Error is the error returned for a rejected request. It names the group (or
// prefix list) and the offending value, and unwraps to its [Code].
type Error struct {
	Code  *Code
	Group string // security group or prefix list ID, when known
	Value string // the offending value, quoted in the message
	Msg   string // detail; defaults to the code's description
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = e.Code.what
	}
	s := e.Code.name + ": "
	if e.Group != "" {
		s += e.Group + ": "
	}
	if e.Value != "" {
		return s + fmt.Sprintf("%q: %s", e.Value, msg)
	}
	return s + msg
}

// Unwrap returns the error's code, so errors.Is matches the sentinels.
func (e *Error) Unwrap() error { return e.Code }

func errorf(code *Code, group, value, format string, args ...any) *Error {
	return &Error{Code: code, Group: group, Value: value, Msg: fmt.Sprintf(format, args...)}
}
