package validating

import (
	"context"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/trimtab-dev/trimtab/config"
)

// TestRejectsExpressionsPrometheusCannotParse runs the admission round trip
// for PromQL annotations: what Prometheus' parser refuses is denied with its
// message, naming the key and the value; what config already refuses is
// reported once; what parses is admitted.
func TestRejectsExpressionsPrometheusCannotParse(t *testing.T) {
	h := newHandler(t)
	metric := func(expr string) map[string]string {
		return ann(config.AnnotationMetric, expr, config.AnnotationTargetPerPod, "50")
	}
	downstream := func(expr string) map[string]string {
		return ann(config.AnnotationDownstream, expr, config.AnnotationDownstreamMax, "0.25")
	}
	for _, c := range []struct {
		name string
		ann  map[string]string
		want []string // substrings of the denial; nil to admit
	}{
		{"rate of an instant vector", metric(`sum(rate(orders_total))`), []string{
			`metadata.annotations[trimtab.dev/metric]: Invalid value: "sum(rate(orders_total))": must be a PromQL expression Prometheus can parse and that gives one number:`,
			`expected type range vector in call to function "rate", got instant vector`}},
		{"a range vector", downstream(`db_latency_seconds[5m]`), []string{
			`metadata.annotations[trimtab.dev/downstream]`, `is a range vector; give one number per evaluation, e.g. sum(rate(db_latency_seconds[5m]))`}},
		{"unknown function", metric(`summ(orders_total)`), []string{`unknown function with name "summ"`}},
		{"a dangling by", metric(`sum(orders_total) by`), []string{`parse error`}},
		// config's structural check catches this first: one cause, config's.
		{"unbalanced", metric(`sum(rate(x[1m])`), []string{`unclosed '('`}},
		{"a vector", metric(`sum(rate(orders_total{app="shop"}[1m]))`), nil},
		{"a scalar", metric(`500`), nil},
		{"a quantile", downstream(`histogram_quantile(0.95, sum by (le) (rate(db_bucket[5m])))`), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := h.Handle(context.Background(), request(t, admissionv1.Create, deployment("web", c.ann), nil))
			if c.want == nil {
				if !resp.Allowed {
					t.Fatalf("denied: %s", resp.Result.Message)
				}
				return
			}
			if resp.Allowed {
				t.Fatal("allowed, want denied")
			}
			for _, w := range c.want {
				if !strings.Contains(resp.Result.Message, w) {
					t.Errorf("denial lacks %q:\n%s", w, resp.Result.Message)
				}
			}
			if n := len(resp.Result.Details.Causes); n != 1 {
				t.Errorf("%d causes, want 1: %s", n, resp.Result.Message)
			}
		})
	}
}
