package replay

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTake covers each way a wait for a batch ends: a batch that comes or
// a stop, either before take looks or once it has given up looking and
// blocked; and a wait with no stop at all. A wait that ended in blocking
// halves the spinner's budget; one that found a batch at once leaves it.
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
			s := newSpinner()
			if tc.blocked {
				taken := make(chan *batch)
				go func() { taken <- s.take(ch, arg) }()
				waitBlocked()
				end()
				got = <-taken
			} else {
				end()
				got = s.take(ch, arg)
			}
			want := b
			if tc.stopped {
				want = nil
			}
			require.Same(t, want, got)
			wantBudget := maxLooks
			if tc.blocked {
				wantBudget = maxLooks / 2
			}
			require.Equal(t, wantBudget, s.budget, "budget after the wait")
		})
	}
}

// TestSpinnerBudget follows a spinner's budget through waits: halved by
// each that blocked, down to minLooks; doubled by each that found a batch
// after looking, up to maxLooks; unchanged by one that found it at once.
func TestSpinnerBudget(t *testing.T) {
	for _, tc := range []struct {
		name  string
		waits []int // looks before a batch came; -1: the wait blocked
		want  int
	}{
		{name: "new", want: maxLooks},
		{name: "blocked once", waits: []int{-1}, want: maxLooks / 2},
		{name: "blocked often", waits: []int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, want: minLooks},
		{name: "found at once", waits: []int{-1, -1, 0, 0, 0}, want: maxLooks / 4},
		{name: "found after looking", waits: []int{-1, -1, 3}, want: maxLooks / 2},
		{name: "rises again", waits: []int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, want: maxLooks},
		{name: "never past the cap", waits: []int{5, 5}, want: maxLooks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpinner()
			for _, looks := range tc.waits {
				if looks < 0 {
					s.blocked()
				} else {
					s.found(looks)
				}
			}
			require.Equal(t, tc.want, s.budget)
		})
	}
}

// waitBlocked gives a goroutine that has started to take a batch time to
// look maxLooks times and block: ten milliseconds, a hundred times as
// long as the looking takes. The results do not depend on it; which of
// take's ways a case tests does.
func waitBlocked() {
	time.Sleep(10 * time.Millisecond)
}
