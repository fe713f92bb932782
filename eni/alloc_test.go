package eni_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sgsim/sgsim/conntrack"
	"github.com/sgsim/sgsim/eni"
	"github.com/sgsim/sgsim/sg"
)

// flowFrames returns n request frames of distinct flows, and their replies.
func flowFrames(t testing.TB, n int, mk func(k int) (req, rep *eni.Packet)) (reqs, reps [][]byte) {
	for k := 0; k < n; k++ {
		a, b := mk(k)
		reqs = append(reqs, frame(t, a, k%2 == 1))
		reps = append(reps, frame(t, b, k%2 == 1))
	}
	return reqs, reps
}

// TestNoAllocs checks that judging a frame allocates nothing once the
// tracking table has grown: new tracked flows, replies on them, and
// refusals, for TCP, UDP and ICMP over IPv4 and IPv6, in both directions.
func TestNoAllocs(t *testing.T) {
	const n = 1024
	cases := []struct {
		name string
		mk   func(k int) (req, rep *eni.Packet)
	}{
		{"tcp4", func(k int) (*eni.Packet, *eni.Packet) {
			c, s := fmt.Sprintf("10.0.2.7:%d", 10000+k), "10.0.1.10:443"
			return tcp(c, s, eni.SYN), tcp(s, c, eni.SYN|eni.ACK)
		}},
		{"udp4", func(k int) (*eni.Packet, *eni.Packet) {
			c, s := fmt.Sprintf("10.0.2.7:%d", 10000+k), "10.0.1.10:53"
			return udp(c, s), udp(s, c)
		}},
		{"icmp4", func(k int) (*eni.Packet, *eni.Packet) {
			return icmp("10.0.2.7", "10.0.1.10", 8, 0, uint16(k)), icmp("10.0.1.10", "10.0.2.7", 0, 0, uint16(k))
		}},
		{"tcp6", func(k int) (*eni.Packet, *eni.Packet) {
			c, s := fmt.Sprintf("[2001:db8:1234:2::7]:%d", 10000+k), "[2001:db8:1234:1::10]:443"
			return tcp(c, s, eni.SYN), tcp(s, c, eni.SYN|eni.ACK)
		}},
		{"udp6", func(k int) (*eni.Packet, *eni.Packet) {
			c, s := fmt.Sprintf("[2001:db8:1234:2::7]:%d", 10000+k), "[2001:db8:1234:1::10]:53"
			return udp(c, s), udp(s, c)
		}},
		{"icmp6", func(k int) (*eni.Packet, *eni.Packet) {
			return icmp("2001:db8:1234:2::7", "2001:db8:1234:1::10", 128, 0, uint16(k)),
				icmp("2001:db8:1234:1::10", "2001:db8:1234:2::7", 129, 0, uint16(k))
		}},
	}
	for _, tc := range cases {
		for _, dir := range []eni.Direction{in, out} {
			t.Run(fmt.Sprintf("%s/%s", tc.name, dir), func(t *testing.T) {
				w := newWorld(t)
				id := w.group("srv", rule(sg.TCP, 443, 443, "10.0.0.0/8"), rule(sg.UDP, 53, 53, "10.0.0.0/8"),
					rule(sg.ICMP, -1, -1, "10.0.0.0/8"), rule(sg.TCP, 443, 443, "2001:db8::/32"),
					rule(sg.UDP, 53, 53, "2001:db8::/32"), rule(sg.ICMPv6, -1, -1, "2001:db8::/32"))
				// Outbound rules mirror the inbound ones, so that requests
				// leaving the interface are tracked flows too.
				require.NoError(t, w.reg.RevokeEgress(id, allRule("0.0.0.0/0")))
				_, err := w.reg.AuthorizeEgress(id, rule(sg.TCP, 443, 443, "10.0.0.0/8"), rule(sg.UDP, 53, 53, "10.0.0.0/8"),
					rule(sg.ICMP, -1, -1, "10.0.0.0/8"), rule(sg.TCP, 443, 443, "2001:db8::/32"),
					rule(sg.UDP, 53, 53, "2001:db8::/32"), rule(sg.ICMPv6, -1, -1, "2001:db8::/32"))
				require.NoError(t, err)
				cfg := conntrack.DefaultConfig()
				cfg.MaxEntries = n
				_, err = w.net.AddInterface(eni.InterfaceSpec{ID: "eni-1", SubnetID: "subnet-public", Groups: []string{id},
					PrivateIPv4: splitAddrs("10.0.1.10"), IPv6: splitAddrs("2001:db8:1234:1::10"), ConnTrack: &cfg, DisableSourceDestCheck: true})
				require.NoError(t, err)
				i := w.net.Interface("eni-1")
				reqs, reps := flowFrames(t, n, tc.mk)
				rdir := dir ^ 1
				// Warm up: fill the table so it has reached its full size.
				for k := range reqs {
					require.True(t, i.EvaluateFrame(dir, reqs[k], t0).Allowed())
				}
				now := t0.Add(time.Hour) // every entry has expired
				k := 0
				allocs := testing.AllocsPerRun(n-1, func() {
					now = now.Add(time.Millisecond)
					v := i.EvaluateFrame(dir, reqs[k], now)
					if !v.NewConn {
						t.Fatalf("request %d: %s", k, v)
					}
					v = i.EvaluateFrame(rdir, reps[k], now)
					if v.Reason != eni.ReasonTracked {
						t.Fatalf("reply %d: %s", k, v)
					}
					k++
				})
				assert.Zero(t, allocs, "new flow and reply")
				deny := frame(t, tcp("192.0.2.1:1", "10.0.1.10:9", eni.SYN), false)
				allocs = testing.AllocsPerRun(100, func() {
					if i.EvaluateFrame(dir, deny, now).Allowed() {
						t.Fatal("allowed")
					}
				})
				assert.Zero(t, allocs, "refusal")
			})
		}
	}
}
