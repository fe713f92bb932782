package nacl_test

import (
	"fmt"
	"net/netip"

	"github.com/sgsim/sgsim/nacl"
)

// Entries are read lowest number first and the first match decides: a
// deny at 90 blocks one network before the allow at 100 admits the rest.
func ExampleACL_Evaluate() {
	acl := nacl.New("acl-1", "vpc-1", false)
	acl.CreateEntry(nacl.Entry{RuleNumber: 90, Protocol: 6, Action: nacl.Deny,
		CIDR: netip.MustParsePrefix("198.51.100.0/24"), FromPort: 22, ToPort: 22})
	acl.CreateEntry(nacl.Entry{RuleNumber: 100, Protocol: -1, Action: nacl.Allow,
		CIDR: netip.MustParsePrefix("0.0.0.0/0")})
	for _, src := range []string{"198.51.100.5", "203.0.113.9"} {
		r := acl.Evaluate(false, 6, 22, 0, 0, netip.MustParseAddr(src))
		e, _ := acl.Entry(false, r.RuleNumber)
		fmt.Printf("ssh from %s: %s by entry %s\n", src, r.Action, e)
	}
	// Nothing allows traffic out: the * entry denies it.
	r := acl.Evaluate(true, 6, 50000, 0, 0, netip.MustParseAddr("203.0.113.9"))
	fmt.Println("reply out:", r.Action, r.RuleNumber)
	// Output:
	// ssh from 198.51.100.5: deny by entry 90 deny tcp 22 from 198.51.100.0/24
	// ssh from 203.0.113.9: allow by entry 100 allow all traffic from 0.0.0.0/0
	// reply out: deny 32767
}
