package eni_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/eni"
)

// BenchmarkAddInterfaces adds n interfaces one by one, as loading a large
// export does, then judges one packet (which builds the snapshots). The
// cost per interface should not grow with n.
func BenchmarkAddInterfaces(b *testing.B) {
	for _, n := range []int{1000, 8000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				net := eni.NewNetwork()
				_, err := net.AddVPC(eni.VPCSpec{ID: "vpc-1", DefaultGroupID: "sg-d", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
				require.NoError(b, err)
				_, err = net.AddSubnet(eni.SubnetSpec{ID: "s", VpcID: "vpc-1", CIDR: netip.MustParsePrefix("10.0.0.0/16")})
				require.NoError(b, err)
				for k := 0; k < n; k++ {
					_, err := net.AddInterface(eni.InterfaceSpec{ID: fmt.Sprintf("eni-%d", k), SubnetID: "s",
						PrivateIPv4: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(4 + k>>8), byte(k)})}, Groups: []string{"sg-d"}})
					require.NoError(b, err)
				}
				p := eni.TCP(netip.MustParseAddrPort("10.0.4.1:1000"), netip.MustParseAddrPort("10.0.4.2:22"), eni.SYN)
				net.Judge(&p, t0)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/interface")
		})
	}
}
