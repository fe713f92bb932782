package prefix

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestAgreesWithNetip checks Contains against netip.Prefix.Contains over
// random prefixes and addresses of both families, sharing leading bits.
func TestAgreesWithNetip(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	randAddr := func(six bool) netip.Addr {
		if six {
			var b [16]byte
			b[0], b[1] = 0x20, 0x01
			for i := 2; i < 16; i++ {
				b[i] = byte(rng.IntN(4))
			}
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(4))})
	}
	for k := 0; k < 100000; k++ {
		pa := randAddr(rng.IntN(2) == 0)
		p := netip.PrefixFrom(pa, rng.IntN(pa.BitLen()+1)).Masked()
		a := randAddr(rng.IntN(2) == 0)
		m := Of(p)
		if got, want := m.Contains(AddrOf(a)), p.Contains(a); got != want {
			t.Fatalf("Of(%s).Contains(%s) = %v; want %v", p, a, got, want)
		}
	}
}
