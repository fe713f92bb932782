package teach

import (
	"fmt"
	"io"
	"os"
)

// Main runs a lesson as a program: its output on stdout, an error on
// stderr with exit status 1.
func Main(name string, lesson func(io.Writer) error) {
	if err := lesson(os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
