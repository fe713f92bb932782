package nacl_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/sgsim/sgsim/nacl"
)

// BenchmarkEvaluate judges a packet against an ACL of 20 entries per
// direction that it matches last.
func BenchmarkEvaluate(b *testing.B) {
	a := nacl.New("acl-b", "vpc-1", false)
	for k := 1; k <= 19; k++ {
		for _, egress := range []bool{false, true} {
			if err := a.CreateEntry(nacl.Entry{RuleNumber: k * 10, Egress: egress, Protocol: 6, Action: nacl.Deny,
				CIDR: netip.MustParsePrefix(fmt.Sprintf("192.0.%d.0/24", k)), FromPort: 22, ToPort: 22}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := a.CreateEntry(nacl.Entry{RuleNumber: 200, Protocol: -1, Action: nacl.Allow, CIDR: netip.MustParsePrefix("10.0.0.0/8")}); err != nil {
		b.Fatal(err)
	}
	remote := netip.MustParseAddr("10.0.2.10")
	b.ReportAllocs()
	for b.Loop() {
		if !a.Evaluate(false, 6, 22, 0, 0, remote).Allowed() {
			b.Fatal("denied")
		}
	}
}
