package trend

import (
	"math"
	"slices"

	"github.com/trimtab-dev/trimtab/internal/stats"
)

// TheilSen returns the median of the slopes between every pair of points
// with distinct x, and the intercept median(y - slope*x) (stats.Median: the
// mean of the two middle values of an even count). It returns ok=false
// when fewer than two distinct x values are given. xs and ys have equal length.
func TheilSen(xs, ys []float64) (slope, intercept float64, ok bool) {
	n := min(len(xs), len(ys))
	slopes := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if dx := xs[j] - xs[i]; dx != 0 {
				slopes = append(slopes, (ys[j]-ys[i])/dx)
			}
		}
	}
	if len(slopes) == 0 {
		return 0, 0, false
	}
	// The in-place median reorders the scratch slices it owns: the leak
	// detector calls this every recommendation (BenchmarkTheilSen48).
	slope, _ = stats.MedianInPlace(slopes)
	res := make([]float64, n)
	for i := range res {
		res[i] = ys[i] - slope*xs[i]
	}
	intercept, _ = stats.MedianInPlace(res)
	return slope, intercept, true
}

// MannKendallZ returns the Mann-Kendall statistic of ys (taken in order) as a
// standard normal score: S = sum over pairs i<j of sign(y_j - y_i), divided
// by its standard deviation under "no trend" (with the usual continuity
// correction; ties reduce the variance). Z > 2.33 rejects "no upward trend"
// at the 1% level. It returns 0 for fewer than three points.
func MannKendallZ(ys []float64) float64 {
	n := len(ys)
	if n < 3 {
		return 0
	}
	s := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			switch {
			case ys[j] > ys[i]:
				s++
			case ys[j] < ys[i]:
				s--
			}
		}
	}
	// Tie correction: sum over groups of equal values of t(t-1)(2t+5).
	sorted := slices.Clone(ys)
	slices.Sort(sorted)
	ties := 0.0
	for i := 0; i < n; {
		j := i
		for j < n && sorted[j] == sorted[i] {
			j++
		}
		t := float64(j - i)
		ties += t * (t - 1) * (2*t + 5)
		i = j
	}
	nf := float64(n)
	variance := (nf*(nf-1)*(2*nf+5) - ties) / 18
	if variance <= 0 {
		return 0
	}
	switch {
	case s > 0:
		return float64(s-1) / math.Sqrt(variance)
	case s < 0:
		return float64(s+1) / math.Sqrt(variance)
	}
	return 0
}
