package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a progress bar on stderr while a capture replays, only
// when stderr is a terminal and only once the replay has taken more than
// a moment, so pipes, logs and quick runs stay clean. A capture of
// unknown size (piped in) shows the bytes read so far instead.
type progress struct {
	w       io.Writer
	size    int64
	read    *countingReader
	start   time.Time
	frames  int
	bar     *progressbar.ProgressBar
	enabled bool
	shown   bool // drawn: past the delay
}

const progressDelay = 700 * time.Millisecond

func newProgress(stderr io.Writer, size int64, read *countingReader) *progress {
	p := &progress{w: stderr, size: size, read: read, start: time.Now()}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.enabled = true
		p.bar = p.newBar()
	}
	return p
}

func (p *progress) tick() {
	if !p.enabled {
		return
	}
	p.frames++
	if p.frames&4095 != 0 {
		return
	}
	if !p.shown {
		if time.Since(p.start) < progressDelay {
			return
		}
		if p.bar == nil { // enabled by a test
			p.bar = p.newBar()
		}
		p.shown = true
	}
	_ = p.bar.Set64(p.read.n.Load())
}

// newBar makes the bar, started but not drawn: it is made as the replay
// starts, so that its clock does too, and the rate it shows first is the
// replay's so far rather than every byte read before it appeared.
func (p *progress) newBar() *progressbar.ProgressBar {
	size, opts := p.size, []progressbar.Option{
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("replaying"),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
	}
	if size > 0 {
		opts = append(opts, progressbar.OptionSetPredictTime(true))
	} else {
		size = -1 // a spinner and the bytes read
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowCount(),
			// Drawn on each Set, never on a timer of its own: nothing
			// shows before the delay, or for a quick replay.
			progressbar.OptionSetSpinnerChangeInterval(0))
	}
	bar := progressbar.NewOptions64(size, opts...)
	bar.StartWithoutRender()
	return bar
}

func (p *progress) done() {
	if p.shown {
		_ = p.bar.Finish()
	}
}
