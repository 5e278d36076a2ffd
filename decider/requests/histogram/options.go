package histogram

import (
	"fmt"
	"math"
)

// Options define the bucket boundaries of a histogram: exponentially growing
// buckets starting at zero, the first one First wide, each next one Ratio
// times wider, enough of them to reach Max.
type Options struct {
	First float64
	Ratio float64
	Max   float64
	n     int
}

// CPU are the buckets for CPU usage in cores: 0.01 core first bucket, 5%
// growth, up to 1000 cores (VPA's cpuHistogramOptions).
var CPU = MustExponential(1000, 0.01, 1.05)

// Memory are the buckets for memory usage in bytes: 10 MB first bucket, 5%
// growth, up to 1 TB (VPA's memoryHistogramOptions).
var Memory = MustExponential(1e12, 1e7, 1.05)

// NewExponential returns options for buckets from 0 to max, the first first
// wide, each ratio times wider than the previous one.
func NewExponential(max, first, ratio float64) (Options, error) {
	switch {
	case !(first > 0) || math.IsInf(first, 0):
		return Options{}, fmt.Errorf("histogram first bucket size %v: must be a positive finite number", first)
	case !(ratio > 1) || math.IsInf(ratio, 0):
		return Options{}, fmt.Errorf("histogram bucket ratio %v: must be greater than 1", ratio)
	case !(max > first) || math.IsInf(max, 0):
		return Options{}, fmt.Errorf("histogram max value %v: must be finite and greater than the first bucket size %v", max, first)
	}
	n := int(math.Ceil(math.Log(max*(ratio-1)/first+1)/math.Log(ratio))) + 1
	if n > math.MaxUint16 {
		return Options{}, fmt.Errorf("histogram of %d buckets: at most %d are supported", n, math.MaxUint16)
	}
	return Options{First: first, Ratio: ratio, Max: max, n: n}, nil
}

// MustExponential is NewExponential for package-level constants; it panics
// on invalid arguments, which is a programming error.
func MustExponential(max, first, ratio float64) Options {
	o, err := NewExponential(max, first, ratio)
	if err != nil {
		panic(err)
	}
	return o
}

// NumBuckets is the number of buckets.
func (o Options) NumBuckets() int { return o.n }

// Bucket returns the index of the bucket holding v; values outside the range
// go to the first or last bucket.
func (o Options) Bucket(v float64) int {
	if !(v >= o.First) { // also catches NaN
		return 0
	}
	f := math.Floor(math.Log(v*(o.Ratio-1)/o.First+1) / math.Log(o.Ratio))
	if !(f < float64(o.n)) { // also +Inf, where v*(Ratio-1) overflows
		return o.n - 1
	}
	return int(f)
}

// Start returns the lower boundary of bucket b.
func (o Options) Start(b int) float64 {
	if b <= 0 {
		return 0
	}
	return o.First * (math.Pow(o.Ratio, float64(b)) - 1) / (o.Ratio - 1)
}
