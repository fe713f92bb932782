package interval

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPartition(t *testing.T) {
	ranges := [][2]uint16{{22, 22}, {0, 0xffff}, {20, 30}, {31, 40}}
	starts, members := Partition(len(ranges), func(i int) (uint16, uint16) { return ranges[i][0], ranges[i][1] })
	assert.Equal(t, []uint16{0, 20, 22, 23, 31, 41}, starts)
	assert.Equal(t, [][]int{{1}, {1, 2}, {0, 1, 2}, {1, 2}, {1, 3}, {1}}, members)
	assert.Equal(t, 2, Find(starts, 22))
	assert.Equal(t, 5, Find(starts, 0xffff))
	assert.Equal(t, 0, Find(starts, 0))

	starts, members = Partition(0, nil)
	assert.Equal(t, []uint16{0}, starts)
	assert.Equal(t, [][]int{nil}, members)
}

// TestAgainstScan checks, for random ranges and keys, that the interval
// holding a key lists exactly the ranges containing it.
func TestAgainstScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 200; round++ {
		n := rng.IntN(12)
		ranges := make([][2]uint16, n)
		for i := range ranges {
			lo := uint16(rng.IntN(100))
			ranges[i] = [2]uint16{lo, lo + uint16(rng.IntN(30))}
			if rng.IntN(5) == 0 {
				ranges[i][1] = 0xffff
			}
		}
		starts, members := Partition(n, func(i int) (uint16, uint16) { return ranges[i][0], ranges[i][1] })
		for k := 0; k < 200; k++ {
			key := uint16(rng.IntN(140))
			if k == 0 {
				key = 0xffff
			}
			var want []int
			for i, r := range ranges {
				if r[0] <= key && key <= r[1] {
					want = append(want, i)
				}
			}
			got := members[Find(starts, key)]
			if !slices.Equal(want, got) {
				t.Fatalf("key %d: got %v, want %v (ranges %v)", key, got, want, ranges)
			}
		}
	}
}
