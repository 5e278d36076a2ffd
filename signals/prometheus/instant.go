package prometheus

import (
	"context"
	"math"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// instantUnit is one distinct expression of an Instant call.
type instantUnit struct {
	expr string
	c    compiled
	res  Result
}

// Instant implements Reader. Identical expressions are evaluated once;
// expressions that do not parse are never sent.
func (c *Client) Instant(ctx context.Context, exprs []string, at time.Time) []Result {
	byExpr := map[string]*instantUnit{}
	var units []*instantUnit
	for _, e := range exprs {
		if byExpr[e] != nil {
			continue
		}
		u := &instantUnit{expr: e, c: c.cache.get(e)}
		u.res.Expr = e
		byExpr[e] = u
		if u.c.err != nil {
			u.res.Err = u.c.err
			continue
		}
		units = append(units, u)
	}
	batches := pack(units, c.cfg.MaxBatch, c.cfg.MaxBatchBytes, c.unitCost)
	fanOut(c.cfg.Concurrency, batches, func(b []*instantUnit) {
		bisect(ctx, b,
			func(ctx context.Context, us []*instantUnit) (bool, error) { return c.instantBatch(ctx, us, at) },
			func(u *instantUnit, err error) { u.res = Result{Expr: u.expr, Err: &ExprError{Expr: u.expr, Err: err}} })
	})
	out := make([]Result, len(exprs))
	for i, e := range exprs {
		out[i] = byExpr[e].res
	}
	return out
}

// unitCost estimates a unit's share of a request body.
func (c *Client) unitCost(u *instantUnit) int {
	n := part{tag: "v000", vector: u.c.vector}.cost()
	if c.cfg.MaxSampleAge > 0 {
		for _, s := range u.c.selectors {
			n += part{tag: "s000", vector: probe(s)}.cost()
		}
	}
	return n
}

// probe is the freshness probe of a selector: the time of its newest raw
// sample across its series. timestamp() of a plain selector returns the
// samples' own times, not the evaluation time.
func probe(selector string) string { return "max(timestamp(" + selector + "))" }

// instantBatch evaluates units in one request: each unit's value tagged
// v<i>, and each distinct selector's freshness probe tagged s<j>. It fills
// every unit's result, or returns the request's error for bisect.
func (c *Client) instantBatch(ctx context.Context, units []*instantUnit, at time.Time) (fault bool, err error) {
	var parts []part
	probeTag := map[string]string{}
	for i, u := range units {
		parts = append(parts, part{tag: tag("v", i), vector: u.c.vector})
		if c.cfg.MaxSampleAge <= 0 {
			continue
		}
		for _, s := range u.c.selectors {
			if probeTag[s] == "" {
				probeTag[s] = tag("s", len(probeTag))
				parts = append(parts, part{tag: probeTag[s], vector: probe(s)})
			}
		}
	}
	v, _, _, err := c.api.Query(ctx, join(parts), at, promv1.WithTimeout(c.cfg.Timeout))
	if err != nil {
		return classify(err)
	}
	got, err := splitVector(v)
	if err != nil {
		return false, err
	}
	for i, u := range units {
		u.res = c.instantResult(u, got[tag("v", i)], got, probeTag, at)
	}
	return false, nil
}

// instantResult judges one unit's samples: one finite, fresh value or the
// reason there is none.
func (c *Client) instantResult(u *instantUnit, samples []*model.Sample, got map[string][]*model.Sample, probeTag map[string]string, at time.Time) Result {
	r := Result{Expr: u.expr}
	switch {
	case len(samples) == 0:
		r.Err = exprErr(u.expr, ErrEmpty, "no series at %s", at.UTC().Format(time.RFC3339))
		return r
	case len(samples) > 1:
		r.Err = exprErr(u.expr, ErrManySeries, "%d series, e.g. %s; aggregate them, e.g. sum(...)", len(samples), seriesExamples(samples))
		return r
	}
	val := float64(samples[0].Value)
	if math.IsNaN(val) || math.IsInf(val, 0) {
		r.Err = exprErr(u.expr, ErrNotFinite, "%v", val)
		return r
	}
	newest := at
	if c.cfg.MaxSampleAge > 0 && len(u.c.selectors) > 0 {
		newest = time.Time{}
		for _, s := range u.c.selectors {
			for _, p := range got[probeTag[s]] {
				sec, frac := math.Modf(float64(p.Value))
				if t := time.Unix(int64(sec), int64(frac*1e9)); t.After(newest) {
					newest = t
				}
			}
		}
		if newest.IsZero() {
			r.Err = exprErr(u.expr, ErrStale, "none of %s has a sample in Prometheus' lookback window, or they are marked stale", strings.Join(u.c.selectors, ", "))
			return r
		}
		if age := at.Sub(newest); age > c.cfg.MaxSampleAge {
			r.Err = exprErr(u.expr, ErrStale, "newest sample is %s old at %s, more than %s", age.Round(time.Second), at.UTC().Format(time.RFC3339), c.cfg.MaxSampleAge)
			return r
		}
	}
	r.Sample = Sample{At: newest, Value: val}
	return r
}

// seriesExamples prints up to three label sets.
func seriesExamples(samples []*model.Sample) string {
	var ex []string
	for i, s := range samples {
		if i == 3 {
			ex = append(ex, "…")
			break
		}
		ex = append(ex, s.Metric.String())
	}
	return strings.Join(ex, ", ")
}
