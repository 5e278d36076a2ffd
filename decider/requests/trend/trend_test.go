package trend

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestTheilSen(t *testing.T) {
	tests := []struct {
		name      string
		xs, ys    []float64
		slope, at float64 // want slope and intercept
		ok        bool
	}{
		{"line", []float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}, 2, 1, true},
		{"outlier ignored", []float64{0, 1, 2, 3, 4, 5}, []float64{0, 1, 2, 100, 4, 5}, 1, 0, true},
		{"flat", []float64{0, 1, 2}, []float64{5, 5, 5}, 0, 5, true},
		{"one point", []float64{1}, []float64{1}, 0, 0, false},
		{"same x", []float64{1, 1}, []float64{1, 2}, 0, 0, false},
		{"empty", nil, nil, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, a, ok := TheilSen(tc.xs, tc.ys)
			if ok != tc.ok || (ok && (math.Abs(s-tc.slope) > 1e-9 || math.Abs(a-tc.at) > 1e-9)) {
				t.Errorf("TheilSen = %v, %v, %v; want %v, %v, %v", s, a, ok, tc.slope, tc.at, tc.ok)
			}
		})
	}
}

func TestMannKendallZ(t *testing.T) {
	if z := MannKendallZ([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}); z < 3.5 {
		t.Errorf("strictly increasing: z = %v, want > 3.5", z)
	}
	if z := MannKendallZ([]float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}); z > -3.5 {
		t.Errorf("strictly decreasing: z = %v, want < -3.5", z)
	}
	if z := MannKendallZ([]float64{3, 3, 3, 3}); z != 0 {
		t.Errorf("constant: z = %v, want 0", z)
	}
	if z := MannKendallZ([]float64{1, 2}); z != 0 {
		t.Errorf("two points: z = %v, want 0", z)
	}
	// Under pure noise the 1% test fires about 1% of the time.
	r := rand.New(rand.NewPCG(7, 7))
	fired := 0
	for trial := 0; trial < 2000; trial++ {
		ys := make([]float64, 24)
		for i := range ys {
			ys[i] = r.NormFloat64()
		}
		if MannKendallZ(ys) > 2.33 {
			fired++
		}
	}
	if fired > 40 {
		t.Errorf("noise: test fired %d/2000 times at the 1%% level", fired)
	}
}

func BenchmarkTheilSen48(b *testing.B) {
	xs, ys := make([]float64, 48), make([]float64, 48)
	for i := range xs {
		xs[i], ys[i] = float64(i), float64(i)+math.Sin(float64(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		TheilSen(xs, ys)
	}
}
