package sg

import "net/netip"

// PrefixList is a managed prefix list: a named set of CIDRs of one address
// family that rules reference by ID. Rules always use the current entries.
type PrefixList struct {
	ID      string
	Name    string
	OwnerID string // "AWS" for AWS-managed lists
	IPv6    bool   // the list's address family
	// MaxEntries is what a referencing rule weighs against the rule quota
	// for customer-managed lists.
	MaxEntries int
	// Weight is what a referencing rule weighs for AWS-managed lists, which
	// have no MaxEntries (CloudFront origin-facing weighs 55).
	Weight  int
	Entries []PrefixListEntry
}

// PrefixListEntry is one CIDR of a prefix list.
type PrefixListEntry struct {
	CIDR        netip.Prefix
	Description string
}

// weight returns what one rule referencing the list counts against the quota.
func (pl *PrefixList) weight() int {
	switch {
	case pl.MaxEntries > 0:
		return pl.MaxEntries
	case pl.Weight > 0:
		return pl.Weight
	}
	return 1
}

func (pl *PrefixList) family() int {
	if pl.IPv6 {
		return fam6
	}
	return fam4
}

func (pl *PrefixList) validateEntries(entries []PrefixListEntry) ([]PrefixListEntry, error) {
	if pl.MaxEntries > 0 && len(entries) > pl.MaxEntries {
		return nil, errorf(ErrPrefixListEntries, pl.ID, "", "%d entries, MaxEntries is %d", len(entries), pl.MaxEntries)
	}
	out := make([]PrefixListEntry, len(entries))
	for i, e := range entries {
		if !e.CIDR.IsValid() || e.CIDR.Addr().Is4In6() {
			return nil, &Error{Code: ErrInvalidCIDR, Group: pl.ID, Value: e.CIDR.String()}
		}
		if e.CIDR.Addr().Is6() != pl.IPv6 {
			return nil, &Error{Code: ErrPrefixListFamily, Group: pl.ID, Value: e.CIDR.String()}
		}
		out[i] = PrefixListEntry{CIDR: e.CIDR.Masked(), Description: e.Description}
	}
	return out, nil
}
