package progress

import (
	"fmt"
	"io"
	"time"

	"k8s.io/utils/clock"
)

// Every is how often a Meter writes by default.
const Every = 2 * time.Second

// Meter writes progress lines for one computation.
type Meter struct {
	w     io.Writer
	clock clock.PassiveClock
	every time.Duration
	label string
	unit  string
	start time.Time
	next  time.Time // no line before this
	wrote bool
}

// New starts a Meter for the computation label (e.g. the command and its
// input), counted in unit (e.g. "sync"), writing to w at most once per
// every.
func New(w io.Writer, c clock.PassiveClock, every time.Duration, label, unit string) *Meter {
	now := c.Now()
	return &Meter{w: w, clock: c, every: every, label: label, unit: unit, start: now, next: now.Add(every)}
}

// Report notes that done of total units (syncs, samples, ticks) of what are
// finished. It reads the clock on every call, so a caller in a tight loop
// calls it every so many units, and writes a line only once every has
// passed since the last line, or since the start.
func (m *Meter) Report(what string, done, total int) {
	if m == nil {
		return
	}
	now := m.clock.Now()
	if now.Before(m.next) {
		return
	}
	m.next = now.Add(m.every)
	m.wrote = true
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	fmt.Fprintf(m.w, "%s: %s: %s %d of %d (%.0f%%), %s elapsed\n", m.label, what, m.unit, done, total, pct, m.elapsed(now))
}

// Done writes how long the whole computation took, if the Meter wrote
// anything: someone who saw progress lines sees their end.
func (m *Meter) Done() {
	if m == nil || !m.wrote {
		return
	}
	fmt.Fprintf(m.w, "%s: done in %s\n", m.label, m.elapsed(m.clock.Now()))
}

// Func is Report as a function value, for the Progress hooks of the
// replays (nil for a nil Meter: no reporting at all).
func (m *Meter) Func() func(what string, done, total int) {
	if m == nil {
		return nil
	}
	return m.Report
}

func (m *Meter) elapsed(now time.Time) time.Duration {
	return now.Sub(m.start).Round(100 * time.Millisecond)
}
