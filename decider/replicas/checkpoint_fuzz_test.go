package replicas_test

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas"
)

// FuzzRestoreState: any bytes either fail to restore with an error, or
// give a state that checkpoints again (to bytes that restore to the same
// checkpoint), forecasts and decides without error, and keeps learning.
// Seeded with a week's real checkpoint, one taken with the guard tripped,
// and a fresh state's.
func FuzzRestoreState(f *testing.F) {
	s, c := weekState(f)
	week, err := s.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(week)
	for i := 7 * 1440; i < 8*1440; i++ {
		c.run(f, s, i, i+1)
		if s.Guard.Tripped && !s.Guard.LastStep.IsZero() && len(s.HPA.Down) > 0 {
			b, err := s.MarshalBinary()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
			break
		}
	}
	fresh, err := replicas.NewState(c.cfg)
	if err != nil {
		f.Fatal(err)
	}
	empty, err := fresh.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(empty)
	at := c.tr.At(8 * 1440)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := replicas.RestoreState(c.cfg, b)
		if err != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("restored state does not checkpoint: %v", err)
		}
		s2, err := replicas.RestoreState(c.cfg, again)
		if err != nil {
			t.Fatalf("its checkpoint does not restore: %v", err)
		}
		if third, err := s2.MarshalBinary(); err != nil || !bytes.Equal(third, again) {
			t.Fatalf("checkpoint not stable through a restore (%v)", err)
		}
		for _, q := range []float64{0.5, 0.99} {
			if p, u, ok := s.Forecast.Forecast(at, q); ok && (math.IsNaN(p) || math.IsNaN(u)) {
				t.Fatalf("forecast %v %v", p, u)
			}
		}
		for k := range 3 {
			now := at.Add(time.Duration(k) * 15 * time.Second)
			s.Observe(now, 100)
			in := c.inputs(8*1440, 0)
			in.Now = now
			if _, err := replicas.Decide(c.cfg, s, in); err != nil {
				t.Fatalf("restored state cannot decide: %v", err)
			}
		}
		if _, err := s.MarshalBinary(); err != nil {
			t.Fatalf("state does not checkpoint after deciding: %v", err)
		}
	})
}
