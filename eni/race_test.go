//go:build race

package eni_test

// raceBuild is set when the tests run under the race detector, which
// makes the long single-goroutine oracle tests ten times slower without
// finding more in them: they run fewer seeds then.
const raceBuild = true
