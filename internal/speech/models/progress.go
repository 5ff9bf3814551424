package models

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress shows how a download goes: on a terminal, one line rewritten in
// place a few times a second; elsewhere (logs, CI), a line every 10 %.
type progress struct {
	w        io.Writer
	name     string
	total    int64 // 0 when unknown
	done     int64
	terminal bool
	now      func() time.Time
	start    time.Time
	shown    time.Time // last terminal update
	step     int64     // next 10 % step (or 10 MiB step when total is unknown) to print
}

func newProgress(w io.Writer, name string, total int64, now func() time.Time) *progress {
	p := &progress{w: w, name: name, total: total, terminal: isTerminal(w), now: now}
	p.start = now()
	p.step = 1
	return p
}

// isTerminal reports whether w is a character device, where "\r" rewrites
// the line instead of filling a log with copies of it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const mib = 1 << 20

func (p *progress) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	now := p.now()
	if p.terminal {
		if now.Sub(p.shown) >= 200*time.Millisecond {
			p.shown = now
			p.draw(now)
		}
		return len(b), nil
	}
	// One line however many steps this write passed.
	if reached := p.reached(); reached >= p.step {
		p.line(now)
		p.step = reached + 1
	}
	return len(b), nil
}

// reached returns the last step passed: tenths of the total, or tens of MiB
// when the total is unknown.
func (p *progress) reached() int64 {
	if p.total > 0 {
		return min(p.done*10/p.total, 10)
	}
	return p.done / (10 * mib)
}

func (p *progress) rate(now time.Time) float64 {
	secs := now.Sub(p.start).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(p.done) / secs
}

func (p *progress) eta(now time.Time) string {
	r := p.rate(now)
	if r <= 0 || p.total <= 0 || p.done >= p.total {
		return ""
	}
	left := time.Duration(float64(p.total-p.done) / r * float64(time.Second))
	return left.Round(time.Second).String()
}

// status is the text of one progress report.
func (p *progress) status(now time.Time) string {
	rate := p.rate(now) / mib
	if p.total <= 0 {
		return fmt.Sprintf("%s: %.1f MiB, %.1f MiB/s", p.name, float64(p.done)/mib, rate)
	}
	s := fmt.Sprintf("%s: %3d%%  %.1f/%.1f MiB  %.1f MiB/s", p.name, p.done*100/p.total,
		float64(p.done)/mib, float64(p.total)/mib, rate)
	if eta := p.eta(now); eta != "" {
		s += "  ETA " + eta
	}
	return s
}

func (p *progress) draw(now time.Time) {
	// The trailing spaces wipe what a longer previous line left.
	fmt.Fprintf(p.w, "\r%-70s", p.status(now))
}

func (p *progress) line(now time.Time) {
	fmt.Fprintln(p.w, p.status(now))
}

// finish shows the final state once the download is complete.
func (p *progress) finish() {
	now := p.now()
	if p.terminal {
		p.draw(now)
		fmt.Fprintln(p.w)
		return
	}
	if p.total <= 0 || p.step <= 10 {
		p.line(now) // the end, unless the 100 % line said it
	}
}
