package replay

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTake covers each way a wait for a batch ends: a batch that comes or
// a stop, either before take looks or once it has given up looking and
// blocked; and a wait with no stop at all.
func TestTake(t *testing.T) {
	b := new(batch)
	for _, tc := range []struct {
		name    string
		blocked bool // the batch or the stop comes once take has blocked
		stopped bool // the stop comes, not the batch
		noStop  bool // take is given no stop channel
	}{
		{name: "ready"},
		{name: "after blocking", blocked: true},
		{name: "stopped", stopped: true},
		{name: "stopped while blocked", blocked: true, stopped: true},
		{name: "no stop", blocked: true, noStop: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, stop := make(chan *batch, 1), make(chan struct{})
			arg := stop
			if tc.noStop {
				arg = nil
			}
			end := func() {
				if tc.stopped {
					close(stop)
				} else {
					ch <- b
				}
			}
			var got *batch
			if tc.blocked {
				taken := make(chan *batch)
				go func() { taken <- take(ch, arg) }()
				waitBlocked()
				end()
				got = <-taken
			} else {
				end()
				got = take(ch, arg)
			}
			want := b
			if tc.stopped {
				want = nil
			}
			require.Same(t, want, got)
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
