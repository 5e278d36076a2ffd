package fake

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/signals/prometheus"
)

func TestReader(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	r := &Reader{
		Errs:    map[string]error{"bad": prometheus.ErrManySeries},
		History: map[string][]prometheus.Sample{"load": {{At: at.Add(-2 * time.Hour), Value: 1}, {At: at.Add(-time.Hour), Value: 2}}},
		CPU:     []prometheus.PodCPU{{Namespace: "shop", Pod: "web-1", Cores: 0.5, At: at}, {Namespace: "other", Pod: "x", Cores: 1, At: at}},
	}
	r.Set("load", 500)
	ctx := context.Background()

	rs := r.Instant(ctx, []string{"load", "bad", "unknown"}, at)
	if rs[0].Err != nil || rs[0].Value != 500 || !rs[0].At.Equal(at) {
		t.Errorf("load: %+v", rs[0])
	}
	if !errors.Is(rs[1].Err, prometheus.ErrManySeries) || !errors.Is(rs[2].Err, prometheus.ErrEmpty) {
		t.Errorf("bad, unknown: %v, %v", rs[1].Err, rs[2].Err)
	}
	if s := r.Range(ctx, []string{"load"}, at.Add(-90*time.Minute), at, time.Minute)[0]; len(s.Points) != 1 || s.Points[0].Value != 2 {
		t.Errorf("range: %+v, want the one point within it", s)
	}
	if pods, err := r.PodCPU(ctx, []string{"shop"}, at); err != nil || len(pods) != 1 || pods[0].Pod != "web-1" {
		t.Errorf("PodCPU: %+v, %v", pods, err)
	}

	r.FailNext(nil)
	for _, res := range r.Instant(ctx, []string{"load", "bad"}, at) {
		if !errors.Is(res.Err, prometheus.ErrUnavailable) {
			t.Errorf("after FailNext: %+v, want ErrUnavailable for every expression", res)
		}
	}
	if res := r.Instant(ctx, []string{"load"}, at)[0]; res.Err != nil {
		t.Errorf("FailNext lasted past one call: %v", res.Err)
	}
	r.FailNext(prometheus.ErrUnavailable)
	if _, err := r.PodCPU(ctx, []string{"shop"}, at); !errors.Is(err, prometheus.ErrUnavailable) {
		t.Errorf("PodCPU after FailNext: %v", err)
	}

	calls := r.Calls()
	var methods []string
	for _, c := range calls {
		methods = append(methods, c.Method)
	}
	want := []string{"Instant", "Range", "PodCPU", "Instant", "Instant", "PodCPU"}
	if len(methods) != len(want) {
		t.Fatalf("calls %v, want %v", methods, want)
	}
	for i := range want {
		if methods[i] != want[i] {
			t.Fatalf("calls %v, want %v", methods, want)
		}
	}
	if calls[1].Step != time.Minute || len(calls[0].Exprs) != 3 || calls[2].Namespaces[0] != "shop" {
		t.Errorf("call record lost arguments: %+v", calls)
	}
}
