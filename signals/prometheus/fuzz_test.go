package prometheus

import (
	"testing"

	"github.com/trimtab-dev/trimtab/signals/promql"
)

// FuzzCompile holds the batcher's rewriting to Prometheus' parser: for any
// expression the parser accepts, the tagged batch of it (alone and beside
// another) parses and is an instant vector, and every probe parses. So a
// batch never fails for the way trimtab rewrote an expression.
//
//	go test ./signals/prometheus -run '^$' -fuzz FuzzCompile -fuzztime 60s
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`sum(rate(http_requests_total{app="shop"}[1m]))`, `500`, `scalar(x) * 2`, `-1`, `x or vector(0)`,
		`histogram_quantile(0.95, sum by (le) (rate(db_bucket[5m])))`, `max_over_time(rate(x[1m])[10m:1m] offset 1h)`,
		`{__name__=~"a|b", job!=""}`, `rate(x[5m] @ end())`, `x[5m]`, `"s"`, `sum(`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		c := compile(expr)
		if c.err != nil {
			return
		}
		for _, q := range []string{
			join([]part{{tag: "v0", vector: c.vector}}),
			join([]part{{tag: "v0", vector: c.vector}, {tag: "v1", vector: "vector(1)"}}),
		} {
			typ, err := promql.Check(q)
			if err != nil || typ != promql.Vector {
				t.Fatalf("compile(%q) batched as %q: %s, %v", expr, q, typ, err)
			}
		}
		for _, s := range c.selectors {
			if _, err := promql.Check(probe(s)); err != nil {
				t.Fatalf("compile(%q): probe %q: %v", expr, probe(s), err)
			}
		}
	})
}
