package requests

import (
	"runtime"
	"testing"
	"time"
)

func BenchmarkAddSample(b *testing.B) {
	s := healthy(1, 28, 1024*MiB, 300*MiB)
	c := mustContainer(b, DefaultConfig(), nil)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x := s[i%len(s)]
		x.Time = t0.Add(time.Duration(i) * 5 * time.Minute)
		if err := c.AddSample(x); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRecommend is one full recommendation (percentiles, OOM floor,
// both leak tests, clamping, rounding) for a container with a week of data.
func BenchmarkRecommend(b *testing.B) {
	s := healthy(1, 8, 1024*MiB, 300*MiB)
	c := mustContainer(b, DefaultConfig(), s)
	now := s[len(s)-1].Time
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Recommend(now, Bounds{}, 1500*MiB)
	}
}

// BenchmarkRecommendVPA is the baseline: the same call with VPA's config
// (no leak detector), so the leak detector's cost is the ratio.
func BenchmarkRecommendVPA(b *testing.B) {
	s := healthy(1, 8, 1024*MiB, 300*MiB)
	c := mustContainer(b, VPAConfig(), s)
	now := s[len(s)-1].Time
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Recommend(now, Bounds{}, 1500*MiB)
	}
}

// BenchmarkContainerMemory reports the heap bytes one container's model
// holds after a week of samples, and its checkpoint size.
func BenchmarkContainerMemory(b *testing.B) {
	s := healthy(1, 8, 1024*MiB, 300*MiB)
	const n = 1000
	cs := make([]*Container, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range cs {
		cs[i] = mustContainer(b, DefaultConfig(), nil)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for _, x := range s {
		if err := cs[0].AddSample(x); err != nil {
			b.Fatal(err)
		}
	}
	cp, _ := cs[0].MarshalBinary()
	for b.Loop() {
		_, _ = cs[0].MarshalBinary()
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-bytes/container")
	b.ReportMetric(float64(len(cp)), "checkpoint-bytes/container")
	runtime.KeepAlive(cs)
}
