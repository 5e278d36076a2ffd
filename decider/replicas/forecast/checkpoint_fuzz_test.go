package forecast_test

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
)

// FuzzRestore: any bytes either fail to restore with an error or give a
// model that checkpoints again to bytes that restore to the same
// checkpoint, forecasts no NaN, and keeps learning and checkpointing.
// The decider's FuzzRestoreState covers the whole state; this one spends
// its executions on the forecaster's decoder alone.
func FuzzRestore(f *testing.F) {
	tr := loadTestdata(f, "synth-noisy.csv")
	m, err := forecast.New(forecast.DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	empty, err := m.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(empty)
	for i := range 7 * 1440 {
		m.Observe(tr.At(i), tr.Values[i])
	}
	week, err := m.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(week)
	at := tr.At(7 * 1440)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := forecast.Restore(forecast.DefaultConfig(), b)
		if err != nil {
			return
		}
		again, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("restored model does not checkpoint: %v", err)
		}
		m2, err := forecast.Restore(forecast.DefaultConfig(), again)
		if err != nil {
			t.Fatalf("its checkpoint does not restore: %v", err)
		}
		if third, err := m2.MarshalBinary(); err != nil || !bytes.Equal(third, again) {
			t.Fatalf("checkpoint not stable through a restore (%v)", err)
		}
		for k := range 3 {
			now := at.Add(time.Duration(k) * 5 * time.Minute)
			if p, u, ok := m.Forecast(now, 0.9); ok && (math.IsNaN(p) || math.IsNaN(u) || u < 0) {
				t.Fatalf("forecast %v %v", p, u)
			}
			m.Observe(now, 100)
		}
		if _, err := m.MarshalBinary(); err != nil {
			t.Fatalf("model does not checkpoint after learning: %v", err)
		}
	})
}
