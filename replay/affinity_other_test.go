//go:build !linux

package replay_test

// allowedCPUs cannot tell the CPUs here: the benchmark leaves out its
// per-CPU decoding figures.
func allowedCPUs() []int { return nil }

// onCPU cannot hold a thread to a CPU here.
func onCPU(int, func()) bool { return false }
