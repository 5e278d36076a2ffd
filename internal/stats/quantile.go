package stats

import (
	"math"
	"slices"
)

// Number is what a quantile is taken of: float64 and time.Duration, and
// types defined on them.
type Number interface{ ~float64 | ~int64 }

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of xs, and false when xs is
// empty. xs is not modified.
//
// Definition: with xs sorted ascending as x[0] ≤ … ≤ x[n-1] and
// h = q·(n−1), the q-quantile is x[⌊h⌋] + (h−⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]),
// linear interpolation between the two order statistics around rank h.
// That is Hyndman & Fan's type 7, the default of R's quantile() and
// NumPy's percentile() (https://doi.org/10.2307/2684934): q = 0 is the
// minimum, q = 1 the maximum, and q = 0.5 is the median, the middle value
// of an odd count and the mean of the two middle values of an even one.
// Tied values are order statistics like any other: the quantile of
// {1, 2, 2, 9} at 0.5 is 2.
//
// For integer types (time.Duration) the interpolated value is rounded to
// the nearest integer. A NaN anywhere in xs makes the result NaN: a
// caller that wants NaN to mean "no value" filters it out first.
// A q outside [0, 1] is a programming error and panics.
func Quantile[T Number](xs []T, q float64) (T, bool) {
	for _, x := range xs {
		if x != x { // NaN; never true for an integer type
			checkQ(q)
			return x, true
		}
	}
	return QuantileInPlace(slices.Clone(xs), q)
}

// QuantileInPlace is Quantile without the copy and without the NaN check:
// it reorders xs (as Select does) and allocates nothing, for hot paths that
// own a scratch slice of values they know are not NaN. (The check is a
// fifth of a 1128-value median; with a NaN the result is unspecified.)
func QuantileInPlace[T Number](xs []T, q float64) (T, bool) {
	checkQ(q)
	n := len(xs)
	if n == 0 {
		return 0, false
	}
	h := q * float64(n-1)
	k := int(h)
	lo := Select(xs, k)
	f := h - float64(k)
	if f == 0 || k+1 == n {
		return lo, true
	}
	// Select left xs[k+1:] holding the values above rank k: the next order
	// statistic is their smallest.
	return interpolate(lo, slices.Min(xs[k+1:]), f), true
}

// Median is Quantile(xs, 0.5): the middle value of an odd count, the mean
// of the two middle values of an even one.
func Median[T Number](xs []T) (T, bool) { return Quantile(xs, 0.5) }

// MedianInPlace is QuantileInPlace(xs, 0.5): it reorders xs, which holds
// no NaN.
func MedianInPlace[T Number](xs []T) (T, bool) { return QuantileInPlace(xs, 0.5) }

func checkQ(q float64) {
	if !(q >= 0 && q <= 1) {
		panic("stats: quantile outside [0, 1]")
	}
}

// interpolate returns (1−f)·a + f·b. Written this way, f = ½ gives exactly
// (a+b)/2 for floats (halving is exact), and f = 0 is never asked for.
func interpolate[T Number](a, b T, f float64) T {
	v := (1-f)*float64(a) + f*float64(b)
	if half := 0.5; T(half) == 0 { // an integer type
		v = math.Round(v)
	}
	return T(v)
}
