package ec2

import (
	"context"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/spot"
)

// TestFailingEndpointNeverMovesOnStaleData runs the whole path: the real SDK
// client against the loopback EC2 endpoint, the source's keep-last-known, and
// the forecaster fed from its snapshots. While the endpoint fails the
// forecaster first keeps deciding on the last known prices, then holds once
// they are older than MaxStale — it never moves on data it cannot trust.
func TestFailingEndpointNeverMovesOnStaleData(t *testing.T) {
	f := newFake(50, items(30, "c3.xlarge", t0.Add(-40*time.Minute))...)
	now := t0
	s := newTestSource(t, f, &now)
	fc, err := spot.New(spot.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	feedAndStep := func() spot.Assessment {
		t.Helper()
		snap, _ := s.Snapshot(context.Background(), time.Time{})
		if err := fc.Feed(snap); err != nil {
			t.Fatal(err)
		}
		a, err := fc.Step(s.cfg.Markets[0], now)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := feedAndStep(); a.Action != spot.Stay || a.Off {
		t.Fatalf("fresh cheap prices: %v", a)
	}
	f.Throttle(1000) // every call from now on is throttled
	for _, step := range []struct {
		after time.Duration
		want  spot.Action
	}{{time.Hour, spot.Stay}, {3 * time.Hour, spot.Hold}, {10 * time.Hour, spot.Hold}} {
		now = t0.Add(step.after)
		if err := s.Refresh(context.Background()); err == nil {
			t.Fatal("refresh against a throttling endpoint succeeded")
		}
		if a := feedAndStep(); a.Action != step.want || a.Off {
			t.Errorf("%v after the last good refresh: %v, want %v and still on spot", step.after, a, step.want)
		}
	}
}
