// Package speedclock is a wall clock sped up by a constant factor from an
// origin: at wall time w it reads Origin + (w − Origin) × Speed. The
// EC2-protocol fixture command (test/ec2fixture/cmd/ec2fixture) serves a
// recorded price trace on it, so a replay of hours of prices takes minutes;
// a component that reads time only from an injected k8s.io/utils/clock can
// run on the same clock and see the trace as it would in production.
//
// Durations handed to the clock (a ticker's period, a timer's delay) are in
// the clock's own time: a 15 s ticker on a clock at speed 60 ticks every
// 250 ms of wall time. Values the clock sends (ticks, timer firings) are its
// own time too.
package speedclock

import (
	"fmt"
	"math"
	"time"

	"k8s.io/utils/clock"
)

// Clock is the sped-up clock. It implements clock.WithTicker and
// clock.WithDelayedExecution.
type Clock struct {
	origin time.Time
	speed  float64
}

// New returns a clock that reads origin at wall time origin and runs speed
// times faster than the wall clock from then on. speed must be positive
// and finite; 1 is the wall clock.
func New(origin time.Time, speed float64) (*Clock, error) {
	if !(speed > 0) || math.IsInf(speed, 0) {
		return nil, fmt.Errorf("clock speed %v: want a positive finite factor, e.g. 60 (one hour in a minute)", speed)
	}
	return &Clock{origin: origin, speed: speed}, nil
}

// At is the clock's reading at wall time w.
func (c *Clock) At(w time.Time) time.Time {
	return c.origin.Add(time.Duration(float64(w.Sub(c.origin)) * c.speed))
}

// wall is how long d of the clock's time lasts on the wall clock.
func (c *Clock) wall(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.speed)
}

// Now reads the clock.
func (c *Clock) Now() time.Time { return c.At(time.Now()) }

// Since is Now().Sub(t).
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Sleep sleeps d of the clock's time.
func (c *Clock) Sleep(d time.Duration) { time.Sleep(c.wall(d)) }

// After sends the clock's time after d of it.
func (c *Clock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).C() }

// Tick is NewTicker(d).C(); the ticker is never stopped.
func (c *Clock) Tick(d time.Duration) <-chan time.Time { return c.NewTicker(d).C() }

// NewTimer fires once after d of the clock's time.
func (c *Clock) NewTimer(d time.Duration) clock.Timer {
	t := &timer{ch: make(chan time.Time, 1), c: c}
	t.t = time.AfterFunc(c.wall(d), func() {
		select {
		case t.ch <- c.Now():
		default:
		}
	})
	return t
}

// AfterFunc calls f after d of the clock's time.
func (c *Clock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return &timer{t: time.AfterFunc(c.wall(d), f), c: c}
}

type timer struct {
	t  *time.Timer
	ch chan time.Time
	c  *Clock
}

func (t *timer) C() <-chan time.Time        { return t.ch }
func (t *timer) Stop() bool                 { return t.t.Stop() }
func (t *timer) Reset(d time.Duration) bool { return t.t.Reset(t.c.wall(d)) }

// NewTicker ticks every d of the clock's time.
func (c *Clock) NewTicker(d time.Duration) clock.Ticker {
	t := &ticker{ch: make(chan time.Time, 1), stop: make(chan struct{}), real: time.NewTicker(c.wall(d))}
	go func() {
		for {
			select {
			case <-t.stop:
				return
			case w := <-t.real.C:
				select {
				case t.ch <- c.At(w):
				default: // the reader is behind: drop the tick, as time.Ticker does
				}
			}
		}
	}()
	return t
}

type ticker struct {
	ch   chan time.Time
	stop chan struct{}
	real *time.Ticker
}

func (t *ticker) C() <-chan time.Time { return t.ch }

func (t *ticker) Stop() {
	t.real.Stop()
	select {
	case <-t.stop:
	default:
		close(t.stop)
	}
}

var (
	_ clock.WithTicker           = (*Clock)(nil)
	_ clock.WithDelayedExecution = (*Clock)(nil)
)
