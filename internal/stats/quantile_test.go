package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		xs   []float64
		q    float64
		want float64
		ok   bool
	}{
		{"empty", nil, 0.5, 0, false},
		{"one element, median", []float64{7}, 0.5, 7, true},
		{"one element, p0", []float64{7}, 0, 7, true},
		{"one element, p100", []float64{7}, 1, 7, true},
		{"odd count median is the middle", []float64{5, 1, 3}, 0.5, 3, true},
		{"even count median is the mean of the middles", []float64{4, 1, 3, 2}, 0.5, 2.5, true},
		{"two elements", []float64{1, 2}, 0.5, 1.5, true},
		{"ties: both middles equal", []float64{1, 2, 2, 9}, 0.5, 2, true},
		{"ties: all equal", []float64{3, 3, 3, 3}, 0.9, 3, true},
		{"ties around the rank", []float64{0, 0, 0, 10, 10}, 0.5, 0, true},
		{"p0 is the minimum", []float64{4, -1, 3}, 0, -1, true},
		{"p100 is the maximum", []float64{4, -1, 3}, 1, 4, true},
		{"p10 interpolates", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110}, 0.1, 20, true},
		{"p10 between ranks", []float64{0, 10, 20, 30, 40}, 0.1, 4, true},
		{"p90 between ranks", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9.1, true},
		{"infinities are values", []float64{math.Inf(-1), 0, math.Inf(1)}, 0.5, 0, true},
		{"NaN makes NaN", []float64{1, nan, 3}, 0.5, nan, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.xs)
			got, ok := Quantile(in, tc.q)
			if ok != tc.ok || !same(got, tc.want) {
				t.Errorf("Quantile(%v, %v) = %v, %v; want %v, %v", tc.xs, tc.q, got, ok, tc.want, tc.ok)
			}
			if !slices.EqualFunc(in, tc.xs, same) {
				t.Errorf("Quantile reordered its input: %v, was %v", in, tc.xs)
			}
			if slices.ContainsFunc(in, math.IsNaN) {
				return // QuantileInPlace requires no NaN
			}
			if got2, ok2 := QuantileInPlace(in, tc.q); ok2 != ok || !same(got2, got) {
				t.Errorf("QuantileInPlace = %v, %v; Quantile = %v, %v", got2, ok2, got, ok)
			}
		})
	}
}

func TestQuantileDurations(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.5, 6 /* 5.5 rounded */}, {0.1, 2 /* 1.9 rounded */}, {0.99, 10 /* 9.91 */}, {1, 10}} {
		if got, ok := Quantile(ds, tc.q); !ok || got != tc.want {
			t.Errorf("Quantile(%v) = %v, %v; want %v", tc.q, got, ok, tc.want)
		}
	}
	if m, _ := Median([]time.Duration{time.Minute, 3 * time.Minute}); m != 2*time.Minute {
		t.Errorf("Median(1m, 3m) = %v, want 2m", m)
	}
	if _, ok := Median([]time.Duration(nil)); ok {
		t.Error("Median of nothing reports a value")
	}
}

func TestQuantileRejectsBadQ(t *testing.T) {
	for _, q := range []float64{-0.1, 1.1, math.NaN()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Quantile(_, %v) did not panic", q)
				}
			}()
			Quantile([]float64{1}, q)
		}()
	}
}

// The definition, checked against a sort on random data with many ties.
func TestQuantileMatchesSorting(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 80; n++ {
		for trial := range 20 {
			v := make([]float64, n)
			for i := range v {
				v[i] = float64(r.IntN(n/2 + 1)) // many ties
				if trial%2 == 1 {
					v[i] = r.NormFloat64()
				}
			}
			sorted := slices.Sorted(slices.Values(v))
			want := sorted[n/2]
			if n%2 == 0 {
				want = (sorted[n/2-1] + sorted[n/2]) / 2
			}
			if got, _ := MedianInPlace(slices.Clone(v)); got != want {
				t.Fatalf("Median(%v) = %v, want %v", v, got, want)
			}
			q := r.Float64()
			h := q * float64(n-1)
			k := int(h)
			want = sorted[k]
			if k+1 < n {
				want += (h - float64(k)) * (sorted[k+1] - sorted[k])
			}
			if got, _ := Quantile(v, q); math.Abs(got-want) > 1e-12*max(1, math.Abs(want)) {
				t.Fatalf("Quantile(%v, %v) = %v, want %v", v, q, got, want)
			}
			k = r.IntN(n)
			w := slices.Clone(v)
			if got := Select(w, k); got != sorted[k] || slices.Max(w[:k+1]) != got || slices.Min(w[k:]) != got {
				t.Fatalf("Select(%v, %d) = %v, want %v partitioned around it: %v", v, k, got, sorted[k], w)
			}
		}
	}
}

// BenchmarkMedian1128 is the leak detector's case: the median of the
// 48·47/2 pairwise slopes of two days of hourly points.
func BenchmarkMedian1128(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	v := make([]float64, 1128)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	w := make([]float64, len(v))
	b.ReportAllocs()
	for b.Loop() {
		copy(w, v)
		MedianInPlace(w)
	}
}

func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
