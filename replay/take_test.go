package replay

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTake covers each way a wait for a batch ends: one ready at once, one
// that comes once take has given up looking and blocked, and a stop with
// nothing coming, at once or while take is blocked.
func TestTake(t *testing.T) {
	b := new(batch)
	for _, tc := range []struct {
		name string
		run  func(ch chan *batch, stop chan struct{}) *batch
		want *batch
	}{
		{"ready", func(ch chan *batch, stop chan struct{}) *batch {
			ch <- b
			return take(ch, stop)
		}, b},
		{"after blocking", func(ch chan *batch, stop chan struct{}) *batch {
			got := make(chan *batch)
			go func() { got <- take(ch, stop) }()
			waitBlocked()
			ch <- b
			return <-got
		}, b},
		{"stopped", func(ch chan *batch, stop chan struct{}) *batch {
			close(stop)
			return take(ch, stop)
		}, nil},
		{"stopped while blocked", func(ch chan *batch, stop chan struct{}) *batch {
			got := make(chan *batch)
			go func() { got <- take(ch, stop) }()
			waitBlocked()
			close(stop)
			return <-got
		}, nil},
		{"no stop", func(ch chan *batch, _ chan struct{}) *batch {
			got := make(chan *batch)
			go func() { got <- take(ch, nil) }()
			waitBlocked()
			ch <- b
			return <-got
		}, b},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Same(t, tc.want, tc.run(make(chan *batch, 1), make(chan struct{})))
		})
	}
}

// waitBlocked gives a goroutine that has started to take a batch time to
// look handoffTries times and block: ten milliseconds, a hundred times as
// long as the looking takes. The results do not depend on it; which of
// take's ways a case tests does.
func waitBlocked() {
	time.Sleep(10 * time.Millisecond)
}
