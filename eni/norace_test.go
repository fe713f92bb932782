//go:build !race

package eni_test

// raceBuild: see race_test.go.
const raceBuild = false
