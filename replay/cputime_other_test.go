//go:build !unix

package replay_test

import "time"

// cpuTime is not measured here: the benchmark leaves out its CPU ratio.
func cpuTime() time.Duration { return 0 }
