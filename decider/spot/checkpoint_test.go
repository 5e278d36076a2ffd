package spot

import (
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
)

// TestCheckpointResumesExactly: a forecaster restored from a checkpoint
// taken mid-trace decides every later step exactly as the one that never
// stopped, off-spot state and learned tables included.
func TestCheckpointResumesExactly(t *testing.T) {
	changes, _ := synth(2, 20)
	other := prices.Market{InstanceType: "c3.2xlarge", Zone: "us-east-1a", Product: prices.ProductLinux}
	run := newF(t, DefaultConfig())
	if err := run.Track(other, 0); err != nil {
		t.Fatal(err)
	}
	var restored *Forecaster
	// The checkpoint is taken at the first minute after day 5 with the
	// market off spot, so the off-spot state must carry over too.
	end, after := 20*24*60, 5*24*60
	for i := 0; i <= end; i++ {
		now := t0.Add(time.Duration(i) * time.Minute)
		for _, f := range []*Forecaster{run, restored} {
			if f == nil {
				continue
			}
			if p, ok := changes[i]; ok {
				if err := f.Observe(mkt, now, p); err != nil {
					t.Fatal(err)
				}
				if err := f.Observe(other, now, p/2); err != nil {
					t.Fatal(err)
				}
			}
			_ = f.Confirm(mkt, now)
			_ = f.Confirm(other, now)
		}
		a, err := run.Step(mkt, now)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := run.Step(other, now)
		if restored != nil {
			ra, _ := restored.Step(mkt, now)
			rb, _ := restored.Step(other, now)
			if ra != a || rb != b {
				t.Fatalf("minute %d: restored %v / %v, uninterrupted %v / %v", i, ra, rb, a, b)
			}
		}
		if restored == nil && i >= after && a.Off {
			data, err := run.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("checkpoint of 2 markets at minute %d, off spot (%v): %d bytes", i, a, len(data))
			if restored, err = Restore(DefaultConfig(), data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if restored == nil {
		t.Fatal("the market never went off spot after day 5; pick another seed")
	}
	if got := restored.Markets(); len(got) != 2 || !restored.Tracks(other) {
		t.Errorf("restored markets %v", got)
	}
}

func TestRestoreRefusesBadCheckpoints(t *testing.T) {
	f := newF(t, DefaultConfig())
	if err := f.Observe(mkt, t0, 0.1); err != nil {
		t.Fatal(err)
	}
	good, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(DefaultConfig(), good); err != nil {
		t.Fatalf("good checkpoint: %v", err)
	}
	s := string(good)
	other := DefaultConfig()
	other.Horizon = 30 * time.Minute
	for _, tc := range []struct {
		name, data string
		cfg        Config
		want       string
	}{
		{"not json", "garbage", DefaultConfig(), "invalid character"},
		{"other version", strings.Replace(s, `"version":1`, `"version":7`, 1), DefaultConfig(), "version 7"},
		{"other horizon", s, other, "horizon 15m0s"},
		{"negative price", strings.Replace(s, `"price":0.1`, `"price":-0.1`, 1), DefaultConfig(), "price -0.1"},
		{"no zone", strings.Replace(s, `"zone":"us-east-1a"`, `"zone":""`, 1), DefaultConfig(), "lacks an instance type, zone or product"},
		{"short table", strings.Replace(s, `"pooled":{"pos":[0,`, `"pooled":{"pos":[`, 1), DefaultConfig(), "pooled table has 79 and 80 cells"},
		{"more hits than samples", strings.Replace(s, `"pooled":{"pos":[0,`, `"pooled":{"pos":[5,`, 1), DefaultConfig(), "5 crossings of 0 samples"},
		{"bad cell", strings.Replace(s, `"own"`, `"pending":[{"t":"2015-03-11T00:00:00Z","cell":999}],"own"`, 1), DefaultConfig(), "cell 999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Restore(tc.cfg, []byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Restore: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// TestAssessmentSaysSinceAndWhenBack: an assessment off spot says since
// when and the earliest time the hysteresis lets it back.
func TestAssessmentSaysSinceAndWhenBack(t *testing.T) {
	as := drive(t, newF(t, DefaultConfig()), map[int]float64{0: 0.1, 30: 1.5, 40: 0.1}, 60)
	if a := as[20]; !a.Since.IsZero() || !a.EarliestBack.IsZero() {
		t.Errorf("on spot: since %v, back %v; want both zero", a.Since, a.EarliestBack)
	}
	a := as[50]
	// Out at minute 30; last above at minute 40 (the price held until then).
	if !a.Off || !a.Since.Equal(t0.Add(30*time.Minute)) || !a.EarliestBack.Equal(t0.Add(40*time.Minute+6*time.Hour)) {
		t.Errorf("off spot: %+v; want since 00:30 and back no earlier than 06:40", a)
	}
}

func FuzzRestore(f *testing.F) {
	fc, _ := New(DefaultConfig())
	_ = fc.Track(mkt, 1)
	_ = fc.Observe(mkt, t0, 0.1)
	b, _ := fc.MarshalBinary()
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Restore(DefaultConfig(), data)
		if err != nil {
			return
		}
		// A restored forecaster steps without panicking and checkpoints again.
		for _, m := range r.Markets() {
			_, _ = r.Step(m, t0.Add(time.Hour))
		}
		if _, err := r.MarshalBinary(); err != nil {
			t.Fatalf("restored forecaster cannot checkpoint: %v", err)
		}
	})
}
