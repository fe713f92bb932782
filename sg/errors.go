package sg

import (
	"fmt"

	"github.com/sgsim/sgsim/internal/awserr"
)

// Code is an EC2 API error code. Each Code value is also a sentinel error, so
// callers can test with errors.Is(err, sg.ErrDuplicate). Several sentinels
// share AWS's generic "InvalidParameterValue" code but stay distinct values.
type Code = awserr.Code

// Error codes returned by this package and by packages that build on it.
var (
	ErrDuplicate           = awserr.New("InvalidPermission.Duplicate", "the specified rule already exists")
	ErrDuplicateInRequest  = awserr.New("InvalidParameterValue", "the same permission must not appear multiple times")
	ErrNotFound            = awserr.New("InvalidPermission.NotFound", "the specified rule does not exist in this security group")
	ErrRulesLimit          = awserr.New("RulesPerSecurityGroupLimitExceeded", "the maximum number of rules per security group has been reached")
	ErrGroupsLimit         = awserr.New("SecurityGroupLimitExceeded", "the maximum number of security groups in the region has been reached")
	ErrInvalidPortRange    = awserr.New("InvalidParameterValue", "invalid port range")
	ErrInvalidProtocol     = awserr.New("InvalidParameterValue", "invalid IP protocol")
	ErrInvalidCIDR         = awserr.New("InvalidParameterValue", "malformed CIDR block")
	ErrInvalidGroup        = awserr.New("InvalidGroup.NotFound", "the security group does not exist")
	ErrDuplicateGroup      = awserr.New("InvalidGroup.Duplicate", "a security group with this ID or name already exists")
	ErrInvalidGroupName    = awserr.New("InvalidParameterValue", "invalid security group name")
	ErrInvalidDescription  = awserr.New("InvalidParameterValue", "invalid description")
	ErrInvalidPrefixList   = awserr.New("InvalidPrefixListID.NotFound", "the prefix list does not exist")
	ErrPrefixListEntries   = awserr.New("PrefixListMaxEntriesExceeded", "the prefix list has more entries than its MaxEntries")
	ErrPrefixListFamily    = awserr.New("InvalidParameterValue", "CIDR of the wrong address family for this prefix list")
	ErrCannotDelete        = awserr.New("CannotDelete", "the default security group cannot be deleted")
	ErrDependencyViolation = awserr.New("DependencyViolation", "resource is still in use")
	ErrInvalidQuota        = awserr.New("InvalidParameterValue", "invalid quota")
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
		msg = e.Code.Description()
	}
	s := e.Code.Name() + ": "
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
