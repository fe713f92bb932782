package main

import (
	"testing"

	"github.com/sgsim/sgsim/examples/internal/golden"
)

func TestGolden(t *testing.T) { golden.Check(t, "lesson", lesson) }
