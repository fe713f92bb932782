package flowlog

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/gaissmai/bart"
)

// AWSRanges are the address ranges of AWS services, as AWS publishes them
// in ip-ranges.json (https://ip-ranges.amazonaws.com/ip-ranges.json): what
// the fields pkt-src-aws-service and pkt-dst-aws-service name.
type AWSRanges struct {
	table bart.Table[string]
	n     int
}

// ipRanges is ip-ranges.json.
type ipRanges struct {
	SyncToken  string `json:"syncToken"`
	CreateDate string `json:"createDate"`
	Prefixes   []struct {
		IPPrefix string `json:"ip_prefix"`
		Service  string `json:"service"`
	} `json:"prefixes"`
	IPv6Prefixes []struct {
		IPv6Prefix string `json:"ipv6_prefix"`
		Service    string `json:"service"`
	} `json:"ipv6_prefixes"`
}

// ParseAWSRanges reads ip-ranges.json. An address in several ranges is
// given the service of the narrowest; of the services that list that same
// range, one other than AMAZON (the superset of all), the first in
// alphabetical order. AWS says only that the field shows one of the
// overlapping ranges' services.
func ParseAWSRanges(data []byte) (*AWSRanges, error) {
	var x ipRanges
	if err := json.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("not ip-ranges.json: %v", err)
	}
	services := map[netip.Prefix][]string{}
	add := func(field string, k int, s, service string) error {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%s[%d]: %q is not a CIDR block", field, k, s)
		}
		if service == "" {
			return fmt.Errorf("%s[%d].service: is missing", field, k)
		}
		p = p.Masked()
		services[p] = append(services[p], service)
		return nil
	}
	for k, p := range x.Prefixes {
		if err := add("prefixes", k, p.IPPrefix, p.Service); err != nil {
			return nil, err
		}
	}
	for k, p := range x.IPv6Prefixes {
		if err := add("ipv6_prefixes", k, p.IPv6Prefix, p.Service); err != nil {
			return nil, err
		}
	}
	r := &AWSRanges{}
	for p, list := range services {
		slices.Sort(list)
		name := list[0]
		for _, s := range list {
			if s != "AMAZON" {
				name = s
				break
			}
		}
		r.table.Insert(p, name)
		r.n++
	}
	return r, nil
}

// Service returns the service whose range holds a, or "".
func (r *AWSRanges) Service(a netip.Addr) string {
	if r == nil {
		return ""
	}
	s, _ := r.table.Lookup(a.Unmap())
	return s
}

// Len returns how many distinct ranges there are.
func (r *AWSRanges) Len() int { return r.n }
