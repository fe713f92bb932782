//go:build linux

package replay_test

import (
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cpuMask is a Linux CPU set, for up to 1,024 CPUs.
type cpuMask [16]uint64

func getAffinity(m *cpuMask) bool {
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m)))
	return errno == 0
}

func setAffinity(m *cpuMask) bool {
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m)))
	return errno == 0
}

// allowedCPUs lists the CPUs the calling thread may run on, or nil when
// it cannot tell.
func allowedCPUs() []int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var m cpuMask
	if !getAffinity(&m) {
		return nil
	}
	return maskCPUs(&m)
}

// maskCPUs lists the CPUs set in m, in order.
func maskCPUs(m *cpuMask) []int {
	var cpus []int
	for w, bits := range m {
		for b := range 64 {
			if bits&(1<<b) != 0 {
				cpus = append(cpus, 64*w+b)
			}
		}
	}
	return cpus
}

// onCPU runs f on the calling goroutine with its thread held to one CPU,
// then lets the thread run anywhere it could before. It reports false,
// without running f, when the thread cannot be held there.
func onCPU(cpu int, f func()) bool {
	if cpu < 0 || cpu >= 64*len(cpuMask{}) {
		return false
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var was cpuMask
	if !getAffinity(&was) {
		return false
	}
	var one cpuMask
	one[cpu/64] = 1 << (cpu % 64)
	if !setAffinity(&one) {
		return false
	}
	defer setAffinity(&was)
	f()
	return true
}

func TestOnCPUHoldsTheThreadThenLetsItGo(t *testing.T) {
	cpus := allowedCPUs()
	if len(cpus) == 0 {
		t.Skip("the thread's CPUs cannot be read here")
	}
	last := cpus[len(cpus)-1]
	var inside []int
	ran := onCPU(last, func() {
		// Still locked to the thread onCPU held: its mask is the one CPU.
		var m cpuMask
		require.True(t, getAffinity(&m))
		inside = maskCPUs(&m)
	})
	require.True(t, ran)
	assert.Equal(t, []int{last}, inside)
	assert.Equal(t, cpus, allowedCPUs(), "the thread's CPUs after onCPU")
	assert.False(t, onCPU(-1, func() { t.Fatal("ran on CPU -1") }))
	assert.False(t, onCPU(64*len(cpuMask{}), func() { t.Fatal("ran past the mask") }))
}
