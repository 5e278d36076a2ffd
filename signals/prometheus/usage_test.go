package prometheus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// usageHistory is two hours of one-minute samples of the kubelet's
// container series for a few pods, ending at end: steady CPU and memory,
// a CPU counter that resets (a container restart), a memory series that
// is NaN for ten minutes and one that is negative for ten.
func usageHistory(end time.Time) string {
	type ctr struct {
		ns, pod, container string
		cores, mem         float64
	}
	ctrs := []ctr{
		{"shop", "web-6f9d8c7b5-x1y2z", "app", 0.25, 300 << 20},
		{"shop", "web-6f9d8c7b5-x1y2z", "sidecar", 0.01, 20 << 20},
		{"shop", "web-6f9d8c7b5-q9w8e", "app", 0.5, 310 << 20},
		{"shop", "api-0", "app", 1, 1 << 30},
		{"billing", "web-5c4b3a2d1-aaaaa", "app", 2, 2 << 30},
	}
	start := end.Add(-2 * time.Hour)
	var b strings.Builder
	b.WriteString("# HELP container_cpu_usage_seconds_total CPU.\n# TYPE container_cpu_usage_seconds_total counter\n")
	for _, c := range ctrs {
		for t := start; !t.After(end); t = t.Add(time.Minute) {
			secs := t.Sub(start).Seconds()
			if c.pod == "api-0" && t.Sub(start) >= time.Hour {
				secs = t.Sub(start.Add(time.Hour)).Seconds() // restarted: the counter starts again
			}
			fmt.Fprintf(&b, "container_cpu_usage_seconds_total{namespace=%q,pod=%q,container=%q} %g %d\n", c.ns, c.pod, c.container, c.cores*secs, t.Unix())
		}
	}
	b.WriteString("# HELP container_memory_working_set_bytes Memory.\n# TYPE container_memory_working_set_bytes gauge\n")
	for _, c := range ctrs {
		for t := start; !t.After(end); t = t.Add(time.Minute) {
			v := c.mem
			off := end.Sub(t)
			switch {
			case c.pod == "web-6f9d8c7b5-q9w8e" && off >= 30*time.Minute && off < 40*time.Minute:
				v = math.NaN()
			case c.ns == "billing" && off >= 50*time.Minute && off < 60*time.Minute:
				v = -1
			}
			fmt.Fprintf(&b, "container_memory_working_set_bytes{namespace=%q,pod=%q,container=%q} %s %d\n", c.ns, c.pod, c.container, formatOM(v), t.Unix())
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

func formatOM(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return fmt.Sprint(v)
}

// TestUsage reads a workload's containers over an hour of one-minute
// steps from a real Prometheus: two namespaces in one request, the values
// as written, a counter reset read as the rate it is, NaN and negative
// points left out and counted, a regular expression Prometheus refuses
// failing its selector alone, and an outage failing every selector.
func TestUsage(t *testing.T) {
	end := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	s := startServer(t, nil, usageHistory(end))
	c, err := New(Config{Address: s.URL, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	from := end.Add(-time.Hour)
	sels := []PodSelector{
		{Namespace: "shop", Pods: `web-[a-z0-9]+-[a-z0-9]+|api-[0-9]+`},
		{Namespace: "billing", Pods: `web-[a-z0-9]+-[a-z0-9]+`},
		{Namespace: "empty"},
	}
	res := c.Usage(context.Background(), sels, from, end, time.Minute)
	for i, err := range res.Errs {
		if err != nil {
			t.Fatalf("selector %d: %v", i, err)
		}
	}
	if n := c.Stats().Requests; n != 1 {
		t.Errorf("%d requests for three namespaces, want 1", n)
	}
	got := map[string]ContainerUsage{}
	for _, cu := range res.Series {
		got[cu.Namespace+"/"+cu.Pod+"/"+cu.Container+"/"+cu.Resource] = cu
	}
	if len(got) != 10 {
		t.Fatalf("%d series, want 10 (5 containers × 2 resources): %v", len(got), keys(got))
	}
	check := func(key string, want float64, wantPoints int) {
		t.Helper()
		cu, ok := got[key]
		if !ok {
			t.Errorf("%s: missing", key)
			return
		}
		if len(cu.Points) != wantPoints {
			t.Errorf("%s: %d points, want %d", key, len(cu.Points), wantPoints)
		}
		for _, p := range cu.Points {
			if math.Abs(p.Value-want) > 0.02*want {
				t.Errorf("%s at %s: %g, want %g±2%%", key, p.At.Format("15:04"), p.Value, want)
				return
			}
		}
	}
	check("shop/web-6f9d8c7b5-x1y2z/app/cpu", 0.25, 61)
	check("shop/web-6f9d8c7b5-x1y2z/sidecar/memory", 20<<20, 61)
	// The counter reset at from's step: rate() counts what the counter
	// shows after it and loses the minute before it (as a real restart
	// does), so that step reads low; no step reads negative or high.
	if cu := got["shop/api-0/app/cpu"]; len(cu.Points) != 61 {
		t.Errorf("api-0 cpu: %d points, want 61", len(cu.Points))
	} else {
		off := 0
		for _, p := range cu.Points {
			if p.Value < 0 || p.Value > 1.02 {
				t.Errorf("api-0 cpu at %s: %g across the counter reset, want 0..1", p.At.Format("15:04"), p.Value)
			}
			if math.Abs(p.Value-1) > 0.02 {
				off++
			}
		}
		if off > 2 {
			t.Errorf("api-0 cpu: %d steps off 1 core, want at most the 2 whose window holds the reset", off)
		}
	}
	// Ten NaN minutes, and ten negative ones: a step's one-minute window
	// holds two samples, and max_over_time prefers a number to NaN (and
	// the larger), so 9 steps are NaN (a gap) and 9 negative.
	check("shop/web-6f9d8c7b5-q9w8e/app/memory", 310<<20, 61-9)
	check("billing/web-5c4b3a2d1-aaaaa/app/memory", 2<<30, 61-9)
	if res.Skipped[SkipNotFinite] != 9 || res.Skipped[SkipNegative] != 9 {
		t.Errorf("skipped %v, want 9 not-finite and 9 negative points", res.Skipped)
	}

	// A pattern Prometheus refuses fails alone.
	bad := c.Usage(context.Background(), []PodSelector{{Namespace: "shop", Pods: "web-(["}, sels[1]}, from, end, time.Minute)
	if !errors.Is(bad.Errs[0], ErrBadExpression) || bad.Errs[1] != nil {
		t.Errorf("errors %v, want the bad pattern's ErrBadExpression alone", bad.Errs)
	}
	for _, cu := range bad.Series {
		if cu.Namespace == "shop" {
			t.Fatalf("a series of the failed selector: %+v", cu)
		}
	}

	s.stop()
	down := c.Usage(context.Background(), sels, end.Add(-time.Minute), end, time.Minute)
	for i, err := range down.Errs {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("selector %d with Prometheus down: %v, want ErrUnavailable", i, err)
		}
	}
	if len(down.Series) != 0 {
		t.Errorf("series with Prometheus down: %v", down.Series)
	}
}

func keys(m map[string]ContainerUsage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestUsageSkipsBadSeries feeds the accumulator what a Prometheus-compatible
// store can send and Prometheus itself does not: a series without a
// container label, two series for one container, and one for a resource
// that was not asked for.
func TestUsageSkipsBadSeries(t *testing.T) {
	at := func(min int) model.SamplePair {
		return model.SamplePair{Timestamp: model.TimeFromUnix(int64(3600 + 60*min)), Value: 1}
	}
	stream := func(labels model.Metric, points ...model.SamplePair) *model.SampleStream {
		return &model.SampleStream{Metric: labels, Values: points}
	}
	good := model.Metric{"namespace": "shop", "pod": "web-1", "container": "app"}
	a := newUsageAcc()
	a.add(ResourceCPU, stream(good, at(0), at(1), at(2)))
	a.add(ResourceCPU, stream(good, at(0), at(1)))                                          // the same container again
	a.add(ResourceMemory, stream(model.Metric{"namespace": "shop", "pod": "web-1"}, at(0))) // no container
	a.add("", stream(good, at(0)))                                                          // not asked for
	a.add(ResourceMemory, stream(good, model.SamplePair{Timestamp: at(0).Timestamp, Value: model.SampleValue(math.Inf(1))}, at(1)))
	series, skipped := a.result(nil)
	want := map[string]int{SkipDuplicate: 1, SkipMissingLabel: 1, SkipUnknownResource: 1, SkipNotFinite: 1}
	for k, v := range want {
		if skipped[k] != v {
			t.Errorf("skipped[%s] = %d, want %d (all: %v)", k, skipped[k], v, skipped)
		}
	}
	if len(series) != 2 || len(series[0].Points) != 3 || len(series[1].Points) != 1 {
		t.Errorf("series %+v, want app's cpu with 3 points and memory with 1", series)
	}
}
