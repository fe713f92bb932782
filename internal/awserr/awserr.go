// Package awserr holds the error-code type that sg, nacl and eni share: an
// EC2 API error code that is also a sentinel for errors.Is.
package awserr

// Code is an EC2 API error code with a short description. Several codes
// may share AWS's name (InvalidParameterValue) and stay distinct values.
type Code struct{ name, what string }

// New returns a code; what describes it in messages that say no more.
func New(name, what string) *Code { return &Code{name: name, what: what} }

// Error returns the AWS error code, so a Code is itself an error.
func (c *Code) Error() string { return c.name }

// Name returns the AWS error code, for example "InvalidPermission.Duplicate".
func (c *Code) Name() string { return c.name }

// Description returns the code's short description.
func (c *Code) Description() string { return c.what }
