package requests

import (
	"math"
	"testing"
	"time"
)

// FuzzRestoreContainer: any bytes either fail to restore with an error or
// give a model whose recommendation is finite, that keeps learning, and
// that checkpoints again.
func FuzzRestoreContainer(f *testing.F) {
	s := healthy(3, 9, 2048*MiB, 512*MiB)
	c, err := NewContainer(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	for _, x := range s {
		if err := c.AddSample(x); err != nil {
			f.Fatal(err)
		}
	}
	good, _ := c.MarshalBinary()
	empty, _ := mustNew(f).MarshalBinary()
	f.Add(good)
	f.Add(empty)
	now := s[len(s)-1].Time
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := RestoreContainer(DefaultConfig(), b)
		if err != nil {
			return
		}
		r := g.Recommend(now, Bounds{}, 4096*MiB)
		for _, v := range []float64{r.Target.CPU, r.Target.Memory, r.Lower.CPU, r.Lower.Memory, r.Upper.CPU, r.Upper.Memory} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("restored model recommends %+v", r)
			}
		}
		at := g.last.Add(time.Minute)
		if g.last.IsZero() {
			at = now
		}
		if err := g.AddSample(Sample{Time: at, CPU: 1, Memory: 1e9}); err != nil && at.Before(MaxSampleTime) {
			t.Fatalf("restored model rejects a sample after its last: %v", err)
		}
		if _, err := g.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	})
}

func mustNew(f *testing.F) *Container {
	c, err := NewContainer(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	return c
}
