package sg

import "fmt"

// Quotas are the adjustable VPC quotas that bound security groups. The zero
// value is not usable; start from [DefaultQuotas].
type Quotas struct {
	// RulesPerGroup bounds inbound and outbound rules per group, counted
	// separately for each direction and for IPv4 and IPv6. AWS default 60.
	RulesPerGroup int
	// GroupsPerInterface bounds the groups attached to one network
	// interface. AWS default 5, at most 16.
	GroupsPerInterface int
	// GroupsPerRegion bounds the security groups in the region. AWS default 2,500.
	GroupsPerRegion int
}

// DefaultQuotas returns AWS's default quotas.
func DefaultQuotas() Quotas {
	return Quotas{RulesPerGroup: 60, GroupsPerInterface: 5, GroupsPerRegion: 2500}
}

// MaxGroupsPerInterface is the most groups AWS lets one interface carry.
const MaxGroupsPerInterface = 16

// maxRuleProduct bounds RulesPerGroup × GroupsPerInterface, as AWS does.
const maxRuleProduct = 1000

// Validate reports whether AWS would grant these quotas: every value
// positive, at most 16 groups per interface, and rules per group times
// groups per interface at most 1000.
func (q Quotas) Validate() error {
	switch {
	case q.RulesPerGroup < 1:
		return &Error{Code: ErrInvalidQuota, Value: fmt.Sprint(q.RulesPerGroup), Msg: "rules per group must be at least 1"}
	case q.GroupsPerInterface < 1 || q.GroupsPerInterface > MaxGroupsPerInterface:
		return &Error{Code: ErrInvalidQuota, Value: fmt.Sprint(q.GroupsPerInterface), Msg: "groups per interface must be 1-16"}
	case q.RulesPerGroup*q.GroupsPerInterface > maxRuleProduct:
		return &Error{Code: ErrInvalidQuota, Value: fmt.Sprintf("%d×%d", q.RulesPerGroup, q.GroupsPerInterface),
			Msg: "rules per group × groups per interface must be at most 1000"}
	case q.GroupsPerRegion < 1:
		return &Error{Code: ErrInvalidQuota, Value: fmt.Sprint(q.GroupsPerRegion), Msg: "groups per region must be at least 1"}
	}
	return nil
}
