// Package interval cuts the 16-bit key space that rules match on (ports,
// or ICMP type<<8|code) into the elementary intervals their boundaries
// define, so that a packet's key finds its interval by binary search and
// each interval holds only the rules covering it.
package interval

import "slices"

// Partition cuts [0, 0xffff] at every rule boundary. bounds reports rule
// i's inclusive range. It returns each interval's first key, ascending and
// starting at 0, and the indices of the rules covering each interval, in
// rule order; adjacent intervals covered by the same rules are merged.
func Partition(n int, bounds func(i int) (lo, hi uint16)) (starts []uint16, members [][]int) {
	cuts := []uint16{0}
	for i := 0; i < n; i++ {
		lo, hi := bounds(i)
		cuts = append(cuts, lo)
		if hi < 0xffff {
			cuts = append(cuts, hi+1)
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	for _, c := range cuts {
		var cur []int
		for i := 0; i < n; i++ {
			if lo, hi := bounds(i); lo <= c && c <= hi {
				cur = append(cur, i)
			}
		}
		if len(starts) > 0 && slices.Equal(members[len(members)-1], cur) {
			continue
		}
		starts = append(starts, c)
		members = append(members, cur)
	}
	return starts, members
}

// Find returns the index of the interval holding key: the last start not
// above it. starts must come from Partition.
func Find(starts []uint16, key uint16) int {
	lo, hi := 0, len(starts)
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if starts[mid] <= key {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
