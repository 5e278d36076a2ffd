package main

import (
	"strings"
	"testing"
	"time"
)

func TestReplayClock(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	if c, err := (replayFlags{speed: 1}).clock(now); c != nil || err != nil {
		t.Errorf("speed 1, no origin: %v %v, want the real clock (nil)", c, err)
	}
	c, err := (replayFlags{speed: 720, origin: "2026-12-04T08:00:00Z"}).clock(now)
	if err != nil {
		t.Fatal(err)
	}
	// Wall time runs on from the origin 720 times faster: a second is 12 minutes.
	if got := c.Since(c.Now()); got > time.Minute {
		t.Errorf("Since(Now()) = %v", got)
	}
	for _, bad := range []struct {
		r    replayFlags
		want string
	}{
		{replayFlags{speed: 0}, "--clock-speed"},
		{replayFlags{speed: -2}, "--clock-speed"},
		{replayFlags{speed: 60, origin: "tomorrow"}, `--clock-origin "tomorrow"`},
	} {
		if _, err := bad.r.clock(now); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: error %v, want one naming %s", bad.r, err, bad.want)
		}
	}
}
