package histogram

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestBucketsFollowVPALayout(t *testing.T) {
	// VPA: CPU buckets of 0.01 core growing 5% up to 1000 cores.
	if got := CPU.Start(1); math.Abs(got-0.01) > 1e-12 {
		t.Errorf("CPU bucket 1 starts at %v, want 0.01", got)
	}
	if got := CPU.Start(2); math.Abs(got-0.0205) > 1e-12 {
		t.Errorf("CPU bucket 2 starts at %v, want 0.0205", got)
	}
	if CPU.Start(CPU.NumBuckets()-1) < 1000*0.95/1.05 || CPU.Start(CPU.NumBuckets()-2) >= 1000 {
		t.Errorf("CPU buckets do not end near 1000 cores: last starts %v", CPU.Start(CPU.NumBuckets()-1))
	}
	for _, o := range []Options{CPU, Memory} {
		for b := 0; b < o.NumBuckets(); b++ {
			mid := (o.Start(b) + o.Start(b+1)) / 2
			if b == o.NumBuckets()-1 {
				mid = o.Start(b) * 1.01
			}
			if got := o.Bucket(mid); got != b {
				t.Fatalf("Bucket(%v) = %d, want %d", mid, got, b)
			}
		}
	}
	if CPU.Bucket(-1) != 0 || CPU.Bucket(math.NaN()) != 0 || CPU.Bucket(1e9) != CPU.NumBuckets()-1 {
		t.Error("out-of-range values must go to the first/last bucket")
	}
	// v*(Ratio-1)/First overflows to +Inf here; int(+Inf) is not an index.
	for _, v := range []float64{math.MaxFloat64, math.Inf(1)} {
		if got := CPU.Bucket(v); got != CPU.NumBuckets()-1 {
			t.Errorf("Bucket(%v) = %d, want the last bucket %d", v, got, CPU.NumBuckets()-1)
		}
	}
}

func TestNewExponentialRejectsBadArguments(t *testing.T) {
	for _, tc := range []struct{ max, first, ratio float64 }{
		{1000, 0, 1.05}, {1000, 0.01, 1}, {0.001, 0.01, 1.05}, {math.Inf(1), 0.01, 1.05}, {1000, math.NaN(), 1.05},
	} {
		if _, err := NewExponential(tc.max, tc.first, tc.ratio); err == nil {
			t.Errorf("NewExponential(%v, %v, %v) accepted", tc.max, tc.first, tc.ratio)
		}
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		p      float64
		want   float64 // within one bucket (5%) above
	}{
		{"empty", nil, 0.9, 0},
		{"single", []float64{2}, 0.5, 2},
		{"uniform p90", seq(1, 100), 0.9, 90},
		{"uniform p50", seq(1, 100), 0.5, 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewDecaying(CPU, 24*time.Hour)
			for _, v := range tc.values {
				h.AddSample(v, 1, t0)
			}
			got := h.Percentile(tc.p)
			if got < tc.want || got > tc.want*1.051+1e-9 {
				t.Errorf("Percentile(%v) = %v, want in [%v, %v]", tc.p, got, tc.want, tc.want*1.05)
			}
		})
	}
}

// TestPercentileWithin: read inside the bucket, a uniform spread's
// percentiles land within a bucket's width of the truth on either side,
// and never above Percentile (the bucket's end).
func TestPercentileWithin(t *testing.T) {
	h := NewDecaying(CPU, 24*time.Hour)
	if got := h.PercentileWithin(0.9); got != 0 {
		t.Errorf("empty: %v, want 0", got)
	}
	for _, v := range seq(1, 1000) {
		h.AddSample(v/100, 1, t0) // 0.01 .. 10 cores
	}
	prev := 0.0
	for _, p := range []float64{0.1, 0.5, 0.9, 0.99, 1} {
		within, end := h.PercentileWithin(p), h.Percentile(p)
		truth := 10 * p
		if within > end || within < truth/1.051 || within > truth*1.051 {
			t.Errorf("p%g: within %v, bucket end %v, truth %v", p*100, within, end, truth)
		}
		if within < prev {
			t.Errorf("p%g: %v below the lower percentile's %v", p*100, within, prev)
		}
		prev = within
	}
}

func TestDecayHalvesWeightPerHalfLife(t *testing.T) {
	h := NewDecaying(CPU, 24*time.Hour)
	h.AddSample(1, 1, t0)
	h.AddSample(10, 1, t0.Add(24*time.Hour))
	// As of t0+24h the old sample weighs 0.5, the new one 1: p50 is 10.
	if got := h.TotalWeight(t0.Add(24 * time.Hour)); math.Abs(got-1.5) > 1e-9 {
		t.Errorf("total weight = %v, want 1.5", got)
	}
	if got := h.Percentile(0.4); got < 10 {
		t.Errorf("p40 = %v, want the recent sample (10)", got)
	}
	// Far in the future the renormalisation must keep weights finite.
	for d := 0; d < 400; d++ {
		h.AddSample(5, 1, t0.Add(time.Duration(d)*24*time.Hour))
	}
	if w := h.TotalWeight(t0.Add(400 * 24 * time.Hour)); math.IsInf(w, 0) || math.IsNaN(w) || w < 1 || w > 2.1 {
		t.Errorf("total weight after 400 days = %v, want about 2", w)
	}
}

