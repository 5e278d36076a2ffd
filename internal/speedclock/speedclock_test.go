package speedclock

import (
	"strings"
	"testing"
	"time"
)

func TestAt(t *testing.T) {
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := New(origin, 60)
	if err != nil {
		t.Fatal(err)
	}
	for wall, want := range map[time.Duration]time.Duration{0: 0, time.Second: time.Minute, time.Minute: time.Hour, -time.Second: -time.Minute} {
		if got := c.At(origin.Add(wall)); !got.Equal(origin.Add(want)) {
			t.Errorf("At(origin%+v) = %v, want origin%+v", wall, got, want)
		}
	}
	for _, bad := range []float64{0, -1} {
		if _, err := New(origin, bad); err == nil || !strings.Contains(err.Error(), "positive finite") {
			t.Errorf("New(speed %v): %v", bad, err)
		}
	}
}

// TestTickerRunsFaster: a ticker of one clock-minute at speed 600 ticks
// every 100 ms of wall time, and its ticks read the clock's time.
func TestTickerRunsFaster(t *testing.T) {
	c, _ := New(time.Now(), 600)
	tk := c.NewTicker(time.Minute)
	defer tk.Stop()
	start := time.Now()
	var last time.Time
	for range 3 {
		last = <-tk.C()
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("three ticks of a minute at speed 600 took %v of wall time", el)
	}
	if d := c.Now().Sub(last); d < 0 || d > 30*time.Minute {
		t.Errorf("last tick %v is not the clock's time (now %v)", last, c.Now())
	}
	tm := c.NewTimer(time.Minute)
	select {
	case <-tm.C():
	case <-time.After(5 * time.Second):
		t.Error("a one-minute timer at speed 600 did not fire within 5 s")
	}
}