func TestSubtractSample(t *testing.T) {
	h := NewDecaying(Memory, 24*time.Hour)
	h.AddSample(5e8, 1, t0)
	h.AddSample(1e9, 1, t0)
	h.SubtractSample(1e9, 1, t0)
	if got := h.Percentile(1); got > 5e8*1.06 {
		t.Errorf("p100 after subtracting the peak = %v, want about 5e8", got)
	}
	h.SubtractSample(5e8, 1, t0)
	if !h.IsEmpty() || h.Percentile(0.5) != 0 {
		t.Error("histogram not empty after subtracting every sample")
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := NewDecaying(Memory, 24*time.Hour)
	for i := 0; i < 10000; i++ {
		h.AddSample(math.Exp(r.NormFloat64()*0.5)*1e9, 1, t0.Add(time.Duration(i)*5*time.Minute))
	}
	buf := h.AppendCheckpoint(nil)
	if len(buf) > 1024 {
		t.Errorf("checkpoint is %d bytes, want <= 1 KiB", len(buf))
	}
	g, rest, err := RestoreDecaying(Memory, 24*time.Hour, append(buf, 0xAB))
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1 || rest[0] != 0xAB {
		t.Errorf("trailing bytes = %x, want ab", rest)
	}
	for _, p := range []float64{0.5, 0.9, 0.95, 0.99} {
		if a, b := h.Percentile(p), g.Percentile(p); a != b {
			t.Errorf("p%v: before %v, after restore %v", p*100, a, b)
		}
	}
	now := t0.Add(40 * 24 * time.Hour)
	if a, b := h.TotalWeight(now), g.TotalWeight(now); math.Abs(a-b) > 1e-3*a {
		t.Errorf("total weight before %v, after %v", a, b)
	}
	// Restored histograms keep learning.
	g.AddSample(1e9, 1, now)

	empty := NewDecaying(CPU, time.Hour)
	e, _, err := RestoreDecaying(CPU, time.Hour, empty.AppendCheckpoint(nil))
	if err != nil || !e.IsEmpty() {
		t.Errorf("empty round trip: %v, empty=%v", err, e != nil && e.IsEmpty())
	}
}

func TestRestoreRejectsBadCheckpoints(t *testing.T) {
	h := NewDecaying(CPU, time.Hour)
	h.AddSample(1, 1, t0)
	good := h.AppendCheckpoint(nil)
	for name, b := range map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{9}, good[1:]...),
		"truncated":     good[:len(good)-1],
		"other options": NewDecaying(MustExponential(100, 1, 1.1), time.Hour).AppendCheckpoint(nil),
	} {
		if _, _, err := RestoreDecaying(CPU, time.Hour, b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A first bucket so large that first+span wraps around to a small number.
	wrap := binary.AppendUvarint([]byte{good[0]}, uint64(CPU.NumBuckets()))
	wrap = binary.AppendVarint(wrap, 0)
	wrap = binary.AppendUvarint(wrap, 2)
	wrap = binary.AppendUvarint(wrap, math.MaxUint64)
	wrap = binary.LittleEndian.AppendUint64(wrap, math.Float64bits(1))
	wrap = append(wrap, 1, 0, 1, 0)
	if _, _, err := RestoreDecaying(CPU, time.Hour, wrap); err == nil {
		t.Error("buckets starting at 2^64-1 accepted")
	}
	for i := range good { // every truncation fails cleanly, never panics
		if _, _, err := RestoreDecaying(CPU, time.Hour, good[:i]); err == nil {
			t.Errorf("truncated to %d bytes: accepted", i)
		}
	}
}

func seq(lo, hi int) []float64 {
	var out []float64
	for i := lo; i <= hi; i++ {
		out = append(out, float64(i))
	}
	return out
}

func BenchmarkAddSample(b *testing.B) {
	h := NewDecaying(CPU, 24*time.Hour)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.AddSample(float64(i%1000)*0.01, 1, t0.Add(time.Duration(i)*time.Second))
	}
}

func BenchmarkPercentile(b *testing.B) {
	h := NewDecaying(CPU, 24*time.Hour)
	for i := 0; i < 10000; i++ {
		h.AddSample(float64(i%1000)*0.01, 1, t0.Add(time.Duration(i)*time.Second))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Percentile(0.9)
	}
}
